"""Presenters: pure functions from a computed graph to text, one module per format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from rich.console import RenderableType

GRAD_FORMATS = ("table", "json", "steps", "tree", "dot", "markdown", "latex", "csv")
PICTURES = (".svg", ".png", ".pdf")  # --output files that Graphviz draws

# What a presenter hands the CLI to write: text, text in pieces (big JSON, written as it is
# made), or a Rich renderable.
Part: TypeAlias = "str | Iterator[str] | RenderableType"
