"""The op registry, one module per family: importing this package registers the lecture's
ops; `load_all()` registers numpy's array ops too (indexing, shapes, axes, conv).

registry.py holds the `Op` fact sheet and `defop`; each family module registers its ops.
A new family is a new module here and one import below. numpy's array ops are imported on
first use, by the language's numpy calls: a lecture program never pays for them at start-up.
"""

from bpcli.core.ops import elementwise, linalg, nn, reduce  # noqa: F401 (registers the ops)
from bpcli.core.ops.registry import (
    CALLS,
    CONST,
    FAMILIES,
    FUNCTIONS,
    FUSED,
    INPUT,
    METHODS,
    OPS,
    P_ADD,
    P_ATOM,
    P_MUL,
    P_NEG,
    P_POW,
    REDUCTIONS,
    REQUIRED,
    Family,
    Op,
    ShapeMismatch,
    Split,
    broadcast_shape,
    defop,
    reduced_shape,
    same_shape,
    unbroadcast,
)


def load_all() -> None:
    """Register numpy's array ops as well (once; the lecture's are always registered)."""
    from bpcli.core.ops import arrays, axes, conv  # noqa: F401 (registers the ops)


__all__ = [
    "CALLS",
    "CONST",
    "FAMILIES",
    "FUNCTIONS",
    "FUSED",
    "INPUT",
    "METHODS",
    "OPS",
    "P_ADD",
    "P_ATOM",
    "P_MUL",
    "P_NEG",
    "P_POW",
    "REDUCTIONS",
    "REQUIRED",
    "Family",
    "Op",
    "ShapeMismatch",
    "Split",
    "broadcast_shape",
    "defop",
    "load_all",
    "reduced_shape",
    "same_shape",
    "unbroadcast",
]
