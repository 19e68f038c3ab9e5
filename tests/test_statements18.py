"""Issue 18, part 6: Python's rule for statements. A statement goes on to the next line only
inside brackets (or after a trailing backslash); a bare expression whose value nothing uses
is an error, and a line that starts with an operator right after a statement, meant as its
continuation, is refused with the rewrite in parentheses."""

from __future__ import annotations

import json

import pytest

from bpcli.core.engine import run
from bpcli.errors import BpcliError, ParseError, ProgramError
from bpcli.language.hints import parses
from bpcli.language.parse import parse

ABC = {"a": 2.0, "b": 3.0, "c": 5.0}


def _output(source: str, bindings: dict[str, float] | None = None, **options: object) -> float:
    graph = parse(source, bindings if bindings is not None else ABC, **options)  # type: ignore[arg-type]
    return float(run(graph).value(graph.output))


def _error(source: str, bindings: dict[str, float] | None = None) -> BpcliError:
    with pytest.raises(BpcliError) as info:
        parse(source, bindings if bindings is not None else ABC)
    return info.value


def _rewrite(hint: str) -> str:
    """The program a hint shows: its lines indented by 4, after the line ending in ':'."""
    lines = hint.splitlines()
    shown = [line[4:] for line in lines if line.startswith("    ")]
    assert shown, hint
    return "\n".join(shown)


# --- a line that starts with an operator ------------------------------------------------


@pytest.mark.parametrize("indent", ["", "    ", "\t"])
def test_a_plus_line_after_a_statement_is_refused_with_the_parenthesised_rewrite(indent):
    source = f"loss = a * b\n{indent}+ c\n"
    err = _error(source)
    assert "line 2" in err.message
    assert err.pos == source.index("+")
    assert err.hint is not None
    assert "only inside brackets" in err.hint
    rewrite = _rewrite(err.hint)
    assert rewrite.startswith("loss = (a * b\n") and rewrite.endswith("+ c)")
    # the rewrite parses, and it is what the student meant: a*b + c
    assert parses(rewrite)
    assert _output(rewrite) == 2 * 3 + 5


@pytest.mark.parametrize("operator", ["-", "*", "/", "@", "**", ".sum()", "and", "or"])
def test_every_leading_binary_operator_gets_the_rewrite(operator):
    rest = "" if operator.startswith(".") else " c"
    source = f"q = a * b\n{operator}{rest}\n"
    err = _error(source)
    assert err.hint is not None and "wrap it in parentheses" in err.hint, err
    assert parses(_rewrite(err.hint))


def test_the_rewrite_takes_every_continuation_line():
    source = "loss = a * b\n    + c\n    - a\nf = loss\n"
    err = _error(source)
    rewrite = _rewrite(err.hint or "")
    assert rewrite == "loss = (a * b\n    + c\n    - a)"
    fixed = source.replace("a * b", "(a * b").replace("- a\n", "- a)\n")
    assert _output(fixed) == 2 * 3 + 5 - 2


def test_a_line_ending_in_an_operator_gets_the_rewrite():
    source = "loss = a * b +\n    c\n"
    err = _error(source)
    assert isinstance(err, ParseError)
    assert "ends in the middle" in err.message
    assert _rewrite(err.hint or "") == "loss = (a * b +\n    c)"
    assert err.fix is not None and _output(err.fix) == 11


def test_the_rewrite_continues_the_statement_not_the_first_on_its_line():
    err = _error("q = a; loss = a * b\n+ c")
    assert _rewrite(err.hint or "") == "q = a; loss = (a * b\n+ c)"
    err = _error("loss = np.sum([a,\n               b])\n+ c")
    assert _rewrite(err.hint or "") == "loss = (np.sum([a,\n               b])\n+ c)"


def test_a_statement_in_a_block_gets_its_own_rewrite():
    source = "s = 0\nfor i in range(3):\n    s = s + a\n    + c\ns\n"
    err = _error(source)
    assert "line 4" in err.message and "line 3" in err.message
    assert _rewrite(err.hint or "").strip() == "s = (s + a\n    + c)"


