"""Every presenter on numpy's ops: indexing, index assignment, reshapes and transposes,
concatenate and stack, where and comparisons, and inputs read as data (an index, a shape)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from latex_structure import check_latex

from bpcli.core.engine import run as run_graph
from bpcli.core.ops import OPS
from bpcli.core.ops.registry import make_op
from bpcli.language.parse import parse
from bpcli.present.explain import gate_key, jacobian
from bpcli.texts import Translator

PROGRAMS = {
    "embedding": ["e = W[idx]; f = sum(e * e)", "W=[[1,2],[3,4],[5,6]]", "idx=[0,2,0]"],
    "reshape-where": ["h = x.reshape(2, -1); m = h.T; f = sum(where(m > 0, m, 0) * m)", "x=[1,-2,3,4]"],
    "mask-assign": ["m = x.copy(); m[x < 0] = 0; f = sum(m * m)", "x=[1,-2,3,-4]"],
    "concatenate": ["c = concatenate((a, b), axis=0); f = sum(c * c)", "a=[1,2]", "b=[3]"],
    "stack": ["c = stack((a, b), axis=1); f = sum(c * c)", "a=[1,2]", "b=[3,4]"],
    "scores": [
        "N, D = X.shape; s = X @ W; f = sum(s[arange(N), y])",
        "X=randn(4,3)",
        "W=randn(3,5)",
        "y=[0,4,2,2]",
        "--seed",
        "1",
    ],
    "svm": [
        "N = X.shape[0]; s = X @ W; margins = s - s[arange(N), y].reshape(-1, 1) + 1;"
        " margins[arange(N), y] = 0; f = sum(where(margins > 0, margins, 0)) / N",
        "X=randn(4,3)",
        "W=randn(3,5)",
        "y=[0,4,2,2]",
        "--seed",
        "2",
    ],
    "shape-data": ["h = x.reshape(n, -1); f = sum(h.T @ h)", "x=[1,2,3,4,5,6]", "n=2"],
    "axes": [
        "s = swapaxes(A, 0, 1); t = expand_dims(s, 0); u = squeeze(t); f = sum(u * B)",
        "A=[[1,2,3],[4,5,6]]",
        "B=[[1,2],[3,4],[5,6]]",
    ],
}
FORMATS = {
    "table": [],
    "json": ["--format", "json"],
    "steps": ["--format", "steps"],
    "steps-zh": ["--format", "steps", "--lang", "zh"],
    "tree": ["--format", "tree"],
    "dot": ["--format", "dot"],
    "markdown": ["--format", "markdown"],
    "latex": ["--format", "latex"],
    "csv": ["--format", "csv"],
    "jacobian": ["--jacobian"],
    "gradcheck": ["--gradcheck"],
    "json-all": ["--format", "json", "--jacobian", "--gradcheck"],
}


@pytest.mark.parametrize("output_format", list(FORMATS))
@pytest.mark.parametrize("program", list(PROGRAMS))
def test_every_format_runs_on_numpys_ops(bpcli, program, output_format):
    result = bpcli("grad", *PROGRAMS[program], *FORMATS[output_format])
    assert result.code == 0, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    if output_format.startswith("json"):
        json.loads(result.out)
    if output_format == "latex":
        check_latex(result.out)


# --- narration: the gate patterns ------------------------------------------------------------


def steps(bpcli, program: str, *extra: str) -> str:
    result = bpcli("grad", *PROGRAMS[program], "--format", "steps", *extra)
    assert result.code == 0, result.err
    return result.out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_steps_narrate_the_new_gate_patterns(bpcli, lang, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # (the texts whole, on one line each)
    tr = Translator(lang)
    embedding = steps(bpcli, "embedding", "--lang", lang)
    assert tr("steps.gate.scatter") in embedding
    reshaped = steps(bpcli, "reshape-where", "--lang", lang)
    assert tr("steps.gate.rearranger") in reshaped
    assert tr("steps.gate.router.choice") in reshaped  # where: not "a max gate"
    assert tr("steps.gate.router") not in reshaped
    # the comparison stands in the narration, and stops the gradient
    assert "#4 m > 0   [gt]\n    " + tr("steps.gate.comparison") in reshaped
    joined = steps(bpcli, "stack", "--lang", lang)
    assert tr("steps.gate.rearranger.join") in joined


def test_every_new_text_is_in_chinese():
    english, chinese = Translator("en").messages, Translator("zh").messages
    from bpcli.texts import zh

    new = [k for k in english if k.startswith(("steps.gate.", "data.", "steps.input.data", "check.repeated"))]
    assert new and all(k in zh.MESSAGES for k in new)
    for key in new:
        assert chinese[key] != english[key], key
        assert any("\u4e00" <= c <= "\u9fff" or c in "（：" for c in chinese[key]), key  # in Chinese


def _op(**facts):
    defaults = dict(arity=1, forward=None, vjp=(lambda g, ans, x: g,), local=("1",))
    return make_op("probe", **{**defaults, **facts})


def test_the_gate_text_comes_from_the_ops_facts():
    assert gate_key(OPS["add"]) == "steps.gate.distributor"
    assert gate_key(OPS["max"]) == "steps.gate.router"  # max(x, y): the input that wins
    assert gate_key(OPS["amax"]) == "steps.gate.router"
    assert gate_key(OPS["min"]) == gate_key(OPS["amin"]) == "steps.gate.router.smallest"  # not "a max gate"
    assert gate_key(OPS["where"]) == "steps.gate.router.choice"
    assert gate_key(OPS["gt"]) == "steps.gate.comparison"
    assert gate_key(OPS["exp"]) == ""
    # a family's member along an axis: each slice has its winner
    along = _op(gate="router", routes="largest", params=(("axis", 1), ("keepdims", False)))
    assert gate_key(along) == "steps.gate.router.largest.axis"
    whole = _op(gate="router", routes="largest", params=(("axis", None), ("keepdims", False)))
    assert gate_key(whole) == "steps.gate.router"
    shortest = _op(gate="router", routes="smallest", params=(("axis", 0),))
    assert gate_key(shortest) == "steps.gate.router.smallest.axis"
    assert gate_key(_op(gate="copier")) == "steps.gate.copier"
    assert gate_key(_op(gate="averager")) == "steps.gate.averager"
    tr = Translator()
    assert "copies the gradient to every element" in tr(gate_key(_op(gate="copier")))
    assert "divided by the count n" in tr(gate_key(_op(gate="averager")))
    assert "winner" in tr(gate_key(along)) and "largest" in tr(gate_key(along))


# --- inputs read as data ----------------------------------------------------------------------


def test_an_index_input_gets_no_gradient_rather_than_zero(bpcli):
    out = steps(bpcli, "embedding")
    assert "∂f/∂idx = —  (idx is data: it is used as an index)" in out
    assert "∂f/∂idx = —（idx 是数据：它被用作索引）" in steps(bpcli, "embedding", "--lang", "zh")
    table = bpcli("grad", *PROGRAMS["scores"]).out
    assert "∂f/∂y = —  (y is data: it is used as an index)" in table
    assert "— (data)" in table  # y's row
    shape = steps(bpcli, "shape-data")
    assert "∂f/∂n = —  (n is data: only its value is used, as a shape or an axis)" in shape
    doc = json.loads(bpcli("grad", *PROGRAMS["scores"], "--format", "json").out)
    assert doc["grads"]["y"] is None and doc["data"] == {"y": "index"}
    assert "data" not in json.loads(bpcli("grad", "x*y", "x=1", "y=2", "--format", "json").out)
    latex = bpcli("grad", *PROGRAMS["embedding"], "--format", "latex").out
    assert "--- (data)" in latex


def test_gradcheck_skips_the_inputs_read_as_data(bpcli):
    result = bpcli("grad", *PROGRAMS["scores"], "--gradcheck", "--format", "steps")
    assert result.code == 0, result.err
    assert "∂f/∂y: analytic —, numeric —, error n/a: n/a (y is data" in result.out
    assert "∂f/∂W: analytic" in result.out and ": good" in result.out
    doc = json.loads(bpcli("grad", *PROGRAMS["scores"], "--gradcheck", "--format", "json").out)
    (check,) = [c for c in doc["gradcheck"] if c["name"] == "y"]
    assert check["analytic"] is None and check["numeric"] is None and check["data"] == "index"
    assert check["verdict"] == "n/a" and check["checked"] == 0


def test_gradcheck_says_when_the_step_flips_a_comparison(bpcli):
    result = bpcli("grad", "sum(where(x > 0, 1, 0) * y)", "x=[1e-7, 2]", "y=[1,2]", "--gradcheck")
    assert result.code == 0, result.err
    assert "flips the comparison #2 x > 0" in result.out
    assert "the step for x flips a comparison" in result.err


def test_check_refuses_a_gradient_answer_for_data(bpcli):
    result = bpcli("check", *PROGRAMS["embedding"], "-e", "didx=0")
    assert result.code == 2
    assert "there is no ∂f/∂idx to check (idx is data: it is used as an index" in result.err
    fine = bpcli("check", *PROGRAMS["embedding"], "-e", "dW=[[4,8],[0,0],[10,12]]", "-e", "idx=[0,2,0]")
    assert fine.code == 0, fine.err


# --- labels and local gradients ---------------------------------------------------------------


def test_a_join_is_labelled_with_its_list_and_axis(bpcli):
    doc = json.loads(bpcli("grad", *PROGRAMS["concatenate"], "--format", "json").out)
    assert doc["nodes"][2]["label"] == "c = concatenate([a, b], axis=0)"
    table = bpcli("grad", *PROGRAMS["stack"]).out
    assert "c = stack([a, b], axis=1)" in table
    # the array literal keeps its brackets
    literal = json.loads(bpcli("grad", "sum([x, y] * [x, 2])", "x=1", "y=2", "--format", "json").out)
    assert any(n["label"] == "[x, y]" for n in literal["nodes"])


def test_a_long_join_is_abbreviated_by_its_name():
    graph = parse("f = sum(concatenate((a * b + a, b * a + b)) * 2)", {"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert any(label.startswith("concatenate([a*b + a") for label in graph.labels())
    graph = parse(
        "f = sum(exp(concatenate((a * b + a * a, b * a + b * b, a + b, a - b))))",
        {"a": [1.0, 2.0], "b": [3.0, 4.0]},
    )
    assert "f = sum(exp(concatenate(…)))" in graph.labels()


def test_a_join_names_the_piece_each_input_gets(bpcli):
    concatenated = steps(bpcli, "concatenate")
    assert "to a:  downstream = g[0:2] = [2, 4]" in concatenated
    assert "to b:  downstream = g[2:3] = [6]" in concatenated
    stacked = steps(bpcli, "stack")
    assert "to a:  downstream = g[:, 0] = [2, 4]" in stacked
    assert "to b:  downstream = g[:, 1] = [6, 8]" in stacked


def test_a_comparison_row_says_it_passes_no_gradient(bpcli):
    table = bpcli("grad", *PROGRAMS["mask-assign"]).out
    lines = table.splitlines()
    at = next(k for k, line in enumerate(lines) if "x < 0" in line and " lt " in line)
    row = " ".join(" ".join(line.split()) for line in lines[at : at + 2])
    assert "— (a comparison passes no gradient)" in row and "0 = [0, 0, 0, 0]" not in row
    jacobians = bpcli("grad", *PROGRAMS["mask-assign"], "--jacobian").out
    assert "#3 x < 0: none (a comparison passes no gradient)" in jacobians
    doc = json.loads(bpcli("grad", *PROGRAMS["mask-assign"], "--format", "json", "--jacobian").out)
    comparison = doc["nodes"][3]
    assert comparison["op"] == "lt" and comparison["local"][0] is None and comparison["jacobian"][0] is None


def test_dot_folds_an_assigned_constant_into_its_gate(bpcli):
    dot = bpcli("grad", "m = x.copy(); m[0] = 0; f = sum(m * m)", "x=[1,-2,3]", "--format", "dot").out
    assert "label=<[0]=0>" in dot
    masked = bpcli("grad", *PROGRAMS["mask-assign"], "--format", "dot").out
    assert "label=<[x &lt; 0]=0>" in masked
    scores = bpcli("grad", *PROGRAMS["scores"], "--format", "dot").out
    assert "label=<[arange(N), y]>" in scores


# --- Jacobians ------------------------------------------------------------------------------------

JACOBIAN_PROGRAMS = [
    (
        "f = sum(W[idx] * C)",
        {"idx": np.array([0.0, 2, 0]), "W": np.arange(6.0).reshape(3, 2), "C": np.ones((3, 2)) * 2},
    ),
    (
        "m = x.copy(); m[[0, 0, 2]] = y; f = sum(m * m)",
        {"x": np.array([1.0, -2, 3]), "y": np.array([5.0, 6, 7])},
    ),
    (
        "f = sum(concatenate((a, b), axis=1) * C)",
        {"a": np.ones((2, 2)), "b": np.ones((2, 1)) * 2, "C": np.arange(6.0).reshape(2, 3)},
    ),
    (
        "f = sum(stack((a, b), axis=1) * C)",
        {"a": np.array([1.0, 2]), "b": np.array([3.0, 4]), "C": np.arange(4.0).reshape(2, 2)},
    ),
    ("f = sum(x.reshape(2, -1).T * C)", {"x": np.arange(6.0), "C": np.arange(6.0).reshape(3, 2)}),
    (
        "f = sum(where(x > 0, x * x, y) * C)",
        {"x": np.array([1.0, -2, 3]), "y": np.array([4.0, 5, 6]), "C": np.array([1.0, 2, 3])},
    ),
    ("f = sum(x[x > 0] ** 2)", {"x": np.array([1.0, -2, 3])}),
]


@pytest.mark.parametrize("program, bindings", JACOBIAN_PROGRAMS, ids=[p for p, _ in JACOBIAN_PROGRAMS])
def test_local_jacobians_of_the_new_ops_agree_with_finite_differences(program, bindings):
    graph = parse(program, bindings)
    run = run_graph(graph)
    checked = 0
    for node in graph.nodes:
        if not node.inputs or not node.op.differentiable or node.op.arity == 0:
            continue
        for i, inp in enumerate(node.inputs):
            if not inp.needs_grad:
                continue
            matrix = jacobian(run, node, i)
            assert matrix is not None
            args = [np.array(run.values[x.id], dtype=float) for x in node.inputs]
            forward = node.op.array

            def at(value, args=args, i=i, forward=forward, arity=node.op.arity):
                moved = list(args)
                moved[i] = value
                return np.ravel(forward(*moved))

            base = args[i]
            numeric = np.zeros_like(matrix)
            for k in range(base.size):
                step = np.zeros(base.size)
                step[k] = 1e-6
                up = at(base + step.reshape(base.shape))
                down = at(base - step.reshape(base.shape))
                numeric[:, k] = (up - down) / 2e-6
            np.testing.assert_allclose(matrix, numeric, atol=1e-6, err_msg=f"{graph.label(node)} / {i}")
            checked += 1
    assert checked


def test_no_big_jacobian_is_built_for_an_index_or_a_reshape(bpcli):
    result = bpcli(
        "grad",
        "e = x.reshape(-1, 100)[idx]; f = sum(e * e)",
        "x=randn(100000)",
        "idx=[1, 1]",
        "--seed",
        "0",
        "--jacobian",
    )
    assert result.code == 0, result.err
    words = " ".join(result.out.split())  # (lines folded at 80 columns)
    assert "(100000×100000): too big to show" in words
    assert "(200×100000): too big to show" in words


def test_check_names_gradients_of_a_repeated_index_not_added(bpcli):
    # idx = [0, 2, 0] picks row 0 twice: dW[0] adds both rows of de; writing dW[idx] = de keeps one
    result = bpcli("check", *PROGRAMS["embedding"], "-e", "dW=[[2,4],[0,0],[10,12]]", "--format", "json")
    (verdict,) = json.loads(result.out)["results"]
    assert verdict["diagnosis"]["kind"] == "repeated-index" and verdict["diagnosis"]["first"]
    assert "where an index repeats their gradients add up (np.add.at)" in verdict["diagnosis"]["message"]
    zh = bpcli("check", *PROGRAMS["embedding"], "-e", "dW=[[2,4],[0,0],[10,12]]", "--lang", "zh").out
    assert "索引重复的位置梯度要相加" in zh and "正确值 8。" in zh  # (a Chinese full stop)
    # wrong where no index repeats: not this mistake
    other = bpcli("check", *PROGRAMS["embedding"], "-e", "dW=[[4,8],[1,0],[10,12]]", "--format", "json")
    assert json.loads(other.out)["results"][0]["diagnosis"]["kind"] != "repeated-index"


def test_steps_say_where_a_broadcast_sums_the_gradient():
    """cs231n's db: b in x @ W + b was copied along the rows, so its gradient sums them."""
    from bpcli.core.engine import run
    from bpcli.language.parse import parse
    from bpcli.present.steps import steps_text
    from bpcli.texts import Translator

    program = "out = x @ w + b; f = np.sum(out * d)"
    arrays = {"x": [[1.0, 2], [3, 4]], "w": [[1.0, 0], [0, 1]], "b": [1.0, 2], "d": [[1.0, 0], [0, 1]]}
    done = run(parse(program, arrays), record=True)
    english = steps_text(done, width=200)
    assert "b was broadcast along axis 0 of the (2, 2) result, so its gradient sums g over axis 0" in english
    assert english.count("was broadcast") == 1  # x @ w has the sum's shape: nothing to say
    assert "b 沿 (2, 2) 结果的第 0 轴被广播，所以它的梯度是把 g 沿第 0 轴求和" in steps_text(
        done, tr=Translator("zh"), width=200
    )


def test_a_subtraction_is_narrated_with_its_sign():
    """x - y distributes, but y gets the negative: not "an add gate" (en and zh)."""
    from bpcli.core.engine import run
    from bpcli.language.parse import parse
    from bpcli.present.steps import steps_text
    from bpcli.texts import Translator

    done = run(parse("f = (x - y) * z", {"x": 1.0, "y": 2.0, "z": 3.0}), record=True)
    english = steps_text(done)
    assert "a subtract gate distributes with a sign" in english and "an add gate" not in english
    assert "减法门带符号地分配" in steps_text(done, tr=Translator("zh"))
