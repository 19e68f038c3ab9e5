"""Issue 13, numerics: no silent inf where fan-out branches add up, norm at any scale, nodes off
the output's path, stable --expand circuits, and --gradcheck at the edges and at scale."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from bpcli.core.engine import gradients, run
from bpcli.core.run import Run
from bpcli.errors import DomainError
from bpcli.grading.gradcheck import gradcheck
from bpcli.language.parse import parse

OVERFLOW = """\
error: ∂f/∂x overflows: its branches through #2 and #4 add up past the float range
  line 1, column 5:
    f = x*1e308 + x*1e308
        ^
every branch is finite, but their sum is not; rescale the program's numbers
"""

# --- defect 1: fan-out branches that add up past the float range -----------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "steps", "csv"])
def test_fanout_overflow_is_an_error_not_infinity(bpcli, fmt):
    result = bpcli("grad", "f = x*1e308 + x*1e308", "x=1e-10", "--format", fmt)
    assert (result.code, result.out, result.err) == (2, "", OVERFLOW)


def test_fanout_overflow_of_arrays_is_an_error_not_a_bug(bpcli):
    result = bpcli("grad", "f = sum(x*1e308 + x*1e308)", "x=[1e-10, 2e-10]")
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(
        "error: ∂f/∂x overflows: its branches through #2 and #4 add up past the float range\n"
    )


def test_fanout_overflow_names_every_branch_and_an_intermediate(bpcli):
    result = bpcli("grad", "q = x*1; f = q*7e307 + q*7e307 + q*7e307", "x=1e-10")
    assert result.code == 2
    assert result.err.startswith("error: ∂f/∂q overflows: its branches through #4, #6 and #9")


def test_check_refuses_to_grade_against_an_overflowing_gradient(bpcli):
    result = bpcli("check", "f = x*1e308 + x*1e308", "x=1e-10", "-e", "dx=5", "-e", "dx=-7")
    assert (result.code, result.out, result.err) == (2, "", OVERFLOW)


def test_gradcheck_never_calls_an_overflow_good(bpcli):
    result = bpcli("grad", "f = x*1e308 + x*1e308", "x=1e-10", "--gradcheck")
    assert (result.code, result.out, result.err) == (2, "", OVERFLOW)


@pytest.mark.parametrize("args", [[], ["--program", "f = x*1e308 + x*1e308"]])
def test_batch_writes_error_records_on_the_engine_and_the_compiled_path(bpcli, args):
    lines = "x=1e-10\n" * 5 if args else "x=1e-10; f = x*1e308 + x*1e308\n" * 5
    result = bpcli("batch", *args, input=lines)
    assert result.code == 1
    records = [json.loads(line) for line in result.out.splitlines()]
    assert len(records) == 5  # the third identical problem onwards is compiled
    for record in records:
        assert record["error"].startswith("∂f/∂x overflows: its branches through #2 and #4")
        assert "grads" not in record


def test_one_sided_gradients_check_their_sums_too():
    from bpcli.core.engine import one_sided_gradients

    result = run(parse("f = relu(x)*1e308 + relu(x)*1e308", {"x": 0.0}))
    with pytest.raises(DomainError, match=r"^∂f/∂x overflows: its branches through #1 and #4"):
        one_sided_gradients(result, {1: 1.0, 4: 1.0})  # both relus just above their kink


def test_diagnosis_sums_no_candidate_past_the_float_range():
    from bpcli.grading.mistakes import add

    assert add(1e308, 1e308) is None
    assert add(add(1e308, -1e308), 1e308) == 1e308  # type: ignore[arg-type]
    np = pytest.importorskip("numpy")
    with np.errstate(all="raise"):  # no RuntimeWarning leaks out either
        assert add(np.array([1e308, 1.0]), np.array([1e308, 1.0])) is None


# --- --gradcheck at the edges and at scale ---------------------------------------------------


def test_gradcheck_of_arrays_up_to_the_dimension_limit(bpcli):
    # numpy's .flat stops at 32 dimensions; the gradient check indexes flat copies instead
    shape = ",".join(["1"] * 31 + ["2"])
    result = bpcli("grad", "sum(x*3)", f"x=ones({shape})", "--gradcheck", "--format", "json")
    assert result.code == 0, result.err
    check = json.loads(result.out)["gradcheck"][0]
    assert (check["verdict"], check["checked"], check["elements"]) == ("good", 2, 2)
    more = ",".join(["1"] * 32 + ["2"])
    result = bpcli("grad", "sum(x*3)", f"x=ones({more})", "--gradcheck")
    assert result.code == 2 and "33 dimensions, more than the 32" in result.err


def test_gradcheck_calls_a_numeric_difference_that_overflows_n_a():
    from bpcli.grading.gradcheck import relative_error, verdict

    assert verdict(relative_error(1.0, float("inf"))) == "n/a"
    assert verdict(relative_error(float("inf"), float("inf"))) == "n/a"
    assert verdict(relative_error(float("nan"), 1.0)) == "n/a"
    # f(x±h) fit at the first step, 1e-5; (f(x+h) − f(x−h))/2h does not: never "good" from
    # it. A smaller step gets under the overflow and finds the true derivative, 2.8e281.
    (check,) = gradcheck(run(parse("f = 4e274*exp(7e6*x)", {"x": 0.0})))
    assert check.verdict in ("good", "ok") and check.numeric == pytest.approx(2.8e281, rel=1e-6)


def test_gradcheck_of_many_inputs_checks_a_sample_and_leaves_values_as_they_were():
    names = [f"x{i}" for i in range(1500)]
    result = run(
        parse(
            "f = " + " + ".join(f"{n}*{n}" for n in names), {n: float(i % 7 - 3) for i, n in enumerate(names)}
        )
    )
    before = list(result.values)
    checks = gradcheck(result)
    assert [c.name for c in checks] == names
    checked = [c for c in checks if c.checked]
    assert 20 <= len(checked) < len(names)  # the work is bounded: a sample, not every input
    assert all(c.verdict == "good" for c in checked)
    assert all(c.verdict == "n/a" and c.elements == 1 for c in checks if not c.checked)
    assert result.values == before
    assert gradcheck(result, seed=0)[5].checked == checks[5].checked  # seeded


def test_gradcheck_checks_every_input_of_a_small_program():
    result = run(
        parse("f = relu(a*b) + c*sum(w*w)", {"a": 2.0, "b": -3.0, "c": 0.5, "w": [[1.0, 2.0], [3.0, -4.0]]})
    )
    checks = gradcheck(result)
    assert [(c.name, c.checked, c.verdict) for c in checks] == [
        ("a", 1, "good"),
        ("b", 1, "good"),
        ("c", 1, "good"),
        ("w", 4, "good"),
    ]


# --- nodes off the output's path never fail the run ------------------------------------------

OFF_PATH = ("q = sqrt(x); f = x*2", "x=0")


@pytest.mark.parametrize("fmt", ["table", "steps", "tree", "json", "markdown", "latex", "csv", "dot"])
def test_a_node_off_the_path_never_fails_the_run(bpcli, fmt):
    result = bpcli("grad", *OFF_PATH, "--format", fmt)
    assert (result.code, result.err) == (0, "")


def test_a_node_off_the_path_shows_no_local_gradient(bpcli):
    doc = json.loads(bpcli("grad", *OFF_PATH, "--format", "json").out)
    assert doc["grads"] == {"x": 2.0, "q": 0.0, "f": 1.0}
    assert doc["nodes"][1]["local"] == [None] and doc["nodes"][1]["downstream"] == [None]
    result = bpcli("grad", *OFF_PATH)
    assert "\n1  q = sqrt(x)  sqrt       0         0 │\n" in result.out  # and no local gradient
    result = bpcli("check", *OFF_PATH, "-e", "dx=2", "-e", "dq=0")
    assert (result.code, result.err) == (0, "")
    result = bpcli("grad", "q = sqrt(x); f = sum(x*2)", "x=[0, 1]", "--jacobian")
    assert result.code == 0
    assert "#1 q = sqrt(x): ∂/∂x (2×2): no finite value at this point" in result.out


def test_a_local_gradient_too_large_for_a_float_is_not_shown_but_its_downstream_is(bpcli):
    doc = json.loads(bpcli("grad", "f = (x/y)*1e-300", "x=1e-309", "y=1e-309", "--format", "json").out)
    assert doc["grads"]["x"] == pytest.approx(1e9) and doc["grads"]["y"] == pytest.approx(-1e9)
    assert doc["nodes"][2]["local"] == [None, None]
    assert doc["nodes"][2]["downstream"] == [pytest.approx(1e9), pytest.approx(-1e9)]


UNUSED = ("q = log(x); r = q*3; f = x*2", "x=-1")
UNUSED_WARNING = (  # (one line into a pipe: folded only on a terminal)
    "warning: q = log(x) (node #1) is not used by f and cannot be computed: log of a"
    " non-positive number, where x = -1\n"
)


@pytest.mark.parametrize(
    ("fmt", "shown"),
    [
        ("table", "\n1  q = log(x)  log        —         — │\n"),
        ("markdown", "| 1 | q = log(x) | log | — | — |  |  |"),
        ("latex", r"1 & \texttt{q = log(x)} & \texttt{log} & --- & --- &  \\"),
        ("csv", "1,q = log(x),log,q,,,0,,"),
        ("dot", 'tooltip="q → r: value —"'),
        ("steps", "∂f/∂x = 2"),
        ("tree", "x  input  value -1  ∂f/∂node 2"),
    ],
)
def test_a_node_off_the_path_that_cannot_be_computed_has_no_value(bpcli, fmt, shown):
    result = bpcli("grad", *UNUSED, "--format", fmt)
    assert (result.code, result.err) == (0, UNUSED_WARNING)
    assert shown in result.out


def test_a_node_off_the_path_that_cannot_be_computed_is_null_in_json(bpcli):
    result = bpcli("grad", *UNUSED, "--format", "json")
    assert (result.code, result.err) == (0, UNUSED_WARNING)
    doc = json.loads(result.out)
    assert doc["value"] == -2.0
    assert doc["grads"] == {"x": 2.0, "q": None, "r": None, "f": 1.0}
    assert [n["value"] for n in doc["nodes"]] == [-1.0, None, 3.0, None, 2.0, -2.0]
    assert doc["warnings"] == [UNUSED_WARNING[len("warning: ") : -1]]


def test_a_node_off_the_path_of_arrays_and_its_jacobian(bpcli):
    result = bpcli("grad", "q = sqrt(x); f = sum(x*2)", "x=[-1, 4]", "--jacobian")
    assert result.code == 0
    assert result.err == (
        "warning: q = sqrt(x) (node #1) is not used by f and cannot be computed:"
        " sqrt of a negative number, where x = [-1.,  4.]\n"
    )
    assert "#1 q = sqrt(x): ∂/∂x: — (the node has no value)" in result.out


def test_check_and_gradcheck_with_a_node_off_the_path_that_has_no_value(bpcli):
    result = bpcli("check", "q = log(x); f = x*2", "x=-1", "-e", "dx=2")
    assert (result.code, result.err) == (0, UNUSED_WARNING)
    result = bpcli("check", "q = log(x); f = x*2", "x=-1", "-e", "dq=0")
    assert result.code == 2
    assert result.err.startswith(
        "error: q has no value at this point (q = log(x) is not used by"
        " the output and cannot be computed), so there is no answer to"
        " check for it\n"
    )
    # the check perturbs y, whose cone holds r, computed from q, which has no value
    result = bpcli(
        "grad", "q = log(x); r = relu(q)*y; f = x*y", "x=-1", "y=2", "--gradcheck", "--format", "json"
    )
    assert result.code == 0
    assert [c["verdict"] for c in json.loads(result.out)["gradcheck"]] == ["good", "good"]


def test_a_node_on_the_path_still_fails_the_run(bpcli):
    result = bpcli("grad", "q = log(x); f = x*2 + q", "x=-1")
    assert result.code == 2
    assert result.err.startswith(
        "error: in q = log(x) (node #1): log of a non-positive number, where x = -1\n"
    )


def test_what_leads_to_the_output_is_found_without_recursion():
    from bpcli.core.engine import leads_to_output

    n = 20_000
    program = "q0 = log(x)\n" + "".join(f"q{i} = q{i - 1} + 1\n" for i in range(1, n)) + "f = x*2"
    result = run(parse(program, {"x": -1.0}))
    graph = result.graph
    assert result.output == -2.0 and len(result.warnings) == 1
    leads = leads_to_output(graph)
    assert leads.count(True) == 3 and leads[graph.output.id]
    assert all(result.value(node) is None for node in graph.nodes if node.name and node.name[0] == "q")


# --- --expand: the stable circuits --------------------------------------------------------------

EXTREME = [
    ("tanh(x)", -400.0),
    ("tanh(x)", 400.0),
    ("sigmoid(x)", -800.0),
    ("sigmoid(x)", 800.0),
    ("log(sigmoid(x))", -800.0),
    ("log(sigmoid(x))", 800.0),
    ("logsigmoid(x)", -800.0),
    ("sigmoid(x)", 0.0),
    ("tanh(x)", 0.0),
    ("log(sigmoid(x))", 0.0),
    ("tanh(x)", 1e-300),
    ("norm([x, 3*x])", 1e-170),
    ("norm([x, 3*x])", 1e200),
    ("norm([x, 0])", -2.0),
    ("tanh(x)", 1e308),
    ("tanh(x)", -1e308),
    ("sigmoid(x)", 1e308),
    ("sigmoid(x)", -1e308),
    ("log(sigmoid(x))", 1e308),
    ("log(sigmoid(x))", -1e308),
    ("log(sigmoid(x))", 30.0),
    ("log(sigmoid(x))", 20.0),
    ("tanh(x)", 20.0),
    ("tanh(x)", -30.0),
    ("sigmoid(x)", 40.0),
]


@pytest.mark.parametrize(("call", "x"), EXTREME)
def test_expanded_circuits_agree_with_the_fused_gates_at_the_extremes(bpcli, call, x):
    program = f"f = {call}*y"
    docs = [
        json.loads(bpcli("grad", program, f"x={x!r}", "y=1.5", "--format", "json", *expand).out)
        for expand in ([], ["--expand"])
    ]
    fused, expanded = docs
    assert len(expanded["nodes"]) > len(fused["nodes"])
    # (near 0 the circuit's tanh is a difference of two exps: right to 1e-16, not relatively)
    assert expanded["value"] == pytest.approx(fused["value"], rel=1e-12, abs=1e-16)
    for name in ("x", "y"):
        assert expanded["grads"][name] == pytest.approx(fused["grads"][name], rel=1e-12, abs=1e-300)
    assert expanded["warnings"] == fused["warnings"] == []  # no kink to warn about


def test_expanded_circuits_agree_over_the_whole_float_range():
    import math

    for k in range(-40, 41):
        x = math.copysign(10 ** (abs(k) / 4 - 3), k) if k else 0.0
        for call in ("sigmoid(x)", "tanh(x)", "log(sigmoid(x))", "norm([x, 2*x, 1])"):
            fused = run(parse(f"f = {call}", {"x": x}))
            expanded = run(parse(f"f = {call}", {"x": x}, expand=True))
            assert expanded.output == pytest.approx(fused.output, rel=1e-9, abs=1e-15), (call, x)
            assert expanded.grads[0] == pytest.approx(fused.grads[0], rel=1e-9, abs=1e-15), (
                call,
                x,
            )


# --- issue 13 (check2): --gradcheck's JSON has no NaN; steps under a pole ----------------------


def _strict_json(text):
    def refuse(token):
        raise AssertionError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_gradcheck_json_writes_null_for_the_elements_not_checked(bpcli):
    result = bpcli("grad", "sum(x*x)", "x=randn(5000)", "--seed", "1", "--gradcheck", "--format", "json")
    assert result.code == 0
    (check,) = _strict_json(result.out)["gradcheck"]
    assert (check["checked"], check["elements"], check["poles"]) == (200, 5000, 0)
    numeric = check["numeric"]
    assert len(numeric) == 5000 and sum(n is None for n in numeric) == 4800
    for n, a in zip(numeric, check["analytic"], strict=True):
        assert n is None or n == pytest.approx(a, rel=1e-2)
    table = bpcli("grad", "sum(x*x)", "x=randn(5000)", "--seed", "1", "--gradcheck")
    assert table.code == 0 and "nan" not in table.out
    assert "(5000) │" in table.out and "\n   200 of 5000 elements checked" in table.out


def test_gradcheck_json_summarises_a_big_numeric_array(bpcli):
    args = ("grad", "sum(x*x)", "x=randn(120000)", "--seed", "1", "--gradcheck", "--format", "json")
    (check,) = _strict_json(bpcli(*args).out)["gradcheck"]
    assert check["numeric"]["shape"] == [120000] and check["numeric"]["elided"] is True
    assert check["analytic"]["elided"] is True
    assert -20 < check["numeric"]["summary"]["min"] < check["numeric"]["summary"]["max"] < 20
    (check,) = _strict_json(bpcli(*args, "--full").out)["gradcheck"]
    assert len(check["numeric"]) == 120000 and len(check["analytic"]) == 120000
    assert sum(n is not None for n in check["numeric"]) == check["checked"] == 200


@pytest.mark.parametrize(
    "program, x, exact",
    [
        # the exact derivative, from fractions: -1/x², 1/x, 1/(2√x), -1/(x-1/2)²
        ("1/x", "1e-6", lambda x: -1 / (x * x)),
        ("1/x", "-3e-9", lambda x: -1 / (x * x)),
        ("log(x)", "1e-8", lambda x: 1 / x),
        ("sqrt(x)", "1e-9", None),
        ("1/(x-0.5)", "0.5000001", lambda x: -1 / ((x - Fraction(1, 2)) ** 2)),
        ("x^-2", "2e-5", lambda x: -2 / x**3),
        ("sqrt(x)", "1e-300", None),
        ("1/(x-3)", "3.000001", lambda x: -1 / ((x - 3) ** 2)),
    ],
)
def test_gradcheck_steps_under_a_pole(bpcli, program, x, exact):
    result = bpcli("grad", program, f"x={x}", "--gradcheck", "--format", "json")
    (check,) = _strict_json(result.out)["gradcheck"]
    assert check["verdict"] in ("good", "ok"), check
    if exact is not None:
        truth = float(exact(Fraction(float(x))))
        assert check["analytic"] == pytest.approx(truth, rel=1e-12)
        assert check["numeric"] == pytest.approx(truth, rel=1e-6)


def test_gradcheck_steps_towards_a_pole_until_under_it():
    # 1e-11 from the pole: the steps go on past h/10⁶ while x ± h straddles it
    (check,) = gradcheck(run(parse("1/(x-0.5)", {"x": 0.50000000001})))
    assert check.verdict in ("suspect", "ok", "good") and check.poles == 0


def test_gradcheck_says_n_a_where_every_step_straddles_a_pole(bpcli):
    result = bpcli("grad", "1/(x-0.5)", "x=0.5000000000001", "--gradcheck")
    assert result.code == 0
    lines = result.out.splitlines()
    row = " ".join(lines[-4].split())  # the table's last row, then its foot and the note
    assert row.endswith("│ n/a │ n/a │ n/a │"), row
    note = " ".join(" ".join(lines[-2:]).split())
    assert note == "x: x ± h straddles a pole or a jump at every step tried: no numeric gradient there"
    result = bpcli("grad", "1/(x-0.5)", "x=0.5000000000001", "--gradcheck", "--format", "json")
    (check,) = _strict_json(result.out)["gradcheck"]
    assert (check["verdict"], check["numeric"], check["poles"]) == ("n/a", None, 1)


def _with_x_gradient(result, wrong):
    """The run with a wrong analytic ∂f/∂x, `wrong(right)`."""
    grads = list(result.grads)
    x = result.graph.inputs["x"].id
    grads[x] = wrong(grads[x])
    return Run(result.graph, result.values, grads, result.warnings, result.kinks, result.sent, result.missing)


def test_gradcheck_smaller_steps_never_make_a_wrong_gradient_right():
    result = _with_x_gradient(run(parse("1/x", {"x": 1e-6})), lambda g: g * 1.5)
    (check,) = gradcheck(result)
    assert check.verdict == "wrong"
    # wrong at a minimum, where one-sided differences disagree
    result = _with_x_gradient(run(parse("x*x", {"x": 0.0})), lambda g: 1.0)
    (check,) = gradcheck(result)
    assert check.verdict == "wrong" and check.poles == 0
    result = _with_x_gradient(run(parse("sum(x*x)", {"x": [1e-6, 0.5, 3.0]})), lambda g: g * [1.0, 1.0, -1.0])
    (check,) = gradcheck(result)
    assert check.verdict == "wrong"


# --- exact references at extreme points: no cancellation in any op's value or gradient --------

mpmath = pytest.importorskip("mpmath")
mpmath.mp.prec = 200

POINTS = [s * m for m in (1e-300, 1e-8, 1.0, 20.0, 40.0, 700.0, 1e300) for s in (1.0, -1.0)]


def _mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


# op -> (value, derivative) as exact functions of x, and the domain where the value is a float
EXACT_UNARY = {
    "sigmoid(x)": (_mp_sigmoid, lambda x: _mp_sigmoid(x) * _mp_sigmoid(-x), lambda x: True),
    "tanh(x)": (mpmath.tanh, lambda x: mpmath.sech(x) ** 2, lambda x: True),
    "log(sigmoid(x))": (lambda x: -mpmath.log1p(mpmath.exp(-x)), lambda x: _mp_sigmoid(-x), lambda x: True),
    "exp(x)": (mpmath.exp, mpmath.exp, lambda x: x < 709),
    "log(x)": (mpmath.log, lambda x: 1 / x, lambda x: x > 0),
    "sqrt(x)": (mpmath.sqrt, lambda x: 1 / (2 * mpmath.sqrt(x)), lambda x: x > 0),
    "abs(x)": (abs, mpmath.sign, lambda x: True),
    "x^3": (lambda x: x**3, lambda x: 3 * x**2, lambda x: abs(x) < 1e100),
    "1/x": (lambda x: 1 / x, lambda x: -1 / x**2, lambda x: abs(x) > 1e-150),
}


def _agrees(got: float, exact) -> bool:
    """got is exact to a few ulps (or both are 0 where the truth is below the float range)."""
    want = float(exact)
    if abs(want) < 2.3e-308:  # below the normal range: only the absolute error matters
        return abs(got - want) <= 1e-320
    return abs(got - want) <= 4 * abs(want) * 2.0**-52


@pytest.mark.parametrize("program", EXACT_UNARY)
def test_unary_values_and_gradients_are_exact_at_extreme_points(program):
    import numpy as np

    value, derivative, domain = EXACT_UNARY[program]
    points = [x for x in POINTS if domain(x)]
    for x in points:
        result = run(parse(program, {"x": x}))
        exact = mpmath.mpf(x)
        assert _agrees(result.output, value(exact)), (program, x, "value")
        assert _agrees(gradients(result)["x"], derivative(exact)), (program, x, "gradient")
    # the same points at once, as an array: the array forms agree with the exact values too
    result = run(parse(f"sum({program})", {"x": np.array(points)}))
    for x, grad in zip(points, gradients(result)["x"], strict=True):
        assert _agrees(float(grad), derivative(mpmath.mpf(x))), (program, x, "array gradient")


def test_sigmoid_and_tanh_gradients_are_symmetric_and_shown_as_such(bpcli):
    doc = json.loads(bpcli("grad", "sum(sigmoid(x))", "x=[40,0,-40]", "--format", "json").out)
    assert doc["grads"]["x"] == [4.248354255291589e-18, 0.25, 4.248354255291589e-18]
    assert doc["nodes"][1]["local"] == [[4.248354255291589e-18, 0.25, 4.248354255291589e-18]]
    doc = json.loads(bpcli("grad", "tanh(z)", "z=30", "--format", "json").out)
    assert doc["grads"]["z"] == pytest.approx(float(mpmath.sech(30) ** 2), rel=1e-15, abs=0)
    assert doc["nodes"][1]["local"] == [doc["grads"]["z"]]


# --- numbers that underflow as written ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["log(x)", "x=1e-400"],
            "error: in the binding x=1e-400: 1e-400 is too small for a float: the smallest is about 5e-324\n",
        ),
        (
            ["log(x)", "x=-2.5e-330"],
            "error: in the binding x=-2.5e-330: -2.5e-330 is too small for a float: the smallest is"
            " about 5e-324\n",
        ),
        (
            ["log(x)", "x=1.234567e-320"],
            "error: in the binding x=1.234567e-320: 1.234567e-320 is too small for a float to hold as"
            " written: below 2.2e-308 a float keeps fewer digits, and it would be 1.2347e-320\n",
        ),
        (
            ["sum(x)", "x=[1, 1e-400]"],
            "error: in the binding x=[1, 1e-400]: the number 1e-400 is too small for a float: the"
            " smallest is about 5e-324\n",
        ),
        (
            ["f = x*1e-400", "x=1"],
            "error: the number 1e-400 is too small for a float: the smallest is about 5e-324\n"
            "  line 1, column 7:\n    f = x*1e-400\n          ^\n",
        ),
    ],
)
def test_a_number_that_underflows_is_an_error_naming_it(bpcli, args, message):
    result = bpcli("grad", *args)
    assert (result.code, result.out, result.err) == (2, "", message)


@pytest.mark.parametrize(
    "text", ["5e-324", "-5e-324", "1e-310", "2.5e-320", "0", "-0.0", "0e-500", "2.2250738585072014e-308"]
)
def test_numbers_a_float_holds_as_written_are_accepted(bpcli, text):
    for args in (["f = x*1", f"x={text}"], [f"f = x*{text}", "x=1"]):
        result = bpcli("grad", *args, "--format", "json")
        assert result.code == 0, result.err
        assert json.loads(result.out)["value"] == float(text)


def test_batch_refuses_an_underflowing_number_on_every_path(bpcli):
    lines = "x=1; f=x*2\n" * 3 + "x=1; f=x*1e-400\n" + "x=1; f=x*2e-300\n"
    result = bpcli("batch", input=lines)
    records = [json.loads(line) for line in result.out.splitlines()]
    assert [r.get("value") for r in records] == [2.0, 2.0, 2.0, None, 2e-300]
    assert records[3]["error"].startswith("the number 1e-400 is too small for a float")
    result = bpcli("batch", "--program", "f = x*y", input="x=1 y=2\n" * 3 + "x=1 y=1e-400\n")
    records = [json.loads(line) for line in result.out.splitlines()]
    assert records[3]["error"].startswith("in the binding y=1e-400: 1e-400 is too small")


def test_json_numbers_and_answers_that_underflow_are_refused(bpcli):
    points = '{"x": 0.5}\n' * 3 + '{"x": 1e-400}\n{"x": 0.0}\n'
    result = bpcli("batch", "--program", "f = x*2", input=points)
    records = [json.loads(line) for line in result.out.splitlines()]
    assert [r.get("value") for r in records] == [1.0, 1.0, 1.0, None, 0.0]
    assert records[3]["error"] == "1e-400 is too small for a float: the smallest is about 5e-324"
    result = bpcli("batch", input='{"program": "f = x*2", "bindings": {"x": [1, 1e-400]}}\n')
    assert json.loads(result.out)["error"].startswith("1e-400 is too small for a float")
    result = bpcli("check", "f = x*2", "x=1", "-e", "dx=1e-400")
    assert (result.code, result.err) == (
        2,
        "error: in the answer dx=1e-400: 1e-400 is too small for a float: the smallest is about 5e-324\n",
    )


@pytest.mark.parametrize(
    ("x", "y", "c"),
    [
        (1e-40, 1e-20, 1e-300),
        (3.0, 7.0, 1e-300),
        (1e-300, 1e10, 1e20),
        (1e200, 1e-100, 1e-250),
        (-2.5e-160, 3e150, 1.0),
        (1.0, 3.0, 1.0),
    ],
)
def test_the_gradient_of_a_quotient_in_its_divisor_is_exact_at_any_scale(x, y, c):
    """∂(c·x/y)/∂y = -c·x/y², where c·(x/y) underflows or x/y overflows on the way."""
    from fractions import Fraction

    import numpy as np

    want = float(-Fraction(c) * Fraction(x / y) / Fraction(y))
    grads = gradients(run(parse("f = (x/y)*c", {"x": x, "y": y, "c": c})))
    assert grads["y"] == pytest.approx(want, rel=4 * 2.0**-52, abs=0)
    grads = gradients(
        run(parse("f = sum((x/y)*c)", {"x": np.array([x, 1.0]), "y": np.array([y, 2.0]), "c": c}))
    )
    assert grads["y"][0] == pytest.approx(want, rel=4 * 2.0**-52, abs=0)


@pytest.mark.parametrize(
    ("x", "y", "c"),
    [
        (1e-200, -1.0, 1e-300),
        (1e-200, 3.0, 1e300),
        (-1e-200, 3.0, 1e300),
        (-1e-200, 4.0, 1e300),
        (1e-250, 2.5, 1e300),
        (3.0, 2.5, 1.0),
        (-2.0, 3.0, 1.0),
        (-2.0, -2.0, 1.0),
        (1e150, 2.0, 1e-200),
        (0.5, 1500.0, 1e300),
    ],
)
def test_the_gradient_of_a_power_in_its_base_fits_where_the_result_fits(x, y, c):
    """∂(c·x^y)/∂x = c·y·x^(y-1), where x^(y-1) or x^y overflows or underflows on the way."""
    import numpy as np

    exact = mpmath.mpf(c) * y * mpmath.power(mpmath.mpf(x), y - 1)
    scalar = gradients(run(parse(f"f = c * x^{y!r}", {"x": x, "c": c})))["x"]
    array = gradients(run(parse(f"f = sum(c * x^{y!r})", {"x": np.array([x, 1.0]), "c": c})))["x"]
    for got in (scalar, float(array[0])):
        if abs(y) < 1000:
            assert _agrees(got, exact), got
        else:  # from log2|x|: right to about 1e-13
            assert got == pytest.approx(float(exact), rel=1e-12, abs=0)


@pytest.mark.parametrize(
    ("name", "text", "shown"),
    [
        ("a.json", "[1, 1e-400]", "1e-400"),
        ("b.csv", "1,-2e-330\n3,4\n", "-2e-330"),
        ("c.txt", "1 2\n3 1E-0400\n", "1E-0400"),
        ("d.json", "[[1, 2], [3, 4e-999]]", "4e-999"),
        ("e.txt", "0." + "0" * 400 + "1", "0.00000000000000…0000000000000001"),
    ],
)
def test_a_binding_file_with_a_number_that_underflows_is_refused(bpcli, tmp_path, name, text, shown):
    (tmp_path / name).write_text(text)
    result = bpcli("grad", "sum(x)", f"x=@{tmp_path / name}")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"error: in the binding x=@{tmp_path / name}: {shown} is too small for"
        " a float: the smallest is about 5e-324\n"
    )


def test_a_binding_file_of_numbers_a_float_holds_is_read(bpcli, tmp_path):
    (tmp_path / "x.csv").write_text("1,5e-324\n1e-300,2.5e-320\n")
    result = bpcli("grad", "sum(x)", f"x=@{tmp_path / 'x.csv'}", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["nodes"][0]["value"] == [[1.0, 5e-324], [1e-300, 2.5e-320]]
