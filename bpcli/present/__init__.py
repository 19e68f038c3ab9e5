"""Presenters: pure functions from a computed graph to text, one module per format."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

GRAD_FORMATS = ("table", "json", "steps", "tree", "dot", "markdown", "latex", "csv", "html")
PICTURES = (".svg", ".png", ".pdf")  # --output files that Graphviz draws

NOTEBOOK_PRE = (
    "<pre style=\"font-family: ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace;"
    ' line-height: 1.25; background: transparent">{code}</pre>'
)

# What a presenter hands the CLI to write: text, text in pieces (big JSON, written as it is
# made), or a Rich renderable.
Part: TypeAlias = "str | Iterator[str] | RenderableType"


def write_parts(parts: Sequence[Part], stream: IO[str], console: Console | None = None) -> None:
    """Write a presenter's parts to `stream`: text as it is, Rich renderables as a console
    for that stream prints them (without Rich's layout engine where it can)."""
    for part in parts:
        if isinstance(part, str):
            stream.write(part)
        elif isinstance(part, Iterator):
            for piece in part:
                stream.write(piece)
        else:
            from bpcli.present.plain import render
            from bpcli.streams import make_console

            console = console or make_console(stream)
            text = render([part], console)  # Rich's characters without its layout engine
            if text is None:
                console.print(part)
            else:
                stream.write(text)


def plain_console(stream: IO[str], width: int) -> Console:
    """A Rich console for text into a file or a string: no colour whatever the environment
    asks, `width` columns."""
    from rich.console import Console

    return Console(
        file=stream,
        width=width,
        color_system=None,
        force_terminal=False,
        no_color=True,
        highlight=False,
        emoji=False,
        markup=False,
    )


def parts_html(parts: Sequence[Part], width: int) -> str:
    """A presenter's parts as a notebook shows them: what a colour terminal `width` columns
    wide prints, Rich's colours inline, in one <pre>."""
    import io

    from rich.console import Console
    from rich.text import Text

    console = Console(
        file=io.StringIO(),
        width=width,
        record=True,
        color_system="truecolor",
        force_terminal=True,
        force_jupyter=False,
        highlight=False,
        emoji=False,
        markup=False,
    )
    for part in parts:
        pieces = [part] if isinstance(part, str) else part if isinstance(part, Iterator) else None
        if pieces is None:
            console.print(part)
        else:
            for piece in pieces:
                console.print(Text(piece), end="", soft_wrap=True)
    return console.export_html(inline_styles=True, code_format=NOTEBOOK_PRE)
