"""bpcli: a backpropagation calculator, for the command line and from Python.

    >>> import bpcli
    >>> bpcli.grad("(x+y)*z", x=-2, y=5, z=-4).grads["z"]
    3.0

The names below are the stable surface (docs/api.md). Importing bpcli loads none of numpy,
Rich or the parser: each is loaded when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bpcli.errors import (
    BindingError,
    BpcliError,
    DomainError,
    InputError,
    ParseError,
    ProgramError,
    ShapeError,
)
from bpcli.version import __version__

if TYPE_CHECKING:
    from bpcli.api import (
        CheckResult,
        ClassResult,
        Edge,
        Node,
        Program,
        Result,
        check,
        check_class,
        compile,
        grad,
    )


__all__ = [
    "BindingError",
    "BpcliError",
    "CheckResult",
    "ClassResult",
    "DomainError",
    "Edge",
    "InputError",
    "Node",
    "ParseError",
    "Program",
    "ProgramError",
    "Result",
    "ShapeError",
    "__version__",
    "check",
    "check_class",
    "compile",
    "grad",
]

_API = frozenset(
    (
        "CheckResult",
        "ClassResult",
        "Edge",
        "Node",
        "Program",
        "Result",
        "check",
        "check_class",
        "compile",
        "grad",
    )
)


def __dir__() -> list[str]:
    """The stable surface, for completion in IPython and Jupyter (the API is loaded lazily)."""
    return sorted(__all__)


def __getattr__(name: str) -> Any:
    """The API's names, loaded on first use (PEP 562), so that `import bpcli` stays cheap."""
    if name in _API:
        from bpcli import api  # (the package's face loads its top layer lazily: tests/test_layers)

        return getattr(api, name)
    raise AttributeError(f"module 'bpcli' has no attribute {name!r}")
