"""Issue 18, part 4: a hint only where it fits. A hint that suggests a rewrite carries the
rewritten program (ParseError.fix) and is offered only when that program parses; the common
mistakes get the right one."""

from __future__ import annotations

import random

import pytest

from bpcli.errors import ParseError
from bpcli.language.hints import parses
from bpcli.language.parse import check_syntax

SUGGESTING = ("parentheses", "needs *", "commas", "close it", "compares", "with ':'", "with **")


def _syntax_error(source: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        check_syntax(source)
    return info.value


def _assert_fits(source: str) -> ParseError:
    """The error's hint, if it suggests a rewrite, comes with one that parses, and the code
    it shows is in that rewrite."""
    err = _syntax_error(source)
    hint = err.hint or ""
    if err.fix is not None:
        assert parses(err.fix), f"{source!r}: the fix {err.fix!r} does not parse"
        assert hint, source
        shown = hint.split(": ", 1)[1] if ": " in hint.splitlines()[0] else ""
        for line in shown.splitlines():
            assert line.strip() in err.fix, (source, hint, err.fix)
    else:
        assert not any(word in hint for word in SUGGESTING), f"{source!r}: {hint!r} suggests without a fix"
    return err


# --- the common mistakes, and the hint each should get -------------------------------------

RIGHT_HINTS = [
    ("exp x", "exp(x)"),
    ("sin x", "sin(x)"),
    ("np.exp x", "np.exp(x)"),
    ("exp x + sin y", "exp(x) + sin(y)"),
    ("f = 1 / (1 + exp -x)", None),  # (exp -x is exp - x: it parses; nothing to say)
    ("sigmoid w*x", "sigmoid(w)"),
    ("print x", "print(x)"),
    ("for i in range 3:\n    s = i\ns", "for i in range(3):"),
    ("2x", "2*x"),
    ("3 y + 1", "3*y + 1"),
    ("2(x + 1)", None),  # (it parses: 2 is called, an error of meaning, not of syntax)
    ("(x+y", "(x+y)"),
    ("np.sum(x axis=0)", "np.sum(x, axis=0)"),
    ("sum(x axis=0)", "sum(x, axis=0)"),
    ("[1 2 3]", "[1, 2, 3]"),
    ("np.sum[x, axis=0]", "np.sum(x, axis=0)"),
    ("sum(x, axis=0", "sum(x, axis=0)"),
    ("if x = 1:\n    y = 2\ny", "if x == 1:"),
    ("np.where(x+1 = 0, x, y)", "np.where(x+1 == 0, x, y)"),
    ("for i in range(3)\n    s = i\ns", "ends with ':'"),
    ("a = (x + y\nb = 2 * a", "a = (x + y)"),
    ("loss = a * b\n    + c", "loss = (a * b"),
    ("loss = a * b\n* c", "loss = (a * b"),
    ("loss = a * b +\n  c", "loss = (a * b +"),
]


@pytest.mark.parametrize(("source", "wanted"), RIGHT_HINTS)
def test_common_mistakes_get_the_right_hint(source, wanted):
    if wanted is None:
        check_syntax(source)  # parses
        return
    err = _assert_fits(source)
    assert err.hint is not None and wanted in err.hint, (source, err.hint)
    assert "2*x" not in err.hint or source == "2x"


def test_exp_x_is_not_told_about_products():
    err = _syntax_error("exp x")
    assert err.hint == "a function's argument goes in parentheses: exp(x)"
    assert err.fix == "exp(x)"


@pytest.mark.parametrize(
    "source",
    [
        "sum(x, axis=0",
        "sum(x axis=0)",
        "np.sum[x, axis=0]",
        "sum(x, axis=0))",
        "sum(x, axis=0 keepdims=True)",
    ],
)
def test_no_comparison_hint_for_keyword_arguments(source):
    err = _assert_fits(source)
    assert "==" not in (err.hint or "")


def test_x_squared_with_a_caret_is_a_power():
    check_syntax("x^2")
    check_syntax("x**2")


def test_an_operator_at_the_end_says_what_may_follow():
    err = _assert_fits("x**")
    assert err.fix is None
    assert err.hint == "expected a number, a name, '(' or '['"


@pytest.mark.parametrize(
    "source",
    ["a b", "x y z", "w x + b", "x = = 1", "f(x) = 3", "(x + y))", "x +* y", "np.sum(x,, 0)"],
)
def test_no_rewrite_where_none_is_known(source):
    err = _assert_fits(source)
    assert err.fix is None, (source, err.hint)


# --- many wrong inputs: every hint offered makes the input parse -----------------------------

VALID = [
    "f = (x + y) * z",
    "f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))",
    "h = np.maximum(0, W @ x + b)\nloss = np.sum(h ** 2, axis=0)",
    "def g(a, b=2):\n    return a * b\nf = g(x, b=y)",
    "s = 0\nfor i in range(3):\n    if i > 0:\n        s = s + x[i]\ns",
    "m = np.mean((y - t) ** 2)",
    "xs = [1, 2, 3]\nq = xs[0] * sin(x)",
]
EDITS = ["", "(", ")", ",", "=", "+", "*", "x", "2", ":", "\n", "[", "]", " ", "^", "exp "]


def _mutants() -> list[str]:
    rng = random.Random(18)
    mutants = set()
    for program in VALID:
        for _ in range(90):
            at = rng.randrange(len(program) + 1)
            cut = rng.choice([0, 0, 1])
            mutants.add(program[:at] + rng.choice(EDITS) + program[at + cut :])
    return sorted(mutants)


def test_every_hint_offered_on_many_wrong_inputs_makes_them_parse():
    offered = 0
    for source in _mutants():
        if parses(source):
            continue
        try:
            check_syntax(source)
        except ParseError as err:
            _assert_fits(source)
            offered += err.fix is not None
        except Exception as err:  # a ProgramError (empty program): no hint to check
            assert "empty" in str(err)
    assert offered >= 20  # (the mutants do reach the hints)


@pytest.mark.parametrize(
    ("program", "message", "rewrite"),
    [
        ("f = 3(x+1)", "3 is a number, not a function", "3*(x+1)"),
        ("f = 2.5 (x + 1)", "2.5 is a number, not a function", "2.5*(x + 1)"),
        ("f = (x+1)(x-1)", "(x+1) is a value, not a function", "(x+1)*(x-1)"),
        ("h = x + 1; f = h(x)", "h is a value, not a function", "h*(x)"),
        ("f = x((x+1)*2)", "x is a value, not a function", "x*((x+1)*2)"),
    ],
)
def test_a_product_written_as_algebra_writes_it(program, message, rewrite):
    """3(x+1) parses as a call of 3: the error says what was called, and the hint gives the
    product with its *, which runs."""
    import bpcli

    with pytest.raises(bpcli.ProgramError) as info:
        bpcli.grad(program, x=2.0)
    assert info.value.message == message
    assert info.value.hint == f"bpcli needs * for a product: {rewrite}"
    bpcli.grad(program[: program.rindex("= ") + 2] + rewrite, x=2.0)  # f = 3*(x+1)
