"""Issue 17's acceptance bar, run as the graders will run it: the cases of check17_cases.py
through the command line (`bpcli check … --format json`, in-process).

- no crash: exit 0 or 1, never a traceback or an internal error;
- every verdict right, for the ~60 wrong answer sets and the ~15 all-right ones (a false
  alarm counts as much as a miss);
- the first wrong step right: exactly one answer carries diagnosis.first, the one where the
  mistake was made;
- the kinds: at least 95% of the first wrong steps are named as the mistake applied.

Every expectation comes from how the case was built (check17_cases.py), never from bpcli.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from check17_cases import KINDS, MISTAKES, PROGRAMS, RIGHT, Case, solve
from click.testing import CliRunner

from bpcli.cli import main


@dataclass
class Report:
    code: int
    out: str
    err: str

    @property
    def document(self) -> dict:
        return json.loads(self.out)

    @property
    def results(self) -> dict[str, dict]:
        return {r["name"]: r for r in self.document["results"]}


def bpcli(*args: str, cwd: Path | None = None) -> Report:
    """`bpcli ARGS…` through its entry point, in-process, with click's runner capturing the
    streams (the exit status is main's: 0, 1, 2, or 3 for a bug in bpcli), run in `cwd`."""
    runner = CliRunner()
    here = os.getcwd()
    with runner.isolation() as (out, err, _):
        try:
            if cwd is not None:
                os.chdir(cwd)
            code = main(list(args))
        finally:
            os.chdir(here)
            sys.stdout.flush()
            sys.stderr.flush()
    return Report(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))


def diagnosis(result: dict) -> dict:
    return result.get("diagnosis") or {}


ALL = MISTAKES + RIGHT


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Report]:
    """Every case run once (the tests below read the same reports)."""
    tmp = tmp_path_factory.mktemp("check17")
    out = {}
    for case in ALL:
        where = tmp / case.id.replace("/", "_")
        where.mkdir()
        out[case.id] = bpcli("check", *case.args(where), cwd=where)  # a student's folder
    return out


def _ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


# --- the cases themselves ----------------------------------------------------------------


def test_the_cases_cover_every_array_kind():
    counts = {kind: sum(c.kind == kind for c in MISTAKES) for kind in KINDS}
    assert all(n >= 7 for n in counts.values()), counts
    assert len(MISTAKES) >= 60 and len(RIGHT) >= 15
    assert all(c.first in {a.name for a in c.answers} for c in MISTAKES)
    # several answers a case, some right
    assert all(len(c.answers) >= 2 for c in MISTAKES)
    assert sum(any(a.ok for a in c.answers) for c in MISTAKES) >= 50


@pytest.mark.parametrize("key", sorted(PROGRAMS))
def test_the_truth_is_what_bpcli_grad_computes(key):
    """The oracle's programs say what their bpcli text says: autograd and bpcli agree."""
    program = PROGRAMS[key]
    report = bpcli("grad", program.text, *program.bindings(), "--format", "json")
    assert report.code == 0, report.err
    document = json.loads(report.out)
    truth = solve(program)
    assert document["value"] == pytest.approx(float(truth.values[program.output]), rel=1e-9)
    for name, value in truth.grads.items():
        if name in document["grads"]:
            np.testing.assert_allclose(document["grads"][name], value, rtol=1e-9, atol=1e-12, err_msg=name)
    assert set(truth.leaves) <= set(document["grads"])


# --- the bar ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL, ids=_ids(ALL))
def test_no_crash(reports, case):
    report = reports[case.id]
    assert "Traceback" not in report.err and "internal error" not in report.err, report.err
    assert report.code in (0, 1), report.err
    assert isinstance(report.document["results"], list)


@pytest.mark.parametrize("case", ALL, ids=_ids(ALL))
def test_every_verdict(reports, case):
    report = reports[case.id]
    assert report.code in (0, 1), report.err
    results = report.results
    assert set(results) == {a.name for a in case.answers}
    wrong = [
        f"{a.name}={a.text!r}: expected {'right' if a.ok else 'wrong'}"
        for a in case.answers
        if results[a.name]["ok"] is not a.ok
    ]
    assert not wrong, "\n".join(wrong)
    assert report.code == (0 if all(a.ok for a in case.answers) else 1)


@pytest.mark.parametrize("case", MISTAKES, ids=_ids(MISTAKES))
def test_the_first_wrong_step(reports, case):
    report = reports[case.id]
    assert report.code == 1, report.err
    first = [r["name"] for r in report.document["results"] if diagnosis(r).get("first") is True]
    assert first == [case.first], f"first wrong step: {first}, expected {case.first} ({case.comment})"


@pytest.mark.parametrize("case", RIGHT, ids=_ids(RIGHT))
def test_all_right_has_no_first_wrong_step(reports, case):
    report = reports[case.id]
    assert report.code == 0, report.out or report.err
    assert not [r["name"] for r in report.document["results"] if diagnosis(r).get("first")]


def test_the_kinds(reports):
    """≥ 95% of the first wrong steps are named as the mistake that was applied."""
    misses = []
    for case in MISTAKES:
        report = reports[case.id]
        kind = None
        if report.code in (0, 1):
            results = report.results
            kind = diagnosis(results.get(case.first, {})).get("kind")
        if kind != case.kind:
            misses.append(f"{case.id}: {case.first} named {kind!r}, made as {case.kind!r}")
    share = 1 - len(misses) / len(MISTAKES)
    print(f"kinds right: {share:.0%} of {len(MISTAKES)}")
    print("\n".join(misses))
    assert share >= 0.95, f"{share:.0%} of kinds right; misses:\n" + "\n".join(misses)


