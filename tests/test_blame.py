"""How `check` finds the mistake behind wrong array answers (bpcli.grading.blame, .mistakes):
each mistake is built here by hand from numpy's truth, and must be named, located and told
apart from the student's own carried numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

# a linear layer, then softmax cross-entropy written as students write it in numpy (with the
# max shift), then L2 regularisation: N = 4, D = 3, C = 2
SOFTMAX = """\
scores = X @ W + b
shifted = scores - np.max(scores, axis=1, keepdims=True)
probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
N = X.shape[0]
data_loss = -np.sum(np.log(probs[np.arange(N), y])) / N
L = data_loss + reg * np.sum(W * W)
"""
X = np.array([[0.5, -1.2, 0.3], [1.1, 0.4, -0.7], [-0.3, 0.8, 0.9], [0.2, -0.5, 1.5]])
W = np.array([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.1]])
B = np.array([0.1, -0.2])
Y = np.array([0, 1, 1, 0])
REG = 0.1
BINDINGS = (f"X={X.tolist()}", f"W={W.tolist()}", f"b={B.tolist()}", f"y={Y.tolist()}", f"reg={REG}")


def truth() -> dict[str, np.ndarray]:
    s = X @ W + B
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    ds = (p - np.eye(2)[Y]) / len(X)
    return {"p": p, "ds": ds, "dW": X.T @ ds + 2 * REG * W, "db": ds.sum(0), "dX": ds @ W.T}


def lit(a: np.ndarray) -> str:
    return json.dumps(np.round(a, 4).tolist())


def results(bpcli, *answers: str, program: str = SOFTMAX, bindings=BINDINGS) -> dict[str, dict]:
    args = [arg for a in answers for arg in ("-e", a)]
    result = bpcli("check", program, *bindings, *args, "--format", "json")
    assert result.code in (0, 1), result.err
    return {r["name"]: r for r in json.loads(result.out)["results"]}


def firsts(found: dict[str, dict]) -> list[str]:
    return [name for name, r in found.items() if r["diagnosis"] and r["diagnosis"]["first"]]


def test_the_right_answers_are_all_right(bpcli):
    t = truth()
    found = results(bpcli, f"dW={lit(t['dW'])}", f"db={lit(t['db'])}", f"dscores={lit(t['ds'])}")
    assert all(r["ok"] for r in found.values())


def test_one_forgotten_constant_above_two_leaves_is_their_common_cause(bpcli):
    t = truth()
    n = len(X)
    found = results(bpcli, f"dW={lit(X.T @ (t['ds'] * n) + 2 * REG * W)}", f"db={lit(t['db'] * n)}")
    db, dw = found["db"]["diagnosis"], found["dW"]["diagnosis"]
    assert db["kind"] == dw["kind"] == "scale" and db["factor"] == n
    assert firsts(found) == ["db"] and db["common"] == ["dW"] and dw["follows"] == "db"
    # it is located at the division by N, the gate whose constant it is, and nothing claims
    # that an upstream gradient the student never gave is right
    assert db["gate"].endswith("/4") and "N = 4" in db["message"]
    assert "upstream gradient is right" not in db["message"]
    assert "probs" in db["through"]


def test_a_forgotten_regularisation_gradient_is_a_branch_left_out(bpcli):
    t = truth()
    found = results(bpcli, f"dW={lit(X.T @ t['ds'])}", f"db={lit(t['db'])}")
    dw = found["dW"]["diagnosis"]
    assert dw["kind"] == "partial-fanout" and dw["first"]
    assert [b["left_out"] for b in dw["branches"]] == [False, True] and "W*W" in dw["branches"][1]["gate"]
    assert "W is used by 2 gates" in dw["message"]  # W*W is one gate, not two uses


def test_the_2_of_a_square_forgotten_in_one_branch(bpcli):
    t = truth()
    found = results(bpcli, f"dW={lit(X.T @ t['ds'] + REG * W)}")
    dw = found["dW"]["diagnosis"]
    assert dw["kind"] == "scale" and dw["factor"] == 0.5 and "W*W" in dw["gate"]
    assert "the branch of ∂L/∂W through W*W" in dw["message"] and "the 2 of a square" in dw["message"]


def test_p_where_p_minus_onehot_belongs_despite_the_max_shift(bpcli):
    # the student treats the max shift as a constant (it cancels out): the branch through the
    # correct class's pick is what is missing, and dW, db follow from the wrong dscores
    t = truth()
    ds = t["p"] / len(X)
    found = results(bpcli, f"dscores={lit(ds)}", f"dW={lit(X.T @ ds + 2 * REG * W)}", f"db={lit(ds.sum(0))}")
    assert found["dscores"]["diagnosis"]["kind"] == "partial-fanout" and firsts(found) == ["dscores"]
    for name in ("dW", "db"):
        follows = found[name]["diagnosis"]
        assert follows["carried_from"] == "scores" and not follows["first"]
        assert follows["message"].startswith("this follows from your ∂L/∂scores, which is wrong")


def test_p_for_p_minus_y_at_a_softmax_gate(bpcli):
    program = "s = X @ W\np = softmax(s, axis=1)\nL = -np.mean(np.log(p[np.arange(4), y]))"
    s = X @ W
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    found = results(bpcli, f"ds={lit(p / 4)}", program=program, bindings=BINDINGS[:2] + BINDINGS[3:4])
    diagnosis = found["ds"]["diagnosis"]
    assert diagnosis["kind"] == "partial-fanout" and "p where p − onehot(y) belongs" in diagnosis["message"]


def test_shapes_are_judged_before_values_and_never_crash(bpcli):
    t = truth()
    found = results(bpcli, f"dW={lit(t['dW'].T)}", f"db={lit(t['ds'])}", "dX=0.5", f"scores={lit(X @ W)}")
    assert found["dW"]["diagnosis"]["kind"] == "transpose"
    assert "your answer has shape 2×3, but W has shape 3×2" in found["dW"]["diagnosis"]["message"]
    db = found["db"]["diagnosis"]
    assert db["kind"] == "missing-sum" and db["axes"] == [0] and db["shape"] == [4, 2]
    assert found["dX"]["diagnosis"]["kind"] == "shape" and "one number" in found["dX"]["diagnosis"]["message"]
    # a wrong forward value comes first: the forward pass is done before the backward pass
    assert firsts(found) == ["scores"]


def test_the_right_numbers_in_a_column_are_a_shape_mistake_that_says_so(bpcli):
    found = results(bpcli, "dx=[[2], [4]]", program="f = sum(x*x)", bindings=("x=[1, 2]",))
    diagnosis = found["dx"]["diagnosis"]
    assert diagnosis["kind"] == "shape" and "The numbers are right" in diagnosis["message"]


def test_a_forgotten_relu_mask_is_the_local_gradient_left_out(bpcli):
    program = "h = np.maximum(0, X @ W1)\nL = np.sum(h @ W2)"
    w1 = np.array([[0.3, -0.4], [0.2, 0.5], [-0.6, 0.1]])
    w2 = np.array([[1.0], [-2.0]])
    z = X @ w1
    dh = np.ones((4, 1)) @ w2.T
    found = results(
        bpcli,
        f"dW1={lit(X.T @ dh)}",
        program=program,
        bindings=(BINDINGS[0], f"W1={w1.tolist()}", f"W2={w2.tolist()}"),
    )
    diagnosis = found["dW1"]["diagnosis"]
    assert (z > 0).any() and (z < 0).any()
    assert diagnosis["kind"] == "missing-local" and "max(0, X @ W1)" in diagnosis["gate"]


def test_a_right_upstream_answer_given_makes_the_pointer_honest(bpcli):
    w = [[0.1, 0.5], [-0.3, 0.8], [0.7, -0.2]]
    program, bindings = "q = W @ x; f = sum(q^2)", (f"W={w}", "x=[0.2, 0.4]")
    given = results(
        bpcli,
        "dq=[0.44, 0.52, 0.12]",
        "dW=[[0.2,0.4],[0.2,0.4],[0.2,0.4]]",
        program=program,
        bindings=bindings,
    )
    alone = results(bpcli, "dW=[[0.2,0.4],[0.2,0.4],[0.2,0.4]]", program=program, bindings=bindings)
    assert given["dW"]["diagnosis"]["kind"] == alone["dW"]["diagnosis"]["kind"] == "missing-upstream"
    assert "Its upstream gradient is right" in given["dW"]["diagnosis"]["message"]
    assert "∂f/∂W = g @ xᵀ, with g = ∂f/∂q of shape (3,) and x (2,)" in given["dW"]["diagnosis"]["message"]
    assert "upstream gradient is right" not in alone["dW"]["diagnosis"]["message"]
    assert alone["dW"]["diagnosis"]["through"] == ["q"]


def test_rounding_comes_before_any_kind(bpcli):
    # dq = 0.4149 rounded to 0.41, then dx = 0.41 × 3 = 1.23 for a truth of 1.2447
    found = results(
        bpcli, "dq=0.41", "dx=1.23", program="q = x*y; f = q*z", bindings=("x=0.5", "y=3", "z=0.4149")
    )
    assert found["dq"]["ok"] and found["dx"]["diagnosis"]["kind"] == "rounding"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_diagnosis_is_rendered_in_both_languages(bpcli, lang, monkeypatch):
    t = truth()
    answers = [f"dW={lit(t['dW'].T)}", f"db={lit(t['ds'])}", f"dscores={lit(t['p'] / 4)}", "L=3"]
    monkeypatch.setenv("COLUMNS", "80")
    result = bpcli("check", SOFTMAX, *BINDINGS, *[a for x in answers for a in ("-e", x)], "--lang", lang)
    assert result.code == 1 and result.err == ""
    assert all(_width(line) <= 80 for line in result.out.splitlines())


def _width(line: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_a_forgotten_local_gradient_of_a_smooth_gate_on_arrays(bpcli):
    # tanh' forgotten in dW, and x̂ forgotten in dgamma = sum(dout): both pass g straight through
    rng = np.random.RandomState(4)
    x, w = rng.randn(4, 3), rng.randn(3, 2)
    h = np.tanh(x @ w)
    found = results(
        bpcli,
        f"dW={lit(x.T @ (2 * h))}",
        program="h = np.tanh(X @ W)\nL = np.sum(h * h)",
        bindings=(f"X={x.tolist()}", f"W={w.tolist()}"),
    )
    diagnosis = found["dW"]["diagnosis"]
    assert diagnosis["kind"] == "missing-local" and "tanh" in diagnosis["gate"]
    assert "g ⊙ (1 - tanh(X @ W)^2)" in diagnosis["message"]
    dout, xhat, gamma = rng.randn(4, 3), rng.randn(4, 3), rng.randn(3)
    found = results(
        bpcli,
        f"dgamma={lit(dout.sum(0))}",
        f"dxhat={lit(dout)}",
        program="out = gamma * xhat",
        bindings=(f"xhat={xhat.tolist()}", f"gamma={gamma.tolist()}", "--upstream", f"dout={dout.tolist()}"),
    )
    assert found["dgamma"]["diagnosis"]["kind"] == found["dxhat"]["diagnosis"]["kind"] == "missing-local"
    # a local derivative that is a name starting with g (gamma) is not a rule in g
    assert "∂out/∂xhat = g ⊙ (gamma)" in found["dxhat"]["diagnosis"]["message"]


def test_an_elementwise_max_routed_the_wrong_way_names_no_single_winner(bpcli):
    a, b = np.array([1.0, -2.0, 3.0]), np.array([0.5, 1.0, 4.0])
    wrong = (a <= b).astype(float)  # the gradient sent to a where b wins
    found = results(
        bpcli,
        f"da={lit(wrong)}",
        program="f = np.sum(np.maximum(a, b))",
        bindings=(f"a={a.tolist()}", f"b={b.tolist()}"),
    )
    diagnosis = found["da"]["diagnosis"]
    assert diagnosis["kind"] == "wrong-route" and "each element" in diagnosis["message"]


@pytest.mark.parametrize("budget", [1, 20, 200, 290, 340, 2000])
def test_a_spent_budget_leaves_answers_unexplained_never_a_crash(bpcli, monkeypatch, budget):
    # dscores wrong, dW and db carried from it: the budget may run out anywhere on the way
    import bpcli.grading.mistakes as mistakes

    monkeypatch.setattr(mistakes, "MAX_WORK", budget)
    t = truth()
    ds = t["p"] / len(X)
    found = results(bpcli, f"dscores={lit(ds)}", f"dW={lit(X.T @ ds + 2 * REG * W)}", f"db={lit(ds.sum(0))}")
    assert [r["ok"] for r in found.values()] == [False, False, False]
    assert firsts(found) == ["dscores"]
