"""Whole programs against an independent oracle: SymPy.

A small generator below draws a random expression tree and emits, from the same tree,
both the bpcli source text and the SymPy expression (never a translation of anything
bpcli produces). bpcli's f and ∂f/∂name must match SymPy's value and `diff`, evaluated
numerically at 30 digits.

Values are kept away from domain edges and kinks: log and sqrt only ever see guarded
positive arguments (x^2 + c, exp(x), |x| + c, …), and every node is evaluated here with
`math`, so a draw that lands near a kink, a tie, a zero denominator, a pole of tan or an
overflow is rejected with `assume`.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bpcli.core.engine import gradients, run
from bpcli.errors import BpcliError, DomainError, ParseError, ProgramError
from bpcli.language.parse import parse

# Precedence of the outermost operator of a source text, loosest first. Power binds
# tighter than unary minus and is right-associative; a call or a name is an atom.
ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5

MARGIN = 1e-3  # how far relu/abs arguments and max/min inputs keep from their kink
EDGE = 0.05  # how far log/sqrt arguments, pow bases and denominators keep from 0
LIMIT = 1e4  # the largest magnitude any node may take
RTOL = 1e-9
ATOL = 1e-9

INPUT_NAMES = ["x", "y", "z", "θ", "w_1"]
NUMBERS = ["2", "3", "0.5", ".5", "1.5", "0.25", "1e-1", "2.5e0", "1.", "4"]


# --- the generator -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    """One expression, as bpcli text and as SymPy, with its value computed here."""

    text: str  # bpcli source
    prec: int  # precedence of the outermost operator of `text`
    sym: sp.Expr  # the same expression in SymPy
    value: float  # evaluated with `math`; nan when out of its domain
    ok: bool  # no domain edge, kink, tie or overflow anywhere inside
    names: frozenset[str] = frozenset()  # the program names it reads
    scale: float = 1.0  # the largest magnitude of any node inside


def exact(value: float) -> sp.Expr:
    """A float in SymPy without rounding: an Integer, or a 40-digit Float.

    (Not a Rational: 0.1 is p/2**55, and SymPy factors such numbers to raise them to a power.)"""
    return sp.Integer(int(value)) if value.is_integer() else sp.Float(value, 40)


def _eval(fn, *args: float) -> float:
    try:
        value = float(fn(*args))
    except (ValueError, ZeroDivisionError, OverflowError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def _combine(text: str, prec: int, args: list[Expr], sym, num=None, bad: bool = False) -> Expr:
    """A node over `args`: `sym` builds it in SymPy, `num` (default: `sym`) computes it here."""
    value = _eval(num or sym, *(a.value for a in args)) if all(a.ok for a in args) else math.nan
    ok = all(a.ok for a in args) and not bad and math.isfinite(value) and abs(value) <= LIMIT
    # Out of its domain the tree is rejected anyway, and SymPy may refuse it (Max of zoo).
    expr = sym(*(a.sym for a in args)) if ok else sp.nan
    return Expr(
        text,
        prec,
        expr,
        value,
        ok,
        frozenset().union(*(a.names for a in args)),
        max([1.0, abs(value) if ok else 1.0] + [a.scale for a in args]),
    )


def _operand(draw, e: Expr, need: int) -> str:
    """`e`'s text, in parentheses where precedence needs them (and now and then anyway)."""
    if e.prec < need or draw(st.integers(0, 11)) == 0:
        return f"({e.text})"
    return e.text


def _spaced(draw, symbol: str) -> str:
    return draw(st.sampled_from([symbol, f" {symbol} "]))


def _minus(draw) -> str:
    return draw(st.sampled_from(["-", "-", "−"]))


def number(draw) -> Expr:
    text = draw(st.sampled_from(NUMBERS))
    value = float(text)
    e = Expr(text, ATOM, exact(value), value, True)
    if draw(st.integers(0, 3)) == 0:  # a negative literal: bpcli folds -3 into a number
        e = Expr(_minus(draw) + text, NEG, -e.sym, -value, True)
    return e


def constant(draw) -> Expr:
    name = draw(st.sampled_from(["pi", "e"]))
    sym = sp.pi if name == "pi" else sp.E
    return Expr(name, ATOM, sym, float(sym), True)


def reference(env: dict[str, tuple[sp.Expr, float]], n: str) -> Expr:
    sym, value = env[n]
    ok = math.isfinite(value)
    return Expr(n, ATOM, sym, value, ok, frozenset([n]), max(1.0, abs(value)) if ok else 1.0)


