"""Errors the core raises, and the exit codes the command line turns them into.

The core never prints and never exits: it raises a `BpcliError` carrying the
message, the source text and the offset it points at. `bpcli.cli` is the one
place that turns it into ``error: …`` on stderr.
"""

from __future__ import annotations

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_FAILED = 1  # wrong answers (check) or failed problems (batch)
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3  # a bug in bpcli
EXIT_INTERRUPTED = 130


class BpcliError(Exception):
    """A problem with the user's input: shown as ``error: …``, exit 2."""

    def __init__(
        self, message: str, *, source: str | None = None, pos: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.pos = pos
        self.hint = hint

    def __str__(self) -> str:
        parts = [self.message]
        if self.source is not None and self.pos is not None:
            parts.append(source_context(self.source, self.pos))
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


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


def source_context(source: str, pos: int, width: int = 1) -> str:
    """The source line containing offset `pos`, with a caret under it."""
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
