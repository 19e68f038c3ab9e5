"""The Python API (docs/api.md): the command line's core, its results equal to the CLI's."""

from __future__ import annotations

import doctest
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import bpcli

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [*sorted((ROOT / "samples").glob("*.bp")), ROOT / "samples" / "homework" / "softmax.bp"]


def test_the_docs_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("COLUMNS", raising=False)
    failed, tried = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False)
    assert tried > 10 and failed == 0


def test_importing_bpcli_loads_neither_numpy_nor_rich_nor_the_parser():
    code = (
        "import sys, bpcli; print(sorted(m for m in ('numpy', 'rich', 'click', 'bpcli.language.lalr',"
        " 'bpcli.api') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_grads_equal_the_command_lines_json(bpcli, path):
    cli = json.loads(bpcli("grad", str(path), "--format", "json").out)
    result = bpcli_api_grad(str(path))
    assert set(result.grads) == set(cli["grads"])
    for name, grad in result.grads.items():
        if cli["grads"][name] is None:
            assert grad is None or name not in result._run.graph.inputs
            continue
        assert np.shape(grad) == np.shape(cli["grads"][name])
        assert np.array_equal(np.asarray(grad), np.asarray(cli["grads"][name], dtype=float))
    assert result.value == pytest.approx(cli["value"], rel=0, abs=0)


def bpcli_api_grad(path: str) -> bpcli.Result:
    return bpcli.grad(path, seed=0)


def test_the_table_is_the_command_lines(bpcli):
    path = str(ROOT / "samples" / "neuron.bp")
    assert str(bpcli_api_grad(path)) == bpcli("grad", path).out


def test_a_compiled_program_agrees_with_grad_at_every_point():
    p = bpcli.compile("h = tanh(w*x + b); f = h*h")
    for x in (-1.0, 0.5, 2.0):
        once, fresh = p.grad(w=0.3, x=x, b=0.1), bpcli.grad("h = tanh(w*x + b); f = h*h", w=0.3, x=x, b=0.1)
        assert once.value == fresh.value and once.grads == fresh.grads


def test_errors_are_one_hierarchy_with_their_position():
    with pytest.raises(bpcli.ParseError) as err:
        bpcli.compile("(x + ")
    assert isinstance(err.value, bpcli.BpcliError) and err.value.pos is not None
    with pytest.raises(bpcli.ProgramError):
        bpcli.grad("x * nope", x=1)
    with pytest.raises(bpcli.ShapeError):
        bpcli.grad("sum(W @ x)", W=np.ones((2, 3)), x=[1, 2])
    with pytest.raises(bpcli.BindingError):
        bpcli.grad("x * 2", x=True)
    with pytest.raises(bpcli.InputError):
        bpcli.grad("no/such/file.bp")
    with pytest.raises(ValueError, match="no format"):
        bpcli.grad("x*2", x=1).format("svg")


def test_an_upstream_gives_an_array_output_its_gradient():
    r = bpcli.grad("out = tanh(x)", x=[1.0, 2.0], upstream=[1, -1])
    assert np.allclose(r.grads["x"], (1 - np.tanh([1.0, 2.0]) ** 2) * [1, -1])


def test_check_gives_the_records_of_check_json(bpcli):
    path = str(ROOT / "samples" / "neuron.bp")
    answers = {"dx0": "0.39", "dw0": "-0.2", "dw2": 0.1966}
    checked = bpcli_module().check(path, answers=answers)
    given = [arg for k, v in answers.items() for arg in ("-e", f"{k}={v}")]
    cli = json.loads(bpcli("check", path, *given, "--format", "json").out)
    assert checked.results == cli["results"] and checked.ok == (cli["correct"] == cli["total"])


def test_check_names_the_first_wrong_step_of_array_homework():
    path = str(ROOT / "samples" / "homework" / "softmax.bp")
    checked = bpcli.check(path, answers={"db": [[0.1, 0.2, 0.3]]})
    assert not checked.ok and checked.first_wrong is not None
    assert checked.first_wrong["name"] == "db" and "db" in str(checked)


def bpcli_module():
    return bpcli


def test_grad_many_equals_grad_point_by_point():
    p = bpcli.compile(str(ROOT / "samples" / "neuron.bp"))
    points = [{"w0": w, "x0": -1, "w1": -3, "x1": -2, "w2": -3} for w in (2.0, 0.5, -1.0)]
    many = p.grad_many(points)
    for point, result in zip(points, many, strict=True):
        fresh = bpcli.grad(str(ROOT / "samples" / "neuron.bp"), point)
        assert result.value == fresh.value and result.grads == fresh.grads


class _Cells(HTMLParser):
    """The text of each table cell, row by row, and whether an <svg> is there."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.svg = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "svg":
            self.svg = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_a_result_displays_in_a_notebook_as_an_html_table():
    r = bpcli.grad("q = x + y; f = q*z", x=-2, y=5, z=-4)
    parsed = _Cells()
    parsed.feed(r._repr_html_())
    header, *rows = parsed.rows
    assert header == ["#", "node", "op", "value", "∂f/∂node", "to each input"]
    by_label = {row[1]: row for row in rows}
    assert by_label["q = x + y"][3:5] == ["3", "-4"]
    assert "→ #0: local 1, downstream -4" in by_label["q = x + y"][5]
    assert parsed.svg == bool(shutil.which("dot"))
    escaped = _Cells()
    escaped.feed(bpcli.grad("a<b", a=1, b=2)._repr_html_())  # (text, never markup)
    assert any(row[1] == "a < b" or row[1] == "a<b" for row in escaped.rows[1:])


def test_a_check_result_displays_as_its_report():
    c = bpcli.check("(x+y)*z", {"x": -2, "y": 5, "z": -4}, answers={"dx": 4})
    html = c._repr_html_()
    assert html.startswith("<pre") and "first wrong step: dx" in html
