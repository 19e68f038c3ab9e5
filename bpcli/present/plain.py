"""What a Rich console prints for bpcli's tables and texts, written without Rich's layout
engine, for outputs without colour where nothing needs wrapping (`batch --format table`).

Rich measures and wraps every cell as a paragraph of words: about 14 ms for a sigmoid
neuron's table, the whole cost of a batch problem. When no line is wider than the console
and no character needs Rich's care (control characters, tabs), a table is just its columns
padded to their widest line. `render` gives exactly Rich's characters then, and None
otherwise (the caller prints with Rich); tests/test_plain.py compares the two.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from bpcli.present import Styled, as_printed
from bpcli.present import safe as _safe


def render(parts: Sequence[RenderableType], console: Console) -> str | None:
    """What `console.print(part)` for each part writes, or None where it could differ.
    Parts: str, a Text or Styled lines (uncoloured here), or a Table as `present.table`
    makes them."""
    if console.color_system is not None or console.options.ascii_only:
        return None
    width = console.width
    out: list[str] = []
    for part in parts:
        if isinstance(part, Table):
            lines = _table(part, width)
        elif isinstance(part, str | Text | Styled):
            lines = as_printed(part if isinstance(part, str) else part.plain, width)
        else:
            return None
        if lines is None:
            return None
        out += lines
    return "\n".join(out) + "\n" if out else ""


def _table(table: Table, width: int) -> list[str] | None:
    if (
        table.box is not box.HEAVY_HEAD
        or not table.show_header
        or table.show_footer
        or table.show_lines
        or table.expand
        or not table.show_edge
        or not table.pad_edge
        or table.padding != (0, 1, 0, 1)
        or table.title
        or table.caption
        or table.width
        or table.min_width
        or table.row_styles
        or table.leading
        or (table.rows and any(row.style for row in table.rows))
    ):
        return None
    columns = []  # (justify, [header lines], [[cell lines] per row]), width
    for column in table.columns:
        if (
            column.justify not in ("left", "right")
            or column.width
            or column.min_width
            or column.max_width
            or column.ratio
            or column.no_wrap
        ):
            return None
        cells = []
        for cell in [column.header, *column.cells]:
            if isinstance(cell, Text):
                if cell.spans:
                    return None
                cell = cell.plain
            if not isinstance(cell, str) or not _safe(cell):
                return None
            cells.append(cell.split("\n"))
        widest = max(cell_len(line) for lines in cells for line in lines)
        columns.append((column.justify, cells, widest))
    if not columns:
        return None
    if sum(w for *_, w in columns) + 3 * len(columns) + 1 > width:
        return None  # Rich would wrap or shrink columns
    widths = [w for *_, w in columns]
    out = ["┏" + "┳".join("━" * (w + 2) for w in widths) + "┓"]
    rows = len(columns[0][1])
    for index in range(rows):
        height = max(len(cells[index]) for _, cells, _ in columns)
        edge = "┃" if index == 0 else "│"
        for at in range(height):
            pieces = []
            for justify, cells, w in columns:
                lines = cells[index]
                line = lines[at] if at < len(lines) else ""
                if justify == "right":
                    line = line.rstrip()
                    pieces.append(" " * (w - cell_len(line)) + line)
                else:
                    pieces.append(line + " " * (w - cell_len(line)))
            out.append(edge + edge.join(f" {p} " for p in pieces) + edge)
        if index == 0:
            out.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
        elif index < rows - 1 and table.rows[index - 1].end_section:  # (a heading row follows)
            out.append("├" + "┼".join("─" * (w + 2) for w in widths) + "┤")
    out.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return out
