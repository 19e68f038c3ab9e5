"""The node table: one row per node in forward order, as cs231n draws the backward pass."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.table import Table
from rich.text import Text

from bpcli.core.engine import gradients
from bpcli.core.graph import Graph, data_use
from bpcli.core.run import Run
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.present.arrays import block, shape_text
from bpcli.present.explain import MAX_JACOBIAN, Step, jacobian, jacobian_shape, local_formula
from bpcli.present.fold import cells, fold
from bpcli.present.numbers import value as fmt
from bpcli.present.scopes import GroupStep, Headings, collapse, explain, heading
from bpcli.present.steps import gate_key
from bpcli.texts import Translator
from bpcli.values import Array, Value

if TYPE_CHECKING:
    from rich.console import Group, RenderableType

    from bpcli.check.gradcheck import Check

# Rows shown before the middle of a big graph is elided (--max-rows).
MAX_ROWS = 400
MAX_BRANCHES = 4
MAX_EDGES = 12  # a node with more inputs (a long array literal) shows this many rows of them
FOLD = (1, 5, 6)  # the columns that name nodes: node, local, downstream


HEADERS = (
    "#",
    "node",
    "op",
    "value",
    "upstream ∂f/∂node",
    "local ∂node/∂input",
    "downstream = upstream × local",
)


def grad_report(
    run: Run,
    precision: int = 4,
    max_rows: int = MAX_ROWS,
    show_jacobians: bool = False,
    wrt: list[str] | None = None,
    depth: int | None = None,
    width: int = 80,
    full: bool = False,
) -> list[RenderableType]:
    """Renderables for `bpcli grad`, `width` columns wide: the node table (with `full`, an
    array program's gates one by one, every element), then f and ∂f/∂input."""
    from bpcli.present.nodes import as_text, gate_blocks, node_lines

    parts: list[RenderableType] = [as_text(node_lines(run, precision, width, max_rows, depth))]
    if full and run.graph.has_arrays:
        parts.append(Text("\n".join([*gate_blocks(run, precision, width), ""])))
    if show_jacobians:
        parts.append(jacobians(run, precision, width))
    parts.append(Text("\n".join(summary_lines(run, precision, wrt, width))))
    return parts


def node_table(run: Run, precision: int, max_rows: int = MAX_ROWS, depth: int | None = None) -> Table:
    """The node table; rows made in a call or an iteration stand under a heading row naming
    it, and with `depth` each call deeper than that is one row (see present.scopes)."""
    graph = run.graph
    table = Table(header_style="bold")
    styles = {"#": "dim", "value": "green", "upstream ∂f/∂node": "red"}
    for header in HEADERS:
        right = header in ("#", "value", "upstream ∂f/∂node")
        table.add_column(header, justify="right" if right else "left", style=styles.get(header))
    items = collapse(graph, depth)
    count = len(items)
    half = 0
    if max_rows and count > max_rows:
        half = max_rows // 2
        explained = explain(run, [*items[:half], *items[count - half :]])
        shown: list[Step | GroupStep | None] = [*explained[:half], None, *explained[half:]]
    else:
        shown = list(explain(run, items))
    headings = Headings(graph)
    for step in shown:
        if step is None:
            hidden = count - 2 * half
            what = "rows" if depth is not None and count < len(graph.nodes) else "nodes"
            table.add_row(
                "…",
                Text(f"{hidden:,} more {what} (see --max-rows, or --format json)", style="italic"),
                "",
                "",
                "",
                "",
                "",
            )
            headings.gap()
            continue
        scope = step.group.scope if isinstance(step, GroupStep) else step.node.scope
        if headings.change(scope):
            if table.rows:
                table.rows[-1].end_section = True
            # (a style, no spans: present.plain writes it when there is no colour)
            table.add_row("", Text(heading(scope), style="bold", overflow="fold"), "", "", "", "", "")
        if isinstance(step, GroupStep):
            block = group_rows(graph, step, precision)
        else:
            block = rows(graph, step, precision, run.values)
        for row in block:
            if headings.on:  # a name with where it was made (step@t=12: h) is one long word:
                # folded, never cut short with an ellipsis, in a narrow column
                table.add_row(*(Text(c, overflow="fold") if i in FOLD else c for i, c in enumerate(row)))
            else:
                table.add_row(*row)
    return table


def group_rows(graph: Graph, step: GroupStep, precision: int) -> list[list[str]]:
    """A collapsed call's rows: its name, then each result's value and upstream gradient,
    and for each input the gradient the call sends back to it."""
    group = step.group
    within = group.scope
    values = [fmt(r.value, precision) for r in step.results]
    upstreams = [_upstream(graph, r, precision) for r in step.results]
    names = [group.name]
    if len(step.results) > 1:
        names += [f"→ {scoped_ref(graph, r.node, within=within)}" for r in step.results]
        values, upstreams = ["", *values], ["", *upstreams]
    locals_, downs = [], []
    for inp, sent in step.edges[:MAX_EDGES]:
        if not inp.needs_grad:
            continue
        locals_.append(f"∂/∂{scoped_ref(graph, inp, atomic=True, within=within)}: in the call")
        downs.append("—" if sent is None else fmt(sent, precision))
    height = max(len(names), len(locals_), 1)
    table = []
    for k in range(height):
        cell = [
            group.span if k == 0 else "",
            names[k] if k < len(names) else "",
            "call" if k == 0 else "",
            values[k] if k < len(values) else "",
            upstreams[k] if k < len(upstreams) else "",
            locals_[k] if k < len(locals_) else "",
            downs[k] if k < len(downs) else "",
        ]
        table.append(cell)
    if len(step.edges) > MAX_EDGES:
        table.append(["", "", "", "", "", f"… {len(step.edges) - MAX_EDGES:,} more inputs", ""])
    return table


def rows(
    graph: Graph, step: Step, precision: int, values: list[Value | None] | None = None
) -> list[list[str]]:
    """The node's row, then one more row for each further input, so that each input's
    local and downstream gradients stand side by side even when they are arrays."""
    node = step.node
    op = node.op.name + (" ⚠" if step.kink else "")
    locals_, downs = [], []
    flowing = [e for e in step.edges if not (e.downstream is None and e.local is None)]
    if not node.op.differentiable and any(e.input.needs_grad for e in step.edges):
        locals_, downs = [Translator()(gate_key(node.op))], ["—"]  # a comparison: nothing flows back
    for edge in flowing[:MAX_EDGES]:  # (a constant input has nothing flowing back to it)
        ref = scoped_ref(graph, edge.input, atomic=True, within=node.scope)
        formula = local_formula(graph, node, edge.index, values)
        if edge.local is None:
            locals_.append(f"∂/∂{ref}: {formula}")
        else:
            shown = fmt(edge.local, precision)
            if "\n" in shown:  # an array: its rows start on a line of their own
                shown = "\n" + shown
            same = formula == shown
            locals_.append(f"∂/∂{ref} = {shown}" if same else f"∂/∂{ref} = {formula} = {shown}")
        if edge.downstream is None:
            downs.append("—")
        elif edge.local is not None and type(edge.local) is float:
            downs.append(
                f"{fmt(step.upstream, precision)} × {fmt(edge.local, precision)}"
                f" = {fmt(edge.downstream, precision)}"
            )
        else:
            downs.append(fmt(edge.downstream, precision))
    first = [
        str(node.id),
        graph.label(node),
        op,
        fmt(step.value, precision),
        _upstream(graph, step, precision),
    ]
    if not locals_:
        return [[*first, "", ""]]
    rows = [[*first, locals_[0], downs[0]]]
    rows += [["", "", "", "", "", loc, down] for loc, down in zip(locals_[1:], downs[1:], strict=True)]
    if len(flowing) > MAX_EDGES:
        rows.append(["", "", "", "", "", f"… {len(flowing) - MAX_EDGES:,} more inputs", ""])
    return rows


def _upstream(graph: Graph, step: Step, precision: int) -> str:
    if step.upstream is None:
        return "— (data)" if data_use(graph, step.node) else "—"
    total = fmt(step.upstream, precision)
    if step.node is graph.output:
        return f"{total} (given: {graph.upstream_name})" if graph.upstream is not None else f"{total} (∂f/∂f)"
    branches = step.branches
    if len(branches) < 2 or type(step.upstream) is not float:
        return total
    if len(branches) > MAX_BRANCHES:
        return f"sum of {len(branches):,} branches = {total}"
    parts = " + ".join(fmt(g, precision) for _, g in branches)
    return f"{parts} = {total}"


def summary_lines(run: Run, precision: int, wrt: list[str] | None = None, width: int = 80) -> list[str]:
    """f = value, then ∂f/∂name for every input (or for the names in `wrt`), each array whole
    where it fits `width` (numpy-style, its middle left out where it does not)."""
    graph = run.graph
    sym = graph.symbol
    lines = named(graph.output_text, run.output, precision, width)
    if graph.upstream is not None:  # --upstream: f is whatever loss sends this gradient in
        given = named(graph.upstream_name, graph.upstream, precision, width)
        note = f"(given: ∂f/∂{graph.output_text}, the upstream gradient)"
        if len(given) == 1 and cells(given[0] + "  " + note) <= width:
            lines.append(given[0] + "  " + note)
        else:
            lines += given + fold(note, width, "", "  ")
    grads = gradients(run)
    for name in wrt or list(graph.inputs):
        use = data_use(graph, graph.inputs[name]) if name in graph.inputs else ""
        if use:  # read as data: no gradient, rather than 0
            lines += fold(f"∂{sym}/∂{name} = —  ({Translator()(f'data.{use}', name=name)})", width, "", "  ")
            continue
        lines += named(f"∂{sym}/∂{name}", grads[name], precision, width)
    return lines


def named(label: str, v: Value | None, precision: int, width: int, full: bool = False) -> list[str]:
    """`label = value`: an array's rows under its first, or below the label when they show
    more there; with its shape when part of it is left out (or with `full`, always)."""
    if v is None or type(v) is float:
        return fold(f"{label} = {fmt(v, precision)}", width, "", "  ")
    array = cast("Array", v)
    lead = cells(label) + 3
    beside = block(array, precision, width - lead, full)
    below = block(array, precision, width - 2, full)
    if full:
        if all(cells(line) <= width - lead for line in beside) and len(beside) <= len(below):
            return [f"{label} = {beside[0]}", *(" " * lead + line for line in beside[1:])]
        return [f"{label} ({shape_text(array)}) =", *("  " + line for line in below)]
    elided = any("…" in line for line in beside)
    cramped = any(cells(line) > width - lead for line in beside)
    if (elided and not any("…" in line for line in below)) or cramped or lead > width // 2:
        shape = f" ({shape_text(array)})" if any("…" in line for line in below) else ""
        return [f"{label}{shape} =", *("  " + line for line in below)]
    lines = [f"{label} = {beside[0]}", *(" " * lead + line for line in beside[1:])]
    if elided:
        shape = f"  ({shape_text(array)})"
        if cells(lines[-1] + shape) > width:
            return [f"{label} ({shape_text(array)}) =", *("  " + line for line in below)]
        lines[-1] += shape
    return lines


def jacobians(run: Run, precision: int, width: int = 80) -> Text:
    """The local Jacobian ∂node/∂input of every array node, rows for the node's elements and
    columns for the input's, or its shape when it is too big to show."""
    graph, values = run.graph, run.values
    lines = ["Local Jacobians (rows: elements of the node, columns: elements of the input)"]
    for node in graph.nodes:
        if not node.inputs or all(type(values[n.id]) is float for n in (node, *node.inputs)):
            continue
        label = scoped_label(graph, node)
        if not node.op.differentiable:
            if any(inp.needs_grad for inp in node.inputs):
                lines.append(f"#{node.id} {label}: none ({Translator()(gate_key(node.op))})")
            continue
        for i, inp in enumerate(node.inputs):
            if not inp.needs_grad:
                continue
            ref = scoped_ref(graph, inp, atomic=True, within=node.scope)
            if values[node.id] is None:  # off the output's path, and not computable here
                lines.append(f"#{node.id} {label}: ∂/∂{ref}: — (the node has no value)")
                continue
            rows, cols = jacobian_shape(run, node, i)
            head = f"#{node.id} {label}: ∂/∂{ref} ({rows}×{cols})"
            matrix = jacobian(run, node, i)
            if matrix is None and rows * cols <= MAX_JACOBIAN:
                lines.append(f"{head}: no finite value at this point")
            elif matrix is None:
                lines.append(f"{head}: too big to show; bpcli never builds it to compute gradients")
            else:
                lines += fold(head, width, "", "  ")
                lines += ["  " + line for line in block(matrix, precision, width - 2, full=True)]
    if len(lines) == 1:
        lines.append("(no array nodes: every local gradient is the single number in the table)")
    return Text("\n".join(lines) + "\n")


def gradcheck_title(graph: Graph) -> str:
    """The check's rule, a line a sentence; with an upstream gradient given (dout), what f it
    differences."""
    from bpcli.check.gradcheck import ATOL, RTOL, STEP

    f = graph.symbol
    lines = [
        f"Gradient check of a (analytic) by n = ({f}(x+h) − {f}(x−h))/2h, h = {_sci(STEP)}·max(1,|x|)",
        f"good: |a−n| ≤ atol + {_sci(RTOL)}·|n|, atol = {_sci(ATOL)}·max(1,|{f}|)/max(1,|x|) (allclose)",
        "else relative error |a−n|/max(|a|,|n|): > 1e-2 wrong, > 1e-4 suspect, else ok",
        "n/a: the step crosses a kink or a pole, where n means nothing",
    ]
    if graph.upstream is not None:
        lines.insert(1, f"{f} = sum({graph.output_text} * {graph.upstream_name}), with the upstream given")
    return "\n".join(lines)


def _sci(number: float) -> str:
    """1e-05 as 1e-5."""
    mantissa, _, exponent = f"{number:.0e}".partition("e")
    return f"{mantissa}e{int(exponent)}"


def _check_cells(graph: Graph, check: Check, precision: int) -> list[str]:
    """input, analytic, numeric, error, verdict and notes (a line each, or ""), as text."""
    error = check.relative_error
    if check.data:  # an input read as data: no gradient, nothing checked
        why = Translator()(f"data.{check.data}", name=check.name)
        return [check.name, "—", "—", "n/a", check.verdict, f"{why}; nothing to check"]
    notes = []
    some = f" at {check.kinked} of {check.checked} elements" if 0 < check.kinked < check.checked else ""
    if check.flips:
        gates = ", ".join(f"#{i} {scoped_label(graph, graph.nodes[i])}" for i in check.flips)
        notes.append(f"⚠ the step flips the comparison {gates}{some}: n/a there")
    if check.kinks:
        gates = ", ".join(f"#{i} {scoped_label(graph, graph.nodes[i])}" for i in check.kinks)
        notes.append(f"⚠ the step crosses a kink at {gates}{some}: n/a there")
    if check.poles:
        where = "" if check.elements == 1 else f" at {check.poles} element(s)"
        notes.append(
            f"x ± h straddles a pole or a jump{where} at every step tried: no numeric gradient there"
        )
    if check.floored:
        notes.append(f"|a−n| = {check.absolute_error:.1e} ≤ atol = {_sci(check.atol)}: rounding, and so good")
    if check.checked == 0:
        notes.append("not checked: the check took a sample of the elements")
    elif check.checked < check.elements:
        notes.append(f"{check.checked} of {check.elements} elements checked")
    numeric = cast("Value", check.numeric)  # (checked: it has one)
    if not isinstance(numeric, float) and check.checked < check.elements:
        import numpy as np

        numeric = numeric[np.isfinite(numeric)]  # the elements checked, in order
    if isinstance(numeric, float):
        shown = "n/a" if numeric != numeric else fmt(numeric, precision)
    else:
        import numpy as np

        shown = "n/a" if not np.isfinite(numeric).any() else fmt(numeric, precision)
    if error != error:
        measure = "n/a"
    elif check.floored:
        measure = f"|a−n| {check.absolute_error:.1e}"
    else:
        measure = f"{error:.1e}"
    return [check.name, fmt(check.analytic, precision), shown, measure, check.verdict, "\n".join(notes)]


def _size(value: Value) -> int:
    return 1 if isinstance(value, float) else int(value.size)


def gradcheck_table(graph: Graph, checks: list[Check], precision: int, width: int = 80) -> Group:
    """The check as a table of inputs within `width` columns: the rule folded above it, each
    input's notes below it (numbers fold onto further lines, never cropped)."""
    from rich.console import Group
    from rich.constrain import Constrain

    table = Table(header_style="bold")
    rows = [_check_cells(graph, check, precision) for check in checks]
    for column, header in enumerate(("input", "analytic", "numeric", "error", "verdict")):
        # numbers right-aligned; arrays, which fold onto further lines, from the left
        right = column in (1, 2) and not any("[" in row[column] for row in rows)
        table.add_column(header, justify="right" if right else "left", overflow="fold")
    notes = []
    for *row, note in rows:
        table.add_row(*row)
        lead = f"{row[0]}: "
        for at, line in enumerate(note.split("\n") if note else []):
            hang = " " * len(lead)
            notes += fold(lead + line, width, "", hang) if at == 0 else fold(line, width, hang, hang)
    title = "\n".join(fold(gradcheck_title(graph), width, "", ""))
    parts: list[RenderableType] = [Text(title), Constrain(table, width)]
    if notes:
        parts.append(Text("\n".join(notes)))
    return Group(*parts)


def gradcheck_lines(graph: Graph, checks: list[Check], precision: int, width: int = 80) -> list[str]:
    """The check as lines of text within `width` columns (steps, tree, markdown)."""
    lines = fold(gradcheck_title(graph), width, "", "")
    for check in checks:
        name, analytic, numeric, error, verdict, note = _check_cells(graph, check, precision)
        label = "relative error" if error[:1].isdigit() else "error"
        line = f"∂{graph.symbol}/∂{name}: analytic {analytic}, numeric {numeric}, {label} {error}"
        notes = f" ({note.replace(chr(10), '; ')})" if note else ""
        lines += fold(f"{line}: {verdict}{notes}", width, "  ", "    ")
    return lines
