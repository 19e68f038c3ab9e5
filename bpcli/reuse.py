"""Programs that differ only in their numbers share one graph.

A batch of problems is often one program at many points: `w0=2; x0=-1; …; f = …` on every
line with other numbers. Parsing is most of the cost of a small problem, so the graph of
the first such line is kept and, for the next, only the numbers are put in. The key is the
program with each number replaced by a placeholder (the skeleton), plus the bound names;
the numbers are found with the lexer's own NUMBER pattern, and a skeleton is only kept when
the parser's numbers match them one for one. Any error is reported from a fresh parse, so
its message and position are exactly those of the problem as written.
"""

from __future__ import annotations

import re
from typing import Any

from bpcli import _tables
from bpcli.builder import output_text
from bpcli.errors import BpcliError
from bpcli.graph import Graph

_NUMBER = re.sub(r"\((?!\?)", "(?:", dict(_tables.LEXER)["NUMBER"])  # no groups of its own
# A number starts where no name or number goes on (w0 is a name; x.5 is not reused).
_SPLIT = re.compile(rf"((?<![\w.]){_NUMBER})")
_COMMENT = re.compile(dict(_tables.LEXER)["COMMENT"])  # numbers in comments are not the program's
PLACEHOLDER = "\x00"  # never valid in a program; a text that has one is never reused
MAX_TEMPLATES = 256


def skeleton(text: str) -> tuple[str, list[str]]:
    """The text without comments, its numbers replaced by PLACEHOLDER; and the numbers."""
    parts = _SPLIT.split(_COMMENT.sub("", text) if "#" in text else text)
    return PLACEHOLDER.join(parts[0::2]), parts[1::2]


class Template:
    """A built graph, and what is needed to give it another problem's numbers."""

    __slots__ = ("graph", "numbers_before_output", "output_skeleton")

    def __init__(self, graph: Graph, skeleton_text: str, text: str) -> None:
        self.graph = graph
        self.output_skeleton: str | None = None
        self.numbers_before_output = 0
        if not graph.output.name:  # the output is an expression as written: keep its place
            start, end = graph.output_span
            head = skeleton(text[:start])[0]
            self.numbers_before_output = head.count(PLACEHOLDER)
            self.output_skeleton = skeleton_text[len(head):len(skeleton(text[:end])[0])]

    def apply(self, source: str, numbers: list[str], bindings: dict[str, Any]) -> Graph:
        graph = self.graph
        for (node, sign), text in zip(graph.numbers or (), numbers, strict=True):
            if node is not None:
                node.value = sign * float(text)
        graph.rebind(bindings)
        graph.source = source
        if self.output_skeleton is not None:
            parts = self.output_skeleton.split(PLACEHOLDER)
            mine = numbers[self.numbers_before_output:]
            written = parts[0] + "".join(n + p for n, p in zip(mine, parts[1:], strict=False))
            graph.output_text = output_text(written, 0, len(written))
        return graph


class ProgramCache:
    """Parse-and-run with graphs kept per skeleton and set of bound names."""

    def __init__(self, size: int = MAX_TEMPLATES) -> None:
        self.size = size
        self.templates: dict[tuple[str, frozenset[str]], Template | None] = {}
        self.last: tuple[str, str, list[str]] = ("", "", [])  # --program: the same text each time

    def run(self, source: str, bindings: dict[str, Any], tidy: Any = None) -> Graph:
        """The computed graph of `source`; `tidy(graph)` adjusts a freshly built one's
        warnings before it is kept."""
        from bpcli.engine import run
        from bpcli.parse import TYPOS, parse

        if PLACEHOLDER in source:  # not a program; and its skeleton could pass for another's
            graph = parse(source, bindings)
            if tidy is not None:
                tidy(graph)
            return run(graph)
        if source is self.last[0]:
            text, (shape, numbers) = source, self.last[1:]
        else:
            text = source.translate(TYPOS)
            shape, numbers = skeleton(text)
            self.last = (source, shape, numbers)
        key = (shape, frozenset(bindings))
        template = self.templates.get(key)
        if template is not None:
            graph = template.apply(source, numbers, bindings)
            try:
                return run(graph)
            except BpcliError:
                pass  # say it from a fresh parse, with this problem's own positions
        graph = parse(source, bindings)
        if tidy is not None:
            tidy(graph)
        if key not in self.templates:
            if len(self.templates) >= self.size:
                self.templates.clear()
            self.templates[key] = self._template(graph, shape, text, numbers, bindings)
            if self.templates[key] is not None:
                graph.base_warnings = list(graph.warnings)
        return run(graph)

    @staticmethod
    def _template(graph: Graph, shape: str, text: str, numbers: list[str],
                  bindings: dict[str, Any]) -> Template | None:
        """A template of this graph, if the parser's numbers are exactly the skeleton's."""
        found = graph.numbers
        if found is None or len(found) != len(numbers):
            return None
        for (node, sign), written in zip(found, numbers, strict=True):
            if node is None or (node.op.name == "input" and node.name in bindings):
                continue
            if node.value != sign * float(written):
                return None
        return Template(graph, shape, text)
