"""The softmax family: ops that mix the elements along the last axis of an array.

softmax and logsoftmax, each stable at any shift of its input (softmax(x + 1000) is
softmax(x)). The elementwise activations (sigmoid, relu) are in `elementwise`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpcli.core.ops.reduce import as_array, logsumexp, max_shifted, softmax
from bpcli.core.ops.registry import OPS, Split, defop, same_shape
from bpcli.lazy import np

if TYPE_CHECKING:
    from bpcli.core.graph import Node
    from bpcli.core.ops.registry import Maker
    from bpcli.values import Array, Value


def _softmax_vjp(g: Array, ans: Array, x: Value) -> Array:
    result: Array = ans * (g - (g * ans).sum(axis=-1, keepdims=True))
    return result


def _softmax_expanded(make: Maker, x: Node) -> Node:
    # exp(x - max) / sum(exp(x - max)), along the last axis
    z = make("exp", max_shifted(make, x))
    return make("div", z, make.family("sum", z, axis=-1, keepdims=True))


def _logsoftmax_expanded(make: Maker, x: Node) -> Node:
    # (x - max) - log(sum(exp(x - max))), along the last axis
    z = max_shifted(make, x)
    return make("sub", z, make("log", make.family("sum", make("exp", z), axis=-1, keepdims=True)))


# On a float (a row of one element) softmax is 1 and logsoftmax 0, with gradient 0.
SOFTMAX = defop(
    "softmax",
    arity=1,
    forward=Split(lambda x: 1.0, softmax),
    vjp=(Split(lambda g, ans, x: 0.0, _softmax_vjp),),
    local=("s·(g - sum(g·s)) with s = softmax({x})",),
    shape=same_shape,
    callable_as=("softmax",),
    expansion=_softmax_expanded,
)
defop(
    "logsoftmax",
    arity=1,
    forward=Split(lambda x: 0.0, lambda x: as_array(x) - np.expand_dims(logsumexp(x), -1)),
    vjp=(
        Split(lambda g, ans, x: 0.0, lambda g, ans, x: g - np.exp(ans) * np.sum(g, axis=-1, keepdims=True)),
    ),
    local=("g - softmax({x})·sum(g)",),
    shape=same_shape,
    callable_as=("logsoftmax", "log_softmax"),
    fuses=(OPS["log"], SOFTMAX),
    expansion=_logsoftmax_expanded,
)
