"""Every way of seeing the backward pass: steps, tree, markdown, latex, csv, json, table,
plus --gradcheck, --expand and --wrt."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from latex_structure import LatexError, check_latex
from test_oracle import single_expressions

from bpcli.core.engine import gradients, run
from bpcli.core.ops import OPS
from bpcli.language.parse import parse

from conftest import SAMPLES

SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.bp"))
TEXT_FORMATS = ["table", "json", "steps", "tree", "markdown", "latex", "csv"]


@pytest.mark.parametrize("sample", SAMPLE_FILES)
@pytest.mark.parametrize("output_format", TEXT_FORMATS)
def test_every_format_for_every_sample(bpcli, sample, output_format):
    result = bpcli("grad", str(SAMPLES / sample), "--format", output_format)
    assert result.code == 0, result.err
    assert result.out.strip()
    if output_format == "json":
        assert json.loads(result.out)["grads"]
    if output_format == "csv":
        rows = list(csv.reader(io.StringIO(result.out)))
        assert rows[0] == ["id", "label", "op", "name", "value", "upstream", "input", "local", "downstream"]


def test_steps_show_the_notes_numbers(bpcli):
    out = bpcli("grad", str(SAMPLES / "neuron.bp"), "--format", "steps", "--precision", "2").out
    blocks = {b.split("\n")[0]: b for b in out.split("\n\n")}

    def block(start):
        return next(text for head, text in blocks.items() if head.startswith(start))

    assert "downstream = 1 × -0.53 = -0.53" in block("#14 f = 1/(1 + exp(…))")  # 1/x
    assert "downstream = -0.53 × 1 = -0.53" in block("#13 1 + exp(…)")  # +1
    assert "= -0.2" in block("#12 exp(")  # exp: -0.53 × 0.37 = -0.20
    assert "downstream = -0.2 × -1 = 0.2" in block("#11 -(")  # ×-1
    assert "downstream = 0.2 × 1 = 0.2" in block("#10 w0*x0 + w1*x1 + w2")  # +
    mul = block("#7 w0*x0")
    assert "to w0:  local ∂/∂w0 = x0 = -1;  downstream = 0.2 × -1 = -0.2" in mul
    assert "to x0:  local ∂/∂x0 = w0 = 2;  downstream = 0.2 × 2 = 0.39" in mul
    assert "a mul gate swaps" in mul


def test_steps_name_the_gate_patterns_and_add_fanout_branches(bpcli):
    out = bpcli("grad", str(SAMPLES / "gates.bp"), "--format", "steps").out
    assert "an add gate distributes" in out and "a max gate routes" in out
    out = bpcli("grad", str(SAMPLES / "fanout.bp"), "--format", "steps").out
    assert "∂f/∂x = 3 + 3 + 1 = 7  (x is used 3 times)" in out


def test_steps_in_chinese(bpcli):
    out = bpcli("grad", str(SAMPLES / "simple.bp"), "--format", "steps", "--lang", "zh").out
    assert "f 的反向传播" in out and "乘法门是交换器" in out
    assert "传给 q：局部梯度 ∂/∂q = z = -4；下游梯度 = 1 × -4 = -4" in out


def test_tree(bpcli):
    out = bpcli("grad", str(SAMPLES / "simple.bp"), "--format", "tree").out
    assert out.splitlines()[0] == "f = q*z  mul  value -12  ∂f/∂node 1"
    assert "└── z  input  value -4  ∂f/∂node 3" in out
    deep = bpcli("grad", "sin(" * 200 + "x" + ")" * 200, "x=1", "--format", "tree")
    # deeper than 80 columns can indent: each deep branch continues as a tree of its own
    assert deep.code == 0 and "(#189, continued below)" in deep.out and "\n#189 sin(" in deep.out
    assert max(len(line) for line in deep.out.splitlines()) <= 80


def test_markdown(bpcli):
    out = bpcli("grad", str(SAMPLES / "simple.bp"), "--format", "markdown").out
    assert out.startswith("| # | node | op | value |")
    assert "| 3 | q = x + y | add | 3 | -4 | ∂/∂x = 1<br>∂/∂y = 1 |" in out
    assert "```text\nBackward pass of f" in out


LATEX_PROGRAMS = {
    "escapes": ["x_1^2 + θ*y  # a comment", "x_1=1", "θ=2", "y=3"],  # _ ^ and a Greek name
    "arrays": ["sum(W@x.T) + norm(x)", "x=[1,2]", "W=[[1,2],[3,4]]"],
    "kinks": ["relu(x) + max(x, y) + abs(y)", "x=0", "y=0"],
    "tiny and huge numbers": ["x*1e-300 + 2^x + x^0.5 + 1e300*x", "x=1e-8"],
    "composite gates": ["sigmoid(x)*tanh(y) + log1p(x)", "x=1", "y=2"],
    "a name no LaTeX font has": ["2*é + 中", "é=2", "中=1"],
    "long arrays": ["sum(x)", "x=randn(100)", "--seed", "0"],
}


@pytest.mark.parametrize(
    "args",
    [[str(SAMPLES / sample)] for sample in SAMPLE_FILES] + list(LATEX_PROGRAMS.values()),
    ids=SAMPLE_FILES + list(LATEX_PROGRAMS),
)
def test_latex_is_well_formed(bpcli, args):
    """Runs everywhere, TeX or not: see tests/latex_structure.py for what is checked."""
    result = bpcli("grad", *args, "--format", "latex")
    assert result.code == 0, result.err
    check_latex(result.out)
    assert result.out.count("\\begin{tabular}") == result.out.count("\\begin{align*}") == 1


def test_latex_of_a_program_without_steps(bpcli):
    for program in ("x", "x = 1; exp(2)"):
        result = bpcli("grad", program, "x=1", "--format", "latex")
        assert result.code == 0 and "align*" not in result.out and r"\end{tabular}" in result.out
        check_latex(result.out)


@settings(max_examples=40, deadline=None)
@given(single_expressions())
def test_latex_of_random_programs_is_well_formed(program):
    from contextlib import redirect_stderr, redirect_stdout

    from bpcli.cli import main

    assume(program.ok)  # no domain error on the way
    bindings = [f"{name}={value!r}" for name, value in program.bindings.items()]
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        # (after --: a program such as --x is not an option)
        code = main(["grad", "--format", "latex", "--", program.text, *bindings])
    assert code == 0, program.text
    check_latex(out.getvalue())


def test_latex_numbers_as_the_notes_write_them(bpcli):
    out = bpcli("grad", str(SAMPLES / "neuron.bp"), "--format", "latex").out
    assert "\\frac{\\partial f}{\\partial\\, \\texttt{x0}} &= 0.1966 \\times 2 = 0.3932" in out


GOOD_LATEX = r"""% bpcli: a comment may say anything: 50% & θ_1
\begin{tabular}{rl}
\# & \texttt{x\_1 \^{}} $x^{2}$ \\
\hline
1 & $\partial$ \\
\end{tabular}

