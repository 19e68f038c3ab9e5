"""numpy's language through the command line (issue 15): what a cs231n student pastes.

np. is optional; calls take keywords and tuples; x.shape, len, ndim and size are integers
read while the program is read; every slicing form numpy has; index assignment; the integer
data rule (an input used as an index gets no gradient, shown as —); and the errors, each
with exit status 2, a message starting `error:` and a caret under the place.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bpcli.core.ops import FAMILIES

X23 = "x=[[1,2,3],[4,5,6]]"


def grad_json(bpcli, program: str, *bindings: str) -> dict:
    result = bpcli("grad", program, *bindings, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def assert_error(result, *fragments: str) -> str:
    """Exit status 2, `error: …` naming every fragment, and a caret line; the first line."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == ""
    lines = result.err.splitlines()
    assert lines[0].startswith("error: "), result.err
    for fragment in fragments:
        assert fragment in result.err, (fragment, result.err)
    assert any(line.strip() == "^" for line in lines), f"no caret line:\n{result.err}"
    return lines[0]


# --- spellings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program",
    [
        "f = np.sum(np.exp(x) * np.tanh(x))",
        "f = sum(exp(x) * tanh(x))",
        "f = numpy.sum(numpy.exp(x) * numpy.tanh(x))",
        "ex = np.exp(x); f = np.sum(ex * tanh(x))",
    ],
)
def test_np_prefix_is_optional(bpcli, program):
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) / 4
    doc = grad_json(bpcli, program, f"x={x.tolist()}")
    assert doc["value"] == pytest.approx(np.sum(np.exp(x) * np.tanh(x)))
    expected = np.exp(x) * np.tanh(x) + np.exp(x) / np.cosh(x) ** 2
    np.testing.assert_allclose(doc["grads"]["x"], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "program",
    [
        "f = np.sum(x.reshape(3, 2) * C)",
        "f = np.sum(x.reshape((3, 2)) * C)",
        "f = np.sum(np.reshape(x, (3, 2)) * C)",
        "f = np.sum(np.reshape(x, shape=(3, 2)) * C)",
        "f = np.sum(x.reshape(-1, 2) * C)",
        "t = (3, 2); f = np.sum(x.reshape(t) * C)",
        "N, D = x.shape; f = np.sum(x.reshape(D, N) * C)",
        "f = np.sum(x.reshape(x.shape[1], len(x)) * C)",
        "f = np.sum(x.flatten().reshape(3, -1) * C)",
    ],
)
def test_reshape_spellings_agree(bpcli, program):
    c = "C=[[1,-1],[2,0.5],[-3,1]]"
    doc = grad_json(bpcli, program, X23, c)
    cs = np.array([[1, -1], [2, 0.5], [-3, 1]])
    assert doc["value"] == pytest.approx(np.sum(np.arange(1, 7).reshape(3, 2) * cs))
    np.testing.assert_allclose(doc["grads"]["x"], cs.reshape(2, 3))


@pytest.mark.parametrize(
    "program",
    [
        "f = np.sum(np.transpose(x, (1, 0)) * C)",
        "f = np.sum(np.transpose(x, axes=(1, 0)) * C)",
        "f = np.sum(x.transpose(1, 0) * C)",
        "f = np.sum(x.transpose() * C)",
        "f = np.sum(x.T * C)",
        "f = np.sum(np.swapaxes(x, 0, 1) * C)",
        "f = np.sum(np.swapaxes(x, axis1=-1, axis2=0) * C)",
        "f = np.sum(x.swapaxes(1, 0) * C)",
    ],
)
def test_transpose_spellings_agree(bpcli, program):
    doc = grad_json(bpcli, program, X23, "C=[[1,-1],[2,0.5],[-3,1]]")
    assert doc["value"] == pytest.approx(1 - 4 + 4 + 2.5 - 9 + 6)
    np.testing.assert_allclose(doc["grads"]["x"], [[1, 2, -3], [-1, 0.5, 1]])


def test_keyword_arguments_bind_as_numpy_binds_them(bpcli):
    joined = grad_json(
        bpcli, "f = np.sum(np.concatenate([x, y], axis=1) * C)", X23, "y=[[7],[8]]", "C=[[1,2,3,4],[5,6,7,8]]"
    )
    assert joined["value"] == pytest.approx(
        np.sum(np.array([[1, 2, 3, 7], [4, 5, 6, 8]]) * np.arange(1, 9).reshape(2, 4))
    )
    np.testing.assert_allclose(joined["grads"]["y"], [[4], [8]])
    stacked = grad_json(bpcli, "f = np.sum(np.stack((x, 2 * x), axis=-1)[..., 1])", X23)
    assert stacked["value"] == 42
    np.testing.assert_allclose(stacked["grads"]["x"], np.full((2, 3), 2.0))
    expanded = grad_json(bpcli, "f = np.sum(np.expand_dims(x, axis=0)[0] ** 2)", X23)
    assert expanded["value"] == 91


