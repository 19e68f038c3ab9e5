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
    assert "→ x: local 1, downstream -4" in by_label["q = x + y"][5]
    assert parsed.svg == bool(shutil.which("dot"))
    escaped = _Cells()
    escaped.feed(bpcli.grad("a<b", a=1, b=2)._repr_html_())  # (text, never markup)
    assert any(row[1] == "a < b" or row[1] == "a<b" for row in escaped.rows[1:])


def _shown_text(html: str) -> str:
    import re
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", html))


def test_a_check_result_displays_as_its_report_in_colour():
    """A notebook shows the report a colour terminal prints: the same characters, the
    truth green and the wrong mark red."""
    c = bpcli.check("(x+y)*z", {"x": -2, "y": 5, "z": -4}, answers={"dx": 4, "dz": 3})
    html = c._repr_html_()
    assert html.startswith("<pre") and "first wrong step: dx" in html
    assert _shown_text(html).strip() == str(c).strip()
    assert "color: #008000" in html and "color: #800000" in html  # (Rich's green and red)


def test_a_class_displays_as_its_report_in_colour():
    students = {"ann": {"dx": -4, "dy": -4, "dz": 3}, "ben": {"dx": 4, "dz": 3}}
    checked = bpcli.check_class("q = x + y; f = q*z", dict(x=-2, y=5, z=-4), students=students)
    html = checked._repr_html_()
    assert html.startswith("<pre") and _shown_text(html).strip() == str(checked).strip()
    assert "style=" in html.split(">", 1)[1]  # coloured inside


def test_a_class_from_python_is_the_command_lines_class(bpcli):
    program, folder = ROOT / "samples" / "homework" / "softmax.bp", ROOT / "samples" / "homework" / "class"
    checked = bpcli_module().check_class(str(program), students=str(folder))
    cli = json.loads(bpcli("check", str(program), "--answers", str(folder), "--format", "json").out)
    assert [s["file"] for s in checked.students] == [Path(s["file"]).name for s in cli["students"]]
    for ours, theirs in zip(checked.students, cli["students"], strict=True):
        assert {**ours, "file": None} == {**theirs, "file": None}
    assert checked.summary == cli["summary"] and not checked.ok
    assert "5 files: 1 all right, 4 with wrong answers" in str(checked)


def test_a_class_given_as_answers_in_python_is_the_class_of_those_files(bpcli, tmp_path):
    students = {
        "ann": {"dx": -4, "dy": -4, "dz": 3},
        "ben": {"dx": 4, "dz": 3},
        "cat": {"dq": "-4", "dz": "3.0"},
        "dan": {"dnope": 1},
    }
    for name, answers in students.items():
        (tmp_path / f"{name}.txt").write_text("".join(f"{k}={v}\n" for k, v in answers.items()))
    checked = bpcli_module().check_class("q = x + y; f = q*z", dict(x=-2, y=5, z=-4), students=students)
    cli = json.loads(
        bpcli(
            "check",
            "q = x + y; f = q*z",
            "x=-2",
            "y=5",
            "z=-4",
            "--answers",
            str(tmp_path),
            "--format",
            "json",
        ).out
    )
    assert [s.get("correct") for s in checked.students] == [s.get("correct") for s in cli["students"]]
    assert [s.get("kind") for s in checked.students] == [s.get("kind") for s in cli["students"]]
    assert checked.students[3]["file"] == "dan" and "dnope" in checked.students[3]["error"]
    assert checked.summary == cli["summary"]
    from_files = bpcli_module().check_class(
        "q = x + y; f = q*z", dict(x=-2, y=5, z=-4), students={n: tmp_path / f"{n}.txt" for n in students}
    )
    assert [s.get("correct") for s in from_files.students] == [s.get("correct") for s in checked.students]


def test_a_class_whose_folder_has_no_answers_is_an_input_error(tmp_path):
    with pytest.raises(bpcli.InputError, match=r"no \.txt files"):
        bpcli.check_class("x*2", dict(x=1), students=str(tmp_path))
    with pytest.raises(bpcli.InputError, match="cannot read"):
        bpcli.check_class("x*2", dict(x=1), students=str(tmp_path / "none"))


@pytest.mark.parametrize(
    ("program", "bindings", "error", "label"),
    [
        ("q = x - 1; f = log(q)", dict(x=1), bpcli.DomainError, "f = log(q)"),
        ("f = exp(x*1000) + 1", dict(x=1), bpcli.DomainError, "exp(x*1000)"),
        ("y = W @ x; f = sum(y)", dict(W=np.ones((2, 3)), x=[1.0, 2.0]), bpcli.ShapeError, "W @ x"),
        ("f = x*2", dict(x=[1.0, 2.0]), bpcli.ShapeError, "f = x*2"),
    ],
)
def test_errors_at_a_node_carry_its_id_label_and_position(program, bindings, error, label):
    with pytest.raises(error) as caught:
        bpcli.grad(program, **bindings)
    err = caught.value
    assert err.label == label and err.node is not None and err.source == program
    assert err.label in err.message or err.message.startswith("the output f ")
    if err.pos is not None:  # (the output's shape is the whole program's: no caret)
        assert err.line == 1 and program[err.column - 1 :].startswith(label.split(" = ")[-1][:3])


