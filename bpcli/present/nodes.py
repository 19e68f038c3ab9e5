"""The node table of `bpcli grad`, laid out for a terminal of a given width.

Rows refer to earlier rows by id (#12), so labels stay short and the table is its own
legend. Numbers sit in right-aligned columns that are never cropped; labels and formulas
fold onto further lines. A scalar program gets one row per node, with a part for each input
on the right (`input | local ∂node/∂input | downstream`), as cs231n draws the backward pass.
An array program gets one line per node (its shape, value and upstream gradient, summarised
numpy-style), and the gradients below as whole arrays. When even the narrowest columns do
not fit, each node becomes a block of folded lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bpcli.cells import cells
from bpcli.core.engine import shape_of
from bpcli.core.graph import Node, Scope, data_use
from bpcli.core.ops import CONST, INPUT
from bpcli.core.run import Run
from bpcli.core.where import NOWHERE, scoped_ref
from bpcli.present import Line
from bpcli.present.arrays import Seen, inline, named
from bpcli.present.explain import Step, gate_key, local_formula
from bpcli.present.fold import fold, pad
from bpcli.present.numbers import value as fmt
from bpcli.present.scopes import GroupStep, Headings, collapse, explain, heading
from bpcli.texts import Translator
from bpcli.values import Value

MAX_ROWS = 400  # rows shown before the middle of a big graph is left out (--max-rows)
MAX_BRANCHES = 4  # a fan-out of more branches says how many instead of listing them
MAX_EDGES = 12  # a node with more inputs (a long array literal) shows this many of them
SHORT_CONST = 8  # a constant this short is written where it is used, and has no row
GAP = "  "
BAR = " │ "

# An array table's row: #, node, op, value, upstream, what stands instead of the upstream
# gradient (— for a constant), and what follows it ((given: dout) on the output).
Row = tuple[str, str, str, "Value | None", "Value | None", str, str]


class Cell:
    """A column: its header, how it aligns, whether it folds, its style."""

    def __init__(
        self, header: str, right: bool = False, folds: bool = False, style: str = "", least: int = 0
    ):
        self.header = header
        self.right = right
        self.folds = folds
        self.style = style
        self.least = least  # the narrowest a folding column may be
        self.width = 0


def node_lines(
    run: Run, precision: int, width: int, max_rows: int = MAX_ROWS, depth: int | None = None
) -> list[Line]:
    """The table's lines for a terminal of `width` columns."""
    graph = run.graph
    items = collapse(graph, depth)
    count = len(items)
    half = 0
    if max_rows and count > max_rows:
        half = max_rows // 2
        explained = explain(run, [*items[:half], *items[count - half :]])
        shown: list[Step | GroupStep | None] = [*explained[:half], None, *explained[half:]]
    else:
        shown = list(explain(run, items))
    hidden = count - 2 * half
    what = "rows" if depth is not None and count < len(graph.nodes) else "nodes"
    gap_text = f"… {hidden:,} more {what} (see --max-rows, or --format json)"
    table = ArrayTable(run, precision) if graph.has_arrays else ScalarTable(run, precision)
    return table.lines(shown, width, gap_text)


