"""Issue 17, item 4: answers as students write them. Pasted symbols, dL/dW for an output
named L, multi-line matrices, numpy's printed forms, answers in files, expressions of
rounded numbers judged by their rounding, and `all(v)` for an array of one value."""

from __future__ import annotations

import contextlib
import json
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bpcli.errors import BindingError, BpcliError
from bpcli.grading.answers import (
    Expectation,
    all_match,
    expectation,
    expectations,
    fitted,
    read_answers,
    read_value,
    resolve,
)

from conftest import SAMPLES

FAST = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


def report(bpcli, *args):
    result = bpcli("check", *args, "--format", "json")
    assert result.code in (0, 1), result.err
    return result.code, {r["name"]: r for r in json.loads(result.out)["results"]}


def right(text, truth):
    value, tolerance = read_value("a", text)
    return all_match(value, tolerance, np.asarray(truth, dtype=float) if np.ndim(truth) else float(truth))


# --- 1. pasted symbols ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value, tolerance",
    [
        ("−0.20", -0.2, 0.005),  # U+2212, from a PDF
        ("–0.20", -0.2, 0.005),  # en dash
        ("‒0.20", -0.2, 0.005),  # figure dash
        ("０．２０", 0.2, 0.005),  # full-width digits and point
        ("－０．２", -0.2, 0.05),
        ("\u00a0-0.20\u2009", -0.2, 0.005),  # no-break and thin spaces around
        ("[−0.1,\u00a00.25]", [-0.1, 0.25], [0.05, 0.005]),
        ("［0.1，0.2］", [0.1, 0.2], [0.05, 0.05]),  # full-width brackets and comma
    ],
)
def test_pasted_symbols_are_read_with_their_rounding(text, value, tolerance):
    read, slack = read_value("a", text)
    assert np.allclose(read, value) and np.allclose(slack, tolerance)


@pytest.mark.parametrize("text", ["2×0.11", "2·0.11", "2⋅0.11", "2∗0.11", "0.44÷2"])
def test_pasted_operators_make_an_expression(text):
    value, tolerance = read_value("a", text)
    assert value == pytest.approx(0.22) and tolerance > 0


def test_a_unicode_minus_on_the_sigmoid_neuron_is_right(bpcli):
    # the trial's false "wrong": −0.20 was read as an exact expression
    code, results = report(bpcli, str(SAMPLES / "neuron.bp"), "-e", "dw0=−0.20", "-e", "dx0=０.３９")
    assert code == 0 and results["dw0"]["ok"] and results["dx0"]["ok"]
    code, results = report(bpcli, str(SAMPLES / "neuron.bp"), "-e", "dw0=−0.21")
    assert code == 1 and not results["dw0"]["ok"]


def test_a_full_width_separator_splits_an_answer(bpcli):
    code, results = report(bpcli, str(SAMPLES / "neuron.bp"), "-e", "dw0＝−0.20", "-e", "dx0：0.39")
    assert code == 0 and set(results) == {"dw0", "dx0"}


# --- 2. the output's own name -----------------------------------------------------------------

NAMES = {"W", "x", "q", "L", "dout", "out"}


@pytest.mark.parametrize(
    "written, means",
    [
        ("dW", ("W", True)),
        ("dL/dW", ("W", True)),
        ("∂L/∂W", ("W", True)),
        ("𝜕L/𝜕W", ("W", True)),  # the mathematical italic partial of a PDF
        ("dL / dW", ("W", True)),
        ("dL_dW", ("W", True)),
        ("df/dW", ("W", True)),  # f: the output, the program having no f
        ("∂W", ("W", True)),
        ("grad(W)", ("W", True)),
        ("dL", ("L", True)),
        ("L", ("L", False)),
        ("f", ("L", False)),
        ("dout", ("dout", False)),  # an exact name wins: dout's value
        ("ddout", ("dout", True)),
        ("dq", ("q", True)),
    ],
)
def test_what_a_name_means_with_an_output_named_L(written, means):
    assert resolve(written, NAMES, "L") == means


