"""Errors the core raises, and the exit codes the command line turns them into.

The core never prints and never exits: it raises a `BpcliError` carrying the
message, the source text and the offset it points at. `bpcli.cli` is the one
place that turns it into ``error: …`` on stderr.
"""

from __future__ import annotations

from bpcli.cells import cell, cells

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_FAILED = 1  # wrong answers (check) or failed problems (batch)
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3  # a bug in bpcli
EXIT_INTERRUPTED = 130


class BpcliError(Exception):
    """A problem with the user's input: shown as ``error: …``, exit 2."""

    point: int | None = None  # bpcli.Program.grad_many: the index of the point it failed at

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        pos: int | None = None,
        hint: str | None = None,
        node: int | None = None,
        label: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.pos = pos
        self.hint = hint
        # the graph node it happened at (its id, as in --format json, and its label), when
        # the error belongs to one: a forward or backward failure, a shape that does not fit
        self.node = node
        self.label = label

    @property
    def line(self) -> int | None:
        """The 1-based line of `pos` in `source`, when the error points into the program."""
        if self.source is None or self.pos is None:
            return None
        return self.source.count("\n", 0, max(0, min(self.pos, len(self.source)))) + 1

    @property
    def column(self) -> int | None:
        """The 1-based column of `pos` on its line (in characters)."""
        if self.source is None or self.pos is None:
            return None
        pos = max(0, min(self.pos, len(self.source)))
        return pos - (self.source.rfind("\n", 0, pos) + 1) + 1

    def __str__(self) -> str:
        parts = [self.message]
        if self.source is not None and self.pos is not None:
            parts.append(source_context(self.source, self.pos))
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)

    def lines(self, columns: int) -> tuple[str, list[str], str]:
        """The message, the source line and its caret (a window at most `columns` wide), and
        the hint: for a person at a terminal, who folds the words to the width."""
        context = []
        if self.source is not None and self.pos is not None:
            context = source_context(self.source, self.pos, columns=columns).split("\n")
        return self.message, context, self.hint or ""


class ParseError(BpcliError):
    """The program text is not valid bpcli syntax."""

    # the program rewritten as the hint suggests, when the hint suggests a rewrite (it
    # parses: such a hint is offered only when its rewrite does)
    fix: str | None = None


class ProgramError(BpcliError):
    """The program is well formed but means nothing: an unknown function, a name with no value, …"""


class BindingError(BpcliError):
    """A NAME=VALUE binding on the command line (or in a batch record) is malformed."""


class DomainError(BpcliError):
    """A node's input is outside its function's domain (log of 0, 1/0, overflow, …)."""


class ShapeError(BpcliError):
    """Array shapes do not fit an operation."""


class InputError(BpcliError):
    """A file or stream could not be read."""


def source_context(source: str, pos: int, width: int = 1, columns: int | None = None) -> str:
    """The source line containing offset `pos`, with a caret under it; a long line as a
    window around the caret, at most `columns` wide on a terminal (CJK counts 2) when given,
    else 100 characters."""
    pos = max(0, min(pos, len(source)))
    line_start = source.rfind("\n", 0, pos) + 1
    line_end = source.find("\n", pos)
    if line_end == -1:
        line_end = len(source)
    line_no = source.count("\n", 0, pos) + 1
    column = pos - line_start
    # Control characters (C0, C1, U+2028/9) would garble the terminal: show each as "?".
    line = "".join(
        c if (c >= " " and not "\x7f" <= c <= "\x9f" and c not in "\u2028\u2029") or c == "\t" else "?"
        for c in source[line_start:line_end]
    )
    if columns is not None:
        return _windowed(line, line_no, column, width, columns)
    # Keep very long lines readable: show a window around the caret.
    if len(line) > 100:
        left = max(0, column - 50)
        prefix = "…" if left else ""
        shown = line[left : left + 100]
        suffix = "…" if left + 100 < len(line) else ""
        caret_col = column - left + len(prefix)
        line = prefix + shown + suffix
    else:
        caret_col = column
    caret = " " * caret_col + "^" * max(1, min(width, len(line) - caret_col))
    return f"  line {line_no}, column {column + 1}:\n    {line}\n    {caret}"


def _windowed(line: str, line_no: int, column: int, width: int, columns: int) -> str:
    """The source line and its caret within `columns` (after their indent of 4): the line
    whole when it fits, else the part around the caret, a third of the room before it."""
    room = max(columns - 4, 20)
    line = line.replace("\t", " ")
    if cells(line) > room:
        start = column
        used = 0
        while start > 0 and used + cell(line[start - 1]) <= room // 3:
            start -= 1
            used += cell(line[start])
        end = start
        used = 1 if start else 0  # (the … before it)
        while end < len(line) and used + cell(line[end]) <= room - 1:
            used += cell(line[end])
            end += 1
        prefix, suffix = ("…" if start else ""), ("…" if end < len(line) else "")
        shown = prefix + line[start:end] + suffix
        at = cells(prefix + line[start:column])
    else:
        shown, at = line, cells(line[:column])
    caret = " " * at + "^" * max(1, min(width, cells(shown) - at))
    return f"  line {line_no}, column {column + 1}:\n    {shown}\n    {caret}"
