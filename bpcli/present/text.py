"""Text within a width: how many columns a string takes (wide CJK characters take two)
and folding a paragraph onto lines at spaces, breaking a word only when it is wider than
the line (a long formula is folded, never cropped)."""

from __future__ import annotations

import unicodedata


def width_of(text: str) -> int:
    """The columns `text` takes on a terminal."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


def _char_width(c: str) -> int:
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in "WF" else 1


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` columns, on the left when `right`."""
    gap = " " * max(width - width_of(text), 0)
    return gap + text if right else text + gap


def fold(text: str, width: int, indent: str = "") -> list[str]:
    """`text`'s lines, each folded to at most `width` columns at spaces; a word wider than
    that is broken where it reaches the edge. The lines a line is folded onto start with
    `indent` (a hanging indent)."""
    width = max(width, width_of(indent) + 1)
    out: list[str] = []
    for paragraph in text.split("\n"):
        body = paragraph.lstrip(" ")
        line = paragraph[: len(paragraph) - len(body)]  # its own indent, kept
        paragraph = body
        fresh = True  # nothing of this paragraph written yet
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line.strip() else line + word if fresh else indent + word
            if width_of(candidate) <= width or (not line and not word):
                line = candidate
                continue
            if line.strip():
                out.append(line)
                fresh = False
                candidate = indent + word
            while width_of(candidate) > width:  # a word wider than the line: break it
                head, rest = _split_at(candidate, width)
                out.append(head)
                fresh = False
                candidate = indent + rest
            line = candidate
        out.append(line.rstrip() if not fresh or line.strip() else line)
    return out


def _split_at(text: str, width: int) -> tuple[str, str]:
    """`text` cut where it reaches `width` columns."""
    if text.isascii():
        return text[:width], text[width:]
    used = 0
    for i, c in enumerate(text):
        used += _char_width(c)
        if used > width:
            return text[:i], text[i:]
    return text, ""