def _mismatched(case: Case) -> bool:
    """The first wrong answer's shape is not its variable's (a square transpose has the same)."""
    from check17_cases import _target

    truth = solve(case.program)
    node, gradient = _target(case.first, truth)
    answer = next(a for a in case.answers if a.name == case.first)
    shape = np.shape(json.loads(answer.text))
    return shape != np.shape((truth.grads if gradient else truth.values)[node])


MISMATCHED = [c for c in MISTAKES if _mismatched(c)]


@pytest.mark.parametrize("case", MISMATCHED, ids=_ids(MISMATCHED))
def test_a_shape_mismatch_message_names_both_shapes(reports, case):
    """Issue 17, item 1: a mismatch is a verdict whose message names both shapes."""
    message = diagnosis(reports[case.id].results[case.first]).get("message", "")
    shapes = re.findall(r"\(\d+(?:, ?\d+)*,?\)|\d+(?:\s*[×x]\s*\d+)+|\(\)|scalar|one number", message)
    assert len(shapes) >= 2, message


def test_answers_files_hold_what_the_issue_names():
    """The all-right sets include multi-line matrices, numpy's printed form, dL/dW, ∂L/∂W,
    the unicode minus and .npy/.csv files: the formats the issue asks for."""
    texts = "".join(c.answers_text() for c in RIGHT)
    assert "\n    [" in texts  # a multi-line matrix
    assert "]\n [" in texts  # numpy's print of a matrix
    assert "−" in texts and "dL/dW" in texts and "∂L/∂W" in texts
    assert "@dW.npy" in texts and "@dW.csv" in texts
    assert any(c.by_file for c in MISTAKES) and any(not c.by_file for c in MISTAKES)


# --- honest messages (issue 17, item 3) and diagnoses as data (item 5) -----------------------

BREAKS = "this is where the derivation breaks"


@pytest.mark.parametrize("case", MISTAKES, ids=_ids(MISTAKES))
def test_where_it_breaks_is_said_of_the_first_wrong_step_only(reports, case):
    for result in reports[case.id].document["results"]:
        if BREAKS in diagnosis(result).get("message", ""):
            assert diagnosis(result).get("first") is True, result["name"]


def _feeds(case: Case) -> dict[str, set[str]]:
    """For each named node, the named intermediates its value flows into (not the output)."""
    from check17_cases import carried

    truth = solve(case.program)
    inner = [n for n in truth.values if n not in truth.leaves and n != case.program.output]
    feeds: dict[str, set[str]] = {n: set() for n in truth.values}
    rng = np.random.default_rng(0)
    for upper in inner:
        reach = carried(case.program, upper, rng.normal(size=np.shape(truth.values[upper])))
        for lower in truth.values:
            if lower != upper and np.any(reach.get(lower, 0) != 0):
                feeds[lower].add(upper)
    return feeds


@pytest.mark.parametrize("case", MISTAKES, ids=_ids(MISTAKES))
def test_upstream_is_called_right_only_when_it_was_given_right(reports, case):
    """ "Its upstream gradient is right" needs a right gradient answer, given, above the step,
    or no named intermediate between the output (whose gradient is 1) and the step."""
    from check17_cases import _target

    truth = solve(case.program)
    feeds = _feeds(case)
    given_right = set()
    for a in case.answers:
        node, gradient = _target(a.name, truth)
        if gradient and a.ok:
            given_right.add(node)
    for result in reports[case.id].document["results"]:
        message = diagnosis(result).get("message", "")
        if re.search(r"upstream( gradient)? is right", message):
            node, _ = _target(result["name"], truth)
            above = feeds[node]
            assert not above or above & given_right, f"{result['name']}: {message}"


@pytest.mark.parametrize("case", MISTAKES, ids=_ids(MISTAKES))
def test_messages_speak_of_the_output_L(reports, case):
    for result in reports[case.id].document["results"]:
        message = diagnosis(result).get("message", "")
        assert "∂f/∂" not in message and "df/d" not in message, message


SCALED = [c for c in MISTAKES if c.kind == "scale"]


@pytest.mark.parametrize("case", SCALED, ids=_ids(SCALED))
def test_a_scale_mistake_names_its_factor(reports, case):
    found = diagnosis(reports[case.id].results[case.first])
    assert found.get("factor") == pytest.approx(case.factor, rel=1e-4), found
    spelled = {0.5: "1/2", 3.0: "3", 4.0: "4", 0.25: "1/4", 2.0: "2"}[round(case.factor, 4)]
    assert re.search(rf"(?<![\d/.]){re.escape(spelled)}(?![\d/.])", found["message"]), found["message"]


NOT_SUMMED = [c for c in MISTAKES if c.kind == "missing-sum"]


def _broadcast_axes(answer: tuple[int, ...], truth: tuple[int, ...]) -> list[int]:
    padded = (1,) * (len(answer) - len(truth)) + truth
    lead = len(answer) - len(truth)
    return [i for i in range(len(answer)) if i < lead or (padded[i] == 1 and answer[i] != 1)]


@pytest.mark.parametrize("case", NOT_SUMMED, ids=_ids(NOT_SUMMED))
def test_a_missing_sum_names_its_axes_and_shapes(reports, case):
    from check17_cases import _target

    truth = solve(case.program)
    node, _ = _target(case.first, truth)
    answer = next(a for a in case.answers if a.name == case.first)
    answer_shape, truth_shape = np.shape(json.loads(answer.text)), np.shape(truth.grads[node])
    found = diagnosis(reports[case.id].results[case.first])
    assert found.get("axes") == _broadcast_axes(answer_shape, truth_shape), found
    assert tuple(found.get("shape")) == answer_shape and tuple(found.get("truth_shape")) == truth_shape
