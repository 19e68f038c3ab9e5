"""conv2d, maxpool2d and pad (bpcli.core.ops.conv), op by op.

Each forward is checked against a naive loop written here as in cs231n's layers.py
(`conv_forward_naive`, `max_pool_forward_naive`), each VJP against central differences and
against HIPS autograd differentiating the same naive loop (autograd has no convolution).
"""

from __future__ import annotations

import numpy as np
import pytest

from bpcli.core.ops import conv  # noqa: F401 (registers the families)
from bpcli.core.ops.registry import CALLS, FAMILIES, ShapeMismatch

CONV2D, MAXPOOL2D, PAD = FAMILIES["conv2d"], FAMILIES["maxpool2d"], FAMILIES["pad"]


def _pairs(v):
    return (v, v) if isinstance(v, int) else v


# --- naive references, cs231n style; `xp` is numpy or autograd.numpy -------------------------------


def naive_conv(x, w, b, stride=1, pad=0, xp=np):
    (sh, sw), (ph, pw) = _pairs(stride), _pairs(pad)
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant")
    out_h = 1 + (h + 2 * ph - hh) // sh
    out_w = 1 + (wd + 2 * pw - ww) // sw

    def at(i, k, r, q):
        return xp.sum(xpad[i, :, r * sh : r * sh + hh, q * sw : q * sw + ww] * w[k]) + b[k]

    out = [
        [[[at(i, k, r, q) for q in range(out_w)] for r in range(out_h)] for k in range(f)] for i in range(n)
    ]
    return xp.array(out)


def _getval(v):
    return getattr(v, "_value", v)


def naive_maxpool(x, size=2, stride=2, xp=np):
    """The first largest element of each window (np.argmax), which is where its gradient goes."""
    (ph, pw), (sh, sw) = _pairs(size), _pairs(stride)
    n, c, h, w = x.shape
    out_h, out_w = 1 + (h - ph) // sh, 1 + (w - pw) // sw

    def at(i, j, r, q):
        flat = xp.reshape(x[i, j, r * sh : r * sh + ph, q * sw : q * sw + pw], (-1,))
        return flat[int(np.argmax(_getval(flat)))]

    out = [
        [[[at(i, j, r, q) for q in range(out_w)] for r in range(out_h)] for j in range(c)] for i in range(n)
    ]
    return xp.array(out)


def naive_maxpool_backward(g, x, size=2, stride=2):
    """cs231n's max_pool_backward_naive: each window's g to its first largest element."""
    (ph, pw), (sh, sw) = _pairs(size), _pairs(stride)
    dx = np.zeros_like(x)
    n, c, oh, ow = g.shape
    for i in range(n):
        for j in range(c):
            for r in range(oh):
                for q in range(ow):
                    window = x[i, j, r * sh : r * sh + ph, q * sw : q * sw + pw]
                    a, e = np.unravel_index(np.argmax(window), window.shape)
                    dx[i, j, r * sh + a, q * sw + e] += g[i, j, r, q]
    return dx