class _Table:
    """What both layouts share: the rows' refs, headings, the lines around the rows."""

    def __init__(self, run: Run, precision: int) -> None:
        self.run = run
        self.graph = run.graph
        self.precision = precision
        self.symbol = run.graph.symbol
        self.headings = Headings(run.graph)
        self.skipped: list[Node] = []  # constants written where they are used

    def ref(self, node: Node, within: Scope | None = NOWHERE) -> str:
        """How a label or formula in the scope `within` names a node: its name where that is
        the name in this scope (or a top-level one), a short constant, else its id (a name
        made in another call or iteration, step@t=1: h, is its row's #id)."""
        graph = self.graph
        if node.name and (node.scope is None or within is NOWHERE or node.scope is within):
            return scoped_ref(graph, node, atomic=True, within=node.scope)
        if node.op is CONST or node.op is INPUT:
            text = graph.ref(node, atomic=True)
            if cells(text) <= SHORT_CONST:
                return text
        return f"#{node.id}"

    def label(self, node: Node) -> str:
        """The node's expression over its inputs' refs: `#7 + #8`, `f = 1/#13`."""
        graph = self.graph
        op = node.op
        if op is INPUT or op is CONST:
            return graph.label(node)
        refs = [self.ref(child, node.scope) for child in node.inputs[:6]]
        if op.arity < 0:
            more = len(node.inputs) - len(refs)
            listed = "[" + ", ".join(refs) + (f", … {more:,} more]" if more else "]")
            expr = op.template.replace("[…]", listed, 1) if "[…]" in op.template else listed
        else:
            expr = op.template.format(*refs)
        return f"{node.name} = {expr}" if node.name and expr != node.name else expr

    def shows(self, step: Step | GroupStep | None) -> bool:
        """Whether the step has a row: a short constant is written where it is used instead."""
        node = step.node if isinstance(step, Step) else None
        if node is not None and node.op is CONST and not node.name and self.ref(node) != f"#{node.id}":
            self.skipped.append(node)
            return False
        return True

    def upstream(self, step: Step) -> str:
        """∂f/∂node's text in the table; for the output, what it is seeded with."""
        if step.upstream is None:
            return "— (data)" if data_use(self.graph, step.node) else "—"
        return self.value(step.upstream)

    def value(self, v: Value | None) -> str:
        return fmt(v, self.precision)

    def before(self, step: Step | GroupStep | None, gap_text: str, width: int) -> list[Line]:
        """The lines before a step's row: the heading of a call or an iteration it starts; for
        None (rows left out), the line that says so."""
        if step is None:
            self.headings.gap()
            return [(line, [(0, len(line), "italic")]) for line in fold(gap_text, width, "", "  ")]
        scope = step.group.scope if isinstance(step, GroupStep) else step.node.scope
        if not self.headings.change(scope):
            return []
        return [(line, [(0, len(line), "bold")]) for line in fold(f"▸ {heading(scope)}", width, "", "  ")]

    def legend(self, width: int) -> list[Line]:
        """What the table's columns mean, below it."""
        words = f"downstream = ∂{self.symbol}/∂node × local"
        if self.skipped:
            words += "; constants get no gradient"
        return [(line, [(0, len(line), "dim")]) for line in fold(words, width, "", "  ")]


