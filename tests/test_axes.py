"""numpy's reductions along axes and softmax along an axis (bpcli.core.ops.axes).

Every family over shapes of rank 0 to 4, every axis (negative ones, tuples, ()), with and
without keepdims: the forward against numpy, the VJP against autograd (HIPS) and, where
autograd itself is not exact (prod at zeros, max at ties), against a central finite
difference or the convention. The ops are called directly, as the engine calls them: a
float input takes the op's scalar forms, an array its array forms.
"""

from __future__ import annotations

import itertools
import math
import re

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import make_vjp

from bpcli.core.ops import FUSED, OPS, ShapeMismatch, unbroadcast
from bpcli.core.ops.registry import CALLS, FAMILIES, METHODS

RNG = np.random.default_rng(15)
SHAPES = [(), (3,), (2, 3), (2, 1, 3), (2, 3, 1, 2)]


def axes_for(ndim: int) -> list:
    """Every way to name axes worth trying on an array of `ndim` dimensions."""
    axes: list = [None, ()]
    axes += [*range(ndim), -1, -ndim] if ndim else [0, -1]
    if ndim >= 2:
        axes += [(0, -1), (-1, 0), tuple(range(ndim))]
    if ndim >= 3:
        axes += [(0, 2), (1,)]
    return axes


def value(shape: tuple, low: float = -2.0, high: float = 2.0):
    """A random float (shape ()) or float64 array, without ties."""
    if shape == ():
        return float(RNG.uniform(low, high))
    return RNG.uniform(low, high, size=shape)


# --- references -------------------------------------------------------------------------------


def _lse(x, axis, keepdims):
    top = np.max(x._value if hasattr(x, "_value") else x)  # a constant shift, as in bpcli
    return anp.log(anp.sum(anp.exp(x - top), axis=axis, keepdims=keepdims)) + top


def _norm(x, ord, axis, keepdims):
    return anp.sqrt(anp.sum(x * x, axis=axis, keepdims=keepdims))


# family -> (params to try besides axis/keepdims, numpy reference, autograd reference)
REFERENCES = {
    "sum": ({}, lambda x, **p: np.sum(x, **p), lambda x, **p: anp.sum(x, **p)),
    "mean": ({}, lambda x, **p: np.mean(x, **p), lambda x, **p: anp.mean(x, **p)),
    "max": ({}, lambda x, **p: np.max(x, **p), lambda x, **p: anp.max(x, **p)),
    "min": ({}, lambda x, **p: np.min(x, **p), lambda x, **p: anp.min(x, **p)),
    "var": ({"ddof": 0}, lambda x, **p: np.var(x, **p), lambda x, **p: anp.var(x, **p)),
    "std": ({"ddof": 0}, lambda x, **p: np.std(x, **p), lambda x, **p: anp.std(x, **p)),
    "prod": ({}, lambda x, **p: np.prod(x, **p), lambda x, **p: anp.prod(x, **p)),
    "logsumexp": (
        {},
        lambda x, **p: _lse(np.asarray(x), p["axis"], p["keepdims"]),
        lambda x, **p: _lse(x, **p),
    ),
    "norm": (
        {"ord": None},
        lambda x, **p: np.linalg.norm(x, **p),
        lambda x, ord, axis, keepdims: _norm(x, ord, axis, keepdims),
    ),
}
SOFTMAXES = {
    "softmax": lambda x, axis: anp.exp(x - _lse(x, axis, True)),
    "logsoftmax": lambda x, axis: x - _lse(x, axis, True),
}


def forward(op, x):
    result = op.scalar(x) if type(x) is float else op.array(x)
    if op in OPS.values() and np.ndim(result) == 0:  # (a registered op may leave that to the engine)
        result = float(result)
    return result


def vjp(op, g, ans, x):
    return (op.vjps if type(x) is float and type(g) is float else op.array_vjps)[0](g, ans, x)


def numpy_says(reference, x, **params) -> str | None:
    """numpy's error message for these parameters, or None where numpy accepts them."""
    try:
        reference(np.asarray(x) if type(x) is not float else x, **params)
    except (ValueError, TypeError) as err:  # (AxisError is a ValueError)
        return str(err)
    return None