@pytest.mark.parametrize(
    "written, means",
    [
        ("dloss/dW", ("W", True)),
        ("dloss_dW", ("W", True)),
        ("dL/dW", ("W", True)),  # L is what courses call the loss; the program has none
        ("df/dW", ("W", True)),
        ("J", ("loss", False)),
    ],
)
def test_an_output_named_loss(written, means):
    assert resolve(written, {"W", "loss"}, "loss") == means


def test_an_unnamed_output_is_f():
    assert resolve("df/dx", {"x"}, None) == ("x", True)
    assert resolve("f", {"x"}, None) == ("f", False)  # not a name: diagnose takes the output


@pytest.mark.parametrize(
    "written, names, output, message",
    [
        ("dq/dx", {"q", "x", "L"}, "L", "is a local gradient, ∂q/∂x"),
        ("df/dx", {"f", "x", "L"}, "L", "is a local gradient, ∂f/∂x"),  # f is a name here
        ("dz/dx", {"x", "L"}, "L", "names z, which is not the output: the output is L"),
        ("dL/dy", {"x", "L"}, "L", "names nothing in the program"),
        ("dL_dy", {"x", "L"}, "L", "names nothing in the program"),
    ],
)
def test_a_ratio_that_is_not_the_output_is_an_error(written, names, output, message):
    with pytest.raises(BpcliError, match=message):
        resolve(written, names, output)


def test_a_name_that_starts_with_d_keeps_its_meaning(bpcli):
    program = "out = x*y; dout = out*2; loss = dout + x"
    code, results = report(
        bpcli, program, "x=2", "y=3", "-e", "dout=12", "-e", "ddout=1", "-e", "dloss/dx=7", "-e", "dL_dy=4"
    )
    assert code == 0
    assert results["dout"]["means"] == "dout" and results["ddout"]["means"].endswith("/∂dout")


def test_the_command_line_passes_the_output_name(bpcli):
    code, results = report(bpcli, "q = 3*w; L = q*q", "w=1", "-e", "dL/dw=18", "-e", "∂L/∂q=6")
    assert code == 0 and len(results) == 2
    result = bpcli("check", "q = 3*w; L = q*q", "w=1", "-e", "dq/dw=3")
    assert result.code == 2 and "is a local gradient, ∂q/∂w" in result.err


# --- 3. multi-line answers in a file --------------------------------------------------------

NUMPY_FILE = """\
# homework 3, printed by numpy
dW =
[[0.088 0.176]
 [0.104 0.208]
 [0.024 0.048]]
dx: array([-0.028,  0.612])
dq = [ 0.44
       0.52   # a comment inside
       0.12 ]
q = array([[0.22],
           [0.26],
           [0.06]],
          dtype=float32)
"""


def test_read_answers_joins_numpy_output_over_lines():
    pairs = read_answers(NUMPY_FILE, "a.txt")
    assert [(w, where) for w, _, where in pairs] == [
        ("dW", "a.txt, lines 2-5"),
        ("dx", "a.txt, line 6"),
        ("dq", "a.txt, lines 7-9"),
        ("q", "a.txt, lines 10-13"),
    ]
    values = {w: read_value(w, t)[0] for w, t, _ in pairs}
    assert np.array_equal(values["dW"], [[0.088, 0.176], [0.104, 0.208], [0.024, 0.048]])
    assert np.array_equal(values["dq"], [0.44, 0.52, 0.12])
    assert values["q"].shape == (3, 1)


def test_a_multi_line_numpy_answers_file_checks(bpcli, tmp_path):
    answers = tmp_path / "answers.txt"
    answers.write_text(NUMPY_FILE.replace("q = array([[0.22]", "q = array([[0.22]"))
    program = "q = W @ x; L = sum(q^2)"
    bindings = ("W=[[0.1, 0.5], [-0.3, 0.8], [0.7, -0.2]]", "x=[0.2, 0.4]")
    result = bpcli("check", program, *bindings, "--answers", str(answers))
    # q is a vector of 3, not a column: a wrong shape, the rest right
    assert result.code == 1 and "3 of 4 correct" in result.out