def test_a_positional_argument_after_a_keyword_is_an_error(bpcli):
    assert_error(
        bpcli("grad", "f = np.sum(np.reshape(x, shape=(3, 2), 'C'))", X23), "positional argument follows"
    )


def test_an_unexpected_keyword_names_the_parameters(bpcli):
    result = bpcli("grad", "f = np.sum(np.swapaxes(x, first=0, second=1))", X23)
    assert_error(result, "unexpected keyword argument 'first'", "axis1, axis2")


# --- shapes read as integers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, value",
    [
        ("f = x.shape[0] * np.sum(x)", 2 * 21),
        ("f = x.shape[-1] * np.sum(x)", 3 * 21),
        ("f = len(x) * np.sum(x)", 2 * 21),
        ("f = x.ndim * np.sum(x)", 2 * 21),
        ("f = x.size * np.sum(x)", 6 * 21),
        ("f = np.shape(x)[1] * np.sum(x)", 3 * 21),
        ("N, D = x.shape; f = (N * D + N // 2 - D % 2) * np.sum(x)", 6 * 21),
        ("s = x.shape; f = s[0] * s[1] * np.sum(x)", 6 * 21),
        ("f = np.sum(x) / x.size", 3.5),
    ],
)
def test_shapes_are_integers_and_x_keeps_its_gradient(bpcli, program, value):
    doc = grad_json(bpcli, program, X23)
    assert doc["value"] == pytest.approx(value)
    np.testing.assert_allclose(doc["grads"]["x"], np.full((2, 3), value / 21))


def test_unpacking_an_array_gives_its_rows(bpcli):
    doc = grad_json(bpcli, "a, b = x; f = np.sum(a * b)", X23)
    assert doc["value"] == 4 + 10 + 18
    np.testing.assert_allclose(doc["grads"]["x"], [[4, 5, 6], [1, 2, 3]])


def test_unpacking_the_wrong_number_of_names_is_an_error(bpcli):
    assert_error(bpcli("grad", "N, D, K = x.shape; f = N", X23), "3 names, but 2 values")


# --- slicing: every form, each element's gradient where it was picked ----------------------------

X234 = "x=" + str(np.arange(24.0).reshape(2, 3, 4).tolist())


@pytest.mark.parametrize(
    "index",
    [
        "0",
        "-1",
        "1, 2",
        "1, 2, 3",
        "0:1",
        "1:3",
        ":, ::2",
        "::-1, 1:",
        "..., 0",
        "1, ..., -1",
        ":, None",
        "None, ..., None",
        "[0, 1, 0]",
        ":, [2, 2], 1:3",
        "x > 10",
        "x[:, :, 0] > 5",
        ":, -2:, :-1",
    ],
)
def test_slicing_forms(bpcli, index):
    x = np.arange(24.0).reshape(2, 3, 4)
    namespace = {"x": x}
    picked = eval(f"x[{index}]", namespace)  # numpy's own reading of the same index
    doc = grad_json(bpcli, f"f = np.sum(x[{index}] ** 2)", X234)
    assert doc["value"] == pytest.approx(np.sum(picked**2))
    expected = np.zeros_like(x)
    key = eval(f"np.s_[{index}]", {"np": np, "x": x})
    np.add.at(expected, key, 2 * picked)
    np.testing.assert_allclose(doc["grads"]["x"], expected)


def test_a_slice_bound_may_be_an_expression_of_shapes(bpcli):
    doc = grad_json(bpcli, "N, D = x.shape; H = D // 3; f = np.sum(x[:, H:2*H] * x[:, 0:H])", X23)
    assert doc["value"] == 1 * 2 + 4 * 5


# --- the integer data rule -----------------------------------------------------------------------------