def like(result, expected) -> None:
    """result is expected, to rounding, with its type: a float for a 0-d result."""
    expected = np.asarray(expected)
    if expected.ndim == 0:
        assert type(result) is float, type(result)
    else:
        assert isinstance(result, np.ndarray) and result.shape == expected.shape, (np.shape(result), expected)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def cases():
    for family, (extra, _, _) in REFERENCES.items():
        for shape in SHAPES:
            for axis, keepdims in itertools.product(axes_for(len(shape)), (False, True)):
                if family == "norm" and isinstance(axis, tuple) and len(axis) not in (1, 2):
                    continue  # numpy refuses those: see test_norm_takes_one_or_two_axes
                yield family, shape, {**extra, "axis": axis, "keepdims": keepdims}


@pytest.mark.parametrize("family", list(REFERENCES))
def test_each_reduction_against_numpy_and_autograd(family):
    _, reference, autograd_reference = REFERENCES[family]
    count = 0
    for name, shape, params in cases():
        if name != family:
            continue
        x = value(shape)
        refused = numpy_says(reference, x, **params)
        if refused is not None:
            with pytest.raises(ShapeMismatch) as err:
                op = FAMILIES[family](**params)
                op.shape([shape])
                forward(op, x)
            assert str(err.value) == refused, (family, shape, params)
            continue
        op = FAMILIES[family](**params)
        ans = forward(op, x)
        expected = reference(np.asarray(x) if shape else x, **params)
        like(ans, expected)
        assert op.shape([shape]) == np.shape(expected), (family, shape, params)
        g = value(np.shape(expected))
        back, _ = make_vjp(lambda v, p=params: autograd_reference(v, **p))(x)
        like(vjp(op, g, ans, x), back(g))
        count += 1
    assert count > 50


@pytest.mark.parametrize("family", list(SOFTMAXES))
def test_softmax_along_an_axis_against_autograd(family):
    for shape in SHAPES:
        for axis in axes_for(len(shape)):
            x = value(shape)
            op = FAMILIES[family](axis=axis)
            try:
                np.max(np.asarray(x), axis=axis)
            except ValueError as err:
                with pytest.raises(ShapeMismatch, match=re.escape(str(err))):
                    op.shape([shape])
                continue
            ans = forward(op, x)
            back, expected = make_vjp(lambda v, a=axis, f=SOFTMAXES[family]: f(v, a))(x)
            like(ans, expected)
            assert op.shape([shape]) == shape
            g = value(shape)
            like(vjp(op, g, ans, x), back(g))


# --- the registered ops stay what they were ---------------------------------------------------


def test_default_parameters_give_the_registered_ops():
    assert FAMILIES["sum"]() is OPS["sum"]
    assert FAMILIES["sum"](axis=None, keepdims=False) is OPS["sum"]
    assert FAMILIES["mean"]() is OPS["mean"]
    assert FAMILIES["max"]() is OPS["amax"]
    assert FAMILIES["min"](axis=None) is OPS["amin"]
    assert FAMILIES["norm"](ord=None, axis=None, keepdims=False) is OPS["norm"]
    # logsumexp, softmax and logsoftmax reduce the last axis by default, as bpcli always has
    assert FAMILIES["logsumexp"](axis=-1, keepdims=False) is OPS["logsumexp"]
    assert FAMILIES["softmax"]() is OPS["softmax"]
    assert FAMILIES["logsoftmax"](axis=-1) is OPS["logsoftmax"]
    assert FAMILIES["logsumexp"](axis=None) is not OPS["logsumexp"]


def test_the_same_parameters_give_the_same_op():
    assert FAMILIES["sum"](axis=1, keepdims=True) is FAMILIES["sum"](axis=1, keepdims=True)
    assert FAMILIES["sum"](axis=[0, 1]) is FAMILIES["sum"](axis=(0, 1))
    assert FAMILIES["sum"](axis=1) is not FAMILIES["sum"](axis=-1)


