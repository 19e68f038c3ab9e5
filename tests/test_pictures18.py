"""Issue 18, pictures: a fan-out draws the sum of its branches, small arrays are written on
their wires and larger ones by shape and norm, and the DOT and LaTeX texts fit 80 columns,
folded so that Graphviz and LaTeX read the same thing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from latex_structure import check_latex

from bpcli.core.engine import run
from bpcli.language.parse import parse
from bpcli.lazy import np
from bpcli.present.dot import GREEN, RED, fold_dot, to_dot, unfold_dot
from bpcli.present.latex import fold_latex, latex_text, unfold_latex
from bpcli.present.numbers import number

from conftest import SAMPLES

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

SAMPLE_FILES = sorted(SAMPLES.glob("*.bp"))
LOOP = """def step(h, x):
    return tanh(h * 0.5 + x)
x = 1.0
h = 0.0
for t in range(2):
    h = step(h, x)
f = h"""
# Programs whose lines are long: a long name, a long output, arrays, CJK names, a loop.
LONG = [
    "a_rather_long_name_for_the_learning_rate_of_a_network_0123456789 = 0.5\n"
    "f = a_rather_long_name_for_the_learning_rate_of_a_network_0123456789 * 2",
    "x = 1\ny = 2\nf = sigmoid(x*y + exp(-x) + log(1 + x*x) + tanh(y) * (x + y) * (x - y) + x/y)",
    "W = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\nx = [0.1, -0.2, 0.3]\nf = sum(tanh(W @ x) * (W @ x))",
    "权重 = 2\n输入值 = -3\nf = 权重 * 输入值 + 权重",
    LOOP,
]
PROGRAMS = [p.read_text(encoding="utf-8") for p in SAMPLE_FILES] + LONG
IDS = [p.stem for p in SAMPLE_FILES] + [f"long{i}" for i in range(len(LONG))]


def computed(source: str, **bindings):
    return run(parse(source, {k: v for k, v in bindings.items()}))


def json_grads(bpcli, *args: str) -> dict:
    return json.loads(bpcli("grad", *args, "--format", "json").out)["grads"]


def red(text: str) -> list[str]:
    """The red texts of a DOT picture (a grid's numbers one by one), folding undone."""
    return re.findall(f'<font color="{RED}">(.*?)</font>', unfold_dot(text))


def green(text: str) -> list[str]:
    return re.findall(f'<font color="{GREEN}">(.*?)</font>', unfold_dot(text))


def width(line: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


# --- a fan-out shows its branch sum ----------------------------------------------------------


def test_the_fan_out_sample_draws_3_plus_3_plus_1(bpcli):
    text = bpcli("grad", str(SAMPLES / "fanout.bp"), "--format", "dot", "--precision", "2").out
    grads = json_grads(bpcli, str(SAMPLES / "fanout.bp"))
    assert grads["x"] == 7
    assert "3 + 3 + 1 = 7" in red(text)
    assert re.search(r"^\s+j0 \[shape=point", text, re.M)  # the junction the branches leave
    assert re.search(r"^\s+n0 -> t0:p:w \[arrowhead=none", text, re.M)  # x's trunk into it


def test_the_branches_and_their_sum_are_the_gradients_json_gives(bpcli):
    program = "x = 3\ny = 0.2*x\nz = 0.4*x\nf = y + z"
    text = to_dot(computed(program), 2)
    assert "0.2 + 0.4 = 0.6" in red(text)
    assert json_grads(bpcli, program)["x"] == pytest.approx(0.6)


def test_a_negative_branch_is_in_parentheses_and_the_sum_keeps_its_sign():
    text = to_dot(computed("x = 2\nf = x*x - 5*x"), 4)
    assert "2 + 2 + (-5) = -1" in red(text)  # x*x takes x on two wires, x each


def test_many_branches_are_counted_not_written():
    text = to_dot(computed("x = 1\nf = x + 2*x + 3*x + 4*x + 5*x"), 4)
    assert "the sum of 5 branches = 15" in red(text)
    assert not any("+" in t for t in red(text))


def test_a_node_used_once_has_no_junction():
    text = to_dot(computed("x = 3\nf = 2*x"))
    assert "shape=point" not in text and " + " not in "".join(red(text))


def test_an_intermediate_that_fans_out_sums_its_branches():
    text = to_dot(computed("x = 3\nq = x + 1\nf = q*q"), 4)
    assert "q = 4" in green(text)
    assert "4 + 4 = 8" in red(text)  # ∂(q²)/∂q = 2q


def test_a_matrix_that_fans_out_draws_matrix_plus_matrix_equals_matrix(bpcli):
    program = "W = [[1, 2], [3, 4]]\nf = sum(W*W) + sum(3*W)"
    text = unfold_dot(to_dot(computed(program), 4))
    grads = json_grads(bpcli, program)
    assert grads["W"] == [[5, 7], [9, 11]]  # 2W + 3
    trunk = re.search(r"^\s+t0 \[.*$", text, re.M)
    assert trunk is not None
    numbers = re.findall(f'<font color="{RED}">(.*?)</font>', trunk[0])
    # W + W from W*W (W each), 3 from 3*W, then = the sum
    assert numbers == [
        "1",
        "2",
        "3",
        "4",
        " + ",
        "1",
        "2",
        "3",
        "4",
        " + ",
        "3",
        "3",
        "3",
        "3",
        " = ",
        "5",
        "7",
        "9",
        "11",
    ]


def test_a_vector_fan_out_is_one_line():
    text = to_dot(computed("x = [1, 2]\nf = sum(x*x)"), 4)
    assert "[1, 2] + [1, 2] = [2, 4]" in red(text)


def test_the_fan_out_sum_inside_a_loop_adds_up_to_the_gradient(bpcli):
    text = to_dot(computed(LOOP), 2)
    grads = json_grads(bpcli, LOOP)
    assert f"0.047 + 0.22 = {number(grads['x'], 2)}" in red(text)


# --- arrays on wires --------------------------------------------------------------------------


def test_the_matrix_samples_values_and_gradients_are_on_its_wires(bpcli):
    """W (2×2) as a grid a row to a line, each number in its own cell, in the order of its rows."""
    text = unfold_dot(to_dot(computed((SAMPLES / "matrix.bp").read_text(encoding="utf-8")), 4))
    grads = json_grads(bpcli, str(SAMPLES / "matrix.bp"))
    wire = re.search(r"^\s+w2_0 \[.*$", text, re.M)  # W into @
    assert wire is not None
    assert re.findall(f'<font color="{GREEN}">(.*?)</font>', wire[0]) == ["0.1", "0.5", "-0.3", "0.8"]
    expected = [number(g, 4) for row in grads["W"] for g in row]
    assert (
        re.findall(f'<font color="{RED}">(.*?)</font>', wire[0])
        == expected
        == ["0.088", "0.176", "0.104", "0.208"]
    )
    assert 'sides="LTB"' in wire[0] and 'sides="RTB"' in wire[0]  # the brackets


@pytest.mark.parametrize(
    ("binding", "small"),
    [
        ("x=[1, 2, 3]", True),
        ("x=[[1, 2, 3], [4, 5, 6], [7, 8, 9]]", True),
        ("x=[[1], [2], [3]]", True),
        ("x=[1, 2, 3, 4]", False),
        ("x=[[1, 2, 3, 4]]", False),
        ("x=[[1, 2], [3, 4], [5, 6], [7, 8]]", False),
    ],
)
def test_up_to_3_by_3_is_written_out_and_larger_is_shape_and_norm(binding: str, small: bool):
    name, _, value = binding.partition("=")
    x = np.array(json.loads(value), dtype=float)
    text = to_dot(run(parse("f = sum(x^2)", {name: x})), 4)
    written = green(text)
    norm = f"‖x‖ = {number(float(np.linalg.norm(x)), 4)}"
    gradient_norm = f"‖g‖ = {number(float(np.linalg.norm(2 * x)), 4)}"
    if small:
        assert norm not in "".join(written)
        assert all(
            number(float(v), 4) in written or number(float(v), 4) in " ".join(written) for v in x.ravel()
        )
    else:
        shape = f"{x.size}-vector" if x.ndim == 1 else "×".join(map(str, x.shape))
        assert f"{shape}, {norm}" in written
        assert gradient_norm in red(text)


def test_the_two_layer_nets_big_arrays_show_shape_and_the_norm_json_gives(bpcli):
    path = str(SAMPLES / "two_layer_net.bp")
    grads = json_grads(bpcli, path)
    text = to_dot(computed((SAMPLES / "two_layer_net.bp").read_text(encoding="utf-8")), 3)
    for name, shape in [("W1", "4×5"), ("W2", "5×3"), ("X", "3×4"), ("b1", "5-vector")]:
        g = number(float(np.linalg.norm(np.array(grads[name]))), 3)
        line = next(line for line in unfold_dot(text).splitlines() if f"{shape}, ‖{name}‖" in line)
        assert f"‖g‖ = {g}" in line, (name, line)
    assert not re.search(r">\d+×\d+</font>", text)  # never a bare shape


# --- 80 columns, losslessly -------------------------------------------------------------------


@pytest.mark.parametrize("style", ["split", "labels"])
@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_dot_lines_fit_80_columns_and_unfold_to_the_unfolded_text(program: str, style: str):
    result = computed(program)
    folded = to_dot(result, 4, wires=style)
    unfolded = to_dot(result, 4, wires=style, width=None)
    assert max(width(line) for line in folded.splitlines()) <= 80
    assert max(width(line) for line in unfolded.splitlines()) > 80  # (there was something to fold)
    assert unfold_dot(folded) == unfolded
    assert fold_dot(unfolded) == folded


def test_a_quoted_string_continues_after_a_backslash_newline():
    program = LONG[0]
    folded = to_dot(computed(program), 4)
    continued = [line for line in folded.splitlines() if line.endswith("\\")]
    assert continued  # the long tooltip is folded inside its quotes
    # removing every backslash-newline gives back each quoted string whole
    strings = re.findall(r'tooltip="((?:\\.|[^"\\])*)"', folded.replace("\\\n", ""), re.S)
    assert any("a_rather_long_name_for_the_learning_rate_of_a_network_0123456789 → " in s for s in strings)
    assert all("\n" not in s for s in strings)


@needs_dot
@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_graphviz_draws_the_folded_text_exactly_as_the_unfolded(program: str):
    result = computed(program)
    drawn = []
    for text in (to_dot(result, 2), to_dot(result, 2, width=None)):
        done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        drawn.append(done.stdout)
    assert drawn[0] == drawn[1]


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_latex_lines_fit_80_columns_and_unfold_to_the_unfolded_text(program: str):
    result = computed(program)
    folded = latex_text(result, 4)
    unfolded = latex_text(result, 4, width=None)
    assert max(width(line) for line in folded.splitlines()) <= 80
    assert unfold_latex(folded) == unfolded
    assert fold_latex(unfolded) == folded
    check_latex(folded)
    # LaTeX reads a line break as a space and skips a line's leading spaces: the words are the same
    assert re.sub(r"%\n +", "", folded).split() == unfolded.split()


def test_latex_folds_between_cells_not_inside_a_command():
    folded = latex_text(computed((SAMPLES / "neuron.bp").read_text(encoding="utf-8")), 4)
    for line in folded.splitlines():
        assert line.count("{") - line.count("\\{") == line.count("}") - line.count("\\}")  # no group split
    assert "    \\\\" not in folded  # a row's end stays on a line with its cell


def test_a_word_longer_than_the_line_is_cut_with_a_percent_between_tokens():
    line = r"x & \texttt{" + "a" * 100 + r"} \\"
    folded = fold_latex(line)
    assert max(len(part) for part in folded.splitlines()) <= 80
    before, after = re.split(r"%\n +", folded)
    assert before.endswith("a") and after.startswith("a")  # inside the word, not in \\texttt
    assert unfold_latex(folded) == line


def test_a_percent_fold_falls_between_tokens():
    line = r"x & $" + r"\alpha+" * 40 + r"1.2345678$ \\"
    folded = fold_latex(line)
    assert max(len(part) for part in folded.splitlines()) <= 80
    for before, after in re.findall(r"([^\n]*)%\n +([^\n]*)", folded):
        assert not (re.search(r"\\[A-Za-z]*$", before) and re.match("[A-Za-z]", after))  # \alpha whole
        assert not (re.search(r"[0-9.]$", before) and re.match("[0-9.]", after))  # 1.2345678 whole
    assert unfold_latex(folded) == line


def test_the_cli_prints_dot_and_latex_within_80_columns(bpcli):
    for fmt in ("dot", "latex"):
        for path in SAMPLE_FILES:
            out = bpcli("grad", str(path), "--format", fmt).out
            assert max(width(line) for line in out.splitlines()) <= 80, (fmt, path.name)


def test_latex_names_the_output_in_its_derivatives():
    text = latex_text(computed("w = 2\nx = 3\nloss = w*x"), 4, width=None)
    assert r"\frac{\partial \text{\texttt{loss}}}{\partial\, \texttt{w}}" in text


# --- the pictures in samples/pictures ---------------------------------------------------------


def test_the_sample_pictures_script_states_the_command_and_precision():
    script = (SAMPLES / "pictures" / "make.sh").read_text(encoding="utf-8")
    command = re.search(r'bpcli\}? grad "samples/\$name.bp" (.*) -o "samples/pictures/\$name.png"', script)
    assert command is not None and command[1] == "--precision 2"
    assert "#   bpcli grad samples/NAME.bp --precision 2 -o samples/pictures/NAME.png" in script
    (names,) = re.findall(r"for name in ([^;]+);", script)
    pictures = {p.stem for p in (SAMPLES / "pictures").glob("*.png")}
    assert pictures == {*names.split(), "report"}  # report.png: the HTML report's screenshot
    assert script.rstrip().endswith("samples/pictures/report.py")
    assert all((SAMPLES / f"{name}.bp").exists() for name in names.split())
