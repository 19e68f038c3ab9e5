"""Vectors and matrices: gradients shaped like their variables, files, shapes, Jacobians."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bpcli.core.engine import gradients, run
from bpcli.language.parse import parse

from conftest import SAMPLES

W = np.array([[0.1, 0.5], [-0.3, 0.8]])
X = np.array([0.2, 0.4])


def test_notes_vector_example_node_by_node():
    result = run(parse("q = W @ x; f = sum(q^2)", {"W": W, "x": X}))
    q = result.graph.names["q"]
    np.testing.assert_allclose(result.value(q), [0.22, 0.26])
    np.testing.assert_allclose(result.grad(q), [0.44, 0.52])
    assert result.output == pytest.approx(0.116)
    grads = gradients(result)
    np.testing.assert_allclose(grads["W"], [[0.088, 0.176], [0.104, 0.208]])
    np.testing.assert_allclose(grads["x"], [-0.112, 0.636])


def test_norm_squared_gives_the_same_gradients():
    a = gradients(run(parse("norm(W@x)^2", {"W": W, "x": X})))
    b = gradients(run(parse("sum((W@x)^2)", {"W": W, "x": X})))
    for name in ("W", "x"):
        np.testing.assert_allclose(a[name], b[name])


def _two_layer_net_by_hand(X, Y, W1, b1, W2, b2):
    """Forward and backward of affine-relu-affine-softmax-CE, written out in numpy."""
    n = X.shape[0]
    z = X @ W1 + b1
    h = np.maximum(z, 0)
    s = h @ W2 + b2
    s_shift = s - s.max(axis=1, keepdims=True)
    p = np.exp(s_shift) / np.exp(s_shift).sum(axis=1, keepdims=True)
    loss = -np.sum(Y * np.log(p)) / n
    ds = (p - Y) / n
    dW2, db2 = h.T @ ds, ds.sum(axis=0)
    dz = (ds @ W2.T) * (z > 0)
    return loss, {"X": dz @ W1.T, "W1": X.T @ dz, "b1": dz.sum(axis=0), "W2": dW2, "b2": db2}


@pytest.mark.parametrize("seed", range(5))
def test_two_layer_net_matches_a_hand_written_backward_pass(seed):
    rng = np.random.default_rng(seed)
    n, d, hidden, classes = 4, 3, 5, 3
    values = {
        "X": rng.standard_normal((n, d)),
        "W1": rng.standard_normal((d, hidden)),
        "b1": rng.standard_normal(hidden) * 0.1,
        "W2": rng.standard_normal((hidden, classes)),
        "b2": rng.standard_normal(classes) * 0.1,
        "Y": np.eye(classes)[rng.integers(0, classes, n)],
    }
    program = f"h = relu(X @ W1 + b1); scores = h @ W2 + b2\nloss = -sum(Y * logsoftmax(scores)) / {n}"
    result = run(parse(program, values))
    loss, expected = _two_layer_net_by_hand(**values)
    assert result.output == pytest.approx(loss, rel=1e-12)
    grads = gradients(result)
    for name, grad in expected.items():
        assert np.shape(grads[name]) == np.shape(values[name])
        np.testing.assert_allclose(grads[name], grad, rtol=1e-10, atol=1e-12)


def test_two_layer_net_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    values = {
        "X": rng.standard_normal((3, 4)),
        "W1": rng.standard_normal((4, 5)),
        "b1": rng.standard_normal(5),
        "W2": rng.standard_normal((5, 3)),
        "b2": rng.standard_normal(3),
    }
    labels = np.array([0, 2, 1])
    program = "scores = relu(X @ W1 + b1) @ W2 + b2\nloss = mean(logsumexp(scores)) - sum(Y * scores) / 3"
    result = run(parse(program, {**values, "Y": np.eye(3)[labels]}))
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    scores = torch.relu(tensors["X"] @ tensors["W1"] + tensors["b1"]) @ tensors["W2"] + tensors["b2"]
    loss = torch.nn.functional.cross_entropy(scores, torch.tensor(labels))
    loss.backward()
    assert result.output == pytest.approx(loss.item(), rel=1e-12)
    for name, tensor in tensors.items():
        np.testing.assert_allclose(gradients(result)[name], tensor.grad.numpy(), rtol=1e-10)


def test_sample_two_layer_net_runs(bpcli):
    result = bpcli("grad", str(SAMPLES / "two_layer_net.bp"), "--format", "json")
    doc = json.loads(result.out)
    assert result.code == 0
    assert np.shape(doc["grads"]["W1"]) == (4, 5) and np.shape(doc["grads"]["b2"]) == (3,)


# --- the command line ----------------------------------------------------------------------


def test_array_literal_bindings(bpcli):
    result = bpcli("grad", "sum((W@x)^2)", "W=[[0.1,0.5],[-0.3,0.8]]", "x=[0.2,0.4]", "--format", "json")
    doc = json.loads(result.out)
    np.testing.assert_allclose(doc["grads"]["W"], [[0.088, 0.176], [0.104, 0.208]])
    np.testing.assert_allclose(doc["grads"]["x"], [-0.112, 0.636])
    matmul = next(n for n in doc["nodes"] if n["op"] == "matmul")
    assert matmul["local"] == [None, None]  # Jacobians are not materialised in JSON
    np.testing.assert_allclose(matmul["downstream"][0], doc["grads"]["W"])
    square = next(n for n in doc["nodes"] if n["op"] == "pow")
    np.testing.assert_allclose(square["local"][0], [0.44, 0.52])  # elementwise: the diagonal


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".txt", ".json"])
def test_bindings_from_files(bpcli, tmp_path, suffix):
    w_path, x_path = tmp_path / f"W{suffix}", tmp_path / f"x{suffix}"
    if suffix == ".npy":
        np.save(w_path, W)
        np.save(x_path, X)
    elif suffix == ".json":
        w_path.write_text(json.dumps(W.tolist()))
        x_path.write_text(json.dumps(X.tolist()))
    else:
        np.savetxt(w_path, W, delimiter="," if suffix == ".csv" else " ")
        np.savetxt(x_path, X, delimiter="," if suffix == ".csv" else " ")
    result = bpcli("grad", "norm(W@x)^2", f"W=@{w_path}", f"x=@{x_path}", "--format", "json")
    assert result.code == 0, result.err
    np.testing.assert_allclose(json.loads(result.out)["grads"]["x"], [-0.112, 0.636])


def test_npy_files_are_mapped_never_written(bpcli, tmp_path):
    """.npy files are mapped copy-on-write: the file stays as it was, whatever is computed
    from the array (--gradcheck too); odd files (empty, big-endian, Fortran order, integers, cut short) load
    or fail as when they were read."""
    path = tmp_path / "W.npy"
    np.save(path, np.asfortranarray(W.astype(">f8")))
    before = path.read_bytes()
    result = bpcli("grad", "sum(tanh(W@x))", f"W=@{path}", f"x={X.tolist()}", "--gradcheck")
    assert result.code == 0, result.err
    assert path.read_bytes() == before
    for array in (np.arange(4), np.float64(2.5)):
        np.save(path, array)
        assert bpcli("grad", "sum(W*W)", f"W=@{path}").code == 0
    np.save(path, np.zeros(0))  # an empty array is refused, from any source
    result = bpcli("grad", "sum(W*W)", f"W=@{path}")
    assert result.code == 2 and "the array has no elements" in result.err
    path.write_bytes(before[:100])
    result = bpcli("grad", "sum(W)", f"W=@{path}")
    assert result.code == 2 and "not a numeric array" in result.err


def test_random_bindings_are_repeatable_with_a_seed(bpcli):
    args = ("grad", "sum(tanh(W@x))", "W=randn(3,4)", "x=randn(4)", "--seed", "3", "--format", "json")
    first, second = bpcli(*args), bpcli(*args)
    assert first.code == 0 and first.out == second.out
    assert np.shape(json.loads(first.out)["grads"]["W"]) == (3, 4)
    zeros = json.loads(bpcli("grad", "sum(W)", "W=zeros(2,3)", "--format", "json").out)
    assert zeros["grads"]["W"] == [[1.0] * 3] * 2


def test_table_shows_small_arrays_in_full_and_big_ones_summarised(bpcli):
    out = bpcli("grad", str(SAMPLES / "matrix.bp")).out
    assert "∂f/∂W = [[0.088, 0.176],\n         [0.104, 0.208]]" in out  # numpy's alignment
    out = bpcli("grad", "sum(x^2)", "x=ones(100)").out
    assert "\n0  x        input    100  [1, 1, 1, …, 1, 1, 1]       [2, 2, 2, …, 2, 2, 2]\n" in out
    assert out.endswith("∂f/∂x = [2, 2, 2, …, 2, 2, 2]  (100)\n")


def test_jacobians_for_teaching(bpcli):
    out = bpcli("grad", str(SAMPLES / "matrix.bp"), "--jacobian").out
    # the notes' ∂q_k/∂W_ij = 1{k=i}·x_j
    assert "#2 q = W @ x: ∂/∂W (2×4)\n  [[0.2, 0.4,   0,   0],\n   [  0,   0, 0.2, 0.4]]" in out
    out = bpcli("grad", "sum(W@x)", "W=ones(30,30)", "x=ones(30)", "--jacobian").out
    assert "∂/∂W (30×900): too big to show" in out
    doc = json.loads(bpcli("grad", str(SAMPLES / "matrix.bp"), "--jacobian", "--format", "json").out)
    assert doc["nodes"][2]["jacobian"][0] == [[0.2, 0.4, 0.0, 0.0], [0.0, 0.0, 0.2, 0.4]]


BAD = {
    "matmul shapes": (["sum([1,2] @ [1,2,3])"], "inner sizes differ"),
    "broadcast": (["sum(x + y)", "x=[1,2]", "y=[1,2,3]"], "(2,) and (3,)"),
    "ragged literal": (["sum([[1,2],[3]])"], "ragged"),
    "ragged binding": (["sum(x)", "x=[[1,2],[3]]"], "ragged"),
    "non-scalar output": (["W@x", "W=ones(2,2)", "x=ones(2)"], "has shape (2,)"),
    "missing file": (["sum(x)", "x=@nope.npy"], "no such file"),
    "unknown file type": (["sum(x)", "x=@data.xlsx"], "bpcli reads"),
    "scalar matmul": (["x @ y", "x=1", "y=2"], "needs an array on both sides"),
    "dot of 3-d arrays": (["dot(A, A)", "A=ones(2,2,2)"], "more than 2 dimensions"),
    "log of an array": (["sum(log(x))", "x=[1,-1]"], "log of a non-positive number"),
    "inf in binding": (["sum(x)", "x=[1, 1e400]"], "too large for a float"),
}


@pytest.mark.parametrize("args, needle", BAD.values(), ids=BAD.keys())
def test_bad_array_input(bpcli, args, needle):
    result = bpcli("grad", *args)
    assert result.code == 2
    assert result.err.startswith("error: ") and needle in result.err
    assert "Traceback" not in result.err


def test_non_numeric_and_pickled_files(bpcli, tmp_path):
    text = tmp_path / "x.csv"
    text.write_text("1,2\nthree,4\n")
    result = bpcli("grad", "sum(x)", f"x=@{text}")
    assert result.code == 2 and "not a numeric array" in result.err
    pickled = tmp_path / "x.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    result = bpcli("grad", "sum(x)", f"x=@{pickled}")
    assert result.code == 2 and "never loads" in result.err
    strings = tmp_path / "s.json"
    strings.write_text('["a", "b"]')
    assert bpcli("grad", "sum(x)", f"x=@{strings}").code == 2


def test_huge_but_finite_arrays_are_fine_and_overflow_is_caught(bpcli):
    result = bpcli("grad", "sum(x)", "x=[1e200, 2]")
    assert result.code == 0 and result.out.endswith("∂f/∂x = [1, 1]\n")
    result = bpcli("grad", "sum(x*1e300)", "x=[1e10, 2]")
    assert result.code == 2 and "overflow" in result.err


ARRAY_PROGRAMS = [
    ("sum((W@x)^2)", {"W": "[[1, 2, 3], [4, 5, 6]]", "x": "[0.5, -1, 2]"}),
    ("h = relu(W @ x + b); sum(h * h) + norm(W)", {"W": "randn(4,3)", "x": "randn(3)", "b": "randn(4)"}),
    ("v = [x, y]; sum(v * v) + x", {"x": "2", "y": "-0.5"}),
    ("sum(tanh(A) @ A.T) / 3", {"A": "randn(5,5)"}),
    ("x * y", {"x": "2", "y": "3"}),
]


@pytest.mark.parametrize("program, bindings", ARRAY_PROGRAMS)
def test_json_writes_each_array_once_and_the_same_bytes(program, bindings):
    """dumps writes a big array once and splices its text wherever it stands: the bytes are
    those of json.dumps on the document with every array as a nested list."""
    from bpcli.core.engine import run
    from bpcli.language.bindings import parse_bindings
    from bpcli.language.parse import parse
    from bpcli.present.jsonout import dump_parts, dumps, grad_document

    result = run(parse(program, parse_bindings([f"{k}={v}" for k, v in bindings.items()], 7)))
    plain = grad_document(result)
    arrays = grad_document(result, arrays=True)
    for separators in ((", ", ": "), (",", ":")):
        expected = json.dumps(plain, ensure_ascii=False, separators=separators)
        assert dumps(arrays, separators=separators) == expected
        assert "".join(dump_parts(arrays, separators)) == expected
    assert dumps(arrays, indent=2) == json.dumps(plain, ensure_ascii=False, indent=2)
    # a string that looks like the mark of an array is left alone
    arrays["id"] = plain["id"] = "\x00bpcli-array-" + str(id(result.values[0])) + "\x00bpcli-array-"
    assert dumps(arrays) == json.dumps(plain, ensure_ascii=False, separators=(", ", ": "))