def test_names_a_program_calls_them_by():
    assert CALLS["amax"] is CALLS["max"] is METHODS["max"] is FAMILIES["max"]
    assert CALLS["amin"] is METHODS["min"] is FAMILIES["min"]
    assert CALLS["log_softmax"] is CALLS["logsoftmax"] is FAMILIES["logsoftmax"]
    for name in ("sum", "mean", "var", "std", "prod"):
        assert CALLS[name] is METHODS[name] is FAMILIES[name]
    assert [p for p, _ in FAMILIES["norm"].params] == ["ord", "axis", "keepdims"]
    assert [p for p, _ in FAMILIES["var"].params] == ["axis", "keepdims", "ddof"]


def test_log_of_softmax_along_an_axis_is_one_stable_gate():
    softmax = FAMILIES["softmax"](axis=0)
    assert FUSED[OPS["log"], softmax] is FAMILIES["logsoftmax"](axis=0)
    x = np.array([[0.0, 1.0], [-1000.0, 2.0]])
    like(
        FAMILIES["logsoftmax"](axis=0).array(x),
        [[0.0, -1.0 - math.log1p(math.exp(-1.0))], [-1000.0, -math.log1p(math.exp(-1.0))]],
    )


# --- labels and notation ----------------------------------------------------------------------


def test_labels_write_the_parameters_not_at_their_default():
    assert FAMILIES["sum"](axis=1, keepdims=True).template == "sum({0}, axis=1, keepdims=True)"
    assert FAMILIES["max"](axis=0).template == "max({0}, axis=0)"
    assert FAMILIES["max"](axis=0).name == "amax"
    assert FAMILIES["std"](axis=(0, 1), ddof=1).template == "std({0}, axis=(0, 1), ddof=1)"
    assert FAMILIES["softmax"](axis=0).template == "softmax({0}, axis=0)"
    assert FAMILIES["norm"](axis=1).template == "norm({0}, axis=1)"
    assert FAMILIES["sum"](axis=1, keepdims=True).params == (("axis", 1), ("keepdims", True))


def test_local_gradients_as_notation():
    class Name:  # as the presenters' references: {x} a name, {x:a} the same, atomic here
        def __format__(self, spec):
            return "X"

    def local(family, **params):
        return FAMILIES[family](**params).local[0].format(x=Name(), y=Name())

    assert local("sum", axis=1) == "1 for every element summed along axis 1"
    assert local("mean", axis=1) == "1/n for every element averaged along axis 1 (n = X.shape[1])"
    assert (
        local("mean", axis=(0, 2))
        == "1/n for every element averaged along axes (0, 2) (n = X.shape[0]·X.shape[2])"
    )
    assert local("max", axis=0) == "1 at the largest element along axis 0, else 0"
    assert local("norm", axis=1) == "X/norm(X, axis=1, keepdims=True)"
    assert local("logsumexp", axis=0) == "softmax(X, axis=0)"
    assert local("var", axis=0, ddof=1) == "2·(X - mean)/(n - 1) along axis 0, n = X.shape[0]"


def test_gate_patterns():
    assert FAMILIES["sum"](axis=0).gate == "copier"
    assert FAMILIES["mean"](axis=0).gate == "averager"
    assert (FAMILIES["max"](axis=0).gate, FAMILIES["max"](axis=0).routes) == ("router", "largest")
    assert (FAMILIES["min"](axis=0).gate, FAMILIES["min"](axis=0).routes) == ("router", "smallest")
    for family in ("var", "std", "prod", "logsumexp", "norm", "softmax", "logsoftmax"):
        assert FAMILIES[family](axis=0).gate == ""


def test_every_convention_has_its_text():
    from bpcli.texts import Translator

    reductions = (
        "sum",
        "mean",
        "max",
        "min",
        "var",
        "std",
        "prod",
        "norm",
        "logsumexp",
        "softmax",
        "logsoftmax",
    )
    conventions = {FAMILIES[f](axis=0).convention for f in reductions if FAMILIES[f](axis=0).convention}
    assert conventions == {"convention.amax", "convention.amin", "convention.std", "convention.norm"}
    for language in ("en", "zh"):
        assert conventions <= Translator(language).messages.keys()


