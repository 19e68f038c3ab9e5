"""`bpcli check`: rounding-aware answers, the first wrong step and the likely mistake."""

from __future__ import annotations

import json

import pytest

from bpcli.grading.answers import all_match, read_value

from conftest import SAMPLES

SIMPLE = ("q = x + y; f = q*z", "x=-2", "y=5", "z=-4")


def report(bpcli, *args):
    result = bpcli("check", *args, "--format", "json")
    assert result.code in (0, 1), result.err
    doc = json.loads(result.out)
    return result.code, {r["name"]: r for r in doc["results"]}, doc


# --- rounding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, truth, ok",
    [
        ("0.39", 0.3932, True),
        ("0.40", 0.3932, False),
        ("-0.2", -0.1966, True),
        ("0.3932", 0.39322, True),
        ("0.3940", 0.3932, False),
        ("0.12", 0.125, True),
        ("0.13", 0.125, True),
        ("0.14", 0.125, False),
        ("-4", -4.0, True),
        ("-4", -4.01, False),
        ("-4", -4.0 + 1e-12, True),
        ("1.5e-3", 0.00154, True),
        ("1.5e-3", 0.00156, False),
        ("-1/3", -1 / 3, True),
        ("-1/3", -0.3333, False),
        ("e^-1", 0.36787944117144233, True),
    ],
)
def test_rounding_aware_comparison(answer, truth, ok):
    value, tolerance = read_value("a", answer)
    assert all_match(value, tolerance, truth) is ok


def test_the_examples_with_right_answers_exit_0(bpcli):
    result = bpcli("check", *SIMPLE, "--expect", "q=3", "--expect", "dq=-4", "--expect", "dz=3")
    assert result.code == 0
    assert result.out.endswith("3 of 3 correct\n")
    result = bpcli("check", str(SAMPLES / "neuron.bp"), "--answers", str(SAMPLES / "neuron_answers.txt"))
    assert result.code == 0 and result.out.endswith("6 of 6 correct\n")


def test_the_notes_rounded_values_and_one_wrong(bpcli):
    rounded = ["dw0=-0.20", "dx0=0.39", "dw1=-0.39", "dx1=-0.59", "dw2=0.20"]
    args = [arg for a in rounded for arg in ("-e", a)]
    assert bpcli("check", str(SAMPLES / "neuron.bp"), *args).code == 0
    code, results, _ = report(bpcli, str(SAMPLES / "neuron.bp"), "-e", "dx0=0.40")
    assert code == 1
    assert results["dx0"]["ok"] is False and results["dx0"]["diagnosis"]["first"] is True
    # 0.40 is 0.20 × 2: the upstream gradient rounded too early
    assert "(0.20 × 2)" in results["dx0"]["diagnosis"]["message"]


def test_a_scalar_answer_fed_by_an_array_upstream_is_diagnosed(bpcli):
    # x*A sends x an array's worth of upstream: nothing one number could be rounded from
    code, results, _ = report(bpcli, "f = sum(x*A)", "x=0.5", "A=[1.37,2]", "-e", "dx=2.9")
    assert code == 1 and results["dx"]["ok"] is False
    assert results["dx"]["diagnosis"]["kind"] == "unknown"


def test_gradient_names_in_every_spelling(bpcli):
    for written in ("dq", "df/dq", "∂f/∂q", "grad(q)"):
        code, results, _ = report(bpcli, *SIMPLE, "-e", f"{written}=-4")
        assert code == 0 and results[written]["means"] == "∂f/∂q"
    code, results, _ = report(bpcli, "(x+y)*z", "x=-2", "y=5", "z=-4", "-e", "dx=-4", "-e", "x=-2")
    assert code == 0


def test_answers_file_with_colons_comments_and_semicolons(bpcli, tmp_path):
    path = tmp_path / "answers.txt"
    path.write_text("# my work\nq: 3\n\ndq = -4 ; dz: 3  # the swapper\n", encoding="utf-8")
    result = bpcli("check", *SIMPLE, "--answers", str(path))
    assert result.code == 0 and result.out.endswith("3 of 3 correct\n")


