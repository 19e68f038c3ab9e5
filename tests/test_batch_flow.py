"""The batch as a grader drives it: a record for each line as soon as it is solved (not
when the next line comes), a quick stop, and arguments checked once up front."""

from __future__ import annotations

import time

from bpcli import batch

HANG_GUARD = 20  # seconds: only so that a broken build fails instead of hanging the suite


class _StuckProcess:
    """A worker that never ends: records the time each join was allowed."""

    def __init__(self, waits):
        self.waits = waits

    def kill(self):
        pass

    def is_alive(self):
        return True

    def join(self, timeout=None):
        assert timeout is not None, "a join without a timeout can wait forever"
        self.waits.append(timeout)
        time.sleep(timeout)  # as a process that does not end: the whole timeout


class _StuckPool:
    def __init__(self, waits):
        self._processes = {1: _StuckProcess(waits), 2: _StuckProcess(waits)}
        self._executor_manager_thread = _StuckProcess(waits)

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def test_killing_the_workers_waits_well_under_a_second_in_all():
    waits: list[float] = []
    batch._kill(_StuckPool(waits))
    # every wait together (each one used in full): a stop must end well under 1 s
    assert len(waits) == 3 and sum(waits) <= 0.6