\begin{align*}
a &= b^{2} && \text{at \texttt{x\_1}} \\
c &= d
\end{align*}
"""

BAD_LATEX = {
    "a brace never closed": ("$x^{2}$", "$x^{2$"),
    "a brace that closes nothing": ("$x^{2}$", "$x^{2}}$"),
    "a $ never closed": ("$x^{2}$", "$x^{2}"),
    "an unescaped _ in text": ("\\texttt{x\\_1 ", "\\texttt{x_1 "),
    "an unescaped _ in text in math": ("\\text{at \\texttt{x\\_1}}", "\\text{at \\texttt{x_1}}"),
    "an unescaped ^ in text": ("\\texttt{x\\_1 \\^{}}", "\\texttt{x\\_1 ^}"),
    "an unescaped #": ("\\# &", "# &"),
    "an unescaped % in a row": ("1 & $\\partial$", "1 & 50% $\\partial$"),
    "an unescaped & (a cell too many)": ("1 & $\\partial$", "1 & & $\\partial$"),
    "a cell too few": ("1 & $\\partial$ \\\\", "1 $\\partial$ \\\\"),
    "a tabular row without its row end": ("1 & $\\partial$ \\\\", "1 & $\\partial$"),
    "an escaped backslash is no row end": ("1 & $\\partial$ \\\\", "1 & $\\partial$ \\textbackslash\\"),
    "an align* row without its row end": (
        "&& \\text{at \\texttt{x\\_1}} \\\\",
        "&& \\text{at \\texttt{x\\_1}}",
    ),
    "a row end after the last align* row": ("c &= d", "c &= d \\\\"),
    "an align* row not aligned": ("c &= d", "c = d"),
    "an environment never closed": ("\\end{align*}\n", ""),
    "environments crossed": ("\\end{tabular}", "\\end{align*}"),
    "an unknown column spec": ("{rl}", "{rx}"),
    "a character LaTeX cannot set": ("$\\partial$ \\\\", "∂ \\\\"),
    "a blank line in align*": ("c &= d\n", "c &= d\n\n"),
}


@pytest.mark.parametrize(("good", "bad"), BAD_LATEX.values(), ids=BAD_LATEX.keys())
def test_the_latex_check_finds_each_mistake(good, bad):
    """Not vacuous: the check passes a good fragment and fails it with any one mistake."""
    check_latex(GOOD_LATEX)
    assert GOOD_LATEX.count(good) == 1
    with pytest.raises(LatexError):
        check_latex(GOOD_LATEX.replace(good, bad))


@pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="no LaTeX installed (the check above runs anyway)"
)
def test_latex_compiles_where_latex_is_installed(bpcli, tmp_path):
    every = {sample: [str(SAMPLES / sample)] for sample in SAMPLE_FILES} | LATEX_PROGRAMS
    for number, args in enumerate(every.values()):
        body = bpcli("grad", *args, "--format", "latex").out
        document = tmp_path / f"document{number}.tex"
        document.write_text(
            "\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n" + body + "\\end{document}\n",
            encoding="utf-8",
        )
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", document.name],
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout.decode(errors="replace")[-2000:]


def test_csv_one_row_per_node_and_input(bpcli):
    rows = list(csv.DictReader(io.StringIO(bpcli("grad", str(SAMPLES / "simple.bp"), "--format", "csv").out)))
    assert [(r["id"], r["input"]) for r in rows] == [
        ("0", ""),
        ("1", ""),
        ("2", ""),
        ("3", "0"),
        ("3", "1"),
        ("4", "3"),
        ("4", "2"),
    ]
    assert rows[5]["local"] == "-4.0" and rows[5]["downstream"] == "-4.0"


def test_output_to_a_file(bpcli, tmp_path):
    path = tmp_path / "steps.txt"
    result = bpcli("grad", str(SAMPLES / "simple.bp"), "--format", "steps", "-o", str(path))
    assert result.code == 0 and result.out == "" and f"wrote {path}" in result.err
    assert path.read_text(encoding="utf-8").startswith("Backward pass of f")
    result = bpcli("grad", str(SAMPLES / "simple.bp"), "--format", "json", "-o", str(tmp_path / "g.png"))
    assert result.code == 2 and "goes with --format dot" in result.err


# --- --wrt --------------------------------------------------------------------------------------


def test_wrt_limits_the_summary_not_the_graph(bpcli):
    result = bpcli("grad", str(SAMPLES / "neuron.bp"), "--wrt", "w0,x0")
    assert result.out.endswith("f = 0.7311\n∂f/∂w0 = -0.1966\n∂f/∂x0 = 0.3932\n")
    assert "\n 8  w1*x1      mul         6         — │ w1     x1 = -2" in result.out
    doc = json.loads(
        bpcli("grad", str(SAMPLES / "neuron.bp"), "--wrt", "w0", "--wrt", "w2", "--format", "json").out
    )
    assert set(doc["grads"]) == {"w0", "w2"} and len(doc["nodes"]) == 15
    bad = bpcli("grad", str(SAMPLES / "neuron.bp"), "--wrt", "w9")
    assert bad.code == 2 and "w9" in bad.err


# --- --gradcheck --------------------------------------------------------------------------------


def test_gradcheck_agrees_on_the_samples(bpcli):
    for sample in SAMPLE_FILES:
        doc = json.loads(bpcli("grad", str(SAMPLES / sample), "--gradcheck", "--format", "json").out)
        for check in doc["gradcheck"]:
            assert check["verdict"] in ("good", "ok"), (sample, check)
            assert check["relative_error"] < 1e-6


def test_gradcheck_warns_when_the_step_crosses_a_kink(bpcli):
    result = bpcli("grad", "relu(x) + abs(y)", "x=1e-7", "y=0.5", "--gradcheck")
    assert result.code == 0
    assert "crosses a kink at #1 relu(x)" in result.out
    assert "--gradcheck: the step for x crosses a kink" in result.err
    doc = json.loads(bpcli("grad", "relu(x)", "x=1e-7", "--gradcheck", "--format", "json").out)
    assert doc["gradcheck"][0]["kinks"] == [1]


def test_gradcheck_of_big_arrays_samples_elements(bpcli):
    doc = json.loads(
        bpcli("grad", "sum(tanh(x))", "x=randn(3000)", "--seed", "1", "--gradcheck", "--format", "json").out
    )
    check = doc["gradcheck"][0]
    assert check["checked"] == 200 and check["elements"] == 3000 and check["verdict"] == "good"


# --- --expand -----------------------------------------------------------------------------------

COMPOSITES = sorted(name for name, op in OPS.items() if op.expansion is not None)
CALLS = {
    "sigmoid": "sigmoid(x)",
    "tanh": "tanh(x)",
    "norm": "norm([x, y, 2*x])",
    "dot": "dot([x, y], [y, 3])",
    "logsigmoid": "log(sigmoid(x))",
    "softmax": "sum(softmax([x, y, 2*x]) * [1, 2, 3])",
    "logsoftmax": "sum(log(softmax([x, y, 2*x])) * [1, 2, 3])",
    "logsumexp": "logsumexp([x, y, 2*x])",
}


def test_every_composite_has_a_call_here():
    assert set(COMPOSITES) == set(CALLS)


@pytest.mark.parametrize("name", COMPOSITES)
@settings(max_examples=40, deadline=None)
@given(x=st.floats(-4, 4), y=st.floats(-4, 4))
def test_expanded_and_fused_gates_give_equal_gradients(name, x, y):
    assume(abs(x) + abs(y) > 1e-3)  # norm's kink at the zero vector: sqrt has no gradient there
    program = f"f = {CALLS[name]} * x + y"
    fused = run(parse(program, {"x": x, "y": y}))
    expanded = run(parse(program, {"x": x, "y": y}, expand=True))
    assert len(expanded.graph.nodes) > len(fused.graph.nodes)
    assert expanded.output == pytest.approx(fused.output, rel=1e-9, abs=1e-12)
    for var, grad in gradients(fused).items():
        assert gradients(expanded)[var] == pytest.approx(grad, rel=1e-7, abs=1e-9)


def test_expand_in_the_table(bpcli):
    out = bpcli("grad", str(SAMPLES / "neuron_sigmoid.bp"), "--expand").out
    assert "exp(#10)     exp" in out and " sigmoid " not in out
    plain = bpcli("grad", str(SAMPLES / "neuron_sigmoid.bp")).out
    summary = re.compile(r"∂f/∂\w+ = [-\d.]+")
    assert summary.findall(out) == summary.findall(plain)


def test_expand_with_arrays():
    w, x = np.array([[0.1, 0.5], [-0.3, 0.8]]), np.array([0.2, 0.4])
    fused = gradients(run(parse("norm(W@x)", {"W": w, "x": x})))
    expanded = gradients(run(parse("norm(W@x)", {"W": w, "x": x}, expand=True)))
    np.testing.assert_allclose(expanded["W"], fused["W"])
