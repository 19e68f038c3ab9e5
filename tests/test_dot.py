"""Graphviz pictures: the DOT text of a computed graph, and drawing it with `dot`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bpcli.core.engine import run
from bpcli.errors import BpcliError
from bpcli.language.parse import parse
from bpcli.present import dot as dotmod
from bpcli.present.dot import GREEN, RED, render, unfold_dot
from bpcli.present.explain import derivation
from bpcli.present.numbers import value as fmt

from conftest import ROOT, SAMPLES

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot is not installed")

SAMPLE_FILES = sorted(SAMPLES.glob("*.bp"))
FANOUT = "x = 3\nf = x*x + x"


def to_dot(result, precision: int = 2, **options) -> str:
    """The DOT text a statement to a line: the folding to 80 columns undone (the folding
    itself is tested in tests/test_pictures18.py)."""
    return unfold_dot(dotmod.to_dot(result, precision, **options))


def computed(source: str):
    return run(parse(source, {}))


def sample(name: str):
    return computed((SAMPLES / f"{name}.bp").read_text(encoding="utf-8"))


def wires(text: str) -> list[tuple[str, str, str | None, str | None]]:
    """(tail, head, green value, red gradient) for every wire into a gate or the end, in
    either style; a fan-out's branches leave its junction jN, given as the node nN (their
    value is None: it is written once, on the trunk nN -> jN)."""
    found = []
    for line in text.splitlines():
        m = re.match(r"\s+(\w+) -> (\w+) \[label=<(.*)>, tooltip", line)
        if m:
            found.append((_node(m[1]), m[2], *_numbers(m[3])))
    tails = {wire: tail for tail, wire in re.findall(r"^\s+(\w+) -> (w\w+):p:w", text, re.M)}
    heads = dict(re.findall(r"^\s+(w\w+):p:e -> (\w+)", text, re.M))
    for wire, label in re.findall(r"^\s+(w\w+) \[shape=plaintext.*label=<(.*)>\];$", text, re.M):
        found.append((_node(tails[wire]), heads[wire], *_numbers(label)))
    return found


def _node(tail: str) -> str:
    return "n" + tail[1:] if tail.startswith("j") else tail


def _numbers(label: str) -> tuple[str | None, str | None]:
    """The green and the red text of a wire's label (a matrix's numbers joined by spaces);
    None for none, as on a branch of a fan-out, which leaves the value to its trunk."""
    value = re.findall(f'<font color="{GREEN}">(.*?)</font>', label)
    gradient = re.findall(f'<font color="{RED}">(.*?)</font>', label)
    return " ".join(value) or None, " ".join(gradient) or None


def node_ids(text: str) -> set[int]:
    return {int(i) for i in re.findall(r"^\s+n(\d+) \[", text, re.M)}


def label_of(text: str, node_id: int) -> str:
    """A gate's label (HTML-like, its text without the tags), or a leaf's (a quoted string)."""
    m = re.search(rf'^\s+n{node_id} \[.*?label=(?:<(.*?)>|"(.*?)"), tooltip', text, re.M)
    assert m is not None
    return re.sub(r"<[^>]*>", "", m[1]).strip() if m[1] is not None else m[2]


def dot_accepts(text: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["dot", "-Tsvg"], input=text, capture_output=True, text=True, encoding="utf-8", check=False
    )
    assert done.returncode == 0, done.stderr
    assert "rror" not in done.stderr and "arning" not in done.stderr, done.stderr
    return done


# --- Graphviz accepts what we write --------------------------------------------------------


@needs_dot
@pytest.mark.parametrize("style", ["split", "labels"])
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_every_sample_is_valid_dot(path: Path, style: str) -> None:
    result = computed(path.read_text(encoding="utf-8"))
    done = dot_accepts(to_dot(result, wires=style))
    assert "<svg" in done.stdout


@needs_dot
@pytest.mark.parametrize(
    "source",
    [
        "x = 1\ny = 1\nr = relu(x - 1)\nf = max(x, y) + r",  # kinks
        "x = 2\ny = 3\nb = x\nc = 2*3\nf = pi*b + c - 1/y + [x, y] @ [1, 2] + 2^x + max(0, x) - -3",
        "x = 2\ny = x*3\nf = x + 1",  # a gate with no path to the output
        "x = 2\nx*x",  # an unnamed output
        "x = 3",  # the output is an input
    ],
)
def test_corner_cases_are_valid_dot(source: str) -> None:
    dot_accepts(to_dot(computed(source)))


# --- structure -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_one_gate_per_operation_and_no_unnamed_constant_leaves(path: Path) -> None:
    result = computed(path.read_text(encoding="utf-8"))
    text = to_dot(result)
    drawn = node_ids(text)
    gates = {n.id for n in result.graph.nodes if n.inputs}
    assert gates <= drawn
    for node in result.graph.nodes:
        if node.op.name == "input":
            assert node.id in drawn
        elif node.op.name == "const" and not node.name:
            assert node.id not in drawn  # every sample folds its constants into gates
    assert text.count(" -> out ") + text.count(" -> out;") == 1


def test_the_neuron_is_drawn_as_in_the_lecture() -> None:
    result = sample("neuron")
    text = to_dot(result)
    labels = [label_of(text, n.id) for n in result.graph.nodes if n.inputs]
    assert labels == ["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"]
    assert [label_of(text, n.id) for n in result.graph.nodes if n.op.name == "input"] == [
        "w0",
        "x0",
        "w1",
        "x1",
        "w2",
    ]
    assert "{ rank=source; n0 n1 n2 n3 n4; n0 -> n1 -> n2 -> n3 -> n4 [style=invis]; }" in text
    assert "rankdir=LR" in text
    got = {(t, h): (v, g) for t, h, v, g in wires(text)}
    assert got[("n0", "n7")] == ("2", "-0.2")  # w0: value 2, ∂f/∂w0 = -0.20
    assert got[("n1", "n7")] == ("-1", "0.39")  # x0
    assert got[("n3", "n8")] == ("-2", "-0.59")  # x1
    assert got[("n12", "n13")] == ("0.37", "-0.53")  # exp -> +1
    assert got[("n14", "out")] == ("0.73", "1")


def test_gates_fold_the_constant_and_name_the_router() -> None:
    result = sample("gates")
    text = to_dot(result)
    assert [label_of(text, n.id) for n in result.graph.nodes if n.inputs] == ["*", "max", "+", "*2"]
    assert 4 not in node_ids(text)  # the constant 2
    got = {(t, h): g for t, h, _, g in wires(text)}
    assert got[("n2", "n6")] == "2" and got[("n3", "n6")] == "0"  # max routes the gradient


def test_sigmoid_gate() -> None:
    result = sample("neuron_sigmoid")
    text = to_dot(result)
    assert [label_of(text, n.id) for n in result.graph.nodes if n.inputs][-1] == "σ"


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("x = 2\nf = 1 - x", "1-x"),
        ("x = 2\nf = x - 1", "-1"),
        ("x = 2\nf = x + -3", "-3"),
        ("x = 2\nf = x - -3", "+3"),
        ("x = 2\nf = 3 * x", "*3"),
        ("x = 2\nf = x / 4", "/4"),
        ("x = 2\nf = 2 / x", "2/x"),
        ("x = 2\nf = x^2", "^2"),
        ("x = 2\nf = 2^x", "2^x"),
        ("x = 2\nf = max(0, x)", "max(0, ·)"),
        ("x = 2\nf = -x", "*-1"),
        ("x = 2\nf = sigmoid(x)", "σ"),
        ("x = 2\nf = x + 0.1234567891", "+0.12"),
    ],
)
def test_gate_labels(source: str, label: str) -> None:
    result = computed(source)
    assert label_of(to_dot(result), result.graph.output.id) == label


def test_a_gate_of_two_constants_keeps_them_as_leaves() -> None:
    result = computed("x = 1\nc = 2*3\nf = x + c")
    text = to_dot(result)
    assert {1, 2} <= node_ids(text)
    got = {(t, h): (v, g) for t, h, v, g in wires(text)}
    assert got[("n1", "n3")] == ("2", None)  # constants get no gradient
    assert got[("n3", "n4")] == ("c = 6", "1")


@pytest.mark.parametrize("style", ["split", "labels"])
@pytest.mark.parametrize(("precision", "value"), [(0, "3"), (2, "3")])
def test_fan_out_draws_one_wire_per_use_with_its_own_gradient(style: str, precision: int, value: str) -> None:
    text = to_dot(computed(FANOUT), precision, wires=style)
    out_of_x = [(h, v, g) for t, h, v, g in wires(text) if t == "n0"]
    assert sorted(out_of_x) == [("n1", None, "3"), ("n1", None, "3"), ("n2", None, "1")]
    # the trunk, x into its junction, carries the value and the sum of the branches
    assert f'<font color="{GREEN}">{value}</font>' in text
    assert f'<font color="{RED}">3 + 3 + 1 = 7</font>' in text


@pytest.mark.parametrize("style", ["split", "labels"])
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_the_output_wire_carries_the_seed_gradient(path: Path, style: str) -> None:
    result = computed(path.read_text(encoding="utf-8"))
    text = to_dot(result, wires=style)
    (end,) = [w for w in wires(text) if w[1] == "out"]
    assert end[0] == f"n{result.graph.output.id}" and end[3] == "1"
    assert re.search(
        r'^\s+out \[shape=plaintext, label="' + (result.graph.output.name or "f") + '"', text, re.M
    )


SCALAR_SAMPLES = [p for p in SAMPLE_FILES if p.stem not in ("matrix", "two_layer_net")]


@pytest.mark.parametrize("path", SCALAR_SAMPLES, ids=lambda p: p.stem)
def test_every_wire_carries_its_edges_downstream_gradient(path: Path) -> None:
    result = computed(path.read_text(encoding="utf-8"))
    expected = sorted(
        (f"n{e.input.id}", f"n{step.node.id}", fmt(e.downstream, 4) if e.downstream is not None else None)
        for step in derivation(result)
        for e in step.edges
        if not (e.input.op.name == "const" and not e.input.name)
    )  # folded into the gate
    got = sorted((t, h, g) for t, h, _, g in wires(to_dot(result, 4)) if h != "out")
    assert got == expected


def test_named_intermediates_and_precision() -> None:
    text = to_dot(sample("simple"))
    assert ("n3", "n4", "q = 3", "-4") in wires(text)
    four = to_dot(sample("neuron"), 4)
    assert ("n14", "out", "0.7311", "1") in wires(four)


def test_arrays_are_written_out_or_a_shape_and_norm() -> None:
    text = to_dot(sample("matrix"))
    got = {(t, h): (v, g) for t, h, v, g in wires(text)}
    assert got[("n2", "n4")] == ("q = [0.22, 0.26]", "[0.44, 0.52]")
    assert got[("n0", "n2")] == ("0.1 0.5 -0.3 0.8", "0.088 0.18 0.1 0.21")  # a grid, a row a line
    big = to_dot(sample("two_layer_net"))
    values = [v for _, _, v, _ in wires(big)]
    assert "3×4, ‖X‖ = 3.71" in values and "5-vector, ‖b1‖ = 0.19" in values
    assert "h: 3×5, ‖h‖ = 3.62" in values
    assert "\n " not in "".join(v or "" for v in values)


def test_kinks_are_marked() -> None:
    result = computed("x = 1\ny = 1\nf = max(x, y)")
    text = to_dot(result)
    line = next(line for line in text.splitlines() if line.lstrip().startswith("n2 ["))
    assert 'style="dashed"' in line and "⚠" in line and "at a tie" in line
    assert "dashed" not in to_dot(computed("x = 2\ny = 1\nf = max(x, y)"))


def test_a_gate_with_no_path_to_the_output_has_no_gradients() -> None:
    result = computed("x = 2\ny = x*3\nf = x + 1")
    got = {(t, h): g for t, h, _, g in wires(to_dot(result))}
    assert got[("n0", "n2")] is None and got[("n0", "n4")] == "1"


def test_labels_are_escaped() -> None:
    result = computed("x = 2\nq = x + 1\nf = q * x")
    result.graph.nodes[0].name = 'a<b & "c"'
    result.graph.nodes[2].name = "q>0 \\N"
    text = to_dot(result)
    assert 'label="a<b & \\"c\\""' in text  # a leaf's label is a quoted string
    assert "q&gt;0" in text  # a wire's label is HTML-like
    labels = re.sub(r'(tooltip|label)="(\\.|[^"\\])*"', "", text)  # quoted strings may hold < and &
    assert "a<b" not in labels and "q>0" not in labels and "& " not in labels
    assert '\\"c\\"' in text and "\\\\N" in text  # tooltips are quoted strings
    if HAVE_DOT:
        dot_accepts(text)
        dot_accepts(to_dot(result, wires="labels"))


# Every sample, both wire styles, expanded or not, and graphs with kinks, fan-out and constants.
_EVERY_PICTURE = """
import sys
from pathlib import Path

