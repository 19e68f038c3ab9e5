"""Presenters: pure functions from a computed graph to text, one module per format."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

GRAD_FORMATS = ("table", "json", "steps", "tree", "dot", "markdown", "latex", "csv", "html")
PICTURES = (".svg", ".png", ".pdf")  # --output files that Graphviz draws

NOTEBOOK_PRE = (
    "<pre style=\"font-family: ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace;"
    ' line-height: 1.25; background: transparent">{code}</pre>'
)

# What a presenter hands the CLI to write: text, text in pieces (big JSON, written as it is
# made), lines with colours (Styled), or a Rich renderable.
Part: TypeAlias = "str | Iterator[str] | Styled | RenderableType"
# A line of text and the (start, end, style) spans to colour it with.
Line: TypeAlias = "tuple[str, list[tuple[int, int, str]]]"

# Characters Rich removes or expands (control codes, tabs): such a text is left to Rich.
UNSAFE = frozenset(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]) - {"\n"}
# Characters beyond ASCII that Rich counts one column wide, as bpcli's tables draw them (a
# test checks each): a line of these and ASCII is as wide as it is long.
ONE_COLUMN = {ord(c): None for c in "─│┼┴…‖·×∂▸—σ→"}


class Styled:
    """Lines of text with the spans to colour them with: printed by Rich as the Text they
    stand for (__rich__), or written as they are where Rich would show no colour (see
    write_parts), without importing Rich at all."""

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines

    @property
    def plain(self) -> str:
        return "\n".join(line for line, _ in self.lines)

    def __rich__(self) -> Text:
        from rich.text import Text

        text = Text(no_wrap=True, overflow="ignore")
        last = len(self.lines) - 1
        for k, (line, spans) in enumerate(self.lines):
            start = len(text)
            text.append(line + ("\n" if k < last else ""))
            for a, b, style in spans:
                text.stylize(style, start + a, start + b)
        return text


def safe(text: str) -> bool:
    """Whether Rich prints the text as it is (no control character nor tab in it)."""
    return (text.isascii() and text.isprintable()) or not UNSAFE.intersection(text)


def columns(line: str) -> int:
    """The columns Rich gives a line (rich.cells.cell_len), imported only for characters it
    may count otherwise than one each."""
    if line.isascii() or line.translate(ONE_COLUMN).isascii():
        return len(line)
    from rich.cells import cell_len

    return cell_len(line)


def as_printed(text: str, width: int) -> list[str] | None:
    """The lines a console of `width` columns without colour prints for the text, or None
    where Rich could print it otherwise (a control character, a line too wide)."""
    if not safe(text):
        return None
    lines = text.split("\n")
    if any(columns(line) > width for line in lines):
        return None
    return lines


def write_parts(parts: Sequence[Part], stream: IO[str], console: Console | None = None) -> None:
    """Write a presenter's parts to `stream`: text as it is, Rich renderables as a console
    for that stream prints them (without Rich's layout engine where it can; lines with
    colours where Rich would show none, without Rich)."""
    bare: bool | None = None  # whether Rich would print to the stream without colour
    for part in parts:
        if isinstance(part, str):
            stream.write(part)
        elif isinstance(part, Iterator):
            for piece in part:
                stream.write(piece)
        else:
            if console is None and isinstance(part, Styled):
                from bpcli.streams import colourless, screen_width

                if bare is None:
                    bare = colourless(stream)
                lines = as_printed(part.plain, screen_width(None)) if bare else None
                if lines is not None:  # what make_console(stream) would print
                    stream.write("\n".join(lines) + "\n")
                    continue
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
