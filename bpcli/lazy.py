"""numpy, imported on first use, so that scalar problems start fast."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bpcli.values import Value


class LazyModule:
    """A stand-in for a module that imports it on the first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:  # (whatever the module holds)
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        value = getattr(module, attr)
        setattr(self, attr, value)  # found directly from now on, without this call
        return value


if TYPE_CHECKING:  # the type checker sees numpy itself
    import numpy as np
else:
    np = LazyModule("numpy")


def all_finite(array: Value) -> bool:
    """Whether every element of a float array (or a float) is finite. A finite sum has no inf
    nor nan in it: one pass, numpy's own (a dot product went to BLAS, whose threads stall
    each other on a busy machine); only when the sum itself overflows is every element
    looked at."""
    flat = np.ravel(array)
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(flat)
    return bool(np.isfinite(total)) or bool(np.isfinite(flat).all())


class LazyPattern:
    """A regular expression compiled on first use (compiling costs start-up its time even
    when the pattern is never needed): LazyPattern(r"…").fullmatch(text)."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags

    def __getattr__(self, attr: str) -> Any:  # (a compiled pattern's methods)
        import re

        compiled = re.compile(self._pattern, self._flags)
        value = getattr(compiled, attr)
        setattr(self, attr, value)
        return value