def test_an_error_before_the_graph_has_a_position_but_no_node():
    with pytest.raises(bpcli.ParseError) as caught:
        bpcli.grad("q = x + 1\nf = q * )", x=1)
    assert caught.value.node is None and (caught.value.line, caught.value.column) == (2, 9)


def _cs231n_rows():
    from test_samples_cs231n import readme_rows

    return readme_rows()


@pytest.mark.parametrize(("name", "command", "prints"), _cs231n_rows(), ids=lambda v: str(v)[:30])
def test_grads_of_every_cs231n_sample_equal_the_command_lines_json(name, command, prints, bpcli, monkeypatch):
    """Each sample's command (samples/cs231n/README.md), run by the CLI and from Python with
    the same NAME=@file.npy bindings given as strings."""
    import shlex

    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:]
    result = bpcli(*args, "--format", "json")
    if result.code != 0:
        pytest.skip(f"the command line cannot run {name} here: {result.err.strip()[:80]}")
    cli = json.loads(result.out)
    bindings = dict(a.split("=", 1) for a in args[2:] if "=" in a and not a.startswith("-"))
    ours = bpcli_module().grad(args[1], bindings)
    assert ours.value == cli["value"]
    for grad_name, grad in cli["grads"].items():
        if grad is not None:
            assert np.array_equal(np.asarray(ours.grads[grad_name]), np.asarray(grad, dtype=float)), grad_name


def test_a_program_may_be_a_path_and_nothing_else():
    path = ROOT / "samples" / "neuron.bp"
    assert bpcli.grad(path).grads == bpcli.grad(str(path)).grads
    assert repr(bpcli.compile(path)) == f"<bpcli.Program {str(path)[:60]!r}>"
    with pytest.raises(bpcli.InputError, match="no file"):
        bpcli.grad(Path("no/such.bp"))
    with pytest.raises(TypeError, match="not int"):
        bpcli.grad(42)  # type: ignore[arg-type]


def test_none_is_no_number_for_a_binding_or_an_answer():
    with pytest.raises(bpcli.BindingError, match="None is not a number"):
        bpcli.grad("x*x", x=None)
    with pytest.raises(bpcli.BindingError, match="the answer dx: None is not a number"):
        bpcli.check("x*2", dict(x=1), answers={"dx": None})


def test_a_check_with_no_answers_is_refused_not_passed():
    with pytest.raises(bpcli.BindingError, match="no answers to check"):
        bpcli.check("(x+y)*z", dict(x=-2, y=5, z=-4), answers={})


def test_a_result_keeps_the_command_lines_warnings(bpcli):
    r = bpcli_module().grad("relu(x)", x=0)
    cli = bpcli("grad", "relu(x)", "x=0")
    assert r.warnings and all(f"warning: {w}" in " ".join(cli.err.split()) for w in r.warnings)
    assert bpcli_module().grad("x*2", x=1).warnings == []


def test_dir_lists_the_api_for_completion():
    assert {"grad", "compile", "check", "check_class", "Result"} <= set(dir(bpcli))


def test_grad_many_names_a_point_that_is_not_a_mapping():
    with pytest.raises(TypeError, match="point 1 is a list"):
        bpcli.compile("x*2").grad_many([{"x": 1}, [1]])


def test_a_big_graph_displays_in_a_notebook_bounded():
    program = "s = x\nfor i in range(600):\n    s = s*0.5 + x\nf = s"
    r = bpcli.grad(program, x=1)
    page = r._repr_html_()
    rows = page.count("<tr>")
    assert len(r.nodes) > 1000 and rows <= 402 and "nodes left out" in page and "<svg" not in page


@pytest.mark.parametrize(
    ("path", "bindings"),
    [
        ("samples/tour/circuit.bp", {}),
        (
            "samples/tour/svm.bp",
            {"W": "[[0.1,-0.2,0.3],[0.4,0.5,-0.6]]", "X": "[[1,2],[3,-1],[0.5,0.5]]", "y": "[0,2,1]"},
        ),
    ],
)
def test_grads_of_the_tour_equal_the_command_lines_json(path, bindings, bpcli, monkeypatch):
    monkeypatch.chdir(ROOT)
    cli = json.loads(bpcli("grad", path, *(f"{k}={v}" for k, v in bindings.items()), "--format", "json").out)
    ours = bpcli_module().grad(path, bindings)
    assert ours.value == cli["value"] and set(ours.grads) == set(cli["grads"])
    for name, grad in cli["grads"].items():
        if grad is not None:
            assert np.array_equal(np.asarray(ours.grads[name]), np.asarray(grad, dtype=float)), name


