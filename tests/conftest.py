"""Shared fixtures: run the bpcli command line in-process and capture what it prints."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from bpcli.cli import main
from bpcli.core.ops import load_all

load_all()  # the tests look at every op, numpy's array ops too

# CI runs the same examples every time (no flaky red); a developer's run explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def bpcli(capsys, monkeypatch):
    """Call `bpcli ARGS…` through its real entry point; returns exit code, stdout, stderr."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def run(*args: str, input: str | bytes | None = None) -> Result:
        if input is not None:
            data = input.encode("utf-8") if isinstance(input, str) else input
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def pytest_collection_modifyitems(config, items):
    """Tests marked slow run only when asked for: pytest -m slow."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="a long run: select it with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
