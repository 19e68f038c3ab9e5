"""Issue 17's reproductions, with their correct outcomes, and `check` on pasted cs231n
functions (the two-layer net as a class and as a script, the naive conv).

Every truth here is computed by hand with numpy (or HIPS autograd) from the numbers in the
command, never by bpcli; each answer's expected verdict follows from how it was made.
"""

from __future__ import annotations

import re

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from check17_cases import fmt, unicode_minus
from test_check17_cases import bpcli, diagnosis

from conftest import SAMPLES

CS231N = SAMPLES / "cs231n"
DATA = CS231N / "data"


def check(*args: str):
    report = bpcli("check", *args, "--format", "json")
    assert "Traceback" not in report.err and "internal error" not in report.err, report.err
    assert report.code in (0, 1), report.err
    return report.code, report.results


def names_both_shapes(message: str, a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    def spelled(shape):
        inner = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
        return [f"({inner})", "×".join(map(str, shape)), "x".join(map(str, shape))]

    return any(s in message for s in spelled(a)) and any(s in message for s in spelled(b))


# --- the two crashes ------------------------------------------------------------------------

W = np.array([[0.1, 0.5], [-0.3, 0.8], [0.7, -0.2]])
x = np.array([0.2, 0.4])


def test_a_wrong_shape_answer_is_a_verdict_not_a_crash():
    # dW = 2 (W x) xᵀ is 3×2; the answer is its transpose (2×3)
    truth = np.outer(2 * (W @ x), x)
    answer = [[0.088, 0.104, 0.024], [0.176, 0.208, 0.048]]
    np.testing.assert_allclose(answer, truth.T, atol=5e-4)
    code, results = check(
        "q = W @ x; f = sum(q^2)",
        "W=[[0.1, 0.5], [-0.3, 0.8], [0.7, -0.2]]",
        "x=[0.2, 0.4]",
        "--expect",
        "dW=[[0.088, 0.104, 0.024], [0.176, 0.208, 0.048]]",
    )
    assert code == 1
    found = diagnosis(results["dW"])
    assert results["dW"]["ok"] is False
    assert found["kind"] == "transpose" and found["first"] is True
    assert names_both_shapes(found["message"], (2, 3), (3, 2)), found["message"]


MSE = (
    "L = mean((X @ w + b - y)^2)",
    "X=[[0.62, -1.04], [1.31, 0.23], [-0.47, 0.71]]",
    "w=[0.4, 0.8]",
    "b=-0.3",
    "y=[0.5, 1.2, 0.35]",
)


def mse_truth():
    X = np.array([[0.62, -1.04], [1.31, 0.23], [-0.47, 0.71]])
    r = X @ np.array([0.4, 0.8]) - 0.3 - np.array([0.5, 1.2, 0.35])
    return 2 * r / 3  # ∂L/∂(X @ w + b), per example; db is its sum


def test_a_scalar_broadcast_into_an_array_right_answer():
    assert round(mse_truth().sum(), 2) == -1.63
    code, results = check(*MSE, "--expect", "db=−1.63")
    assert code == 0 and results["db"]["ok"] is True


def test_a_scalar_broadcast_into_an_array_per_example_answer():
    # db not summed over the batch: the per-example upstream
    per_example = fmt(mse_truth(), 3)
    code, results = check(*MSE, "--expect", f"db={per_example}")
    assert code == 1 and results["db"]["ok"] is False
    assert diagnosis(results["db"])["kind"] == "missing-sum"


# --- the false rights --------------------------------------------------------------------------


def test_one_number_for_an_array_of_threes_is_a_shape_mistake():
    # L = sum(X + b) with X 3×3: ∂L/∂b = [3, 3, 3], not the number 3
    program = ("L = np.sum(X + b)", "X=[[1, 2, 3], [4, 5, 6], [7, 8, 9]]", "b=[0.1, 0.2, 0.3]")
    code, results = check(*program, "--expect", "db=3")
    assert code == 1 and results["db"]["ok"] is False
    assert diagnosis(results["db"])["kind"] == "shape"
    code, results = check(*program, "--expect", "db=[3, 3, 3]")
    assert code == 0 and results["db"]["ok"] is True


def test_one_number_for_a_uniform_matrix_is_a_shape_mistake():
    # L = mean(S) over a 2×3 S: ∂L/∂S is 1/6 in each of 6 places
    program = ("L = np.mean(S)", "S=[[1, 2, 3], [4, 5, 6]]")
    code, results = check(*program, "--expect", "dS=0.1667")
    assert code == 1 and results["dS"]["ok"] is False
    assert diagnosis(results["dS"])["kind"] == "shape"
    code, results = check(*program, "--expect", "dS=[[0.1667, 0.1667, 0.1667], [0.1667, 0.1667, 0.1667]]")
    assert code == 0


# --- the false wrongs ------------------------------------------------------------------------


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("sample", ["neuron.bp", "neuron_sigmoid.bp"])
def test_the_unicode_minus_on_the_sigmoid_neuron(sample):
    # w0=2 x0=-1 w1=-3 x1=-2 w2=-3: z = 1, ∂f/∂w0 = x0 σ(1)(1 - σ(1)) = -0.1966
    s = sigmoid(1.0)
    assert round(-1 * s * (1 - s), 2) == -0.20
    code, results = check(str(SAMPLES / sample), "--expect", "dw0=−0.20")
    assert code == 0 and results["dw0"]["ok"] is True
    code, results = check(str(SAMPLES / sample), "--expect", "dw0=−0.30")  # and a wrong one is wrong
    assert code == 1 and results["dw0"]["ok"] is False


def test_an_expression_of_rounded_numbers():
    # homework.bp: d = c*x with c = 1.5, x = 0.5; dc = σ'(0.75) · 0.5 = 0.1089 = 0.2179 · 0.5
    s = sigmoid(0.75)
    assert round(s * (1 - s), 2) == 0.22
    code, results = check(str(SAMPLES / "homework.bp"), "-e", "dc=0.22*0.5")
    assert code == 0 and results["dc"]["ok"] is True
    # 0.22*0.6: no values within the rounding of 0.22 and 0.6 give 0.1089 (at least 0.118)
    code, results = check(str(SAMPLES / "homework.bp"), "-e", "dc=0.22*0.6")
    assert code == 1 and results["dc"]["ok"] is False


# --- pasted functions: the two-layer net and the naive conv ----------------------------------


def two_layer_loss(params, X, y, reg):
    W1, b1, W2, b2 = params
    h1 = anp.maximum(0.0, X @ W1 + b1)
    scores = h1 @ W2 + b2
    scores = scores - anp.max(scores, axis=1, keepdims=True)
    logp = scores - anp.log(anp.sum(anp.exp(scores), axis=1, keepdims=True))
    N = X.shape[0]
    return -anp.sum(logp[np.arange(N), y]) / N + reg * (anp.sum(W1 * W1) + anp.sum(W2 * W2))


def class_net():
    W1 = np.sin(np.arange(24.0)).reshape(4, 6) / 2
    b1 = np.cos(np.arange(6.0)) / 10
    W2 = np.cos(np.arange(18.0) * 0.9).reshape(6, 3) / 2
    b2 = np.array([0.1, 0.0, -0.1])
    X = np.sin(np.arange(20.0) * 0.6).reshape(5, 4) * 2
    y = np.array([0, 1, 2, 2, 1])
    params = (W1, b1, W2, b2)
    grads = grad(two_layer_loss)(params, X, y, 0.05)
    assert np.all(np.abs(X @ W1 + b1) > 1e-6)  # no relu kink at these numbers
    return dict(zip(("dW1", "db1", "dW2", "db2"), grads, strict=True))


def test_a_pasted_two_layer_net_class_right_answers():
    truth = class_net()
    args = [arg for name, value in truth.items() for arg in ("-e", f"{name}={fmt(value, 3)}")]
    code, results = check(str(CS231N / "two_layer_net_class.bp"), *args, "--seed", "0")
    assert {name: r["ok"] for name, r in results.items()} == dict.fromkeys(truth, True)
    assert code == 0


def test_a_pasted_two_layer_net_class_transposed_dW1():
    truth = class_net()
    answers = {**{k: fmt(v, 3) for k, v in truth.items()}, "dW1": fmt(truth["dW1"].T, 3)}
    args = [arg for name, text in answers.items() for arg in ("-e", f"{name}={text}")]
    code, results = check(str(CS231N / "two_layer_net_class.bp"), *args, "--seed", "0")
    assert code == 1
    assert {name: r["ok"] for name, r in results.items()} == {
        "dW1": False,
        "db1": True,
        "dW2": True,
        "db2": True,
    }
    found = diagnosis(results["dW1"])
    assert found["kind"] == "transpose" and found["first"] is True
    assert names_both_shapes(found["message"], (4, 6), (6, 4)), found["message"]


def test_the_two_layer_net_script_with_bound_data(tmp_path):
    # samples/cs231n/two_layer_net.bp, its data from .npy files; the answers in a file,
    # each matrix a row a line
    data = {k: np.load(DATA / f"{k}.npy") for k in ("X", "y", "W1", "b1", "W2", "b2")}
    grads = grad(two_layer_loss)(
        (data["W1"], data["b1"], data["W2"], data["b2"]), data["X"], data["y"].astype(int), 0.05
    )
    lines = []
    for name, value in zip(("dW1", "db1", "dW2", "db2"), grads, strict=True):
        text = fmt(value, 4)
        lines.append(f"{name} = " + text.replace("], [", "],\n    [") + "\n")
    path = tmp_path / "answers.txt"
    path.write_text("".join(lines), encoding="utf-8")
    bindings = [f"{k}=@{DATA / k}.npy" for k in data]
    code, results = check(str(CS231N / "two_layer_net.bp"), *bindings, "--answers", str(path))
    assert all(r["ok"] for r in results.values()) and code == 0, results


def conv_truth():
    """conv_backward_naive by hand, for conv_forward_naive.bp's numbers and f = sum(out * dout)."""
    x = np.sin(np.arange(150.0)).reshape(2, 3, 5, 5)
    w = np.cos(np.arange(54.0)).reshape(2, 3, 3, 3) / 3
    dout = np.sin(np.arange(36.0) * 0.7).reshape(2, 2, 3, 3)
    stride, pad = 2, 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(2):
        for f in range(2):
            for i in range(3):
                for j in range(3):
                    window = x_pad[n, :, i * stride : i * stride + 3, j * stride : j * stride + 3]
                    dw[f] += dout[n, f, i, j] * window
                    dx_pad[n, :, i * stride : i * stride + 3, j * stride : j * stride + 3] += (
                        dout[n, f, i, j] * w[f]
                    )
    return {"dx": dx_pad[:, :, pad:-pad, pad:-pad], "dw": dw, "db": db}


def test_a_pasted_naive_conv_right_answers(tmp_path):
    truth = conv_truth()
    path = tmp_path / "answers.txt"
    path.write_text(
        "".join(f"{k} = {unicode_minus(fmt(v, 3))}\n" for k, v in truth.items()), encoding="utf-8"
    )
    code, results = check(str(CS231N / "conv_forward_naive.bp"), "--answers", str(path))
    assert {name: r["ok"] for name, r in results.items()} == dict.fromkeys(truth, True)
    assert code == 0


def test_a_pasted_naive_conv_db_not_summed():
    # db per output position: dout summed over nothing (2×2×3×3) where db is (2,). The loop
    # adds b[f] one scalar at a time (nothing is broadcast), so "shape" names it as well as
    # "missing-sum" does.
    truth = conv_truth()
    dout = np.sin(np.arange(36.0) * 0.7).reshape(2, 2, 3, 3)
    code, results = check(
        str(CS231N / "conv_forward_naive.bp"), "-e", f"db={fmt(dout, 3)}", "-e", f"dw={fmt(truth['dw'], 3)}"
    )
    assert code == 1 and results["db"]["ok"] is False and results["dw"]["ok"] is True
    assert diagnosis(results["db"])["kind"] in ("missing-sum", "shape")
    assert diagnosis(results["db"])["first"] is True


def test_a_pasted_naive_conv_dw_with_its_sign_flipped():
    truth = conv_truth()
    code, results = check(
        str(CS231N / "conv_forward_naive.bp"),
        "-e",
        f"dw={fmt(-truth['dw'], 3)}",
        "-e",
        f"db={fmt(truth['db'], 3)}",
    )
    assert code == 1 and results["dw"]["ok"] is False and results["db"]["ok"] is True
    assert diagnosis(results["dw"])["kind"] == "sign" and diagnosis(results["dw"])["first"] is True


# --- the misleading messages ------------------------------------------------------------------


def test_messages_name_the_output_L():
    # the output is L: a message about dx speaks of ∂L/∂x, never ∂f/∂x
    W3, x3 = np.array([[0.6, -0.4], [0.3, 0.9], [-0.7, 0.2]]), np.array([0.5, -1.2])
    np.testing.assert_allclose(np.outer(2 * W3 @ x3, x3), [[0.78, -1.872], [-0.93, 2.232], [-0.59, 1.416]])
    np.testing.assert_allclose(-W3.T @ (2 * W3 @ x3), [-1.204, 2.534])
    code, results = check(
        "q = W @ x\nL = np.sum(q ** 2)",
        "W=[[0.6, -0.4], [0.3, 0.9], [-0.7, 0.2]]",
        "x=[0.5, -1.2]",
        "-e",
        "dW=[[0.78, -1.872], [-0.93, 2.232], [-0.59, 1.416]]",  # right
        "-e",
        "dx=[-1.204, 2.534]",  # the sign
    )
    assert code == 1 and results["dW"]["ok"] is True
    message = diagnosis(results["dx"])["message"]
    assert "∂f/∂" not in message and re.search(r"∂L/∂x|dL/dx|dx", message), message