def test_a_misspelt_option_or_language_says_what_there_is():
    r = bpcli.grad("x*2", x=1)
    with pytest.raises(TypeError, match=r"no option 'precison': the options are .*precision"):
        r.format("table", precison=2)
    with pytest.raises(ValueError, match="the languages are en, zh"):
        r.steps(lang="fr")


def test_grad_many_says_at_which_point_it_failed():
    points = [{"x": float(k)} for k in range(1, 30)] + [{"x": -1.0}] + [{"x": 2.0}] * 100
    with pytest.raises(bpcli.DomainError) as caught:
        bpcli.compile("f = log(x)").grad_many(points)
    assert caught.value.point == 29 and "log" in caught.value.message


def test_the_typed_names_of_formats_and_languages_are_the_command_lines():
    from typing import get_args

    from bpcli.api import Format, Language
    from bpcli.present import GRAD_FORMATS
    from bpcli.texts import LANGUAGES

    assert get_args(Format) == GRAD_FORMATS and get_args(Language) == LANGUAGES


def test_a_users_script_type_checks_with_useful_types(tmp_path):
    """mypy on a script using the API as docs/api.md does: it passes, and a wrong format
    name or language is caught."""
    mypy = shutil.which("mypy") or str(Path(sys.executable).parent / "mypy")
    if not Path(mypy).exists():
        pytest.skip("mypy is not installed (pip install '.[dev]')")
    good = tmp_path / "good.py"
    good.write_text(
        "import bpcli\n"
        "r = bpcli.grad('(x+y)*z', x=-2, y=5, z=-4)\n"
        "v: float = float(r.value)\n"
        "text: str = r.format('steps', lang='zh')\n"
        "c = bpcli.check('(x+y)*z', dict(x=-2, y=5, z=-4), answers={'dx': 4})\n"
        "ok: bool = c.ok\n"
    )
    bad = tmp_path / "bad.py"
    bad.write_text("import bpcli\nbpcli.grad('x*2', x=1).format('xml', lang='fr')\n")
    env = {**__import__("os").environ, "MYPYPATH": str(ROOT)}
    run = [mypy, "--no-incremental", "--follow-imports=silent", "--ignore-missing-imports"]
    assert subprocess.run([*run, str(good)], capture_output=True, text=True, env=env).returncode == 0
    found = subprocess.run([*run, str(bad)], capture_output=True, text=True, env=env)
    assert found.returncode == 1 and "Literal['xml']" in found.stdout and "Literal['fr']" in found.stdout


def test_errors_and_warnings_speak_of_arguments_not_flags(capsys):
    """From Python, a hint names the call's arguments (upstream=…, seed=…, x=1.5), never the
    command line's flags."""
    with pytest.raises(bpcli.ProgramError) as unbound:
        bpcli.grad("f = x*y", x=1.0)
    assert "bind it (y=1.5)" in str(unbound.value) and "command line" not in str(unbound.value)
    with pytest.raises(bpcli.ShapeError) as vector:
        bpcli.grad("f = 2*x", x=[1.0, 2.0])
    assert "(upstream=…)" in str(vector.value) and "--" not in str(vector.value)
    with pytest.raises(bpcli.BpcliError) as seeded:
        bpcli.grad("f = sum(np.random.randn(3) * x)", x=1.0, seed=2**40)
    assert f"seed={2**40}" in str(seeded.value) and "--" not in str(seeded.value)
    with pytest.raises(bpcli.ProgramError) as compiled:
        bpcli.compile("f = x*y").grad(x=1.0)
    assert "command line" not in str(compiled.value)
    warned = bpcli.grad("f = sum(np.random.randn(3) * x)", x=1.0)
    assert any("seed=" in w for w in warned.warnings) and not any("--" in w for w in warned.warnings)
    # the command line keeps its own words
    from bpcli.cli import main

    assert main(["grad", "f = x*y", "x=1"]) == 2
    assert "bind it on the command line (y=1.5)" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("seed", [-1, 1.5, "a", True, 2**32, 2**70])
def test_a_bad_seed_is_a_binding_error_whatever_the_program(seed):
    """As the command line refuses --seed -1: a BindingError naming seed=, never numpy's own
    error, and also where nothing is drawn."""
    for call in (
        lambda: bpcli.grad("sum(x*y)", x="randn(2)", y=1, seed=seed),
        lambda: bpcli.grad("x*y", x=1, y=2, seed=seed),
        lambda: bpcli.compile("x*y", seed=seed),
    ):
        with pytest.raises(bpcli.BindingError, match=r"^seed=.*: a seed is a whole number"):
            call()


def test_a_seed_may_be_numpys_integer():
    a = bpcli.grad("sum(x*y)", x="randn(3)", y=1, seed=np.int64(7)).value
    assert a == bpcli.grad("sum(x*y)", x="randn(3)", y=1, seed=7).value