# --- numpy's refusals, in numpy's words -------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "shape", "params", "message"),
    [
        ("sum", (2, 3), {"axis": 2}, "axis 2 is out of bounds for array of dimension 2"),
        ("sum", (2, 3), {"axis": -3}, "axis -3 is out of bounds for array of dimension 2"),
        ("max", (2, 3), {"axis": (0, 2)}, "axis 2 is out of bounds for array of dimension 2"),
        ("mean", (2, 3), {"axis": (0, -2)}, "duplicate value in 'axis'"),
        ("mean", (), {"axis": 0}, "axis 0 is out of bounds for array of dimension 0"),
        ("std", (), {"axis": -1}, "axis -1 is out of bounds for array of dimension 0"),
        ("sum", (), {"axis": 1}, "axis 1 is out of bounds for array of dimension 0"),
        ("sum", (), {"axis": (0,)}, "axis 0 is out of bounds for array of dimension 0"),
        ("norm", (), {"axis": 0}, "axis 0 is out of bounds for array of dimension 0"),
        ("norm", (2, 3, 4), {"axis": (0, -3)}, "Duplicate axes given."),
        ("norm", (2, 3, 4), {"ord": "fro", "axis": 0}, "Invalid norm order 'fro' for vectors"),
        ("norm", (2, 3, 4), {"ord": 2}, "Improper number of dimensions to norm."),
        ("softmax", (2, 3), {"axis": 2}, "axis 2 is out of bounds for array of dimension 2"),
        ("logsoftmax", (), {"axis": 1}, "axis 1 is out of bounds for array of dimension 0"),
        ("logsumexp", (2, 3), {"axis": (1, -1)}, "duplicate value in 'axis'"),
    ],
)
def test_bad_axes_are_refused_as_numpy_does(family, shape, params, message):
    op = FAMILIES[family](**params)
    with pytest.raises(ShapeMismatch) as err:
        op.shape([shape])
    assert str(err.value) == message
    with pytest.raises(ShapeMismatch, match=re.escape(message)):
        forward(op, value(shape))


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        ("sum", {"axis": (0, 0)}, "duplicate value in 'axis'"),
        ("sum", {"axis": 1.0}, "'float' object cannot be interpreted as an integer"),
        ("mean", {"axis": (0, "a")}, "'str' object cannot be interpreted as an integer"),
        ("norm", {"axis": (0, 1, 2)}, "Improper number of dimensions to norm."),
        ("norm", {"ord": 1}, "norm with ord=1 is not supported"),
        ("var", {"ddof": "a"}, "ddof must be a number"),
    ],
)
def test_bad_parameters_are_refused_when_the_op_is_made(family, params, message):
    with pytest.raises(ShapeMismatch, match=re.escape(message)):
        FAMILIES[family](**params)


def test_norm_takes_one_or_two_axes():
    with pytest.raises(ShapeMismatch, match=re.escape("Improper number of dimensions to norm.")):
        FAMILIES["norm"](axis=())
    with pytest.raises(ShapeMismatch, match="ord=2 of a matrix"):
        FAMILIES["norm"](ord=2, axis=(0, 1)).shape([(2, 3)])
    x = value((2, 3, 4))
    like(FAMILIES["norm"](ord="fro", axis=(2, 0)).array(x), np.linalg.norm(x, "fro", axis=(2, 0)))
    like(FAMILIES["norm"](ord=2, axis=-1).array(x), np.linalg.norm(x, 2, axis=-1))
    like(FAMILIES["norm"](ord=2).array(x[0, 0]), np.linalg.norm(x[0, 0], 2))
    like(FAMILIES["norm"](ord="fro").array(x[0]), np.linalg.norm(x[0], "fro"))


def test_nothing_to_reduce_is_refused():
    with pytest.raises(ShapeMismatch, match="zero-size array to reduction operation maximum"):
        FAMILIES["max"](axis=0).shape([(0, 3)])
    with pytest.raises(ShapeMismatch, match="mean of empty slice"):
        FAMILIES["mean"](axis=1).shape([(2, 0)])
    with pytest.raises(ShapeMismatch, match="degrees of freedom <= 0"):
        FAMILIES["var"](axis=1, ddof=1).shape([(2, 1)])
    with pytest.raises(ShapeMismatch, match="degrees of freedom <= 0"):
        FAMILIES["std"](ddof=1).scalar(2.0)
    assert FAMILIES["sum"](axis=0).array(np.zeros((0, 2))).tolist() == [0.0, 0.0]


# --- kinks and conventions --------------------------------------------------------------------