class ScalarTable(_Table):
    """One row per node; the right part has a line for each input: its local and downstream
    gradient, so the cs231n rule downstream = upstream × local reads across."""

    def lines(self, shown: Sequence[Step | GroupStep | None], width: int, gap_text: str) -> list[Line]:
        sym = self.symbol
        left = [
            Cell("#", right=True, style="dim"),
            Cell("node", folds=True, least=8),
            Cell("op"),
            Cell("value", right=True, style="green"),
            Cell(f"∂{sym}/∂node", right=True, style="red"),
        ]
        right = [
            Cell("input", folds=True, least=4),
            Cell("local ∂node/∂input", folds=True, least=12),
            Cell("downstream", right=True),
        ]
        # (step, its left cols, a row of right cols per input, the fan-out's sum); None: a gap
        units: list[tuple[Step | GroupStep, list[str], list[list[str]], str] | None] = []
        for step in shown:
            if step is None:
                units.append(None)
            elif self.shows(step):
                units.append((step, *self._cells(step)))
        rows = [u for u in units if u is not None]
        for k, cell in enumerate(left):
            cell.width = max([cells(cell.header)] + [_widest(u[1][k]) for u in rows])
        for k, cell in enumerate(right):
            cell.width = max([cells(cell.header)] + [_widest(e[k]) for u in rows for e in u[2]])
        fixed = sum(c.width for c in (*left, *right) if not c.folds) + len(GAP) * 6 + len(BAR)
        if not _fit([left[1], right[0], right[1]], width - fixed):
            return self._blocks(shown, width, gap_text)
        total = sum(c.width for c in (*left, *right)) + len(GAP) * 6 + len(BAR)
        out: list[Line] = []
        header_left = _row([c.header for c in left], left, bold=True)
        header_right = _row([c.header for c in right], right, bold=True)
        out += _join(header_left, header_right, left)
        split = sum(c.width for c in left) + len(GAP) * 4
        out.append(("─" * (split + 1) + "┼" + "─" * (total - split - 2), []))
        for unit in units:
            out += self.before(unit[0] if unit is not None else None, gap_text, total)
            if unit is None:
                continue
            step, cols, edges, extra = unit
            lefts = _row(cols, left)
            if extra:  # the fan-out: the branches that add up to ∂f/∂node
                span = split - left[0].width - len(GAP)
                for line in fold(extra, span, "", "  "):
                    text = " " * (left[0].width + len(GAP)) + pad(line, span, right=True)
                    lefts.append((text, [(len(text) - len(line), len(text), "red")]))
            rights: list[Line] = []
            for edge in edges:
                rights += _row(edge, right)
            out += _join(lefts, rights, left)
        out.append(("─" * (split + 1) + "┴" + "─" * (total - split - 2), []))
        return out + self.legend(width)

    def _cells(self, step: Step | GroupStep) -> tuple[list[str], list[list[str]], str]:
        """The left cols, a row of right cols per input, and the fan-out's sum."""
        graph, p = self.graph, self.precision
        if isinstance(step, GroupStep):
            group = step.group
            names, values, ups = [group.name], [], []
            if len(step.results) > 1:  # a line for each result, under the call's name
                names += [f"→ {self.ref(r.node, group.scope)}" for r in step.results]
                values, ups = [""], [""]
            values += [self.value(r.value) for r in step.results]
            ups += [self.upstream(r) for r in step.results]
            calls = [
                [self.ref(inp, group.scope), "in the call", "—" if sent is None else self.value(sent)]
                for inp, sent in step.edges[:MAX_EDGES]
                if inp.needs_grad
            ]
            cols = [group.span, "\n".join(names), "call", "\n".join(values), "\n".join(ups)]
            return cols, calls, ""
        node = step.node
        op = node.op.name + (" ⚠" if step.kink else "")
        left = [str(node.id), self.label(node), op, self.value(step.value), self.upstream(step)]
        edges: list[list[str]] = []
        if not node.op.differentiable and any(e.input.needs_grad for e in step.edges):
            edges.append(["", Translator()(gate_key(node.op)), "—"])
        flowing = [e for e in step.edges if not (e.downstream is None and e.local is None)]
        for edge in flowing[:MAX_EDGES]:
            ref = self.ref(edge.input, node.scope)
            formula = local_formula(
                graph, node, edge.index, self.run.values, ref=partial(self.ref, within=node.scope)
            )
            if edge.local is not None:
                shown = fmt(edge.local, p)
                formula = shown if formula == shown else f"{formula} = {shown}"
            edges.append([ref, formula, "—" if edge.downstream is None else self.value(edge.downstream)])
        if len(flowing) > MAX_EDGES:
            edges.append(["", f"… {len(flowing) - MAX_EDGES:,} more inputs", ""])
        return left, edges, self._fanout(step)

    def _fanout(self, step: Step) -> str:
        branches = step.branches
        if len(branches) < 2 or step.upstream is None or step.node is self.graph.output:
            return ""
        if len(branches) > MAX_BRANCHES:
            return f"= sum of {len(branches):,} branches"
        return "= " + " + ".join(self.value(g) for _, g in branches).replace("+ -", "− ")

    def _blocks(self, shown: Sequence[Step | GroupStep | None], width: int, gap_text: str) -> list[Line]:
        """Too narrow for columns: each node a block of folded lines."""
        out: list[Line] = []
        sym = self.symbol
        for step in shown:
            if step is None:
                out += [(line, []) for line in fold(gap_text, width, "", "  ")]
                continue
            if not self.shows(step):
                continue
            left, edges, extra = self._cells(step)
            ident, label, op, value, up = left
            head = f"#{ident} {label} ({op}): value {value}, ∂{sym}/∂node {up} {extra}".rstrip()
            out += [(line, []) for line in fold(head, width, "", "    ")]
            for ref, formula, down in edges:
                text = f"→ {ref}: local {formula}, downstream {down}" if ref else formula
                out += [(line, []) for line in fold(text, width, "  ", "      ")]
        return out + self.legend(width)