@pytest.mark.parametrize(
    "text, message",
    [
        ("dx = array([1,\n 2]\n", "line 1: a '(' is never closed"),
        ("dx = [1,\n 2\n", "line 1: a '[' is never closed"),
        ("x = 1\ndx =\n\n", "line 2: the answer 'dx =' has no value"),
        ("dx = [[1 2]\n [3]]\n", "lines 1-2: in the answer dx=[[1 2] [3]]: the rows of this array"),
        ("dx = [0.1 0.2 ... 0.9]\n", "line 1: in the answer dx=[0.1 0.2 ... 0.9]: numpy left out"),
    ],
)
def test_multi_line_errors_name_their_lines(bpcli, tmp_path, text, message):
    answers = tmp_path / "answers.txt"
    answers.write_text(text)
    result = bpcli("check", "sum(x*x)", "x=[1,2]", "--answers", str(answers))
    assert result.code == 2 and result.err.startswith(f"error: {answers}, {message}"), result.err


# --- 4. numpy's printed forms ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value, tolerance",
    [
        ("[[0.1 0.2]\n [0.3 0.4]]", [[0.1, 0.2], [0.3, 0.4]], 0.05),
        ("[ 1.5e-01 -2.0e+00]", [0.15, -2.0], 0.005),  # -2.0e+00: padded, as 1.5e-01's
        ("[0.1, 0.2 0.3,]", [0.1, 0.2, 0.3], 0.05),  # commas, spaces, both
        ("[1 -2]", [1, -2], 0),  # numpy's two numbers, not 1 - 2
        ("[1-2]", [-1], 0),  # Python's one
        ("array([[0.1, 0.25]])", [[0.1, 0.25]], [[0.05, 0.005]]),
        ("np.array([0.5, 1.5])", [0.5, 1.5], 0.05),
        ("np.float64(0.25)", 0.25, 0.005),
        ("array(0.25)", 0.25, 0.005),
        ("tensor([0.1000, 0.2000])", [0.1, 0.2], 5e-5),
        ("[0.5  1.25 3.  ]", [0.5, 1.25, 3.0], [0.05, 0.005, 0.005]),  # 3. takes the 2 decimals
        ("[0. 0. 0.]", [0, 0, 0], 0.05),  # 0. as 0.0: nothing finer is shown
        ("[-0.  0.]", [0, 0], 0.05),  # numpy's print of [-0.018, 0.018] rounded to 1 decimal
        ("[1.e-05 2.e+02]", [1e-5, 200], 5e-6),  # 1.e-05 as 0.00001
        ("[1.234e+02 1.000e-05]", [123.4, 1e-5], [0.05, 5e-6]),  # a padded mantissa
        ("[1.23456789e-05 0.00000000e+00]", [1.23456789e-5, 0], 5e-14),
        ("[0.001234 0.5     ]", [0.001234, 0.5], [5e-7, 0.05]),
        ("[0.1, 1e-05]", [0.1, 1e-5], [0.05, 5e-6]),  # Python's repr of a rounded number
        ("1e-05", 1e-5, 5e-6),
        ("2e3", 2000, 0),  # a whole number is exact
        ("3.", 3, 0.05),  # as 3.0
    ],
)
def test_numpy_printed_forms(text, value, tolerance):
    read, slack = read_value("a", text)
    assert np.shape(read) == np.shape(value)
    assert np.allclose(read, value, rtol=0, atol=1e-15)
    assert np.allclose(slack, np.broadcast_to(tolerance, np.shape(value)), rtol=1e-9, atol=0)


def test_a_float32_array_has_its_types_precision():
    _, tolerance = read_value("a", "array([0.12345679, 2.        ], dtype=float32)")
    assert np.allclose(tolerance, [8 * 2.0**-23 * 0.12345679, 8 * 2.0**-23 * 2])
    _, tolerance = read_value("a", "array([0.12345679, 2.        ])")
    assert np.allclose(tolerance, 5e-9)


def test_numpy_output_in_an_expect_option(bpcli):
    program = "q = W @ x; L = sum(q^2)"
    bindings = ("W=[[0.1, 0.5], [-0.3, 0.8], [0.7, -0.2]]", "x=[0.2, 0.4]")
    printed = "dW=[[0.088 0.176]\n [0.104 0.208]\n [0.024 0.048]]"
    code, results = report(bpcli, program, *bindings, "-e", printed)
    assert code == 0
    code, results = report(bpcli, program, *bindings, "-e", printed.replace("0.048", "0.049"))
    assert code == 1 and not results["dW"]["ok"]