def name(draw, env: dict[str, tuple[sp.Expr, float]]) -> Expr:
    return reference(env, draw(st.sampled_from(sorted(env))))


def leaf(draw, env) -> Expr:
    kind = draw(st.sampled_from(["name"] * 6 + ["number"] * 2 + ["constant"]))
    if kind == "name" and env:
        return name(draw, env)
    return constant(draw) if kind == "constant" else number(draw)


def neg(draw, a: Expr) -> Expr:
    return _combine(_minus(draw) + _operand(draw, a, NEG), NEG, [a], operator.neg)


def pos(draw, a: Expr) -> Expr:
    return _combine("+" + _operand(draw, a, NEG), NEG, [a], operator.pos)


def binary(draw, op: str, a: Expr, b: Expr) -> Expr:
    if op in ("+", "-"):
        symbol = "+" if op == "+" else _minus(draw)
        text = _operand(draw, a, ADD) + _spaced(draw, symbol) + _operand(draw, b, MUL)
        return _combine(text, ADD, [a, b], operator.add if op == "+" else operator.sub)
    if op in ("*", "/"):
        symbol = "/" if op == "/" else draw(st.sampled_from(["*", "*", "×", "·"]))
        text = _operand(draw, a, MUL) + _spaced(draw, symbol) + _operand(draw, b, NEG)
        if op == "*":
            return _combine(text, MUL, [a, b], operator.mul)
        return _combine(text, MUL, [a, b], operator.truediv, bad=abs(b.value) < EDGE)
    if op == "^":
        # Right-associative and tighter than unary minus: the base must be an atom,
        # the exponent may be -y or y^z unparenthesised.
        text = _operand(draw, a, ATOM) + draw(st.sampled_from(["^", "**"])) + _operand(draw, b, NEG)
        prec = POW
        if draw(st.integers(0, 3)) == 0:
            text, prec = f"pow({a.text}, {b.text})", ATOM
        # A negative base needs a constant integer exponent (d/dexponent needs base > 0),
        # and a base near 0 a constant exponent of at least 1.
        integer = a.ok and b.ok and not b.names and b.value == int(b.value)
        bad = (
            a.ok
            and b.ok
            and ((abs(a.value) < EDGE and not (integer and b.value >= 1)) or (a.value < 0 and not integer))
        )
        return _combine(text, prec, [a, b], operator.pow, bad=bad)
    if op in ("max", "min"):
        text = f"{op}({a.text},{_spaced(draw, '')}{b.text})"
        return _combine(
            text,
            ATOM,
            [a, b],
            sp.Max if op == "max" else sp.Min,
            max if op == "max" else min,
            bad=abs(a.value - b.value) < MARGIN,
        )
    raise AssertionError(op)


# name: (bpcli spellings, SymPy, math, too close to an edge or kink)
FUNCTIONS = {
    "exp": (["exp"], sp.exp, math.exp, lambda v: False),
    "log": (["log", "ln"], sp.log, math.log, lambda v: v < EDGE),
    "sqrt": (["sqrt"], sp.sqrt, math.sqrt, lambda v: v < EDGE),
    "sin": (["sin"], sp.sin, math.sin, lambda v: False),
    "cos": (["cos"], sp.cos, math.cos, lambda v: False),
    "tan": (["tan"], sp.tan, math.tan, lambda v: abs(math.cos(v)) < 0.1),
    "tanh": (["tanh"], sp.tanh, math.tanh, lambda v: False),
    "sigmoid": (
        ["sigmoid", "σ"],
        lambda a: 1 / (1 + sp.exp(-a)),
        lambda v: 1 / (1 + math.exp(-v)),
        lambda v: False,
    ),
    "relu": (["relu"], lambda a: sp.Max(0, a), lambda v: max(v, 0.0), lambda v: abs(v) < MARGIN),
    "abs": (["abs"], sp.Abs, abs, lambda v: abs(v) < MARGIN),
}


def call(draw, fname: str, a: Expr) -> Expr:
    spellings, sym, fn, near_edge = FUNCTIONS[fname]
    spelled = draw(st.sampled_from(spellings))
    bad = a.ok and near_edge(a.value)
    return _combine(f"{spelled}({a.text})", ATOM, [a], sym, fn, bad=bad)


