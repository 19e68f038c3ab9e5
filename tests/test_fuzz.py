"""Fuzzing the language, the numbers and the command line: whatever comes in, bpcli answers
with a result or a clean `error:` and exit 2, never a traceback or a hang.

The default run tries a few hundred inputs of each kind; `pytest -m slow` tries many more.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from bpcli.core.engine import forward, run
from bpcli.errors import BpcliError
from bpcli.language.parse import parse

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))

TOKENS = [
    "x",
    "y",
    "z",
    "w0",
    "θ",
    "2",
    "0",
    "-3",
    ".5",
    "1e-3",
    "1e400",
    "pi",
    "e",
    "+",
    "-",
    "*",
    "/",
    "^",
    "**",
    "@",
    "(",
    ")",
    "[",
    "]",
    ",",
    ";",
    "\n",
    "=",
    "+=",
    "*=",
    ".T",
    "exp",
    "log",
    "sqrt",
    "sigmoid",
    "relu",
    "max",
    "min",
    "sum",
    "norm",
    "softmax",
    "σ",
    "−",
    "×",
    "#",
    " ",
    "\t",
    "$",
    "{",
    "'",
    "\x00",
    "x=",
    "f=",
]
programs = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)
texts = st.text(max_size=60)
junk = st.binary(max_size=80)

CARET = re.compile(r"\n  line \d+, column \d+:\n    .*\n    *\^+")


def assert_clean(result, allowed=(0, 2)):
    assert result.code in allowed, result
    assert "Traceback" not in result.err + result.out
    if result.code == 2:
        assert result.err.startswith("error: ")
        assert "internal error" not in result.err


def check_grad(bpcli, program):
    result = bpcli("grad", "-", "x=0.7", "y=-1.3", "z=2", "--format", "json", input=program)
    assert_clean(result)
    if "syntax error" in result.err:
        assert CARET.search(result.err), result.err  # a syntax error points at its place


@FAST
@given(programs)
def test_random_token_sequences_into_grad(bpcli, program):
    check_grad(bpcli, program)


@FAST
@given(texts)
def test_random_text_into_grad(bpcli, program):
    check_grad(bpcli, program)


@FAST
@given(junk)
def test_random_bytes_into_grad_and_batch(bpcli, data):
    assert_clean(bpcli("grad", "-", "x=1", input=data))
    assert_clean(bpcli("batch", "-", "--bind", "x=1", input=data), allowed=(0, 1, 2))


@FAST
@given(st.lists(programs, min_size=1, max_size=8))
def test_random_lines_into_batch_lose_nothing(bpcli, lines):
    lines = [line.replace("\n", " ") for line in lines]
    result = bpcli(
        "batch", "-", "--bind", "x=0.7", "--bind", "y=-1.3", "--bind", "z=2", input="\n".join(lines) + "\n"
    )
    assert_clean(result, allowed=(0, 1))
    records = [json.loads(line) for line in result.out.splitlines()]
    expected = [i for i, line in enumerate(lines, 1) if line.strip() and not line.strip().startswith("#")]
    assert [r["line"] for r in records] == expected
    assert (result.code == 1) == any("error" in r for r in records)


@FAST
@given(
    st.lists(
        st.sampled_from(
            [
                "-e",
                "--expect",
                "dx=",
                "x",
                "=",
                "1",
                "0.5",
                "dq=-4",
                "q",
                "--tol",
                "5%",
                "abc",
                "--answers",
                "-",
                "df/dx=1",
            ]
        ),
        max_size=8,
    )
)
def test_random_check_arguments(bpcli, args):
    result = bpcli("check", "q = x*y; f = q + y", "x=2", "y=3", *args, input="dq=1\n")
    assert_clean(result, allowed=(0, 1, 2))


@FAST
@given(
    st.lists(
        st.sampled_from(
            [
                "x=1",
                "x=",
                "=1",
                "x",
                "x=[1,2]",
                "x=[[1],[2,3]]",
                "x=@nope.npy",
                "x=randn(2)",
                "x=zeros(0)",
                "y=1e999",
                "y=-0",
                "θ=2",
                "2x=1",
                "x==1",
                "x=1=2",
                "x=nan",
                "x=inf",
                "x=0x10",
                "x=1_000",
            ]
        ),
        max_size=4,
    )
)
def test_random_bindings(bpcli, bindings):
    assert_clean(bpcli("grad", "x*2 + sum([1])", *bindings))


# --- round trip: a label, parsed again, gives its node's value ----------------------------------

LEAVES = st.sampled_from(["x", "y", "z", "2", "0.5", "3", "pi"])
UNARY = [
    "exp({})",
    "sin({})",
    "cos({})",
    "tanh({})",
    "sigmoid({})",
    "-{}",
    "({})^2",
    "log(1 + ({})^2)",
    "relu({})",
    "abs({})",
]
BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1 + ({})^2)", "max({}, {})", "min({}, {})"]


@st.composite
def expressions(draw, depth=4):
    if depth == 0 or draw(st.booleans()):
        return draw(LEAVES)
    if draw(st.booleans()):
        return draw(st.sampled_from(UNARY)).format(draw(expressions(depth - 1)))
    template = draw(st.sampled_from(BINARY))
    left, right = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    return template.format(left, right, right) if template.count("{}") == 3 else template.format(left, right)


@FAST
@given(st.lists(expressions(), min_size=1, max_size=4))
def test_labels_parse_back_to_their_values(statements):
    program = "\n".join(f"a{i} = {s}" for i, s in enumerate(statements))
    bindings = {"x": 0.7, "y": -1.3, "z": 2.0}
    try:
        result = run(parse(program, bindings))
    except BpcliError:
        reject()  # a domain error, say: not this test's business (but never every example)
    graph = result.graph
    values = result.values
    names = {
        **bindings,
        **{n: values[node.id] for n, node in graph.names.items() if values[node.id] is not None},
    }
    for node, label in zip(graph.nodes, graph.labels(), strict=True):
        if values[node.id] is None:
            continue  # off the output's path and not computable: no value to compare with
        expression = label.split(" = ", 1)[1] if node.name and " = " in label else label
        if "…" in expression:
            continue  # shortened labels are for reading, not for parsing
        again = parse(expression, {k: v for k, v in names.items() if k != node.name or not node.inputs})
        assert math.isclose(forward(again).output, values[node.id], rel_tol=1e-12, abs_tol=1e-12), label


@pytest.mark.slow
@SLOW
@given(programs)
def test_many_more_token_sequences(bpcli, program):
    check_grad(bpcli, program)


@pytest.mark.slow
@SLOW
@given(junk)
def test_many_more_byte_strings(bpcli, data):
    assert_clean(bpcli("grad", "-", "x=1", input=data))