def test_a_leading_minus_stands_alone_in_parentheses_or_after_a_blank_line():
    assert _output("q = a * b\n(-q)") == -6
    assert _output("q = a * b\n\n-q") == -6
    err = _error("q = a * b\n-q")
    assert "(-q)" in (err.hint or "")  # the other reading, offered too
    # in parentheses it is a statement of its own: nothing to continue
    assert _output("-a * b") == -6
    assert _output("if a > 0:\n    -b\nelse:\n    b") == -3  # a block's first line
    assert _output("q = a\nq = q - b; -q") == 1  # (not first on its line)


def test_a_backslash_continues_a_line_as_in_python():
    assert _output("loss = a * b \\\n    + c") == 11


def test_inside_brackets_lines_continue():
    assert _output("loss = (a * b\n    + c)") == 11
    assert _output("loss = np.sum([a * b,\n    c])") == 11


# --- a bare expression whose value nothing uses --------------------------------------------


def test_an_unused_expression_before_the_last_statement_is_an_error():
    err = _error("q = a * b\nq + c\nf = 2 * q")
    assert isinstance(err, ProgramError)
    assert "line 2" in err.message and "nothing uses" in err.message
    assert err.pos == len("q = a * b\n")
    assert "assign" in (err.hint or "")


def test_the_last_statement_is_the_output():
    assert _output("q = a * b\nq + c") == 11
    assert _output("q = a * b; q + c") == 11


def test_the_last_statement_stays_allowed_with_output():
    graph = parse("q = a * b\nq + c", ABC, output="q")
    assert graph.output_text == "q"


@pytest.mark.parametrize(
    "source",
    [
        "q = a * b\nprint(q)\nf = q + c",
        "xs = []\nxs.append(a)\nxs.append(b)\nf = xs[0] * xs[1]",
        "np.random.seed(0)\nf = a * b",
        "q = a * b\nnp.sum(q)\nf = q + c",  # a call's value may be dropped
        '"""A docstring."""\nf = a * b',
        "f = a * b\n'a string, as Python skips it'\ng = f + 1",
        "d = {}\nd.update({'k': a})\nf = d['k'] * b",
        "def g(x):\n    'its docstring'\n    print(x)\n    return 2 * x\nf = g(a)",
    ],
)
def test_calls_and_strings_may_stand_anywhere(source):
    _output(source)


def test_an_unused_expression_in_a_function_is_an_error():
    err = _error("def g(x):\n    x * 2\n    return x\nf = g(a)")
    assert "line 2" in err.message and "return" in (err.hint or "")


def test_a_loop_body_expression_followed_by_a_statement_is_an_error():
    err = _error("s = 0\nfor i in range(2):\n    s\n    s = s + a\nf = s")
    assert "line 3" in err.message


# --- through the command line and batch ----------------------------------------------------


def test_the_cli_says_error_and_exits_2(bpcli, tmp_path):
    program = tmp_path / "loss.bp"
    program.write_text("loss = a * b\n    + c\n")
    result = bpcli("grad", str(program), "a=2", "b=3", "c=5")
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("error: ")
    assert "        + c\n        ^" in result.err
    assert "    loss = (a * b\n        + c)" in result.err
    assert all(len(line) <= 80 for line in result.err.splitlines())
    program.write_text("loss = a * b\n+ c\n")
    result = bpcli("grad", str(program), "a=2", "b=3", "c=5")
    assert result.code == 2 and result.err.startswith("error: line 2 starts a new statement")
    assert all(len(line) <= 80 for line in result.err.splitlines())


def test_batch_makes_one_error_record_per_problem(bpcli):
    problems = [
        {"program": "loss = a*b\n+ c", "bindings": ABC},
        {"program": "a*b; c", "bindings": ABC},
        {"program": "a*b", "bindings": {"a": 1, "b": 2}},
    ]
    result = bpcli("batch", "-", input="".join(json.dumps(p) + "\n" for p in problems))
    records = [json.loads(line) for line in result.out.splitlines()]
    assert len(records) == 3
    assert "line 2 starts a new statement" in records[0]["error"]
    assert "nothing uses the value" in records[1]["error"]
    assert records[2]["value"] == 2.0
    assert result.code == 1
