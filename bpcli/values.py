"""The types of the numbers bpcli computes with: a scalar is a Python float, anything else
a float64 numpy array. numpy is not imported here at run time (see bpcli.lazy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

Array: TypeAlias = "NDArray[numpy.float64]"
Value: TypeAlias = "float | Array"
Mask: TypeAlias = "NDArray[numpy.bool_]"  # elementwise answers to a yes-no question
# A JSON object binding (conv_param={"stride": 2, "pad": 1}): str keys; values int, float,
# str, bool, None, float arrays, or such dicts (bpcli.language.objects)
Params: TypeAlias = "dict[str, Any]"