class ArrayTable(_Table):
    """One line per node: its shape, its value and its upstream gradient, each summarised
    numpy-style to fit; the gradients follow the table whole (summary_lines)."""

    def __init__(self, run: Run, precision: int) -> None:
        super().__init__(run, precision)
        self.seen: Seen = {}  # each array's range and norm, found once for all its cells

    def lines(self, shown: Sequence[Step | GroupStep | None], width: int, gap_text: str) -> list[Line]:
        sym = self.symbol
        cols = [
            Cell("#", right=True, style="dim"),
            Cell("node", folds=True, least=8),
            Cell("op"),
            Cell("shape", right=True),
            Cell("value", folds=True, least=10, style="green"),
            Cell(f"∂{sym}/∂node", folds=True, least=10, style="red"),
        ]
        units: list[tuple[Step | GroupStep, Row] | None] = []  # None: a gap
        for step in shown:
            if step is None:
                units.append(None)
            elif self.shows(step):
                units.extend((step, r) for r in self._rows(step))
        rows = [u[1] for u in units if u is not None]
        natural = [self._texts(r, 40) for r in rows]
        for k, cell in enumerate(cols):
            cell.width = max([cells(cell.header)] + [_widest(t[k]) for t in natural])
        fixed = sum(c.width for c in cols if not c.folds) + len(GAP) * 5
        node = cols[1]
        label_width = node.width
        node.width = min(label_width, 24)  # a label up to this wide is kept on one line when it can
        if _fit(cols[4:], width - fixed - node.width):  # and what the values leave, it gets
            spare = width - fixed - sum(c.width for c in cols if c.folds)
            node.width += max(min(spare, label_width - node.width), 0)
        elif not _fit(cols[1:2] + cols[4:], width - fixed):
            return self._blocks(units, width, gap_text)
        value_w, up_w = cols[4].width, cols[5].width
        total = sum(c.width for c in cols) + len(GAP) * 5
        out: list[Line] = list(_row([c.header for c in cols], cols, bold=True))
        out.append(("─" * total, []))
        for unit in units:
            out += self.before(unit[0] if unit is not None else None, gap_text, total)
            if unit is None:
                continue
            step, row = unit
            out += _row(self._texts(row, 0, value_w, up_w), cols)
        out.append(("─" * total, []))
        return out + self.legend(width)

    def _blocks(
        self, units: Sequence[tuple[Step | GroupStep, Row] | None], width: int, gap_text: str
    ) -> list[Line]:
        """Too narrow for columns: each node a few folded lines."""
        out: list[Line] = []
        for unit in units:
            if unit is None:
                out += [(line, []) for line in fold(gap_text, width, "", "  ")]
                continue
            ident, label, op, shape, value, up = self._texts(unit[1], 0, width - 8, width - 14)
            what = ", ".join(w for w in (op, shape) if w)
            head = f"#{ident} {label} ({what})" if ident else f"{label} ({what})"
            out += [(line, []) for line in fold(head, width, "", "    ")]
            if value:
                out += [(line, []) for line in fold(f"value {value}", width, "  ", "    ")]
            if up:
                out += [(line, []) for line in fold(f"∂{self.symbol}/∂node {up}", width, "  ", "    ")]
        return out + self.legend(width)

    def _rows(self, step: Step | GroupStep) -> list[Row]:
        """(#, node, op, value, upstream, upstream's note) for each line the step takes."""
        if isinstance(step, GroupStep):
            group = step.group
            results = step.results
            if len(results) == 1:
                r = results[0]
                return [(group.span, group.name, "call", r.value, r.upstream, self._note(r), "")]
            # the call's name, then a line for each result
            rows: list[Row] = [(group.span, group.name, "call", None, None, " ", "")]
            for r in results:
                name = f"→ {self.ref(r.node, group.scope)}"
                rows.append(("", name, "", r.value, r.upstream, self._note(r), ""))
            return rows
        node = step.node
        op = node.op.name + (" ⚠" if step.kink else "")
        return [
            (
                str(node.id),
                self.label(node),
                op,
                step.value,
                step.upstream,
                self._note(step),
                self._given(step),
            )
        ]

    def _note(self, step: Step) -> str:
        """What the upstream column says instead of, or after, the gradient."""
        node = step.node
        if step.upstream is None:
            if not node.op.differentiable and any(i.needs_grad for i in node.inputs):
                return "— (" + Translator()(gate_key(node.op)) + ")"  # a comparison
            return "— (data)" if data_use(self.graph, node) else "—"
        return ""

    def _given(self, step: Step) -> str:
        graph = self.graph
        return (
            f" (given: {graph.upstream_name})"
            if step.node is graph.output and graph.upstream is not None
            else ""
        )

    def _texts(
        self,
        row: Row,
        natural: int,
        value_w: int = 0,
        up_w: int = 0,
    ) -> list[str]:
        ident, label, op, value, up, note, given = row
        if note == " ":  # a call's name, above a line for each of its results
            return [ident, label, op, "", "", ""]
        shape = "" if value is None or type(value) is float else "×".join(map(str, shape_of(value))) or "()"
        vw = natural or value_w
        uw = natural or up_w
        return [
            ident,
            label,
            op,
            shape,
            self._summary(value, vw),
            note or self._summary(up, uw - len(given)) + given,
        ]

    def _summary(self, v: Value | None, room: int) -> str:
        if v is None or isinstance(v, float):
            return fmt(v, self.precision)
        return inline(v, self.precision, room, self.seen)


def _widest(text: str) -> int:
    return max((cells(line) for line in text.split("\n")), default=0)


