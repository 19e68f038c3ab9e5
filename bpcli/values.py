"""The types of the numbers bpcli computes with: a scalar is a Python float, anything else
a float64 numpy array. numpy is not imported here at run time (see bpcli.lazy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

Array: TypeAlias = "NDArray[numpy.float64]"
Value: TypeAlias = "float | Array"
Mask: TypeAlias = "NDArray[numpy.bool_]"  # elementwise answers to a yes-no question