def test_tolerance_options(bpcli):
    assert bpcli("check", *SIMPLE, "-e", "dx=-4.1").code == 1
    assert bpcli("check", *SIMPLE, "-e", "dx=-4.1", "--tol", "0.2").code == 0
    assert bpcli("check", *SIMPLE, "-e", "dx=-4.1", "--tol", "5%").code == 0
    assert bpcli("check", *SIMPLE, "-e", "dx=-4.1", "--tol", "1%").code == 1


# --- each kind of mistake, from a real hand-made wrong answer --------------------------------


@pytest.mark.parametrize(
    "args, answer, kind, gate",
    [
        # dq = 4: the student forgot that ∂(q*z)/∂q = z is negative
        (SIMPLE, "dq=4", "sign", "f = q*z"),
        # dy = 1: ∂q/∂y = 1, but never multiplied by ∂f/∂q = -4
        (SIMPLE, "dy=1", "missing-upstream", "q = x + y"),
        # f = x*x + x at 3: 6 adds only the branch through x*x, and leaves out the one through +
        ((str(SAMPLES / "fanout.bp"),), "dx=6", "partial-fanout", "f = x*x + x"),
        # f = x/y at (6, 2): ∂f/∂x = 1/y, written as 1/x
        (("f = x/y", "x=6", "y=2"), "dx=0.17", "swapped-inputs", "f = x/y"),
        # homework: ∂(x*y)/∂y taken as y
        ((str(SAMPLES / "homework.bp"),), "dy=0.22", "swapped-inputs", "a = x*y"),
        # σ'(z) written z(1 − z) instead of σ(z)(1 − σ(z))
        (("f = sigmoid(z)", "z=0.5"), "dz=0.25", "value-confusion", "f = sigmoid(z)"),
        # d e^x/dx taken as x
        (("f = exp(x)", "x=2"), "dx=2", "value-confusion", "f = exp(x)"),
        # the max gate's gradient sent to the losing input
        ((str(SAMPLES / "homework.bp"),), "dw=0.11", "wrong-route", "b = max(z, w)"),
        ((str(SAMPLES / "gates.bp"),), "dw=2", "wrong-route", "max(z, w)"),
        # a wrong forward value
        (SIMPLE, "q=4", "forward", "q = x + y"),
        # 0.40 for 0.3932: no mistake but early rounding (0.20 × 2)
        ((str(SAMPLES / "neuron.bp"),), "dx0=0.40", "rounding", "w0*x0"),
    ],
)
def test_each_mistake_is_named(bpcli, args, answer, kind, gate):
    code, results, _ = report(bpcli, *args, "-e", answer)
    assert code == 1
    diagnosis = results[answer.split("=")[0]]["diagnosis"]
    assert diagnosis["kind"] == kind, diagnosis["message"]
    label = bpcli("grad", *args, "--format", "json")
    labels = {n["id"]: n["label"] for n in json.loads(label.out)["nodes"]}
    assert labels[diagnosis["node"]] == gate


def test_a_gradient_computed_from_a_wrong_forward_value(bpcli):
    # q = 4 instead of 3, then dz = q = 4: the gradient step is right, the forward value is not
    _, results, _ = report(bpcli, *SIMPLE, "-e", "q=4", "-e", "dz=4")
    assert results["q"]["diagnosis"]["kind"] == "forward"
    assert results["dz"]["diagnosis"]["kind"] == "forward"


def test_a_mistake_carried_downstream_points_at_its_origin(bpcli):
    _, results, _ = report(bpcli, *SIMPLE, "-e", "dq=4", "-e", "dx=4", "-e", "dz=3")
    assert results["dq"]["diagnosis"]["kind"] == "sign" and results["dq"]["diagnosis"]["first"]
    carried = results["dx"]["diagnosis"]
    assert carried["kind"] == "sign" and not carried["first"]
    assert "follows from your ∂f/∂q = 4" in carried["message"]
    assert results["dz"]["diagnosis"] is None


