"""Bugs found by trying `check` on array homework as a TA and students would (trial of issue
17's diagnosis): crashes, a search that overran its budget, and messages that were not true."""

from __future__ import annotations

import json


def results(bpcli, program: str, *args: str) -> dict[str, dict]:
    result = bpcli("check", program, *args, "--format", "json")
    assert result.code in (0, 1), result.err
    return {r["name"]: r for r in json.loads(result.out)["results"]}


# --- crashes -----------------------------------------------------------------------------


def test_a_power_with_an_array_exponent_is_diagnosed_not_a_crash(bpcli):
    # the hint for a factor of 2 asked `exponent == 2.0` of an array
    found = results(bpcli, "f = sum(x ** p)", "x=[1.0, 2.0]", "p=[2.0, 2.0]", "-e", "dx=[1, 2]")
    d = found["dx"]["diagnosis"]
    assert d["kind"] == "scale" and d["factor"] == 0.5 and "the 2 of a square" in d["message"]
    found = results(bpcli, "f = sum(x ** p)", "x=[1.0, 2.0]", "p=[2.0, 3.0]", "-e", "dx=[4, 24]")
    d = found["dx"]["diagnosis"]
    assert d["kind"] == "scale" and d["factor"] == 2.0 and "square" not in d["message"]


def test_an_empty_slice_in_the_program_is_no_crash(bpcli):
    # the search's shifts took the largest gradient of an empty array
    found = results(bpcli, "e = x[1:1]; f = sum(x) + sum(e)", "x=[1.0, 2.0]", "-e", "dx=[2, 2]")
    assert not found["dx"]["ok"] and found["dx"]["diagnosis"]["kind"] == "scale"


# --- the search's budget ------------------------------------------------------------------


def test_what_each_user_of_a_node_sends_is_charged_to_the_budget(bpcli, monkeypatch):
    # a padded image is read by thousands of windows in a naive conv: working out what each
    # window sends it was not charged, and a 2x3x16x16 conv took 45 s to check for 2 s of grad
    from bpcli.grading import mistakes

    calls = []
    sent = mistakes.Branches.sent

    def counted(self, gate, indexes, upstream=None):
        calls.append(gate.id)
        return sent(self, gate, indexes, upstream)

    monkeypatch.setattr(mistakes.Branches, "sent", counted)
    monkeypatch.setattr(mistakes, "MAX_WORK", 100)
    program = "s = 0.0\nfor i in range(400):\n    s = s + x[i % 3] * 1.5\nf = s * s"
    found = results(bpcli, program, "x=[0.5, -0.2, 0.1]", "-e", "dx=[1, 2, 3]")
    assert not found["dx"]["ok"]
    assert len(calls) <= 150  # not the 400 windows' worth


def test_left_out_branches_come_fewest_first_and_one_at_a_time_past_the_limit():
    from bpcli.grading.mistakes import MAX_FANOUT_SUBSETS, left_out

    assert list(left_out(3)) == [(2,), (1,), (0,), (1, 2), (0, 2), (0, 1)]
    many = MAX_FANOUT_SUBSETS + 1
    assert list(left_out(many)) == [(k,) for k in range(many)]


# --- messages that must be true, and short ------------------------------------------------

NET = """\
h = np.tanh(X @ W1)
L = np.sum(h @ W2)
"""
NET_BINDINGS = ("X=[[0.4, -0.9], [1.1, 0.3]]", "W1=[[0.3, -0.5], [0.6, 0.2]]", "W2=[0.5, -0.4]")


def test_a_wrong_forward_array_is_not_echoed_into_the_messages(bpcli):
    # the messages echoed the student's h and the true h and dW2, many lines of numbers
    # with their own line breaks, into a paragraph
    import numpy as np

    x, w1 = np.array([[0.4, -0.9], [1.1, 0.3]]), np.array([[0.3, -0.5], [0.6, 0.2]])
    wrong_h = np.round(x @ w1, 4)  # tanh forgotten in the forward pass
    dw2 = wrong_h.T @ np.ones(2)  # the right backward pass from it
    found = results(
        bpcli, NET, *NET_BINDINGS, "-e", f"h={wrong_h.tolist()}", "-e", f"dW2={np.round(dw2, 4).tolist()}"
    )
    h, dw = found["h"]["diagnosis"], found["dW2"]["diagnosis"]
    assert h["kind"] == dw["kind"] == "forward" and h["first"]
    for message in (h["message"], dw["message"]):
        assert "[" not in message and "\n" not in message
    assert "recompute h = tanh(X @ W1)" in h["message"]
    follows = "this follows from your forward value h, which is wrong; with it, this step itself is right."
    assert dw["message"] == follows
    assert not np.allclose(np.tanh(x @ w1).T @ np.ones(2), dw2, atol=1e-3)  # (a wrong dW2 indeed)


