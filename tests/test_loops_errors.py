"""Errors of programs with loops and functions (issue 16), through the command line.

Recursion is an error naming the function; `while`, `import os`, `lambda`, comprehensions and
`global` are each an `error:` naming the construct, with exit 2, even where they sit in a
branch never taken or a function never called; a failing `assert` shows its message, an
executed `raise` its text. 10⁵ iterations build with a low recursion limit, and a loop with an
absurd bound is a quick error, not a hang (both in a fresh process).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def grad(bpcli, tmp_path: Path, text: str, *bindings: str):
    program = tmp_path / "program.bp"
    program.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return bpcli("grad", str(program), *bindings)


def assert_error(result, *words: str) -> str:
    """Exit 2, one `error:` on stderr, no traceback, nothing on stdout; each of `words` in it."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.err.startswith("error: "), result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    for word in words:
        assert word.lower() in result.err.lower(), f"{word!r} not in:\n{result.err}"
    return result.err


# --- recursion ---------------------------------------------------------------------------------


def test_recursion_is_an_error_naming_the_function(bpcli, tmp_path):
    err = assert_error(
        grad(
            bpcli,
            tmp_path,
            """
            def layer(v, n):
                if n == 0:
                    return v
                return layer(v * 2.0, n - 1)

            loss = np.sum(layer(x, 3))
            """,
            "x=[1, 2]",
        ),
        "layer",
        "recurs",
    )
    assert "^" in err


def test_mutual_recursion_is_an_error_naming_a_function(bpcli, tmp_path):
    err = assert_error(
        grad(
            bpcli,
            tmp_path,
            """
            def ping(v):
                return pong(v) + 1.0

            def pong(v):
                return ping(v) * 2.0

            loss = ping(x)
            """,
            "x=1.5",
        ),
        "recurs",
    )
    assert "ping" in err or "pong" in err


# --- constructs bpcli does not run ------------------------------------------------------------

UNSUPPORTED = {
    "while": ("while", "while s < 10.0:\n    s = s * 2.0"),
    "import": ("import", "import os"),
    "from_import": ("import", "from os import path"),
    "lambda": ("lambda", "g = lambda v: v * 2.0"),
    "list_comprehension": ("comprehension", "ys = [s * k for k in range(3)]"),
    "dict_comprehension": ("comprehension", "d = {k: s for k in range(3)}"),
    "global": ("global", None),
}


def placed(statement: str, where: str) -> str:
    """The statement at top level, in a branch never taken, or in a function never called."""
    if where == "top":
        body = statement
    elif where == "if_false":
        body = "if False:\n" + textwrap.indent(statement, "    ")
    else:
        body = "def never_called(s):\n" + textwrap.indent(statement, "    ") + "\n    return s\n"
    return f"s = x * 1.0\n{body}\nloss = s * 3.0\n"


@pytest.mark.parametrize("where", ["top", "if_false", "uncalled_def"])
@pytest.mark.parametrize("construct", sorted(UNSUPPORTED))
def test_an_unsupported_construct_is_an_error_naming_it(bpcli, tmp_path, construct, where):
    word, statement = UNSUPPORTED[construct]
    if statement is None:  # global: inside a def
        statement = "def bump():\n    global s\n    s = s + 1.0"
        if where == "uncalled_def":
            pytest.skip("the global case is a def already")
    err = assert_error(grad(bpcli, tmp_path, placed(statement, where), "x=2.0"), word)
    assert "^" in err, err


def test_import_numpy_is_still_fine(bpcli, tmp_path):
    result = grad(bpcli, tmp_path, "import numpy as np\nloss = np.sum(x * x)\n", "x=[1, 2]")
    assert result.code == 0, result.err
    assert "loss = 5" in result.out


# --- assert and raise --------------------------------------------------------------------------


def test_a_failing_assert_shows_its_message(bpcli, tmp_path):
    err = assert_error(
        grad(
            bpcli,
            tmp_path,
            """
            def check(x):
                assert x.shape == (2, 3), "bad shape"
                return np.sum(x)

            loss = check(x)
            """,
            "x=[1, 2, 3]",
        ),
        "bad shape",
    )
    assert "line 2" in err and "^" in err, err


def test_an_assert_that_holds_is_nothing(bpcli, tmp_path):
    result = grad(bpcli, tmp_path, 'assert x.shape == (3,), "bad shape"\nloss = np.sum(x)\n', "x=[1, 2, 3]")
    assert result.code == 0, result.err
    assert "bad shape" not in result.out + result.err


RAISE = """
def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "train":
        out = x * p
    elif mode == "test":
        out = x
    else:
        raise ValueError('Invalid forward dropout mode "%s"' % mode)
    return out

out = dropout_forward(x, {"p": 0.5, "mode": MODE})
loss = np.sum(out)
"""