def test_ties_along_an_axis_share_the_gradient_evenly():
    op = FAMILIES["max"](axis=1)
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 5.0, 1.0]])
    ans = op.array(x)
    assert ans.tolist() == [3.0, 2.0, 5.0]
    g = np.array([1.0, 3.0, 2.0])
    like(op.array_vjps[0](g, ans, x), [[0, 0.5, 0.5], [1, 1, 1], [0, 2, 0]])
    assert op.kink(x) and not op.kink(x[2:]) and op.convention == "convention.amax"
    # as autograd (and PyTorch's amax) do
    back, _ = make_vjp(lambda v: anp.max(v, axis=1))(x)
    like(op.array_vjps[0](g, ans, x), back(g))
    low = FAMILIES["min"](axis=0, keepdims=True)
    like(low.array_vjps[0](np.ones((1, 3)), low.array(x), x), [[0, 0, 0], [0, 1, 0], [1, 0, 1]])
    assert not FAMILIES["max"](axis=0).kink(3.0)


def test_prod_with_zeros_gets_the_product_of_the_others():
    x = np.array([[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 1.0], [1.0, 2.0, 3.0, 4.0]])
    op = FAMILIES["prod"](axis=1)
    ans = op.array(x)
    assert ans.tolist() == [0.0, 0.0, 24.0]
    others = np.array([[np.prod(np.delete(row, j)) for j in range(4)] for row in x])
    g = np.array([1.5, -2.0, 0.5])
    like(op.array_vjps[0](g, ans, x), g[:, None] * others)
    like_loose(op.array_vjps[0](g, ans, x), finite_difference(op, x, g))
    # over several axes at once, the zeros anywhere in the slice
    cube = np.arange(24.0).reshape(2, 3, 4) - 5.0
    op = FAMILIES["prod"](axis=(0, 2), keepdims=True)
    g = value((1, 3, 1))
    like_loose(op.array_vjps[0](g, op.array(cube), cube), finite_difference(op, cube, g))


def test_std_at_zero_spread_takes_gradient_zero():
    x = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    op = FAMILIES["std"](axis=1)
    assert op.kink(x) and not op.kink(x[1:]) and op.convention == "convention.std"
    grad = op.array_vjps[0](np.array([1.0, 1.0]), op.array(x), x)
    assert grad[0].tolist() == [0.0, 0.0, 0.0] and np.all(np.isfinite(grad))
    # all equal, though x - mean is not 0 once rounded (the mean of three 0.1 is not 0.1)
    x = np.array([[0.1, 0.1, 0.1], [0.7, 0.7, 0.7]])
    assert op.array(x)[0] != 0.0 and op.kink(x)
    assert op.array_vjps[0](np.array([1.0, 1.0]), op.array(x), x).tolist() == [[0.0] * 3] * 2
    # std of one element is 0 whatever it is: constant, so no kink
    assert not FAMILIES["std"](axis=1).kink(np.ones((2, 1))) and not FAMILIES["std"](axis=0).kink(3.0)


def test_norm_of_a_zero_slice_takes_gradient_zero():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    op = FAMILIES["norm"](axis=1)
    assert op.array(x).tolist() == [0.0, 5.0]
    like(op.array_vjps[0](np.array([1.0, 2.0]), op.array(x), x), [[0, 0], [1.2, 1.6]])
    assert op.kink(x) and not op.kink(x[1:])
    whole = FAMILIES["norm"](keepdims=True)  # a float is a 0-d array: no axis 0 for norm
    assert whole.scalar(-3.0) == 3.0 and whole.vjps[0](2.0, 3.0, -3.0) == -2.0 and whole.kink(0.0)


@pytest.mark.parametrize("family", ["std", "var", "norm", "logsumexp", "mean"])
def test_vjps_against_finite_differences(family):
    for shape, axis in [((3, 4), 1), ((2, 3, 2), (0, 2)), ((4,), -1), ((2, 2, 2, 2), (1, 3))]:
        op = FAMILIES[family](axis=axis)
        x = value(shape)
        g = value(op.shape([shape]))
        like_loose(vjp(op, g, forward(op, x), x), finite_difference(op, x, g))


# --- exactness at the ends of the float range -------------------------------------------------