def test_homework_sample_report(bpcli):
    result = bpcli("check", str(SAMPLES / "homework.bp"), "--answers", str(SAMPLES / "homework_answers.txt"))
    assert result.code == 1
    assert result.out.endswith("6 of 9 correct\nfirst wrong step: dw\n")
    _, results, doc = report(
        bpcli, str(SAMPLES / "homework.bp"), "--answers", str(SAMPLES / "homework_answers.txt")
    )
    assert (doc["correct"], doc["total"]) == (6, 9)
    assert {k: r["diagnosis"]["kind"] for k, r in results.items() if r["diagnosis"]} == {
        "dw": "wrong-route",
        "dy": "swapped-inputs",
        "dx": "partial-fanout",
    }


def test_json_schema(bpcli):
    _, results, doc = report(bpcli, *SIMPLE, "-e", "dq=4", "-e", "dz=3")
    assert set(doc) == {"correct", "total", "results", "warnings"}
    assert set(results["dq"]) == {"name", "means", "answer", "truth", "ok", "note", "diagnosis"}
    assert set(results["dq"]["diagnosis"]) == {
        *("kind", "node", "message", "first", "gate", "input", "at", "shape", "truth_shape"),
        *("upstream", "local", "factor", "axes", "branches", "carried_from", "follows"),
        *("common", "through", "above", "also"),
    }
    assert results["dq"]["answer"] == 4.0 and results["dq"]["truth"] == -4.0


def test_arrays_compare_elementwise_and_report_the_worst_element(bpcli):
    matrix = str(SAMPLES / "matrix.bp")
    assert (
        bpcli(
            "check",
            matrix,
            "-e",
            "dW=[[0.088, 0.176], [0.104, 0.208]]",
            "-e",
            "dx=[-0.11, 0.64]",
            "-e",
            "q=[0.22, 0.26]",
        ).code
        == 0
    )
    result = bpcli("check", matrix, "-e", "dW=[[0.088, 0.176], [0.104, 0.218]]")
    assert result.code == 1 and "worst element [1, 1]: 0.218 vs 0.208" in result.out


BAD = {
    "unknown name": (["-e", "dw=1"], "names nothing in the program"),
    "not NAME=VALUE": (["-e", "dq"], "is not NAME=VALUE"),
    "bad value": (["-e", "dq=abc"], "in the answer dq=abc"),
    "no answers": ([], "no answers to check"),
    "bad tolerance": (["-e", "dq=-4", "--tol", "lots"], "--tol"),
    "missing answers file": (["--answers", "nope.txt"], "no such file"),
}


@pytest.mark.parametrize("args, needle", BAD.values(), ids=BAD.keys())
def test_bad_input(bpcli, args, needle):
    result = bpcli("check", *SIMPLE, *args)
    assert result.code == 2 and result.err.startswith("error: ") and needle in result.err


def test_unknown_name_lists_the_names(bpcli):
    result = bpcli("check", *SIMPLE, "-e", "dw=1")
    assert "the program's names are f, q, x, y, z" in result.err


def test_diagnoses_in_chinese(bpcli):
    result = bpcli("check", *SIMPLE, "-e", "dq=4", "--lang", "zh")
    assert result.code == 1
    assert "符号错误：∂f/∂q 是 -4，不是 4。" in result.out
    assert result.out.endswith("1 个答案中 0 个正确\n第一个错误的步骤：dq\n")


def test_every_language_has_the_same_keys_as_english():
    import importlib

    from bpcli.texts import LANGUAGES

    english = importlib.import_module("bpcli.texts.en").MESSAGES
    for language in LANGUAGES:
        messages = importlib.import_module(f"bpcli.texts.{language}").MESSAGES
        assert set(messages) <= set(english), language
        for key, text in messages.items():  # the same fields to fill
            assert _fields(text) == _fields(english[key]), (language, key)