def test_an_executed_raise_is_an_error_with_its_text(bpcli, tmp_path):
    err = assert_error(grad(bpcli, tmp_path, RAISE.replace("MODE", '"eval"'), "x=[1, 2]"))
    assert 'Invalid forward dropout mode "eval"' in err, err


def test_a_raise_not_executed_is_nothing(bpcli, tmp_path):
    result = grad(bpcli, tmp_path, RAISE.replace("MODE", '"train"'), "x=[1, 2]")
    assert result.code == 0, result.err
    assert "loss = 1.5" in result.out


# --- a condition on a forward value warns ------------------------------------------------------


@pytest.mark.parametrize(
    "inputs, bindings",
    [("", ("x=[1.0, 2.0]",)), ("x = np.array([1.0, 2.0])\n", ())],
    ids=["bound", "written_in_the_file"],
)
def test_a_condition_on_a_forward_value_warns(bpcli, tmp_path, inputs, bindings):
    """The gradient is of the branch taken: said once, whether x is bound or written in the
    file (bpcli gives ∂f/∂x for both)."""
    body = "def f(v):\n    s = np.sum(v)\n    if s > 0:\n        return s * s\n    return -s\n"
    text = inputs + body + "\nloss = f(x)\n"
    result = grad(bpcli, tmp_path, text, *bindings)
    assert result.code == 0, result.err
    assert "∂loss/∂x = [6, 6]" in result.out
    assert "warning:" in result.err and "branch" in result.err, result.err


def test_a_condition_on_shapes_does_not_warn(bpcli, tmp_path):
    text = "def f(v):\n    if v.shape[0] == 2:\n        return np.sum(v * v)\n    return np.sum(v)\n"
    text += "\nloss = f(x)\n"
    result = grad(bpcli, tmp_path, text, "x=[1.0, 2.0]")
    assert result.code == 0, result.err
    assert "branch" not in result.err


# --- no recursion, no hang ----------------------------------------------------------------------

LIMITED = """
import sys
from bpcli.core.engine import gradients, run
from bpcli.language.parse import parse

text = sys.stdin.read()
parse("loss = x * 2.0", {"x": 1.0})  # load the tables and every module first
sys.setrecursionlimit(LIMIT)
result = run(parse(text, {"x": 1.0}))
print(result.output, float(gradients(result)["x"]))
"""


def in_a_fresh_process(code: str, stdin: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, timeout=timeout, env=env
    )


LONG_LOOP = """
def step(h, k):
    return h * 0.5 + x * k

s = 0.0
h = 0.0
for i in range(100000):
    s = s + x * 0.5
h = step(h, 1.0)
for t in range(3):
    for j in range(1000):
        h = step(h, 0.001)
loss = s + h
"""


def test_ten_to_the_five_iterations_build_with_a_low_recursion_limit():
    """2·10⁵ nodes in one loop and 3000 calls, under a recursion limit of 120 frames (the
    tiny program's own depth is well under it: see the first run)."""
    tiny = in_a_fresh_process(LIMITED.replace("LIMIT", "120"), "loss = x * 3.0\n", timeout=120)
    assert tiny.returncode == 0, tiny.stderr
    assert tiny.stdout.split() == ["3.0", "3.0"]
    done = in_a_fresh_process(LIMITED.replace("LIMIT", "120"), LONG_LOOP, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    value, slope = map(float, done.stdout.split())
    h, dh = 1.0, 1.0  # after step(0.0, 1.0), at x = 1
    for _ in range(3000):
        h, dh = h * 0.5 + 0.001, dh * 0.5 + 0.001
    assert value == pytest.approx(50000.0 + h, rel=1e-9)
    assert slope == pytest.approx(50000.0 + dh, rel=1e-9)


@pytest.mark.parametrize(
    "loop",
    [
        "for i in range(10**9):\n    s = s + x",
        "for i in range(1000000000):\n    for j in range(3):\n        s = s * x",
        "def step(v):\n    return v + x\n\nfor i in range(10**9):\n    s = step(s)",
    ],
    ids=["one_loop", "nested", "calls"],
)
def test_an_absurd_loop_is_a_quick_clear_error(tmp_path, loop):
    program = tmp_path / "absurd.bp"
    program.write_text(f"s = 0.0\n{loop}\nloss = s\n", encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bpcli", "grad", str(program), "x=1.0"],
            capture_output=True,
            text=True,
            timeout=20,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"bpcli still builds after 20 s:\n{loop}")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith("error: "), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "range(" in done.stderr, done.stderr  # it points at the loop