def numeric_grad(f, x, h=1e-6):
    """Central differences of the scalar f at x, element by element (small arrays only)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f()
        x[idx] = old - h
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


# --- conv2d ------------------------------------------------------------------------------------------

# (N, C, H, W), (F, HH, WW), stride, pad
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3), 1, 1),
    ((1, 1, 6, 6), (2, 3, 3), 2, 0),
    ((2, 2, 7, 5), (3, 3, 2), 2, 2),  # a non-square kernel and input, pad 2
    ((1, 2, 5, 5), (2, 2, 2), 3, 1),  # stride > kernel: gaps; (5 + 2 - 2) / 3 floored
    ((2, 2, 6, 7), (2, 1, 3), (1, 2), (0, 1)),  # stride and pad given per axis
    ((1, 1, 4, 4), (1, 4, 4), 1, 0),  # the kernel is the whole input: one output
    ((3, 1, 4, 5), (1, 2, 3), 1, 2),  # C = 1, F = 1, the padding wider than needed
]


def _conv_arrays(xs, ws, seed):
    rng = np.random.default_rng(seed)
    f, hh, ww = ws
    return rng.standard_normal(xs), rng.standard_normal((f, xs[1], hh, ww)), rng.standard_normal(f)


@pytest.mark.parametrize(("xs", "ws", "stride", "pad"), CONV_CASES)
def test_conv2d_forward_is_the_naive_loop(xs, ws, stride, pad):
    x, w, b = _conv_arrays(xs, ws, 0)
    op = CONV2D(stride=stride, pad=pad)
    out = op.array(x, w, b)
    expected = naive_conv(x, w, b, stride, pad)
    assert out.shape == expected.shape == op.shape([x.shape, w.shape, b.shape])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("xs", "ws", "stride", "pad"), CONV_CASES[:5])
def test_conv2d_vjps_are_central_differences(xs, ws, stride, pad):
    x, w, b = _conv_arrays(xs, ws, 1)
    op = CONV2D(stride=stride, pad=pad)
    ans = op.array(x, w, b)
    g = np.random.default_rng(2).standard_normal(ans.shape)
    for i, arg in enumerate((x, w, b)):
        d = op.array_vjps[i](g, ans, x, w, b)
        assert d.shape == arg.shape
        numeric = numeric_grad(lambda: float(np.sum(op.array(x, w, b) * g)), arg)
        np.testing.assert_allclose(d, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("xs", "ws", "stride", "pad"), CONV_CASES)
def test_conv2d_vjps_are_autograd_on_the_naive_loop(xs, ws, stride, pad):
    pytest.importorskip("autograd")
    import autograd.numpy as anp
    from autograd import grad

    x, w, b = _conv_arrays(xs, ws, 3)
    op = CONV2D(stride=stride, pad=pad)
    ans = op.array(x, w, b)
    g = np.random.default_rng(4).standard_normal(ans.shape)

    def loss(x, w, b):
        return anp.sum(naive_conv(x, w, b, stride, pad, xp=anp) * g)

    for i in range(3):
        expected = grad(loss, i)(x, w, b)
        np.testing.assert_allclose(op.array_vjps[i](g, ans, x, w, b), expected, rtol=1e-12, atol=1e-12)


def test_conv2d_of_cs231n_notebook_sizes():
    # the assignment's check: x (2, 3, 4, 4), w (3, 3, 4, 4), stride 2, pad 1 -> (2, 3, 2, 2)
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out = CONV2D(stride=2, pad=1).array(x, w, b)
    correct = np.array(
        [
            [
                [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                [[0.50813986, 0.54309974], [0.64082444, 0.67101435]],
            ],
            [
                [[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                [[2.36270298, 2.36904306], [2.38090835, 2.38247847]],
            ],
        ]
    )
    np.testing.assert_allclose(out, correct, rtol=1e-7)


def test_conv2d_shape_errors_say_what_does_not_fit():
    op = CONV2D(stride=1, pad=1)
    with pytest.raises(ShapeMismatch, match=r"the channels differ: x has C=3 .* w has 2"):
        op.shape([(2, 3, 5, 5), (4, 2, 3, 3), (4,)])
    with pytest.raises(ShapeMismatch, match=r"b must have one bias per filter, shape \(4,\), not \(3,\)"):
        op.shape([(2, 3, 5, 5), (4, 3, 3, 3), (3,)])
    with pytest.raises(ShapeMismatch, match=r"b must have one bias per filter"):
        op.shape([(2, 3, 5, 5), (4, 3, 3, 3), ()])
    with pytest.raises(ShapeMismatch, match=r"kernel \(8×8\) does not fit in the padded input \(7×7: 5×5"):
        op.shape([(2, 3, 5, 5), (4, 3, 8, 8), (4,)])
    with pytest.raises(ShapeMismatch, match=r"x must be 4-D \(N, C, H, W\), not \(3, 5, 5\)"):
        op.shape([(3, 5, 5), (4, 3, 3, 3), (4,)])
    with pytest.raises(ShapeMismatch, match=r"the channels differ"):
        op.array(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)), np.zeros(4))
    for bad in ({"stride": 0}, {"stride": True}, {"pad": -1}, {"stride": 1.0}, {"pad": (1, 2, 3)}):
        with pytest.raises(ShapeMismatch, match="must be a"):
            CONV2D(**bad)


def test_conv2d_floors_the_output_size():
    # (6 + 0 - 3) / 2 is not whole: cs231n asserts, numpy's naive loop (and bpcli) floors
    op = CONV2D(stride=2)
    assert op.shape([(1, 1, 6, 6), (1, 1, 3, 3), (1,)]) == (1, 1, 2, 2)


def test_conv2d_labels_show_the_parameters_that_are_not_defaults():
    assert CONV2D().template == "conv2d({0}, {1}, {2})"
    assert CONV2D(stride=2, pad=1).template == "conv2d({0}, {1}, {2}, stride=2, pad=1)"
    assert CONV2D(pad=1).template == "conv2d({0}, {1}, {2}, pad=1)"
    assert CONV2D(stride=2, pad=1).params == (("stride", 2), ("pad", 1))
    assert CONV2D(stride=2, pad=1) is CONV2D(stride=2, pad=1)  # the same call, the same op
    assert CALLS["conv_forward"] is CALLS["conv2d"] is CONV2D
    assert CONV2D.arrays == 3 and CONV2D.params == (("stride", 1), ("pad", 0))


# --- maxpool2d ---------------------------------------------------------------------------------------

# (N, C, H, W), size, stride
POOL_CASES = [
    ((2, 3, 4, 4), 2, 2),
    ((1, 1, 5, 5), 2, 2),  # floored: the last row and column are in no window
    ((2, 2, 6, 5), (2, 3), (2, 1)),  # a size pair, overlapping along W
    ((1, 2, 5, 5), 3, 1),  # overlapping windows: their gradients add
    ((2, 1, 7, 6), 3, 2),  # overlapping by one
    ((1, 1, 3, 3), 3, 3),  # one window: the whole input
]


@pytest.mark.parametrize(("xs", "size", "stride"), POOL_CASES)
def test_maxpool2d_forward_and_backward_are_the_naive_loops(xs, size, stride):
    rng = np.random.default_rng(5)
    op = MAXPOOL2D(size=size, stride=stride)
    for x in (rng.standard_normal(xs), rng.integers(0, 3, xs).astype(float)):  # the second has ties
        out = op.array(x)
        np.testing.assert_array_equal(out, naive_maxpool(x, size, stride))
        assert out.shape == op.shape([x.shape])
        g = rng.standard_normal(out.shape)
        np.testing.assert_allclose(op.array_vjps[0](g, out, x), naive_maxpool_backward(g, x, size, stride))


@pytest.mark.parametrize(("xs", "size", "stride"), POOL_CASES)
def test_maxpool2d_vjp_is_central_differences_and_autograd(xs, size, stride):
    pytest.importorskip("autograd")
    import autograd.numpy as anp
    from autograd import grad

    rng = np.random.default_rng(6)
    x = rng.permutation(np.prod(xs)).reshape(xs) / 7.0  # distinct: no ties, differentiable
    op = MAXPOOL2D(size=size, stride=stride)
    ans = op.array(x)
    assert not op.kink(x)
    g = rng.standard_normal(ans.shape)
    d = op.array_vjps[0](g, ans, x)
    numeric = numeric_grad(lambda: float(np.sum(op.array(x) * g)), x, h=1e-4)
    np.testing.assert_allclose(d, numeric, rtol=1e-6, atol=1e-8)
    expected = grad(lambda x: anp.sum(naive_maxpool(x, size, stride, xp=anp) * g))(x)
    np.testing.assert_allclose(d, expected, rtol=1e-15, atol=0)


def test_maxpool2d_at_a_tie_the_first_largest_gets_the_gradient():
    x = np.array([[[[1.0, 3.0], [3.0, 2.0]]]])  # one 2×2 window, 3 twice
    op = MAXPOOL2D()
    assert op.array(x).tolist() == [[[[3.0]]]]
    d = op.array_vjps[0](np.array([[[[5.0]]]]), op.array(x), x)
    np.testing.assert_array_equal(d, [[[[0.0, 5.0], [0.0, 0.0]]]])
    assert op.kink(x)
    assert not op.kink(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]))
    # a tie across two windows is no kink: each window has one largest element
    assert not op.kink(np.array([[[[3.0, 0.0, 3.0, 0.0], [0.0, 1.0, 0.0, 1.0]]]]))
    assert op.gate == "router" and op.routes == "largest" and op.convention == "convention.maxpool"


def test_maxpool2d_overlapping_windows_add_their_gradients():
    x = np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]])
    op = MAXPOOL2D(size=2, stride=1)  # four windows, the 9 in the top two
    g = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    d = op.array_vjps[0](g, op.array(x), x)
    assert d[0, 0, 0, 1] == 11.0
    assert d.sum() == 1111.0  # the bottom windows send theirs to their first 0


def test_maxpool2d_shape_errors_and_labels():
    with pytest.raises(ShapeMismatch, match=r"pool window \(3×3\) is larger than the input \(2×2\)"):
        MAXPOOL2D(size=3).shape([(1, 1, 2, 2)])
    with pytest.raises(ShapeMismatch, match=r"x must be 4-D"):
        MAXPOOL2D().shape([(4, 4)])
    with pytest.raises(ShapeMismatch, match=r"size must be a positive int or a pair of them, not 0"):
        MAXPOOL2D(size=0)
    assert MAXPOOL2D().template == "maxpool2d({0})"
    assert MAXPOOL2D(size=(2, 3), stride=1).template == "maxpool2d({0}, size=(2, 3), stride=1)"
    assert MAXPOOL2D(size=[2, 3]) is MAXPOOL2D(size=(2, 3))
    assert CALLS["max_pool"] is CALLS["max_pool_forward"] is CALLS["maxpool2d"] is MAXPOOL2D


# --- pad ---------------------------------------------------------------------------------------------

PAD_CASES = [
    ((3, 4), 1, 0),
    ((3, 4), (1, 2), 0),
    ((3, 4), ((0, 1), (2, 0)), 0),
    ((3, 4), ((1,), (2,)), 1.5),
    ((2, 3, 4, 4), ((0, 0), (0, 0), (1, 1), (2, 2)), 0),
    ((5,), ((2, 3),), (-1, 7)),
    ((2, 2, 2), 0, 0),
]


@pytest.mark.parametrize(("shape", "width", "values"), PAD_CASES)
def test_pad_is_numpys_and_its_vjp_cuts_the_padding_off(shape, width, values):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape)
    op = PAD(pad_width=width, constant_values=values)
    out = op.array(x)
    np.testing.assert_array_equal(out, np.pad(x, width, mode="constant", constant_values=values))
    assert out.shape == op.shape([x.shape])
    g = rng.standard_normal(out.shape)
    d = op.array_vjps[0](g, out, x)
    assert d.shape == x.shape
    np.testing.assert_allclose(d, numeric_grad(lambda: float(np.sum(op.array(x) * g)), x), rtol=1e-7)


def test_pad_refuses_other_modes_and_bad_widths():
    with pytest.raises(ShapeMismatch, match=r"^np\.pad mode 'edge' is not supported: only 'constant'$"):
        PAD(pad_width=1, mode="edge")
    with pytest.raises(ShapeMismatch, match=r"np\.pad has no mode 'sideways'"):
        PAD(pad_width=1, mode="sideways")
    with pytest.raises(ShapeMismatch, match="cannot be negative"):
        PAD(pad_width=((0, 0), (-1, 1)))
    with pytest.raises(ShapeMismatch, match="needs pad_width"):
        PAD()
    with pytest.raises(ShapeMismatch, match="pad_width must be a number"):
        PAD(pad_width=1.5)
    with pytest.raises(ShapeMismatch, match=r"does not fit an array of 2 axes"):
        PAD(pad_width=((1, 1), (1, 1), (1, 1))).shape([(3, 4)])
    with pytest.raises(ShapeMismatch, match=r"does not fit an array of 2 axes"):
        PAD(pad_width=(1, 2, 3)).shape([(3, 4)])
    with pytest.raises(ShapeMismatch, match="a scalar has no axis"):
        PAD(pad_width=1).shape([()])


def test_pad_labels():
    assert PAD(pad_width=1).template == "pad({0}, 1)"
    assert PAD(pad_width=((0, 0), (1, 1))).template == "pad({0}, ((0, 0), (1, 1)))"
    assert PAD(pad_width=1, constant_values=2).template == "pad({0}, 1, constant_values=2)"
    assert PAD(pad_width=[[0, 0], [1, 1]]) is PAD(pad_width=((0, 0), (1, 1)))
    assert PAD(pad_width=1).integer and not PAD(pad_width=1, constant_values=0.5).integer
    assert PAD.params[0][0] == "pad_width" and CALLS["pad"] is PAD


# --- facts all three share ----------------------------------------------------------------------------


def test_every_text_the_conv_ops_name_exists():
    from bpcli.texts import Translator

    ops = [CONV2D(stride=2, pad=1), MAXPOOL2D(size=3, stride=1), PAD(pad_width=1)]
    for language in ("en", "zh"):
        texts = Translator(language).messages
        for op in ops:
            assert not op.convention or op.convention in texts, (language, op)
            assert not op.gate or f"steps.gate.{op.gate}" in texts, (language, op)
            assert len(op.local) == op.arity
            for local in op.local:
                local.format(x="x", y="y")  # a label formats it with the inputs' names
    assert "第一个最大元素" in Translator("zh").messages["convention.maxpool"]


def test_a_chain_of_the_three_backpropagates_as_one():
    # pad -> conv (no pad of its own) -> maxpool, against the same with conv's own padding
    rng = np.random.default_rng(8)
    x, w, b = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    padded = PAD(pad_width=((0, 0), (0, 0), (1, 1), (1, 1)))
    conv0, conv1, pool = CONV2D(), CONV2D(pad=1), MAXPOOL2D()
    xp = padded.array(x)
    a = conv0.array(xp, w, b)
    np.testing.assert_allclose(a, conv1.array(x, w, b), rtol=1e-13)
    p = pool.array(a)
    g = rng.standard_normal(p.shape)
    ga = pool.array_vjps[0](g, p, a)
    via_pad = padded.array_vjps[0](conv0.array_vjps[0](ga, a, xp, w, b), xp, x)
    np.testing.assert_allclose(via_pad, conv1.array_vjps[0](ga, a, x, w, b), rtol=1e-13)