def test_an_index_binding_is_data_and_shows_a_dash(bpcli):
    result = bpcli("grad", "e = W[idx]; f = sum(e * e)", "W=[[1,2],[3,4],[5,6]]", "idx=[0,2,0]")
    assert result.code == 0, result.err
    assert "∂f/∂idx = —" in result.out
    assert "∂f/∂W = [[ 4,  8],\n        [ 0,  0],\n        [10, 12]]" in result.out  # row 0 twice: adds
    doc = grad_json(bpcli, "e = W[idx]; f = sum(e * e)", "W=[[1,2],[3,4],[5,6]]", "idx=[0,2,0]")
    assert doc["grads"]["idx"] is None
    assert doc["warnings"] == []


def test_gradcheck_checks_every_input_but_the_indices(bpcli):
    result = bpcli(
        "grad",
        "e = W[idx]; f = sum(e * e)",
        "W=[[1,2],[3,4]]",
        "idx=[1,1]",
        "--gradcheck",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    checks = {c["name"]: c for c in json.loads(result.out)["gradcheck"]}
    assert checks["W"]["verdict"] == "good"
    assert checks["idx"]["data"] == "index" and checks["idx"]["checked"] == 0


def test_a_binding_in_arithmetic_alone_keeps_its_gradient(bpcli):
    assert grad_json(bpcli, "f = np.sum(W * k)", "W=[[1,2]]", "k=2")["grads"]["k"] == 3
    # the same binding also used as an index is data everywhere, as an int is in numpy
    doc = grad_json(bpcli, "f = np.sum(W[k]) * k", "W=[[1,2],[3,4]]", "k=1")
    assert doc["grads"]["k"] is None
    assert doc["grads"]["W"] == [[0, 0], [1, 1]]


def test_labels_in_s_arange_n_y(bpcli):
    doc = grad_json(bpcli, "N = s.shape[0]; f = np.sum(s[np.arange(N), y])", "s=[[1,2,3],[4,5,6]]", "y=[2,0]")
    assert doc["value"] == 7
    assert doc["grads"]["s"] == [[0, 0, 1], [1, 0, 0]]
    assert doc["grads"]["y"] is None


def test_the_headline_keeps_its_gradients(bpcli):
    doc = grad_json(bpcli, "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert doc["grads"] == {"x": -4.0, "y": -4.0, "z": 3.0}


def test_an_index_computed_from_data_is_read_once_the_literals_are_gone(bpcli):
    """The 1 of idx.reshape(2, 1) was read as a shape; the node made next is not that 1."""
    doc = grad_json(
        bpcli, "i = idx.reshape(2, 1); f = np.sum(W[i])", "W=[[0,1,2],[3,4,5],[6,7,8],[9,10,11]]", "idx=[0,3]"
    )
    assert doc["value"] == 33
    assert doc["grads"]["W"] == [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]]
    doc = grad_json(bpcli, "v = np.concatenate((x, x), 0); m = v * 1; m[m > 3] = 0; f = np.sum(m[0])", X23)
    assert doc["value"] == 6


# --- index assignment ---------------------------------------------------------------------------------


def test_index_assignment_with_a_repeated_index_keeps_the_last_write(bpcli):
    doc = grad_json(
        bpcli,
        "m = x * 1; m[idx] = v; f = np.sum(m * C)",
        "x=[[0,0],[0,0],[0,0]]",
        "v=[[1,2],[3,4],[5,6]]",
        "idx=[0,2,0]",
        "C=[[1,1],[1,1],[1,1]]",
    )
    assert doc["value"] == 5 + 6 + 3 + 4
    assert doc["grads"]["v"] == [[0, 0], [1, 1], [1, 1]]
    assert doc["grads"]["x"] == [[0, 0], [1, 1], [0, 0]]


def test_svm_margins_assigned_by_mask_and_by_labels(bpcli):
    program = (
        "N = s.shape[0]; correct = s[np.arange(N), y]; margins = s - correct[:, None] + 1;"
        " margins[margins < 0] = 0; margins[np.arange(N), y] = 0; loss = np.sum(margins) / N"
    )
    doc = grad_json(bpcli, program, "s=[[3,1,2.5],[1,4,2]]", "y=[0,1]")
    # row 0: margins 0, max(0, 1-3+1)=0, 2.5-3+1=0.5; row 1: 1-4+1 <0, 0, 2-4+1 < 0
    assert doc["value"] == pytest.approx(0.25)
    np.testing.assert_allclose(doc["grads"]["s"], [[-0.5, 0, 0.5], [0, 0, 0]])


def test_a_copy_may_be_changed_in_place(bpcli):
    doc = grad_json(bpcli, "m = x.copy(); m[:, 0:2] += e; f = np.sum(m * x)", X23, "e=[[1,1],[1,1]]")
    assert doc["value"] == 91 + 1 + 2 + 4 + 5
    assert doc["grads"]["e"] == [[1, 2], [4, 5]]


def test_in_place_change_through_an_alias_is_an_error_suggesting_copy(bpcli):
    first = assert_error(bpcli("grad", "b = a; b[0] = 1; f = sum(a)", "a=[1,2,3]"), ".copy()")
    assert "a shares its memory with b" in first


@pytest.mark.parametrize(
    "program",
    [
        "b = a * 1; v = b[0:2]; v[0] = 7; f = np.sum(b)",
        "b = a * 1; v = b.reshape(3, 1); v[0] = 7; f = np.sum(b)",
        "b = a * 1; v = b.T; b[0] = 7; f = np.sum(v)",
        "b = a * 1; v = b; b += 1; f = np.sum(v)",
    ],
)
def test_in_place_change_through_a_view_is_an_error(bpcli, program):
    assert_error(bpcli("grad", program, "a=[1,2,3]"), "shares its memory", ".copy()")


@pytest.mark.parametrize(
    "program, value",
    [
        ("d = p; d[0] -= 1; f = np.sum(d)", 5),  # p is not read again: numpy's answer too
        ("b = a * 1; v = b[[0, 1]]; v[0] = 7; f = np.sum(b)", 6),  # an integer-array index copies
        ("b = a * 1; v = b.flatten(); v[0] = 7; f = np.sum(b)", 6),  # flatten copies
        ("b = a * 1; v = b.copy(); v[0] = 7; f = np.sum(b) + np.sum(v)", 6 + 12),
        ("b = a * 1; v = b; b = b + 1; f = np.sum(v)", 6),  # a new array: v is the old one
    ],
)
def test_in_place_changes_numpy_would_agree_with(bpcli, program, value):
    binding = "p=[1,2,3]" if program.startswith("d = p") else "a=[1,2,3]"
    assert grad_json(bpcli, program, binding)["value"] == value


# --- errors ------------------------------------------------------------------------------------------


def test_an_index_out_of_range_names_the_axis_the_index_and_the_size(bpcli):
    assert_error(bpcli("grad", "f = np.sum(x[:, 5])", X23), "index 5 is out of bounds for axis 1 with size 3")
    assert_error(bpcli("grad", "f = np.sum(x[-3])", X23), "index -3 is out of bounds for axis 0 with size 2")
    assert_error(
        bpcli("grad", "f = np.sum(x[idx])", X23, "idx=[0,2]"),
        "index 2 is out of bounds for axis 0 with size 2",
    )
    assert_error(bpcli("grad", "f = np.sum(x[1, 2, 0])", X23), "too many indices")


def test_a_float_array_as_an_index_is_an_error(bpcli):
    result = bpcli("grad", "f = np.sum(x[idx])", X23, "idx=[0.5,1]")
    assert_error(result, "an index must be an integer", "integer (or boolean) type")


def test_a_reshape_of_the_wrong_size_is_an_error(bpcli):
    assert_error(
        bpcli("grad", "f = np.sum(x.reshape(4, 2))", X23), "cannot reshape array of size 6 into shape (4, 2)"
    )


def test_a_broadcast_mismatch_names_both_shapes(bpcli):
    assert_error(bpcli("grad", "f = np.sum(x + y)", "x=[1,2,3]", "y=[1,2]"), "(3,)", "(2,)", "broadcast")
    assert_error(bpcli("grad", "f = np.sum(x * y)", X23, "y=[[1,2],[3,4]]"), "(2, 3)", "(2, 2)")


def test_an_unknown_numpy_function_is_an_error(bpcli):
    assert_error(bpcli("grad", "f = np.sum(np.foo(x))", X23), "np.foo is not a function bpcli knows")
    assert_error(bpcli("grad", "f = np.sum(np.exq(x))", X23), "did you mean exp?")
    assert_error(bpcli("grad", "f = sum(foo(x))", X23), "unknown function foo")


def test_random_numbers_are_refused(bpcli):
    first = assert_error(
        bpcli("grad", "f = np.sum(np.random.randn(2, 3) * x)", X23), "bind the array instead"
    )
    assert "does not draw random numbers" in first


def test_an_array_method_that_does_not_exist_is_an_error(bpcli):
    assert_error(
        bpcli("grad", "f = np.sum(x.reshap(3, 2))", X23),
        "an array has no attribute reshap",
        "did you mean reshape?",
    )


def test_concatenate_takes_an_array_as_the_list_of_its_rows(bpcli):
    """As numpy does: concatenate(x) joins x's rows; a second array there is not an axis."""
    assert grad_json(bpcli, "f = np.sum(np.concatenate(x) * [1, 2, 3, 4, 5, 6])", X23)["value"] == 91
    assert_error(
        bpcli("grad", "f = np.sum(np.concatenate(x, y))", X23, "y=[[1,2,3]]"), "an axis is an integer"
    )
    assert_error(bpcli("grad", "f = np.sum(np.concatenate(2.0))", X23), "takes a list of arrays")


def test_split_into_unequal_parts_is_an_error(bpcli):
    assert_error(bpcli("grad", "a, b = np.split(x, 2, axis=1); f = np.sum(a)", X23), "equal division")


# --- once numpy's reductions along axes are registered ---------------------------------------------

needs_axes = pytest.mark.skipif(
    "mean" not in FAMILIES, reason="reductions along axes are not registered here"
)


@needs_axes
def test_a_name_may_shadow_a_function(bpcli):
    doc = grad_json(bpcli, "mean = x.mean(0); f = np.sum(mean * mean)", X23)
    assert doc["value"] == pytest.approx(2.5**2 + 3.5**2 + 4.5**2)
    np.testing.assert_allclose(doc["grads"]["x"], np.tile([2.5, 3.5, 4.5], (2, 1)))
    doc = grad_json(bpcli, "sum = x.sum(axis=1); f = np.sum(sum * sum)", X23)
    assert doc["value"] == 6**2 + 15**2
    # shadowed, as in Python: the name is the array now
    assert_error(bpcli("grad", "mean = x.mean(0); f = mean(x)", X23), "not a function")


@needs_axes
@pytest.mark.parametrize(
    "program",
    [
        "f = np.sum(np.sum(x, axis=1, keepdims=True) * C)",
        "f = np.sum(x.sum(1, keepdims=True) * C)",
        "f = np.sum(np.sum(x, -1, True) * C)",
        "f = np.sum(x.sum(axis=-1)[:, None] * C)",
    ],
)
def test_axis_keyword_positional_and_method_agree(bpcli, program):
    doc = grad_json(bpcli, program, X23, "C=[[2],[3]]")
    assert doc["value"] == 2 * 6 + 3 * 15
    assert doc["grads"]["x"] == [[2, 2, 2], [3, 3, 3]]


def test_concatenate_is_labelled_as_itself(bpcli):
    doc = grad_json(bpcli, "f = np.sum(np.concatenate([x, y], axis=0) ** 2)", "x=[1,2]", "y=[3]")
    join = next(node for node in doc["nodes"] if node["op"] == "concatenate")
    assert "concatenate" in join["label"]  # not "[x, y]", which is the array literal's
    table = bpcli("grad", "f = np.sum(np.concatenate([x, y], axis=0) ** 2)", "x=[1,2]", "y=[3]").out
    assert "1 at element 1" not in table  # y is element 2 of the result, not 1
    assert "∂/∂y: g[2:3]" in table


# --- known gaps (strict: each turns red once fixed, so that its test is made a real one) ---------------


@pytest.mark.parametrize(
    "program", ["f = np.sum(x.reshape([3, 2]))", "f = np.sum(np.transpose(x, axes=[1, 0]))"]
)
def test_a_list_as_a_shape(bpcli, program):
    assert grad_json(bpcli, program, X23)["value"] == 21


def test_a_tuple_as_an_index(bpcli):
    """numpy reads a tuple as one index per axis."""
    assert grad_json(bpcli, "t = (1, 2); f = x[t]", X23)["value"] == 6  # numpy: x[(1, 2)] is x[1, 2]


def test_a_float_reshaped(bpcli):
    assert grad_json(bpcli, "f = np.sum(x.reshape(1, 1) * 2)", "x=1.5")["value"] == 3


def test_unpacking_a_bare_tuple(bpcli):
    """i, g = sigmoid(a), tanh(b): the right side is a tuple written without parentheses,
    and a, b = b, a swaps."""
    got = grad_json(bpcli, "i, g = sigmoid(x[0]), np.tanh(x[1]); g, i = i, g; f = np.sum(i - g)", X23)
    x = np.array([[1.0, 2, 3], [4, 5, 6]])
    assert got["value"] == pytest.approx(np.sum(np.tanh(x[1]) - 1 / (1 + np.exp(-x[0]))))
