"""The op registry, one module per family: importing this package registers every op.

registry.py holds the `Op` fact sheet and `defop`; each family module registers its ops.
A new family is a new module here and one import below.
"""

from bpcli.core.ops import conv, elementwise, linalg, nn, reduce  # noqa: F401 (registers the ops)
from bpcli.core.ops.registry import (
    CONST,
    FUNCTIONS,
    FUSED,
    INPUT,
    OPS,
    P_ADD,
    P_ATOM,
    P_MUL,
    P_NEG,
    P_POW,
    REDUCTIONS,
    Op,
    ShapeMismatch,
    Split,
    broadcast_shape,
    defop,
    reduced_shape,
    same_shape,
    unbroadcast,
)

__all__ = [
    "CONST",
    "FUNCTIONS",
    "FUSED",
    "INPUT",
    "OPS",
    "P_ADD",
    "P_ATOM",
    "P_MUL",
    "P_NEG",
    "P_POW",
    "REDUCTIONS",
    "Op",
    "ShapeMismatch",
    "Split",
    "broadcast_shape",
    "defop",
    "reduced_shape",
    "same_shape",
    "unbroadcast",
]