def test_sums_whose_partial_sums_overflow():
    x = np.array([[1e308, 1e308, -1e308], [1.0, 2.0, 3.0]])
    like(FAMILIES["sum"](axis=1).array(x), [1e308, 6.0])
    like(FAMILIES["mean"](axis=0).array(np.array([[1e308], [1e308]])), [1e308])
    assert math.isinf(FAMILIES["sum"](axis=0).array(np.array([[1e308], [1e308]]))[0])  # it does not fit


def test_norm_and_std_without_overflow_or_underflow():
    like(
        FAMILIES["norm"](axis=1).array(np.array([[1e300, 1e300], [3e-300, 4e-300]])),
        [math.sqrt(2) * 1e300, 5e-300],
    )
    like(FAMILIES["std"](axis=0).array(np.array([1e200, -1e200])), 1e200)


def test_softmax_and_logsumexp_are_shift_invariant_along_the_axis():
    x = value((3, 4))
    shift = np.array([[1000.0], [-1000.0], [0.0]])
    for family in ("softmax", "logsoftmax"):
        op = FAMILIES[family](axis=1)
        like(op.array(x + shift), op.array(x))
    lse = FAMILIES["logsumexp"](axis=0)
    like(lse.array(x + 1000.0), lse.array(x) + 1000.0)
    like(FAMILIES["softmax"](axis=0).array(np.array([1e308, -1e308])), [1.0, 0.0])


# --- --expand circuits ------------------------------------------------------------------------


class Tape:
    """A stand-in for the builder's maker: each gate evaluated as it is made, as the engine
    would, and a backward pass over the recorded gates with their VJPs."""

    def __init__(self) -> None:
        self.ops: list = []
        self.inputs: list = []
        self.values: list = []
        self.smooth_ids: set = set()  # the gates made smooth

    def leaf(self, v):
        return self._record(None, (), v)

    def __call__(self, name, *inputs):
        return self._gate(OPS[name], inputs)

    def smooth(self, name, *inputs):
        node = self(name, *inputs)
        self.smooth_ids.add(node)
        return node

    def const(self, v):
        return self.leaf(v)

    def family(self, name, *inputs, smooth=False, **params):
        node = self._gate(FAMILIES[name](**params), inputs)
        if smooth:
            self.smooth_ids.add(node)
        return node

    def _gate(self, op, inputs):
        args = [self.values[i] for i in inputs]
        out = op.scalar(*args) if all(type(a) is float for a in args) else op.array(*args)
        out = float(out) if np.ndim(out) == 0 else np.asarray(out, dtype=float)
        return self._record(op, inputs, out)

    def _record(self, op, inputs, v):
        self.ops.append(op)
        self.inputs.append(inputs)
        self.values.append(v)
        return len(self.values) - 1

    def grad(self, out, g):
        grads = [None] * len(self.values)
        grads[out] = g
        for k in reversed(range(len(self.values))):
            if self.ops[k] is None or grads[k] is None:
                continue
            args = [self.values[i] for i in self.inputs[k]]
            floats = type(grads[k]) is float and all(type(a) is float for a in args)
            for i, node in enumerate(self.inputs[k]):
                d = (self.ops[k].vjps if floats else self.ops[k].array_vjps)[i](
                    grads[k], self.values[k], *args
                )
                if self.ops[k].broadcast and not floats:
                    d = unbroadcast(d, args[i])
                grads[node] = d if grads[node] is None else grads[node] + d
        return grads


@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("softmax", {"axis": 0}),
        ("softmax", {"axis": (0, 2)}),
        ("softmax", {"axis": None}),
        ("logsoftmax", {"axis": 1}),
        ("logsoftmax", {"axis": -3}),
        ("logsumexp", {"axis": 0}),
        ("logsumexp", {"axis": (1, 2), "keepdims": True}),
        ("logsumexp", {"axis": None}),
    ],
)
def test_expanded_circuits_agree_with_the_gate(family, params):
    for shape in [(2, 3, 4), (3, 1, 2)]:
        made = Tape()
        op = FAMILIES[family](**params)
        x = value(shape) + 500.0  # the max-shift keeps exp from overflowing
        leaf = made.leaf(x)
        out = op.expansion(made, leaf)
        like(made.values[out], forward(op, x))
        g = value(np.shape(made.values[out]))
        like_loose(made.grad(out, g)[leaf], vjp(op, g, forward(op, x), x))
        # each max-shift is a smooth router: its kink at a tie does not reach f
        maxes = [k for k, o in enumerate(made.ops) if o is not None and o.name == "amax"]
        assert maxes and set(maxes) <= made.smooth_ids