def _fields(template):
    import string

    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_one_sided_derivatives_at_a_kink_are_accepted(bpcli):
    # relu'(0): bpcli takes 0 (PyTorch), but 1 is the right-hand derivative
    code, results, _ = report(
        bpcli, "f = relu(x) * 3 + max(y, z)", "x=0", "y=1", "z=1", "-e", "dx=3", "-e", "dy=1", "-e", "dz=0.5"
    )
    assert code == 0
    assert "one-sided derivative" in results["dx"]["note"]
    assert "one-sided derivative" in results["dy"]["note"]
    assert results["dz"]["note"] is None  # bpcli's own convention
    code, results, _ = report(bpcli, "f = relu(x) * 3", "x=0", "-e", "dx=2")
    assert code == 1 and results["dx"]["note"] is None


# --- issue 13 (check2): no absolute noise floor, wrong shapes, answers files ---------------------


@pytest.mark.parametrize("tol", [[], ["--tol", "0"], ["--tol", "1%"]], ids=["rounding", "0", "1%"])
def test_a_small_truth_is_not_swallowed_by_a_noise_floor(bpcli, tol):
    # ∂f/∂x is 1e-10: the sign flipped, 0 and five times it are wrong, with any tolerance
    result = bpcli("check", "x*1e-10", "x=1", "-e", "dx=-1e-10", "-e", "dx=0", "-e", "dx=5e-10", *tol)
    assert result.code == 1 and result.out.endswith("0 of 3 correct\nfirst wrong step: dx\n")
    assert bpcli("check", "x*1e-10", "x=1", "-e", "dx=1e-10", *tol).code == 0
    result = bpcli("check", "sum(x*1e-10)", "x=[1,2]", "-e", "dx=[-1e-10,-1e-10]", *tol)
    assert result.code == 1 and "0 of 1 correct" in result.out
    assert bpcli("check", "sum(x*1e-10)", "x=[1,2]", "-e", "dx=[1e-10,1e-10]", *tol).code == 0


@pytest.mark.parametrize(
    "answer, truth, ok",
    [
        ("0", 5e-324, False),
        ("-1e-300", 1e-300, False),
        ("1e-300", 1e-300, True),
        ("0", 0.0, True),
        ("-4", -4.0 * (1 + 2e-13), True),
        ("-4", -4.0 * (1 + 1e-11), False),
    ],
)
def test_noise_is_relative_to_the_truth(answer, truth, ok):
    value, tolerance = read_value("a", answer)
    assert all_match(value, tolerance, truth) is ok


def test_noise_around_an_exact_zero_accepts_zero(bpcli):
    from fractions import Fraction

    # in exact arithmetic f and ∂f/∂x are 0; in floats they are 5.6e-17 and 2.8e-17
    tenth = Fraction(1, 10)
    assert tenth + 2 * tenth - 3 * tenth == 0
    program = "f = x*0.1 + x*0.2 - x*0.3"
    code, results, _ = report(bpcli, program, "x=1", "-e", "dx=0", "-e", "f=0")
    assert code == 0 and results["dx"]["truth"] != 0 and results["f"]["truth"] != 0
    code, results, _ = report(bpcli, program, "x=1", "-e", "dx=1e-6", "-e", "f=-1e-9")
    assert code == 1 and not results["dx"]["ok"] and not results["f"]["ok"]


def test_noise_from_a_sum_inside_a_gate_accepts_zero(bpcli):
    # ∂f/∂x = Wᵀ·1: its first column sums 0.1 + 0.2 - 0.3 inside the matmul gate
    code, results, _ = report(
        bpcli, "sum(W@x)", "W=[[0.1,0.2],[0.2,0.3],[-0.3,-0.5]]", "x=[1,2]", "-e", "dx=[0,0]"
    )
    assert code == 0 and results["dx"]["truth"][0] != 0
    code, _, _ = report(
        bpcli, "sum(W@x)", "W=[[0.1,0.2],[0.2,0.3],[-0.3,-0.5]]", "x=[1,2]", "-e", "dx=[1e-9,0]"
    )
    assert code == 1
    # a truth that is exactly 0 takes exactly 0 (relu stops it; relu of |x| would not)
    for answer, code in (("dx=[0,2]", 0), ("dx=[1e-13,2]", 1)):
        assert report(bpcli, "sum(relu(x)*2)", "x=[-1,1]", "-e", answer)[0] == code, answer