def test_numpy_left_out_the_middle(bpcli):
    result = bpcli("check", "sum(x*x)", "x=[1,2]", "-e", "dx=[2. 4. ... 6.]")
    assert result.code == 2 and "numpy left out the middle of this array" in result.err
    assert "@dx.npy" in result.err


# --- 5. answers in files ---------------------------------------------------------------------

MATRIX = ("q = W @ x; L = sum(q^2)", "W=[[0.1, 0.5], [-0.3, 0.8], [0.7, -0.2]]", "x=[0.2, 0.4]")
TRUE_DW = np.outer(2 * np.array([[0.1, 0.5], [-0.3, 0.8], [0.7, -0.2]]) @ [0.2, 0.4], [0.2, 0.4])


def test_an_npy_answer_must_be_exact(bpcli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("dW.npy", TRUE_DW)
    np.save("near.npy", TRUE_DW + 1e-6)  # within any rounding a person writes, but not noise
    np.save("dW32.npy", TRUE_DW.astype(np.float32))
    code, _ = report(bpcli, *MATRIX, "-e", "dW=@dW.npy", "-e", "dL/dW=@dW32.npy")
    assert code == 0
    code, _ = report(bpcli, *MATRIX, "-e", "dW=@near.npy")
    assert code == 1


def test_a_csv_answer_keeps_its_rounding(bpcli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savetxt("dW.csv", TRUE_DW, delimiter=",", fmt="%.2f")
    (tmp_path / "off.csv").write_text("0.09,0.18\n0.10,0.22\n0.02,0.05\n")
    _, tolerance = read_value("dW", "@dW.csv")
    assert np.allclose(tolerance, 0.005)
    code, _ = report(bpcli, *MATRIX, "-e", "dW=@dW.csv")
    assert code == 0
    code, _ = report(bpcli, *MATRIX, "-e", "dW=@off.csv")  # 0.22 for 0.208
    assert code == 1


def test_a_file_answer_is_read_next_to_the_answers_file(bpcli, tmp_path, monkeypatch):
    (tmp_path / "hw").mkdir()
    np.save(tmp_path / "hw" / "dW.npy", TRUE_DW)
    (tmp_path / "hw" / "answers.txt").write_text("dW = @dW.npy\ndL/dW: @ dW.npy\n")
    monkeypatch.chdir(tmp_path)
    result = bpcli("check", *MATRIX, "--answers", "hw/answers.txt")
    assert (result.code, result.err) == (0, ""), result.err
    monkeypatch.chdir(tmp_path / "hw")
    result = bpcli("check", *MATRIX, "--answers", str(tmp_path / "hw" / "answers.txt"), "-e", "dW=@dW.npy")
    assert (result.code, result.err) == (0, "")


@pytest.mark.parametrize(
    "make, message",
    [
        (None, "in the answer dW=@hw/bad.npy: no such file"),
        (lambda p: np.save(p, np.array(["a"])), "in the answer dW=@hw/bad.npy: not a numeric array"),
        (lambda p: p.write_bytes(b"\x93NUMPY garbage"), "in the answer dW=@hw/bad.npy: not a numeric array"),
        (lambda p: p.mkdir(), "in the answer dW=@hw/bad.npy: it is a directory"),
        (lambda p: np.save(p, np.array([np.nan])), "in the answer dW=@hw/bad.npy: the value"),
    ],
)
def test_a_bad_answer_file_is_an_error_naming_it(bpcli, tmp_path, monkeypatch, make, message):
    (tmp_path / "hw").mkdir()
    if make is not None:
        make(tmp_path / "hw" / "bad.npy")
    (tmp_path / "hw" / "answers.txt").write_text("dx = [-0.03, 0.61]\n\ndW = @bad.npy\n")
    monkeypatch.chdir(tmp_path)
    result = bpcli("check", *MATRIX, "--answers", "hw/answers.txt")
    assert result.code == 2 and result.err.startswith(f"error: hw/answers.txt, line 3: {message}"), result.err
    assert "Traceback" not in result.err
    result = bpcli("check", *MATRIX, "-e", "dW=@hw/bad.npy")
    assert result.code == 2 and result.err.startswith(f"error: {message}"), result.err


# --- 6. an expression of rounded numbers ----------------------------------------------------


@pytest.mark.parametrize(
    "text, truth, ok",
    [
        ("0.22*0.5", 0.11, True),
        ("0.22*0.5", 0.1, True),  # 0.215 * 0.45 = 0.097: within the rounding
        ("0.22*0.5", 0.13, False),  # 0.225 * 0.55 = 0.124 at most
        ("2*0.39*(1-0.39)", 0.4758, True),
        ("2*0.39*(1-0.39)", 0.49, False),
        ("-1/3", -1 / 3, True),  # whole numbers: exact, as before
        ("-1/3", -0.3333, False),
        ("1/0.5", 2.2, True),  # 1/0.45 = 2.22
        ("exp(-0.5)", 0.6065, True),
        ("exp(-0.5)", 0.65, False),
        ("0.5*[0.2 0.4]", [0.1, 0.2], True),  # numpy's printed literal in an expression
        ("[1/3, 0.5]", [1 / 3, 0.52], True),
        ("[1/3, 0.5]", [0.3333, 0.5], False),
        ("[0.5, 0.25]*[[1], [2]]", [[0.5, 0.25], [1.05, 0.51]], True),
        ("[0.5, 0.25]*[[1], [2]]", [[0.5, 0.25], [1.05, 0.52]], False),
    ],
)
def test_an_expression_is_judged_by_its_numbers_rounding(text, truth, ok):
    assert right(text, truth) is ok


def test_first_order_tolerance_from_the_engine():
    # d(a*b) = b da + a db: 0.5 * 0.005 + 0.22 * 0.05
    value, tolerance = read_value("a", "0.22*0.5")
    assert value == pytest.approx(0.11) and tolerance == pytest.approx(0.0135)
    value, tolerance = read_value("a", "[0.1, 0.2] @ [[2], [0.5]]")  # 2 da0 + 0.5 da1 + 0.2 db
    assert np.allclose(tolerance, [2 * 0.05 + 0.5 * 0.05 + 0.2 * 0.05])


def test_where_the_derivative_is_not_finite_the_value_is_exact():
    assert read_value("a", "sqrt(0.00)") == (0.0, 0.0)


def test_the_trials_expression_is_right(bpcli):
    code, results = report(bpcli, "f = c*b", "c=2", "b=0.11", "-e", "dc=0.22*0.5")
    assert code == 0 and results["dc"]["ok"]


# --- 7. a scalar for an array, and `all(v)` --------------------------------------------------


def test_a_scalar_answer_for_an_array_is_wrong(bpcli):
    for answer in ("db=3", "db=3.0", "db=[3]"):
        code, results = report(bpcli, "f = sum(3*b)", "b=[1, 2, 3]", "-e", answer)
        assert code == 1 and results["db"]["diagnosis"]["kind"] == "shape"
    code, results = report(bpcli, "S = mean(X)", "X=[[1, 2, 3], [4, 5, 6]]", "-e", "dX=0.1667")
    assert code == 1 and results["dX"]["diagnosis"]["kind"] == "shape"


def test_a_scalar_is_never_all_match_for_an_array():
    assert not all_match(3.0, 0.0, np.array([3.0, 3.0, 3.0]))
    assert not all_match(0.1667, 0.00005, np.full((2, 3), 1 / 6))
    assert not all_match(np.array([3.0]), 0.0, np.array([3.0, 3.0, 3.0]))


@pytest.mark.parametrize("text", ["all 0.5", "all  0.5", "all(0.5)", "all 1/2", "all −0.50"])
def test_all_v_is_every_element(text):
    exp = expectation("db", text, {"b"})
    assert exp.uniform and exp.gradient and exp.name == "b"
    truth = np.full((2, 3), 0.5 if "−" not in text else -0.5)
    wide = fitted(exp, truth)
    assert np.shape(wide.value) == (2, 3) and np.shape(wide.tolerance) == (2, 3)
    assert all_match(wide.value, wide.tolerance, truth)
    assert not all_match(exp.value, exp.tolerance, truth)  # unfitted: a scalar
    truth[1, 2] += 0.1
    assert not all_match(wide.value, wide.tolerance, truth)


def test_all_keeps_its_rounding_and_leaves_a_scalar_truth_alone():
    for text in ("all(0.1667)", "all(0.17)", "all 0.17"):
        exp = expectation("dS", text, {"S"})
        assert all_match(*_pair(fitted(exp, np.full((2, 3), 1 / 6))), np.full((2, 3), 1 / 6))
    exp = expectation("db", "all 0.17", {"b"})
    assert fitted(exp, 0.17) is exp
    plain = expectation("db", "0.17", {"b"})
    assert not plain.uniform and fitted(plain, np.full(3, 0.17)) is plain


def _pair(exp: Expectation):
    return exp.value, exp.tolerance


def test_all_takes_one_number():
    with pytest.raises(BindingError, match="`all` takes one number, not an array"):
        expectation("db", "all [1, 2]", {"b"})
    with pytest.raises(BindingError, match="`all` takes one number, not an array"):
        expectation("db", "all([1, 2])", {"b"})
    with pytest.raises(BindingError, match="all"):
        expectations([("db", "all", None)], {"b"})


def test_all_in_an_answers_file():
    pairs = read_answers("db: all 0.5\ndW = all -1\n", "a.txt")
    found = expectations(pairs, {"b", "W"})
    assert [e.uniform for e in found] == [True, True] and found[1].value == -1.0


# --- 8. properties ------------------------------------------------------------------------------

SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
TRUTHS = hnp.arrays(
    np.float64, SHAPES, elements=st.floats(-1000, 1000, allow_nan=False, allow_subnormal=False)
)


def _printed(rounded: np.ndarray, how: str) -> str:
    if how == "list":
        return str(rounded.tolist())
    if how == "lines":  # a Python list literal over lines
        return json.dumps(rounded.tolist(), indent=1)
    with np.printoptions(threshold=sys.maxsize):
        return str(rounded) if how == "str" else repr(rounded)


@FAST
@given(TRUTHS, st.integers(1, 6), st.sampled_from(["list", "lines", "str", "repr"]))
def test_an_answer_rounded_to_k_decimals_is_right(truth, k, how):
    rounded = np.round(truth, k)
    text = _printed(rounded, how)
    value, tolerance = read_value("d", text)
    assert np.shape(value) == truth.shape
    assert all_match(value, tolerance, truth), (text, tolerance)


@FAST
@given(TRUTHS, st.integers(1, 6))
def test_an_answers_file_of_rounded_numpy_output_is_right(truth, k):
    rounded = np.round(truth, k)
    with np.printoptions(threshold=sys.maxsize):
        text = f"# printed\ndx =\n{rounded}\nq: {rounded!r}\ny = {json.dumps(rounded.tolist(), indent=1)}\n"
    pairs = read_answers(text, "a.txt")
    assert [w for w, _, _ in pairs] == ["dx", "q", "y"]
    for written, value_text, _ in pairs:
        value, tolerance = read_value(written, value_text)
        assert all_match(value, tolerance, truth), value_text


@FAST
@given(TRUTHS)
def test_unrounded_numpy_output_is_right_and_a_changed_array_is_not(truth):
    with np.printoptions(threshold=sys.maxsize, precision=17, floatmode="unique"):
        text = str(truth)
    value, tolerance = read_value("d", text)
    assert all_match(value, tolerance, truth)
    with np.printoptions(threshold=sys.maxsize):
        text = str(truth)  # numpy's default: 8 digits
    value, tolerance = read_value("d", text)
    assert all_match(value, tolerance, truth), text
    changed = truth + 0.1 + np.abs(truth) * 0.1
    assert not all_match(value, tolerance, changed), text


ALPHABET = st.sampled_from([*list("0123456789.,;:=[]()+-*/eE ∂dfxyq_\n\t#@−×·⋅–０．［］allrayn"), "...", "…"])


@FAST
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_random_text_never_crashes_read_value(text):
    with contextlib.suppress(BpcliError):
        read_value("d", text)


@FAST
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_random_text_never_crashes_read_answers(text):
    try:
        for written, value, _ in read_answers(text, "a.txt"):
            expectation(written, value, {"x", "y", "q", "f"}, "f")
    except BpcliError:
        pass


@FAST
@given(st.text(max_size=40))
def test_any_text_never_crashes_read_value(text):
    with contextlib.suppress(BpcliError):
        read_value("d", text)