def _fit(cols: list[Cell], room: int) -> bool:
    """Share `room` among folding columns, each up to its natural width (its `width` on the
    way in) and at least its `least`; False when even the least widths don't fit."""
    if sum(min(c.width, c.least) for c in cols) > room:
        return False
    wanted = {id(c): c.width for c in cols}
    for c in cols:
        c.width = min(c.width, c.least)
    room -= sum(c.width for c in cols)
    hungry = [c for c in cols if c.width < wanted[id(c)]]
    while room > 0 and hungry:  # water-filling: the narrowest grows first
        share = max(room // len(hungry), 1)
        for c in sorted(hungry, key=lambda c: wanted[id(c)]):
            grow = min(share, wanted[id(c)] - c.width, room)
            c.width += grow
            room -= grow
        hungry = [c for c in cols if c.width < wanted[id(c)]]
    return True


def _row(texts: Sequence[str], cols: Sequence[Cell], bold: bool = False) -> list[Line]:
    """One row's lines: each cell folded to its column (numbers never fold: their column is
    as wide as the widest), padded, and joined by the gap."""
    columns = [
        fold(t, c.width, "", " ") if c.folds else t.split("\n") for t, c in zip(texts, cols, strict=True)
    ]
    height = max(len(col) for col in columns)
    lines: list[Line] = []
    for k in range(height):
        text, spans, at = "", [], 0
        for j, (col, cell) in enumerate(zip(columns, cols, strict=True)):
            piece = pad(col[k] if k < len(col) else "", cell.width, cell.right)
            if j:
                text += GAP
                at += len(GAP)
            style = "bold" if bold else cell.style
            if style and piece.strip():
                spans.append((at, at + len(piece), style))
            text += piece
            at += len(piece)
        text = text.rstrip()
        lines.append((text, [(a, min(b, len(text)), style) for a, b, style in spans if a < len(text)]))
    return lines


def _join(lefts: list[Line], rights: list[Line], left: Sequence[Cell]) -> list[Line]:
    """The node's part and its inputs' part side by side, across the bar."""
    blank = " " * (sum(c.width for c in left) + len(GAP) * (len(left) - 1))
    out: list[Line] = []
    for k in range(max(len(lefts), len(rights))):
        ltext, lspans = lefts[k] if k < len(lefts) else (blank, [])
        rtext, rspans = rights[k] if k < len(rights) else ("", [])
        ltext = pad(ltext, len(blank))
        shift = len(ltext) + len(BAR)
        text = (ltext + BAR + rtext).rstrip()
        out.append((text, [*lspans, *((a + shift, b + shift, s) for a, b, s in rspans)]))
    return out


def gate_blocks(run: Run, precision: int, width: int) -> list[str]:
    """--full: each gate of an array program, from the output back, as a block: its value,
    its upstream gradient, and for each input the local gradient (elementwise gates) and
    what flows down, every element shown."""
    table = _Table(run, precision)
    sym = table.symbol
    out: list[str] = []
    for step in reversed(explain(run, run.graph.nodes)):
        if not isinstance(step, Step) or not step.node.inputs:
            continue
        node = step.node
        if step.upstream is None:
            if not node.op.differentiable and any(i.needs_grad for i in node.inputs):
                out.append("")
                say = Translator()(gate_key(node.op))
                out += fold(f"#{node.id} {table.label(node)}  ({node.op.name}): {say}", width, "", "    ")
            continue
        out.append("")
        out += fold(f"#{node.id} {table.label(node)}  ({node.op.name})", width, "", "    ")
        out += ["  " + line for line in named("value", step.value, precision, width - 2, full=True)]
        out += [
            "  " + line for line in named(f"∂{sym}/∂node", step.upstream, precision, width - 2, full=True)
        ]
        flowing = [e for e in step.edges if e.downstream is not None]
        if len(flowing) > MAX_EDGES:
            out.append(f"  … {len(flowing) - MAX_EDGES:,} more inputs")
        for edge in flowing[:MAX_EDGES]:
            ref = table.ref(edge.input, node.scope)
            formula = local_formula(
                run.graph, node, edge.index, run.values, ref=partial(table.ref, within=node.scope)
            )
            local = edge.local
            if local is not None and type(local) is float:  # a number: beside its formula
                shown = fmt(local, precision)
                formula = shown if formula == shown else f"{formula} = {shown}"
            out += fold(f"→ {ref}: local {formula}", width, "  ", "      ")
            if local is not None and type(local) is not float:
                out += ["    " + line for line in named("local", local, precision, width - 4, full=True)]
            out += [
                "    " + line
                for line in named("downstream", edge.downstream, precision, width - 4, full=True)
            ]
    return out