MATVEC = ("q = W @ x; f = sum(q^2)", "W=[[0.1, 0.5], [-0.3, 0.8], [0.7, -0.2]]", "x=[0.2, 0.4]")


def test_an_unexplained_answer_points_at_the_gate_above_only_when_its_upstream_is_right(bpcli):
    # with dq given wrong, "re-derive the local gradient of q = W @ x" blamed a local
    # gradient that may well be right: the student's upstream is wrong too
    wrong_dq = results(bpcli, *MATVEC, "-e", "dW=[[1, 2], [3, 4], [5, 6]]", "-e", "dq=[1, 2, 3]")
    d = wrong_dq["dW"]["diagnosis"]
    assert d["kind"] == "unknown" and d["local"] is None and "Re-derive" not in d["message"]
    right_dq = results(bpcli, *MATVEC, "-e", "dW=[[1, 2], [3, 4], [5, 6]]", "-e", "dq=[0.44, 0.52, 0.12]")
    d = right_dq["dW"]["diagnosis"]
    assert d["first"] and "this is where the derivation breaks" in d["message"] and "g @ xᵀ" in d["local"]


REGULARISED = (
    "s = X @ W; L = sum(s ** 2) + sum(W * W)",
    "X=[[1.0, 2.0], [0.5, -1.0]]",
    "W=[[0.5, -1.0], [2.0, 1.5]]",
)


def _regularised() -> tuple:
    import numpy as np

    x, w = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([[0.5, -1.0], [2.0, 1.5]])
    ds = 2 * (x @ w)
    return x, w, ds


def test_a_mistake_in_one_branch_is_located_on_that_branch_alone(bpcli):
    # W*W's 2 forgotten: "Between ds and here the chain goes through W*W, …" named an answer
    # (ds) that is not on W*W's way to the output at all
    x, w, ds = _regularised()
    found = results(bpcli, *REGULARISED, "-e", f"ds={ds.tolist()}", "-e", f"dW={(x.T @ ds + w).tolist()}")
    d = found["dW"]["diagnosis"]
    assert d["kind"] == "scale" and d["factor"] == 0.5 and d["gate"] == "W*W"
    assert d["above"] == [] and d["through"] == ["W*W", "sum(W*W)"]
    assert "Between the output and here" in d["message"] and "ds" not in d["message"]


def test_a_mistake_at_a_gate_whose_upstream_was_given_right_is_where_it_breaks(bpcli):
    # the upstream forgotten at s = X @ W, with ds given right: W's other branch (W*W, which
    # the student did not give) is not between ds and dW
    import numpy as np

    x, w, ds = _regularised()
    dw = x.T @ np.ones_like(ds) + 2 * w
    found = results(bpcli, *REGULARISED, "-e", f"ds={ds.tolist()}", "-e", f"dW={dw.tolist()}")
    d = found["dW"]["diagnosis"]
    assert d["kind"] == "missing-upstream" and d["first"] and d["through"] == [] and d["above"] == ["ds"]
    assert "Its upstream gradient is right, so this is where the derivation breaks" in d["message"]


def test_an_answer_carried_down_follows_from_the_nearest_wrong_answer_above_it(bpcli):
    # a = x*w = 2, b = 3a = 6, L = b^2: db forgotten its 2 (6 for 12), then da = 3 db = 18 and
    # dw = x da = 18 carried down. dw was worked out from da, not from db
    found = results(
        bpcli, "a = x * w; b = a * 3; L = b * b", "x=1", "w=2", "-e", "db=6", "-e", "da=18", "-e", "dw=18"
    )
    assert found["db"]["diagnosis"]["first"] and found["db"]["diagnosis"]["kind"] == "scale"
    assert found["da"]["diagnosis"]["carried_from"] == "b"
    assert found["dw"]["diagnosis"]["carried_from"] == "a"
    assert found["dw"]["diagnosis"]["message"].startswith("this follows from your ∂L/∂a = 18, which is wrong")