MATRIX = ("sum(A*2)", "A=[[1,2,3],[4,5,6]]")


@pytest.mark.parametrize(
    "answer, shape",
    [
        ("zeros(3,2)", "shape 3×2"),
        ("[1,2]", "shape (2,)"),
        ("[1,2,3]", "shape (3,)"),
        ("[[1],[2]]", "shape 2×1"),
        ("2", "one number"),
        ("[[[2,2,2],[2,2,2]]]", "shape 1×2×3"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_wrong(bpcli, answer, shape):
    code, results, _ = report(bpcli, *MATRIX, "-e", f"dA={answer}")
    assert code == 1 and results["dA"]["ok"] is False
    assert results["dA"]["diagnosis"]["kind"] == "shape"
    message = results["dA"]["diagnosis"]["message"]
    verb = "is" if shape == "one number" else "has"
    assert message.startswith(f"wrong shape: your answer {verb} {shape}; ∂f/∂A has the shape of A, 2×3.")
    # the right numbers in the wrong shape (every element of ∂f/∂A is 2) are told apart
    same = "The numbers are right" in message or "Every element" in message
    assert same == ("2,2,2" in answer or answer == "2")
    result = bpcli("check", *MATRIX, "-e", f"dA={answer}")
    assert result.code == 1 and result.err == "" and "worst element" not in result.out


def test_a_value_of_the_wrong_shape_is_wrong(bpcli):
    code, results, _ = report(bpcli, "q = A*2; sum(q)", MATRIX[1], "-e", "q=[1,2]")
    assert code == 1 and results["q"]["diagnosis"]["message"] == (
        "wrong shape: your answer has shape (2,); q has shape 2×3."
    )


@pytest.mark.parametrize(
    "answer, shape", [("[[2,4]]", "has shape 1×2"), ("4", "is one number"), ("[4]", "has shape (1,)")]
)
def test_a_gradient_has_its_variables_shape_not_a_broadcast_one(bpcli, answer, shape):
    result = bpcli("check", "sum(x*x)", "x=[1,2]", "-e", f"dx={answer}")
    assert result.code == 1 and "worst element" not in result.out
    assert f"your answer {shape}; ∂f/∂x has the shape of x, (2,)." in " ".join(
        line.strip("│ ") for line in result.out.splitlines()
    )


def test_a_transposed_gradient_is_named(bpcli):
    code, results, _ = report(bpcli, *MATRIX, "-e", "dA=[[2,2],[2,2],[2,2]]")
    assert code == 1 and results["dA"]["diagnosis"]["kind"] == "transpose"
    assert results["dA"]["diagnosis"]["message"].startswith(
        "transposed: your answer has shape 3×2, but A has shape 2×3; your answer is (∂f/∂A)ᵀ"
    )
    # the classic one: dW of W@x written as x·gᵀ instead of g·xᵀ; also for a square W
    for w in ("[[1,2,3],[4,5,6]]", "[[1,2,3],[4,5,6],[7,8,10]]"):
        rows = w.count("],") + 1
        code, results, _ = report(
            bpcli,
            "sum((W@x)*c)",
            f"W={w}",
            "x=[1,2,4]",
            "c=" + str(list(range(1, rows + 1))),
            "-e",
            "dW=" + str([[c * x for c in range(1, rows + 1)] for x in (1, 2, 4)]),
        )
        assert code == 1 and results["dW"]["diagnosis"]["kind"] == "transpose", w
    result = bpcli("check", *MATRIX, "-e", "dA=[[2,2],[2,2],[2,2]]", "--lang", "zh")
    assert "转置了：你的答案形状是 3×2" in result.out


@pytest.mark.parametrize("maker", ["randn(2)", "rand(2)", "randn()", "rand(1, 2)"])
def test_random_numbers_are_not_an_answer(bpcli, maker):
    result = bpcli("check", "sum(x*x)", "x=[1,2]", "-e", f"dx={maker}")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"error: in the answer dx={maker}: random numbers are not an answer\n"
        "write the numbers (dx=[0.5, -1.2]), or zeros(…) and ones(…)\n"
    )


def test_an_answers_file_may_spread_an_array_over_lines(bpcli, tmp_path):
    answers = tmp_path / "answers.txt"
    answers.write_text(
        "# homework 3\ndW = [[0.088, 0.176],  # row 0\n"
        "      [0.104, 0.208]]\n\ndx = [-0.11,\n 0.64]; q = [0.22, 0.26]\n"
    )
    result = bpcli("check", str(SAMPLES / "matrix.bp"), "--answers", str(answers))
    assert (result.code, result.err) == (0, "") and result.out.endswith("3 of 3 correct\n")


@pytest.mark.parametrize(
    "text, message",
    [
        ("x = 1\n\ndx 4\n", "line 3: the answer 'dx 4' is not NAME=VALUE"),
        ("x = 1\ndw = 4\n", "line 2: the answer dw=4 names nothing in the program"),
        ("x = 1\ndx = [3,\n 4]]\n", "lines 2-3: in the answer dx=[3, 4]]"),
        ("x = 1\ndx = [3,\n\n 4\n", "line 2: a '[' is never closed"),
        ("\n\ndx = 1.5e400\n", "line 3: in the answer dx=1.5e400: the number is too large"),
    ],
)
def test_every_answers_file_error_names_its_line(bpcli, tmp_path, text, message):
    answers = tmp_path / "answers.txt"
    answers.write_text(text)
    result = bpcli("check", "sum(x*x)", "x=[1,2]", "--answers", str(answers))
    assert result.code == 2 and result.err.startswith(f"error: {answers}, {message}")
    result = bpcli("check", "sum(x*x)", "x=[1,2]", "--answers", "-", input=text)
    assert result.code == 2 and result.err.startswith(f"error: stdin, {message}")


def test_a_syntax_error_in_an_answer_shows_a_caret(bpcli):
    result = bpcli("check", "x*2", "x=1", "-e", "dx=2*(3")
    assert (result.code, result.err) == (
        2,
        (
            "error: in the answer dx=2*(3: syntax error: this '(' is never closed\n"
            "  line 1, column 3:\n"
            "    2*(3\n"
            "      ^\n"
            "close it with ')': 2*(3)\n"
        ),
    )


# --- findings are data; words come from the presenter ------------------------------------------


def test_a_finding_holds_the_numbers_not_the_words():
    from bpcli.core.engine import run
    from bpcli.grading.answers import expectations
    from bpcli.grading.diagnose import check
    from bpcli.language.parse import parse

    result = run(parse("q = x*x; f = q + x", {"x": 3.0}))
    (verdict,) = check(result, expectations([("dx", "6", None)], list(result.graph.names)))
    finding = verdict.finding
    assert finding is not None and finding.kind == "partial-fanout"
    # x*x uses x twice, but it is one gate: one branch (2x = 6), not two
    assert finding.uses == 2 and sorted(b.value for b in finding.branches) == [1.0, 6.0]  # type: ignore[type-var]
    assert [b.left_out for b in finding.branches] == [False, True]
    assert finding.truth == 7.0 and finding.answer == "6"
    assert not hasattr(finding, "message")


def test_precision_and_language_reach_the_diagnosis(bpcli):
    program = ("q = x*x*x; f = q + x", "x=1.3123")
    four = bpcli("check", *program, "-e", "dx=5.1664", "--format", "json")
    two = bpcli("check", *program, "-e", "dx=5.1664", "--format", "json", "--precision", "2")
    chinese = bpcli("check", *program, "-e", "dx=5.1664", "--format", "json", "--lang", "zh")
    message = [json.loads(r.out)["results"][0]["diagnosis"]["message"] for r in (four, two, chinese)]
    assert "3.4443 (x*x) + 1.7221 (q = x*x*x) + 1 (f = q + x) = 6.1664" in message[0]
    assert "3.44 (x*x) + 1.72 (q = x*x*x) + 1 (f = q + x) = 6.17" in message[1]
    assert message[2] != message[0] and "6.1664" in message[2]