from bpcli.core.engine import run
from bpcli.language.parse import parse
from bpcli.present.dot import to_dot

print(hash("x0"), hash(("w0", "x0")))  # differs between the two runs: the test is not vacuous
programs = [(p.read_text(encoding="utf-8"), {}) for p in sorted(Path("samples").glob("*.bp"))]
programs += [("x = 3\\nf = x*x + x", {}), ("a = 1; b = a + a; c = b*b + 1", {})]
programs += [("relu(x) + max(x, y) + abs(y)*2", {"x": 0.0, "y": 0.0})]
for program, bindings in programs:
    for expand in (False, True):
        result = run(parse(program, bindings, expand=expand))
        for wires in ("split", "labels"):
            sys.stdout.write(to_dot(result, wires=wires))
"""


def test_output_is_the_same_whatever_the_hash_seed() -> None:
    """Two processes with different PYTHONHASHSEED draw the same DOT text: nothing in it
    follows the order of a set or of object ids."""
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _EVERY_PICTURE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        hashes, _, dot_text = done.stdout.partition("\n")
        outputs.append((hashes, dot_text))
    (hashes_1, first), (hashes_2, second) = outputs
    assert hashes_1 != hashes_2, "the two processes hash strings alike: PYTHONHASHSEED had no effect"
    assert first.count("digraph bpcli {") == 2 * 2 * (len(SAMPLE_FILES) + 3)
    assert first == second


def test_unknown_wire_style() -> None:
    with pytest.raises(ValueError, match="wires"):
        to_dot(sample("simple"), wires="curly")


# --- rendering -------------------------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<svg"), (".pdf", b"%PDF"), (".SVG", b"<svg")]
)
def test_render_writes_the_picture(tmp_path: Path, suffix: str, magic: bytes) -> None:
    target = tmp_path / f"neuron{suffix}"
    render(to_dot(sample("neuron")), str(target))
    data = target.read_bytes()
    assert magic in data[:400]
    if suffix == ".svg":
        assert "1/x" in data.decode("utf-8") and GREEN in data.decode("utf-8")


def test_render_writes_dot_text_without_graphviz(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(dotmod.shutil, "which", lambda name: None)
    text = to_dot(sample("simple"))
    render(text, tmp_path / "simple.gv")
    assert (tmp_path / "simple.gv").read_text(encoding="utf-8") == text


def test_missing_dot_says_how_to_install_graphviz(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(dotmod.shutil, "which", lambda name: None)
    with pytest.raises(BpcliError) as err:
        render(to_dot(sample("simple")), tmp_path / "simple.png")
    message = str(err.value)
    assert "apt install graphviz" in message and "brew install graphviz" in message
    assert "https://graphviz.org/download/" in message
    assert not (tmp_path / "simple.png").exists()


def test_missing_dot_on_the_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BpcliError, match="apt install graphviz"):
        render(to_dot(sample("simple")), tmp_path / "simple.svg")


def test_a_dot_that_cannot_run_is_a_bpcli_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(dotmod.shutil, "which", lambda name: str(tmp_path / "no-such-dot"))
    with pytest.raises(BpcliError, match="could not run"):
        render(to_dot(sample("simple")), tmp_path / "simple.svg")


@pytest.mark.parametrize("name", ["simple.jpeg", "simple", "simple.txt"])
def test_unknown_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(BpcliError, match="what kind of picture") as err:
        render(to_dot(sample("simple")), tmp_path / name)
    assert ".svg" in str(err.value)


@needs_dot
def test_a_failing_dot_run_is_a_bpcli_error(tmp_path: Path) -> None:
    with pytest.raises(BpcliError, match="could not draw"):
        render("digraph { a -> }", tmp_path / "broken.svg")
    with pytest.raises(BpcliError, match="could not draw"):
        render(to_dot(sample("simple")), tmp_path / "no" / "such" / "dir.png")


def test_unwritable_dot_text_is_a_bpcli_error(tmp_path: Path) -> None:
    with pytest.raises(BpcliError, match="cannot write"):
        render("digraph {}", tmp_path / "no" / "such" / "dir.dot")


def test_a_picture_that_dot_takes_too_long_to_draw_is_an_error_that_says_what_to_do(tmp_path, monkeypatch):
    import os

    from bpcli.errors import BpcliError
    from bpcli.present import dot

    slow = tmp_path / "bin" / "dot"
    slow.parent.mkdir()
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    monkeypatch.setenv("PATH", f"{slow.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(dot, "DRAW_SECONDS", 0.3)
    target = tmp_path / "c.svg"
    with pytest.raises(BpcliError, match=r"took more than 0 s to draw c\.svg") as caught:
        dot.render("digraph { a -> b }", target)
    assert "-Gnslimit=1" in (caught.value.hint or "") and not target.exists()
