"""A pure-Python check of the LaTeX that `--format latex` writes, for machines without TeX.

It does not typeset anything. It reads the text the way LaTeX's first pass would and checks
what makes a document with bpcli's fragment fail to compile or come out wrong: braces and
environments balanced, `$` paired on each line, every `tabular` row with as many cells as
its column spec and ended by `\\\\`, every `align*` row aligned at its relation (and maybe a
note after `&&`) with no `\\\\` after the last, LaTeX's special characters escaped where they
are text, and nothing but ASCII outside comments.

It reads the text as LaTeX does, not line by line: a line that starts with spaces continues
the line before it (LaTeX reads the line break as a space and skips the spaces that start a
line), and a line that ends with a comment's % runs on into the next with no space at all.
So bpcli may fold its lines to 80 columns, and the rules are checked on what LaTeX reads.
"""

from __future__ import annotations

import re

# A control sequence (\name, or \ and one character), a comment, or one character.
_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|%[^\n]*|[\s\S]")
# Characters that are not text in LaTeX: in text they must come escaped (\# \_ ...).
_SPECIAL_IN_TEXT = set("#_^~")
_ENVIRONMENTS = {"tabular", "align*"}
_TEXT_COMMANDS = {"\\text", "\\texttt", "\\textbf", "\\textit", "\\mbox"}


class LatexError(AssertionError):
    """The fragment would not compile, or would not come out as meant."""


def check_latex(text: str) -> None:
    """Raise LatexError, naming the line, where `text` breaks one of the rules above."""
    environments: list[tuple[str, int]] = []
    rows: list[str] = []  # the lines of the environment being read
    for number, line in _logical_lines(text):
        tokens = _TOKEN.findall(line)
        in_math = bool(environments) and environments[-1][0] == "align*"
        _check_line(tokens, number, in_math)
        begin = re.fullmatch(r"\\begin\{([^}]*)\}(\{[^}]*\})?", line)
        end = re.fullmatch(r"\\end\{([^}]*)\}", line)
        if begin:
            name = begin.group(1)
            if name not in _ENVIRONMENTS:
                raise LatexError(f"line {number}: an environment bpcli does not write: {name}")
            if environments:
                raise LatexError(f"line {number}: {name} inside {environments[-1][0]}")
            if name == "tabular" and not begin.group(2):
                raise LatexError(f"line {number}: a tabular without its column spec")
            environments.append((name, number))
            rows = [begin.group(2) or ""]
        elif end:
            if not environments or environments[-1][0] != end.group(1):
                raise LatexError(f"line {number}: \\end{{{end.group(1)}}} closes nothing open")
            name, start = environments.pop()
            if name == "tabular":
                _check_tabular(rows[0], rows[1:], start)
            else:
                _check_align(rows[1:], start)
        elif environments:
            rows.append(line)
        elif "&" in tokens or _row_end(line):
            raise LatexError(f"line {number}: a cell or a row end outside any environment")
    if environments:
        name, start = environments[-1]
        raise LatexError(f"line {start}: {name} is never closed")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(number of its first line, text) for each line as LaTeX reads it: a line that starts
    with a space is one with the line before it, joined by a space, or by nothing where that
    line ends with an empty comment (%). A comment's own further lines start with "%" and
    spaces."""
    joined: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if joined and line.startswith(" ") and line.strip() and not joined[-1][1].startswith("%"):
            first, before = joined[-1]
            tail = re.search(r"(\\*)%$", before)
            if tail and len(tail.group(1)) % 2 == 0:
                joined[-1] = (first, before[:-1] + line.lstrip())
            else:
                joined[-1] = (first, before + " " + line.lstrip())
        elif joined and line.startswith("%  ") and joined[-1][1].startswith("%"):
            first, before = joined[-1]
            joined[-1] = (first, before + " " + line[1:].lstrip())
        else:
            joined.append((number, line))
    return joined


def _check_line(tokens: list[str], number: int, in_math: bool) -> None:
    """Braces close on the line they open on, `$` pairs up, specials in text are escaped,
    and a comment is a whole line (a % inside one would hide the rest of it)."""
    math = [in_math]  # per open brace: whether its group is math (\\text{…} is text again)
    text_group_next = False
    for i, token in enumerate(tokens):
        if token.startswith("%"):
            if any(not t.isspace() for t in tokens[:i]):
                raise LatexError(f"line {number}: an unescaped '%' hides the rest of the line")
            return
        if token in _TEXT_COMMANDS:
            text_group_next = True
            continue
        if token == "{":
            math.append(False if text_group_next else math[-1])
        elif token == "}":
            if len(math) == 1:
                raise LatexError(f"line {number}: a '}}' that closes nothing")
            math.pop()
        elif token == "$":
            math[-1] = not math[-1]
        elif token == "#" or (token in _SPECIAL_IN_TEXT and not math[-1]):
            raise LatexError(f"line {number}: an unescaped {token!r}")
        elif token == "\\":
            raise LatexError(f"line {number}: a lone backslash at the end of the line")
        elif not token.isascii():
            raise LatexError(f"line {number}: {token!r}, which a stock LaTeX cannot set")
        text_group_next = text_group_next and token.isspace()
    if len(math) > 1:
        raise LatexError(f"line {number}: {len(math) - 1} '{{' never closed")
    if math[0] != in_math:
        raise LatexError(f"line {number}: a '$' never closed")


def _cells(line: str) -> int:
    """How many cells a row has: its alignment '&'s at brace depth 0, plus one."""
    depth, count = 0, 1
    for token in _TOKEN.findall(line):
        depth += (token == "{") - (token == "}")
        count += token == "&" and depth == 0
    return count


def _row_end(line: str) -> bool:
    """Whether the line ends with LaTeX's row end, \\\\ (not an escaped backslash)."""
    tokens = _TOKEN.findall(line.rstrip())
    return bool(tokens) and tokens[-1] == "\\\\"


def _check_tabular(spec: str, rows: list[str], start: int) -> None:
    columns = len(re.findall(r"[lrc]|p\{[^}]*\}", spec[1:-1]))
    if not columns or re.sub(r"[lrc|]|p\{[^}]*\}", "", spec[1:-1]):
        raise LatexError(f"line {start}: a column spec LaTeX does not know: {spec}")
    for offset, row in enumerate(rows, start=1):
        if row.strip() in ("\\hline", ""):
            continue
        where = f"line {start + offset}"
        if _cells(row) != columns:
            raise LatexError(f"{where}: {_cells(row)} cells in a tabular of {columns} columns")
        if not _row_end(row):
            raise LatexError(f"{where}: a tabular row that does not end with \\\\")


def _check_align(rows: list[str], start: int) -> None:
    for offset, row in enumerate(rows, start=1):
        if not row.strip():  # amsmath: "Paragraph ended before \\align* was complete"
            raise LatexError(f"line {start + offset}: a blank line inside align*")
    if not rows:
        raise LatexError(f"line {start}: an empty align*")
    for offset, row in enumerate(rows, start=1):
        if _cells(row) not in (2, 4):  # left &= right, and maybe && \text{a note}
            raise LatexError(f"line {start + offset}: an align* row of {_cells(row)} cells, not 2 or 4")
    for offset, row in enumerate(rows[:-1], start=1):
        if not _row_end(row):
            raise LatexError(f"line {start + offset}: an align* row that does not end with \\\\")
    if _row_end(rows[-1]):
        raise LatexError(f"line {start + len(rows)}: \\\\ after the last row of align* (an empty line)")
