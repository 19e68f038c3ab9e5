"""Findings of the issue-16 trial (TRIAL16.md): student Python that bpcli reads differently
from Python. Each expected value is what Python with numpy prints for the same text."""

from __future__ import annotations

import json

import pytest


def grad_json(bpcli, program: str, *bindings: str):
    result = bpcli("grad", program, *bindings, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.mark.xfail(strict=True, reason="a list literal is an array: + adds elementwise")
def test_list_plus_list_concatenates(bpcli):
    # Python: [x] + [y] is [3, 2], so l[0] is x (bpcli adds them elementwise: 5)
    data = grad_json(bpcli, "l = [x] + [y]\nf = l[0]", "x=3", "y=2")
    assert data["value"] == 3.0
    assert data["grads"]["x"] == 1.0
    assert data["grads"]["y"] == 0.0


@pytest.mark.xfail(strict=True, reason="a list literal is an array: * multiplies")
def test_list_times_int_repeats(bpcli):
    # Python: [x] * 3 is [3, 3, 3]: np.sum is 9 and len is 3 (bpcli: [9], 9 + 1 = 10)
    data = grad_json(bpcli, "l = [x] * 3\nf = np.sum(l) + len(l)", "x=3")
    assert data["value"] == 12.0
    assert data["grads"]["x"] == 3.0


@pytest.mark.xfail(strict=True, reason="a list literal of numbers is an array: [3] + dims adds")
def test_fully_connected_net_dims(bpcli):
    # cs231n FullyConnectedNet: dims = [input_dim] + hidden_dims + [num_classes]
    data = grad_json(bpcli, "dims = [4] + [5, 6] + [3]\nf = x * dims[1] * len(dims)", "x=3")
    assert data["value"] == 60.0


def test_tuple_concatenation_keeps_the_gradient(bpcli):
    # (x, y) + (x,) is (3, 2, 3): f = 3x, so df/dx = 3 (bpcli makes f a constant, x "data")
    data = grad_json(bpcli, "t = (x, y) + (x,)\nf = t[2] * len(t)", "x=3", "y=2")
    assert data["value"] == 9.0
    assert data["grads"]["x"] == 3.0


@pytest.mark.xfail(strict=True, reason="sum(x) is np.sum (all elements), as documented")
def test_builtin_sum_of_a_matrix_sums_its_first_axis(bpcli):
    # Python's sum(A) on a 2-D array adds its rows: [5, 7, 9]; f = 5 + 14 + 27 = 46
    data = grad_json(bpcli, "f = np.sum(sum(A) * c)", "A=[[1,2,3],[4,5,6]]", "c=[1,2,3]")
    assert data["value"] == 46.0
    assert data["grads"]["c"] == [5.0, 7.0, 9.0]
    assert data["grads"]["A"] == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]


def test_augmented_assignment_to_an_attribute_changes_its_aliases(bpcli):
    # a.w += y changes the array in place, so w (the same array) is x + y: f = 4 + 9 = 13
    program = (
        "class A:\n    def __init__(self, w):\n        self.w = w\n\n"
        "a = A(x * 1)\nw = a.w\na.w += y\nf = np.sum(w * w)\n"
    )
    result = bpcli("grad", program, "x=[1,2]", "y=[1,1]", "--format", "json")
    if result.code == 2:  # refusing, as for names, is also acceptable; a wrong number is not
        assert "shares its memory" in result.err
        return
    data = json.loads(result.out)
    assert data["value"] == 13.0
    assert data["grads"]["y"] == [4.0, 6.0]


@pytest.mark.parametrize("op", ["+=", "*=", "-="])
def test_augmented_assignment_to_a_dict_item(bpcli, op):
    # grads['W2'] += self.reg * W2 is in most cs231n nets; bpcli stores a tuple of internals
    program = f'g = {{"a": x}}\ng["a"] {op} y\nf = g["a"]'
    data = grad_json(bpcli, program, "x=3", "y=2")
    assert data["value"] == {"+=": 5.0, "*=": 6.0, "-=": 1.0}[op]


def test_dict_item_augmented_assignment_on_arrays(bpcli):
    program = 'grads = {}\ngrads["W"] = W * 2\ngrads["W"] += 0.5 * W\nf = np.sum(grads["W"])'
    data = grad_json(bpcli, program, "W=[1,2]")
    assert data["value"] == 7.5
    assert data["grads"]["W"] == [2.5, 2.5]


@pytest.mark.parametrize(
    "key",
    [
        '"W" + str(1 + 1)',
        '"W{}".format(3 // 2 + 1)',
        pytest.param(
            '"W" + str(n)',
            marks=pytest.mark.xfail(strict=True, reason="n = 2 at the top level is an input: a float"),
        ),
    ],
)
def test_str_of_a_computed_integer(bpcli, key):
    # Python: str(1 + 1) is '2', not '2.0'
    data = grad_json(bpcli, f'n = 2\nd = {{"W2": x}}\nf = d[{key}]', "x=3")
    assert data["value"] == 3.0


def test_a_function_local_may_share_a_bindings_name(bpcli):
    # max_pool_forward_naive loops `for c in range(C)`; the student binds c (or W, H, N) at
    # the top level. Python keeps the two apart; bpcli refuses the binding.
    program = "def f(x):\n    for c in range(2):\n        x = x * 2\n    return x\n\nloss = f(x) * c\n"
    data = grad_json(bpcli, program, "x=3", "c=5")
    assert data["value"] == 60.0
    assert data["grads"]["c"] == 12.0


@pytest.mark.xfail(strict=True, reason="a list literal of numbers is an array")
def test_a_list_literal_of_numbers_can_be_appended_to(bpcli):
    data = grad_json(bpcli, "l = [x]\nl.append(x * 2)\nf = l[-1]", "x=3")
    assert data["value"] == 6.0


def test_in_a_list_literal(bpcli):
    data = grad_json(bpcli, "f = x * 2 if 3 in [1, 2, 3] else x", "x=3")
    assert data["value"] == 6.0


@pytest.mark.xfail(strict=True, reason="no UnboundLocalError: a global is read")
def test_reading_a_local_before_assigning_it_is_an_error(bpcli):
    # Python raises UnboundLocalError; bpcli reads the global c1 and answers f = 4
    program = "c1 = 1\ndef g(x):\n    c1 = c1 + 1\n    return x * c1\n\nf = g(x)\n"
    result = bpcli("grad", program, "x=2")
    assert result.code == 2
    assert "c1" in result.err