def positive(draw, a: Expr) -> Expr:
    """An expression of `a` that is positive whatever `a` is: a guarded argument for log/sqrt."""
    c = number(draw)
    c = Expr(c.text.lstrip("-−"), ATOM, abs(c.sym), abs(c.value), True)
    form = draw(st.sampled_from(["square", "exp", "abs", "sigmoid"]))
    if form == "square":
        return binary(draw, "+", binary(draw, "^", a, Expr("2", ATOM, sp.Integer(2), 2.0, True)), c)
    if form == "abs":
        return binary(draw, "+", call(draw, "abs", a), c)
    return call(draw, form, a)


@st.composite
def expressions(draw, env: dict[str, tuple[sp.Expr, float]], depth: int = 3) -> Expr:
    """A random expression over the names in env, at most `depth` operators deep."""
    if depth == 0 or draw(st.integers(0, 5)) == 0:
        return leaf(draw, env)
    sub = expressions(env, depth - 1)
    kind = draw(st.sampled_from(["binary"] * 5 + ["unary"] * 3 + ["guarded", "power", "sign"]))
    if kind == "binary":
        op = draw(st.sampled_from(["+", "-", "*", "/", "max", "min"]))
        a, b = draw(sub), draw(sub)
        if op == "/" and draw(st.booleans()):
            b = positive(draw, b)
        return binary(draw, op, a, b)
    if kind == "unary":
        fname = draw(st.sampled_from(["exp", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs"]))
        return call(draw, fname, draw(sub))
    if kind == "guarded":
        return call(draw, draw(st.sampled_from(["log", "sqrt"])), positive(draw, draw(sub)))
    if kind == "sign":
        return neg(draw, draw(sub)) if draw(st.integers(0, 3)) else pos(draw, draw(sub))
    form = draw(st.sampled_from(["integer", "real", "variable"]))
    if form == "integer":
        text = draw(st.sampled_from(["2", "3", "-1", "-2", "1"]))
        exponent = Expr(text, NEG if text.startswith("-") else ATOM, sp.Integer(int(text)), float(text), True)
        return binary(draw, "^", draw(sub), exponent)
    base = positive(draw, draw(sub))
    if form == "real":
        text = draw(st.sampled_from(["0.5", "1.5", "-0.5", ".25"]))
        exponent = Expr(text, NEG if text.startswith("-") else ATOM, exact(float(text)), float(text), True)
        return binary(draw, "^", base, exponent)
    return binary(draw, "^", base, draw(sub))


input_values = st.floats(0.05, 2.5) | st.floats(-2.5, -0.05)


# --- programs ------------------------------------------------------------------------------


@dataclass
class Program:
    """A program, how to run it, and what SymPy says it computes.

    Every binding of a name (each `t = …`, `t += …`) gets a SymPy symbol of its own, with
    its definition in terms of the inputs and earlier bindings; ∂f/∂t for the last binding
    of t is the derivative of f with respect to that symbol once every later binding is
    substituted in.
    """

    lines: list[str] = field(default_factory=list)
    bindings: dict[str, float] = field(default_factory=dict)
    inputs: dict[str, float] = field(default_factory=dict)  # name -> value bpcli must use
    declared: set[str] = field(default_factory=set)  # inputs given by `x = 1.5` in the program
    defs: list[tuple[sp.Symbol, sp.Expr]] = field(default_factory=list)
    last: dict[str, int] = field(default_factory=dict)  # intermediate -> index of its last def
    env: dict[str, tuple[sp.Expr, float]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # names the program has read
    output: sp.Expr = sp.S.Zero
    ok: bool = True
    scale: float = 1.0
    text: str = ""

    def symbol(self, name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True)

    def add_input(self, name: str, value: float, how: str, literal_value: float) -> None:
        self.inputs[name] = value
        self.env[name] = (self.symbol(name), value)
        if how in ("literal", "both"):
            self.declared.add(name)
            self.lines.append(f"{name} = {literal_value!r}")
        if how in ("binding", "both"):
            self.bindings[name] = value

    def use(self, e: Expr) -> None:
        self.ok = self.ok and e.ok
        self.scale = max(self.scale, e.scale)
        self.seen |= e.names

    def bind(self, target: str, e: Expr, line: str) -> None:
        self.use(e)
        s = sp.Symbol(f"S{len(self.defs)}", real=True)
        self.defs.append((s, e.sym))
        if target not in self.inputs:
            self.last[target] = len(self.defs) - 1
        self.env[target] = (s, e.value)
        self.output = s
        self.lines.append(line)

    def finish(self, draw) -> None:
        separators = ["\n", ";", "; ", " ;\n", "\n\n", "  # a comment\n", ";\n# more\n"]
        text = self.lines[0]
        for line in self.lines[1:]:
            text += draw(st.sampled_from(separators)) + line
        self.text = (
            draw(st.sampled_from(["", "# program\n", "\n"]))
            + text
            + draw(st.sampled_from(["", "\n", ";", "  # end"]))
        )


def inputs(draw, program: Program, max_inputs: int = 3) -> None:
    chosen = draw(st.lists(st.sampled_from(INPUT_NAMES), min_size=1, max_size=max_inputs, unique=True))
    for n in chosen:
        value = draw(input_values)
        how = draw(st.sampled_from(["literal", "binding", "both"]))
        # With both, the binding overrides the literal in the program.
        literal_value = draw(input_values) if how == "both" else value
        program.add_input(n, value, how, literal_value)


@st.composite
def single_expressions(draw) -> Program:
    """One expression over one to three inputs, bound or assigned literally."""
    program = Program()
    inputs(draw, program)
    e = draw(expressions(dict(program.env), depth=4))
    program.use(e)
    program.output = e.sym
    program.lines.append(f"({e.text})" if e.text[:1] in "+-−" and program.lines else e.text)
    program.finish(draw)
    return program


@st.composite
def multi_statement_programs(draw) -> Program:
    """Named intermediates, reassignment, `+=` and friends, aliases and fan-out."""
    program = Program()
    inputs(draw, program)
    count = draw(st.integers(1, 4))
    intermediates: list[str] = []
    for i in range(count):
        kinds = ["new", "new"]
        if intermediates:
            kinds += ["reassign", "alias"]
        if intermediates or program.inputs:
            kinds += ["augment", "augment"]
        seen_inputs = sorted((program.seen & program.inputs.keys()) | program.declared)
        if seen_inputs:
            kinds += ["input"]
        kind = draw(st.sampled_from(kinds))
        env = dict(program.env)
        rhs = draw(expressions(env, depth=2))
        if not rhs.names:  # an intermediate must not be a bare number (that would be an input)
            rhs = binary(draw, "+", rhs, name(draw, env))
        if kind == "new":
            target = f"t{i}" if i != count - 1 or draw(st.booleans()) else "f"
            intermediates.append(target)
            program.bind(target, rhs, f"{target} = {rhs.text}")
        elif kind == "reassign":
            target = draw(st.sampled_from(intermediates))
            program.bind(target, rhs, f"{target} = {rhs.text}")
        elif kind == "alias":
            source = draw(st.sampled_from(intermediates))
            target = f"a{i}"
            intermediates.append(target)
            program.bind(target, reference(env, source), f"{target} = {source}")
        elif kind == "augment":
            target = draw(st.sampled_from(intermediates + sorted(program.inputs)))
            op = draw(st.sampled_from(["+", "-", "*", "/"]))
            # `t op= rhs` is t op (rhs), however loosely rhs binds
            whole = binary(
                draw,
                op,
                reference(env, target),
                Expr(f"({rhs.text})", ATOM, rhs.sym, rhs.value, rhs.ok, rhs.names, rhs.scale),
            )
            program.bind(target, whole, f"{target} {op}= {rhs.text}")
        else:  # an input reassigned: ∂f/∂x stays the input's gradient
            target = draw(st.sampled_from(seen_inputs))
            program.bind(target, rhs, f"{target} = {rhs.text}")
    if draw(st.integers(0, 2)) == 0:  # end with an expression statement
        rhs = draw(expressions(dict(program.env), depth=2))
        program.use(rhs)
        # (a line that starts with + or - after a statement reads as its continuation, an
        # error: in parentheses it is a statement of its own)
        program.lines.append(f"({rhs.text})" if rhs.text[:1] in "+-−" else rhs.text)
        program.output = rhs.sym
    program.finish(draw)
    return program


# --- the oracle ----------------------------------------------------------------------------


def _number(expr: sp.Expr, values: dict) -> float:
    value = expr.xreplace(values)
    try:
        return float(value.evalf(30))
    except TypeError:  # evalf leaves Heaviside(a - b) of numbers it cannot order symbolically
        return float(sp.N(value.rewrite(sp.Piecewise), 30))


def expected(program: Program) -> tuple[float, dict[str, float]]:
    """f and ∂f/∂name for every name, computed by SymPy alone."""
    values: dict = {program.symbol(n): exact(v) for n, v in program.inputs.items()}
    for s, definition in program.defs:
        values[s] = definition.xreplace(values)

    def substituted(expr: sp.Expr, after: int) -> sp.Expr:
        for s, definition in reversed(program.defs[after + 1 :]):
            expr = expr.subs(s, definition)
        return expr

    full = substituted(program.output, -1)
    f = _number(full, values)
    grads = {}
    for n in program.inputs:
        if n in program.declared or n in program.seen:
            grads[n] = _number(sp.diff(full, program.symbol(n)), values)
    for n, index in program.last.items():
        s = program.defs[index][0]
        grads[n] = _number(sp.diff(substituted(program.output, index), s), values)
    return f, grads


def check(program: Program) -> None:
    assume(program.ok)
    note = f"program:\n{program.text}\nbindings: {program.bindings}"
    result = run(parse(program.text, program.bindings))
    f, grads = expected(program)
    atol = ATOL * program.scale
    assert result.output == pytest.approx(f, rel=RTOL, abs=atol), note
    actual = gradients(result)
    assert set(actual) == set(grads), note
    for n, want in grads.items():
        assert actual[n] == pytest.approx(want, rel=RTOL, abs=atol * max(1.0, abs(want))), f"∂f/∂{n}\n{note}"


COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@settings(max_examples=100, **COMMON)
@given(single_expressions())
def test_single_expressions_match_sympy(program):
    check(program)


@settings(max_examples=100, **COMMON)
@given(multi_statement_programs())
def test_programs_match_sympy(program):
    check(program)


@settings(max_examples=3000, **COMMON)
@given(st.one_of(single_expressions(), multi_statement_programs()))
def _many_programs(program):
    check(program)


@pytest.mark.slow
def test_many_programs_match_sympy(request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("a long randomised run: select it with -m slow")
    _many_programs()


# --- result reuse: one node per name, however often it is used ---------------------------------


def sympy_gradients(f: sp.Expr, at: dict[str, float]) -> tuple[float, dict[str, float]]:
    """f and ∂f/∂input from a SymPy expression over symbols named like the inputs."""
    symbols = {n: sp.Symbol(n, real=True) for n in at}
    values = {symbols[n]: exact(v) for n, v in at.items()}
    return _number(f, values), {n: _number(sp.diff(f, s), values) for n, s in symbols.items()}


X, Y, A, C, E = (sp.Symbol(n, real=True) for n in ("x", "y", "a", "c", "e"))


@pytest.mark.parametrize(
    ("program", "at", "f"),
    [
        ("(x+x)*x", {"x": 3.0}, (X + X) * X),
        ("x*x*x", {"x": 2.0}, X**3),
        ("x*x*x*x*x", {"x": -1.5}, X**5),
        ("x + x + x + x", {"x": 0.7}, 4 * X),
        ("x - x", {"x": 0.7}, sp.Integer(0)),
        ("x/x", {"x": 0.7}, sp.Integer(1)),
        ("a = 1; b = a + a; c = b + b", {"a": 1.0}, 4 * A),
        ("y = x*x; f = y*y + y", {"x": 1.5}, X**4 + X**2),
        ("a = x + 1; b = x*2; f = a*b", {"x": 3.0}, (X + 1) * X * 2),
        ("x = 3; y = x*2; x = y + 1; f = x*y", {"x": 3.0}, (2 * X + 1) * (2 * X)),
        ("c = 2; c += e; f = c*c", {"c": 2.0}, (C + sp.E) ** 2),
        ("e = 0.5; c = 2; c += e; c*e", {"c": 2.0, "e": 0.5}, (C + E) * E),
        ("c = x*x; c += x; c *= c; c", {"x": 1.5}, (X**2 + X) ** 2),
        ("s = sin(x); f = s*s + cos(x)*cos(x)", {"x": 0.4}, sp.Integer(1)),
        ("u = exp(x); v = u*u; f = log(v) - u", {"x": 0.3}, 2 * X - sp.exp(X)),
    ],
)
def test_reused_nodes_match_sympy(program, at, f):
    bindings = {n: v for n, v in at.items() if f"{n} = " not in program}
    result = run(parse(program, bindings))
    want_f, want = sympy_gradients(f, at)
    assert result.output == pytest.approx(want_f, rel=RTOL, abs=ATOL)
    got = gradients(result)
    for n, g in want.items():
        assert got[n] == pytest.approx(g, rel=RTOL, abs=ATOL), n
    # each input is one node, not one per use
    assert sorted(n.name for n in result.graph.nodes if n.op.name == "input") == sorted(at)


def test_reuse_intermediate_gradients():
    got = gradients(run(parse("a = 1; b = a+a; c = b+b")))
    assert got == {"a": 4, "b": 2, "c": 1}
    got = gradients(run(parse("y = x*x; f = y*y + y", {"x": 1.5})))
    assert got["y"] == pytest.approx(2 * 2.25 + 1)
    got = gradients(run(parse("a = x + 1; b = x*2; f = a*b", {"x": 3.0})))
    assert got == {"x": 14, "a": 6, "b": 4, "f": 1}


def test_reassigned_name():
    """∂f/∂x is the input x's; ∂f/∂y for y = 2x, used both directly and through the new x."""
    result = run(parse("x = 3; y = x*2; x = y + 1; f = x*y"))
    assert result.output == 42
    assert gradients(result) == {"x": 26, "y": 13, "f": 1}
    assert any("x is an input and is assigned again" in w for w in result.warnings)


def test_augmented_assignments():
    for op, f, dx in [
        ("+=", 2.0 + 0.5, 1.0),
        ("-=", 2.0 - 0.5, 1.0),
        ("*=", 2.0 * 0.5, 0.5),
        ("/=", 2.0 / 0.5, 1 / 0.5),
    ]:
        result = run(parse(f"t = x * 1; t {op} y", {"x": 2.0, "y": 0.5}))
        assert result.output == pytest.approx(f), op
        assert gradients(result)["x"] == pytest.approx(dx), op


def test_gradients_accumulate_over_repeated_runs_only_once():
    graph = parse("f = x*x + x", {"x": 2.0})
    first = run(graph)
    again = run(graph)
    assert gradients(first)["x"] == gradients(again)["x"] == 5


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), input_values)
def test_power_by_repeated_multiplication(n, x):
    result = run(parse("*".join(["x"] * n), {"x": x}))
    assert result.output == pytest.approx(x**n, rel=1e-12)
    assert gradients(result)["x"] == pytest.approx(n * x ** (n - 1), rel=1e-12)


# --- precedence and parsing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "bindings", "f", "grads"),
    [
        ("-x^2", {"x": 3.0}, -9, {"x": -6}),
        ("-x**2", {"x": 3.0}, -9, {"x": -6}),
        ("(-x)^2", {"x": 3.0}, 9, {"x": 6}),
        ("2^3^2", {}, 512, {}),
        ("2**3**2", {}, 512, {}),
        ("(2^3)^2", {}, 64, {}),
        ("2^-1", {}, 0.5, {}),
        ("-2^2", {}, -4, {}),
        ("(-2)^2", {}, 4, {}),
        ("x**2", {"x": 3.0}, 9, {"x": 6}),
        ("x^-1", {"x": 2.0}, 0.5, {"x": -0.25}),
        ("2*x^2", {"x": 3.0}, 18, {"x": 12}),
        ("x^2*2", {"x": 3.0}, 18, {"x": 12}),
        ("pow(x, 3)", {"x": 2.0}, 8, {"x": 12}),
        ("+x", {"x": 3.0}, 3, {"x": 1}),
        ("-+x", {"x": 3.0}, -3, {"x": -1}),
        ("- -x", {"x": 3.0}, 3, {"x": 1}),
        ("--x", {"x": 3.0}, 3, {"x": 1}),
        ("x*-y", {"x": 3.0, "y": 2.0}, -6, {"x": -2, "y": -3}),
        ("x - -y", {"x": 3.0, "y": 2.0}, 5, {"x": 1, "y": 1}),
        ("10 - x - y", {"x": 4.0, "y": 3.0}, 3, {"x": -1, "y": -1}),
        ("x / y / 5", {"x": 10.0, "y": 4.0}, 0.5, {"x": 0.05, "y": -0.125}),
        ("x - y*2", {"x": 10.0, "y": 4.0}, 2, {"x": 1, "y": -2}),
        ("(x - y)*2", {"x": 10.0, "y": 4.0}, 12, {"x": 2, "y": -2}),
        (".5*x", {"x": 3.0}, 1.5, {"x": 0.5}),
        ("1e-3*x", {"x": 3.0}, 0.003, {"x": 0.001}),
        ("2.5e1 + x", {"x": 3.0}, 28, {"x": 1}),
        ("1.*x", {"x": 3.0}, 3, {"x": 1}),
        ("x − y", {"x": 3.0, "y": 2.0}, 1, {"x": 1, "y": -1}),
        ("−x^2", {"x": 3.0}, -9, {"x": -6}),
        ("x × y", {"x": 3.0, "y": 2.0}, 6, {"x": 2, "y": 3}),
        ("x · y", {"x": 3.0, "y": 2.0}, 6, {"x": 2, "y": 3}),
        ("x·y − x×2", {"x": 3.0, "y": 2.0}, 0, {"x": 0, "y": 3}),
        ("x = −2; x*x", {}, 4, {"x": -4}),
        ("x = -2; x*x", {}, 4, {"x": -4}),
        ("x = +2; x*x", {}, 4, {"x": 4}),
        ("θ = 0.5; θ*θ", {}, 0.25, {"θ": 1}),
        ("2*θ", {"θ": 1.5}, 3, {"θ": 2}),
        ("x_1*x2", {"x_1": 1.5, "x2": 2.0}, 3, {"x_1": 2, "x2": 1.5}),
        ("x = 2 # the input\ny = 3 ; # another\nx*y  # out", {}, 6, {"x": 3, "y": 2}),
        ("x = 2; y = 3; x*y", {}, 6, {"x": 3, "y": 2}),
        ("x = 2;y = 3;x*y;", {}, 6, {"x": 3, "y": 2}),
        ("\n# leading comment\n\nx = 2\n\ny = 3\n\nx*y\n\n", {}, 6, {"x": 3, "y": 2}),
        ("(x +\n y) * 2", {"x": 1.0, "y": 2.0}, 6, {"x": 2, "y": 2}),
        ("x = 2; x*x", {"x": 7.0}, 49, {"x": 14}),  # the binding overrides the literal
        ("x*pi + e", {"x": 2.0}, 2 * math.pi + math.e, {"x": math.pi}),
        ("pi = 3; pi*x", {"x": 2.0}, 6, {"pi": 2, "x": 3}),
        ("e = 2; e*e", {}, 4, {"e": 4}),
        ("σ(x) - sigmoid(x)", {"x": 0.3}, 0, {"x": 0}),
        ("ln(x) - log(x)", {"x": 0.3}, 0, {"x": 0}),
        ("pow(2, 3)", {}, 8, {}),
    ],
)
def test_parsing(program, bindings, f, grads):
    result = run(parse(program, bindings))
    assert result.output == pytest.approx(f, rel=1e-12, abs=1e-12)
    got = gradients(result)
    for n, want in grads.items():
        assert got[n] == pytest.approx(want, rel=1e-12, abs=1e-12), n


@pytest.mark.parametrize(
    ("program", "sympy_f"),
    [
        ("x^y^z", X ** (Y ** sp.Symbol("z", real=True))),
        ("x^-y^2", X ** (-(Y**2))),
        ("-x^y", -(X**Y)),
        ("x/y*x", X / Y * X),
        ("x - y + x", X - Y + X),
        ("x*y^2/x", Y**2),
    ],
)
def test_precedence_against_sympy(program, sympy_f):
    at = {"x": 1.3, "y": 0.7, "z": 1.1}
    result = run(parse(program, {n: v for n, v in at.items() if n in program}))
    want_f, want = sympy_gradients(sympy_f, {n: v for n, v in at.items() if n in program})
    assert result.output == pytest.approx(want_f, rel=RTOL)
    got = gradients(result)
    for n, g in want.items():
        assert got[n] == pytest.approx(g, rel=RTOL, abs=ATOL), n


@pytest.mark.parametrize(
    ("program", "error"),
    [
        ("2x", ParseError),
        ("(x + 1", ParseError),
        ("x +", ParseError),
        ("foo(x)", ProgramError),
        ("y", ProgramError),
        ("log(x - 1)", DomainError),
        ("1/(x - 1)", DomainError),
        ("", ProgramError),
    ],
)
def test_errors(program, error):
    with pytest.raises(error) as info:
        run(parse(program, {"x": 1.0}))
    assert isinstance(info.value, BpcliError)
