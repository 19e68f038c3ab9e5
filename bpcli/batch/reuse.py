"""Programs that differ only in their numbers share one graph's nodes.

A batch of problems is often one program at many points: `w0=2; x0=-1; …; f = …` on every
line with other numbers. Parsing is most of the cost of a small problem, so the graph of
such a line is kept (with --program the first, else the second: a line of its own shape
is usually the only one) and the next gets a graph of its own that shares its nodes, with
only the numbers put in (the kept graph never changes: it holds no results). The key is the
program with each number replaced by a placeholder (the skeleton), plus the bound names
(and the rank and type of each bound array);
the numbers are found with the lexer's own NUMBER pattern, and a skeleton is only kept when
the parser's numbers match them one for one. Any error is reported from a fresh parse, so
its message and position are exactly those of the problem as written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Literal, cast

from bpcli.core.compiled import Evaluate, compile_graph
from bpcli.core.engine import run
from bpcli.core.graph import Graph
from bpcli.core.ops import INPUT
from bpcli.core.run import Run
from bpcli.errors import BpcliError
from bpcli.language import _tables
from bpcli.language.builder import COMMENT, output_text
from bpcli.language.parse import parse
from bpcli.lazy import np
from bpcli.limits import MAX_ELEMENTS, tiny_number_problem
from bpcli.values import Params, Value

_NUMBER = re.sub(r"\((?!\?)", "(?:", dict(_tables.LEXER)["NUMBER"])  # no groups of its own
# A number starts where no name or number goes on (w0 is a name; x.5 is not reused).
_SPLIT = re.compile(rf"((?<![\w.]){_NUMBER})")
PLACEHOLDER = "\x00"  # never valid in a program; a text that has one is never reused
MAX_TEMPLATES = 256
SEEN = 4 * MAX_TEMPLATES  # keys seen once, at most, remembered (see ProgramCache.first_sight)


def _key(shape: str, bindings: dict[str, Value]) -> tuple[object, ...]:
    """What a kept graph is for: the skeleton, the bound names, and the rank and type of each
    bound array (np.dot, an in-place +=, a boolean mask: the graph depends on them)."""
    arrays = [
        (n, np.ndim(v), np.asarray(v).dtype.kind)
        for n, v in bindings.items()
        if type(v) is not float and type(v) is not int  # (a JSON point's numbers may be ints)
    ]
    return (shape, frozenset(bindings), frozenset(arrays)) if arrays else (shape, frozenset(bindings))


def skeleton(text: str) -> tuple[str, list[str]]:
    """The text without comments, its numbers replaced by PLACEHOLDER; and the numbers."""
    parts = _SPLIT.split(COMMENT.sub("", text) if "#" in text else text)
    return PLACEHOLDER.join(parts[0::2]), parts[1::2]


def _values(bindings: dict[str, Value | Params]) -> dict[str, Value] | None:
    """The bindings, if each is a number or an array (None when one is a dict)."""
    for value in bindings.values():
        if type(value) is dict:
            return None
    return cast("dict[str, Value]", bindings)


class Template:
    """A built graph, and what is needed to give it another problem's numbers: structures
    only, never a result (each problem gets a graph of its own that shares these nodes)."""

    __slots__ = ("bound", "evaluate", "graph", "memo", "numbers_before_output", "output_skeleton", "uses")

    def __init__(self, graph: Graph, skeleton_text: str, text: str, bound: frozenset[str]) -> None:
        self.graph = graph
        self.bound = bound  # the names bound when it was built (part of its key)
        self.output_skeleton: str | None = None
        self.numbers_before_output = 0
        if not graph.output.name:  # the output is an expression as written: keep its place
            start, end = graph.output_span
            head = skeleton(text[:start])[0]
            self.numbers_before_output = head.count(PLACEHOLDER)
            self.output_skeleton = skeleton_text[len(head) : len(skeleton(text[:end])[0])]
        self.uses = 0
        self.evaluate: Evaluate | None = None  # compiled on its second use (see fast)
        # The JSON Lines record forms of its problems, made once: (source, has an id) -> the
        # form, or False where it cannot be made (bpcli.present.records.record_form).
        self.memo: dict[tuple[str, bool], str | Literal[False]] = {}

    def apply(self, source: str, numbers: list[str], bindings: dict[str, Value]) -> Graph | None:
        """The graph with this problem's numbers and bindings (which name the inputs the
        template's graph was built with); None when a number is too large for a float
        (1e400), which a fresh parse reports."""
        graph = self.graph
        leaves = list(graph.leaves)
        for (node, sign), text in zip(graph.numbers or (), numbers, strict=True):
            value = float(text)
            if value == math.inf or tiny_number_problem(text, value) is not None:
                return None
            if node is not None:
                leaves[node.id] = sign * value
        for name, bound in bindings.items():
            node = graph.inputs.get(name)
            if node is not None:
                leaves[node.id] = bound
        return graph.replace(leaves=leaves, source=source, output_text=self.output_text(numbers))

    def output_text(self, numbers: list[str]) -> str:
        """The output as written in the problem with these numbers."""
        if self.output_skeleton is None:
            return self.graph.output_text
        parts = self.output_skeleton.split(PLACEHOLDER)
        mine = numbers[self.numbers_before_output :]
        written = parts[0] + "".join(n + p for n, p in zip(mine, parts[1:], strict=False))
        return output_text(written, 0, len(written))


class ProgramCache:
    """Parse-and-run with graphs kept per skeleton and set of bound names."""

    def __init__(
        self,
        size: int = MAX_TEMPLATES,
        max_elements: int = MAX_ELEMENTS,
        seed: int | None = None,
        first_sight: bool = True,
    ) -> None:
        self.size = size
        self.max_elements = max_elements  # passed to parse
        self.seed = seed  # the programs' np.random seed (--seed), passed to parse
        self.templates: dict[tuple[object, ...], Template | None] = {}
        # Whether a graph is kept the first time its key is seen (one program at many
        # points), or only the second (a batch of programs: most are never seen again, and
        # keeping their graphs costs time and memory for nothing). The keys seen once:
        self.first_sight = first_sight
        self.seen: set[tuple[object, ...]] = set()
        self.last: tuple[str, str, list[str]] = ("", "", [])  # the text, its skeleton, its numbers

    def run(
        self,
        source: str,
        given: dict[str, Value | Params],
        tidy: Callable[[Graph], Graph] | None = None,
        output: str | None = None,
        upstream: tuple[str | None, Value] | None = None,
    ) -> Run:
        """The run of `source`; `tidy(graph)` gives a freshly built graph with its warnings
        adjusted, before it is kept. A problem with its own `output` or `upstream` (see
        `parse`) is parsed afresh, and its graph not kept."""
        bindings = _values(given)
        if PLACEHOLDER in source or bindings is None or output is not None or upstream is not None:
            # not a program, and its skeleton could pass for another's; or a dict of parameters
            # (conv_param={"stride": 2}), which the graph's structure depends on; or a problem
            # with its own output or upstream gradient
            graph = parse(
                source,
                given,
                max_elements=self.max_elements,
                seed=self.seed,
                output=output,
                upstream=upstream,
            )
            return run(graph if tidy is None else tidy(graph))
        shape, numbers = self._skeleton(source)
        key = _key(shape, bindings)
        template = self.templates.get(key)
        applied = None if template is None else template.apply(source, numbers, bindings)
        if applied is not None:
            try:
                return run(applied)
            except BpcliError:
                pass  # say it from a fresh parse, with this problem's own positions
        graph = parse(source, bindings, max_elements=self.max_elements, seed=self.seed)
        if tidy is not None:
            graph = tidy(graph)
        if key not in self.templates:
            if not self.first_sight and key not in self.seen:
                if len(self.seen) >= SEEN:
                    self.seen.clear()
                self.seen.add(key)
            else:
                if len(self.templates) >= self.size:
                    self.templates.clear()
                self.templates[key] = self._template(graph, shape, source, numbers, bindings)
        return run(graph)

    def fast(
        self, source: str, given: dict[str, Value | Params]
    ) -> tuple[Template, list[str], tuple[float, ...]] | None:
        """For a program seen before (the same skeleton and bound names) whose graph compiles:
        the template, this problem's numbers, and its value and reported gradients (in the
        order of `engine.gradients`), computed by the compiled graph. None otherwise, or when
        this problem needs the engine's path (an error, a kink); `run` then takes it."""
        bindings = _values(given)
        if PLACEHOLDER in source or bindings is None:
            return None
        shape, numbers = self._skeleton(source)
        template = self.templates.get(_key(shape, bindings))
        if template is None:
            return None
        if template.evaluate is None:
            template.uses += 1
            if template.uses < 2:  # one-off programs are not worth compiling
                return None
            template.evaluate = compile_graph(template.graph, template.bound) or _never
        result = template.evaluate(numbers, bindings)
        return None if result is None else (template, numbers, result)

    def _skeleton(self, source: str) -> tuple[str, list[str]]:
        """The text's skeleton and its numbers (the last is kept: with --program, the same
        text comes each time). The text is taken as written, typos and all (3×x is not 3*x),
        so that an output written as an expression keeps its own characters."""
        last = self.last
        if source is not last[0]:
            last = self.last = (source, *skeleton(source))
        return last[1], last[2]

    @staticmethod
    def _template(
        graph: Graph, shape: str, text: str, numbers: list[str], bindings: dict[str, Value]
    ) -> Template | None:
        """A template of this graph, if the parser's numbers are exactly the skeleton's."""
        found = graph.numbers
        if found is None or len(found) != len(numbers):
            return None
        for (node, sign), written in zip(found, numbers, strict=True):
            if node is None or (node.op is INPUT and node.name in bindings):
                continue
            if graph.leaves[node.id] != sign * float(written):
                return None
        return Template(graph, shape, text, frozenset(bindings))


def _never(numbers: list[str], bindings: dict[str, Value]) -> None:
    """The compiled function of a graph that does not compile: always the engine's path."""
    return None