def test_expanded_circuits_on_a_float():
    for family in ("softmax", "logsoftmax", "logsumexp"):
        made = Tape()
        op = FAMILIES[family](axis=0)
        leaf = made.leaf(0.5)
        out = op.expansion(made, leaf)
        assert made.values[out] == op.scalar(0.5)
        assert made.grad(out, 1.0)[leaf] == pytest.approx(op.vjps[0](1.0, op.scalar(0.5), 0.5), abs=1e-15)


# --- helpers ----------------------------------------------------------------------------------


def finite_difference(op, x, g, h=1e-6):
    """Σ g·∂f/∂x by central differences of the op's own forward, element by element."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h * max(1.0, abs(x[index]))
        ahead, behind = forward(op, x + step), forward(op, x - step)
        grad[index] = np.sum(g * (np.asarray(ahead) - np.asarray(behind))) / (2 * step[index])
    return grad


def like_loose(result, expected) -> None:
    assert np.shape(result) == np.shape(expected)
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("family", ["var", "std"])
@pytest.mark.parametrize("ddof", [1, 2, -1, 0.5])
def test_var_and_std_with_ddof(family, ddof):
    _, reference, autograd_reference = REFERENCES[family]
    for shape, axis in [((3, 4), 1), ((2, 3, 2), (0, 2)), ((4,), None), ((3, 2), 0)]:
        params = {"axis": axis, "keepdims": False, "ddof": ddof}
        op = FAMILIES[family](**params)
        x = value(shape)
        ans = forward(op, x)
        like(ans, reference(x, **params))
        g = value(op.shape([shape]))
        back, _ = make_vjp(lambda v, p=params: autograd_reference(v, **p))(x)
        like(vjp(op, g, ans, x), back(g))


# --- through the engine and a presenter, on a graph built by hand (the builder is the lead's) --


def chain_graph(x, *ops):
    """x -> ops[0] -> ops[1] -> …, as the builder would make it for f(…g(x)…)."""
    from bpcli.core.graph import Graph, Node

    nodes = [Node(0, OPS["input"], (), 0, 1, True)]
    nodes[0].name = "x"
    for op in ops:
        nodes.append(Node(len(nodes), op, (nodes[-1],), 0, 1, True))
    leaves = [x] + [None] * len(ops)
    return Graph("f", nodes, nodes[-1], "f", {"x": nodes[0]}, {"x": nodes[0]}, leaves)


def test_the_engine_runs_a_member_and_notes_its_kink():
    from bpcli.core.engine import run
    from bpcli.present.steps import steps_text

    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    result = run(chain_graph(x, FAMILIES["max"](axis=1, keepdims=True), OPS["sum"]))
    assert result.values[-1] == 5.0
    like(result.grads[0], [[0, 0.5, 0.5], [1, 0, 0]])
    assert result.kinks == (1,)
    text = steps_text(result)
    assert "max(x, axis=1, keepdims=True)" in text and "tied largest elements share" in text
    assert "1 at the largest element along axis 1, else 0" in text
    # a float is a 0-d array: sum along axis 0 is the float itself, mean along it is refused
    assert run(chain_graph(2.5, FAMILIES["sum"](axis=0), FAMILIES["prod"](axis=-1))).grads[0] == 1.0


def test_the_engine_refuses_a_bad_axis_in_numpys_words():
    from bpcli.core.engine import run
    from bpcli.errors import ShapeError

    with pytest.raises(ShapeError, match="axis 2 is out of bounds for array of dimension 2"):
        run(chain_graph(np.ones((2, 3)), FAMILIES["sum"](axis=2), OPS["sum"]))
    with pytest.raises(ShapeError, match="axis 0 is out of bounds for array of dimension 0"):
        run(chain_graph(2.5, FAMILIES["mean"](axis=0)))
