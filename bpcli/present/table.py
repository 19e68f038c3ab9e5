"""`bpcli grad`'s report: the node table (present.nodes), f and each input's gradient, the
local Jacobians (--jacobian) and the gradient check (--gradcheck), at a width."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bpcli.cells import cells
from bpcli.core.engine import gradients
from bpcli.core.graph import Graph, data_use
from bpcli.core.run import Run
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.present import Styled
from bpcli.present.arrays import block, compact, named
from bpcli.present.explain import MAX_JACOBIAN, gate_key, jacobian, jacobian_shape
from bpcli.present.fold import fold
from bpcli.present.nodes import MAX_ROWS, gate_blocks, node_lines
from bpcli.texts import Translator
from bpcli.values import Value

if TYPE_CHECKING:
    from rich.console import Group, RenderableType
    from rich.text import Text

    from bpcli.grading.gradcheck import Check


# Rows shown before the middle of a big graph is elided (--max-rows).
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
    """Renderables for `bpcli grad`, `width` columns wide: the node table (Styled lines:
    written without Rich where there is no colour; with `full`, an array program's gates one
    by one, every element), then f and ∂f/∂input."""
    parts: list[RenderableType] = [Styled(node_lines(run, precision, width, max_rows, depth))]
    if full and run.graph.has_arrays:
        parts.append("\n".join([*gate_blocks(run, precision, width), "", ""]))  # (plain: fast)
    if show_jacobians:
        parts.append(jacobians(run, precision, width))
    parts.append("\n".join(summary_lines(run, precision, wrt, width)) + "\n")
    return parts


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
    lines = [
        part for line in lines for part in (fold(line, width, "", "  ") if cells(line) > width else [line])
    ]
    from rich.text import Text

    return Text("\n".join(lines) + "\n")


def gradcheck_title(graph: Graph) -> str:
    """The check's rule, a line a sentence; with an upstream gradient given (dout), what f it
    differences."""
    from bpcli.grading.gradcheck import ATOL, RTOL, STEP

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


def _check_cells(graph: Graph, check: Check, precision: int, room: int = 1 << 30) -> list[str]:
    """input, analytic, numeric, error, verdict and notes (a line each, or ""), as text; an
    array in at most `room` columns, summarised with its shape where it is wider."""

    def fmt(v: Value | None) -> str:
        return compact(v, precision, room)

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
        shown = "n/a" if numeric != numeric else fmt(numeric)
    else:
        import numpy as np

        shown = "n/a" if not np.isfinite(numeric).any() else fmt(numeric)
    if error != error:
        measure = "n/a"
    elif check.floored:
        measure = f"|a−n| {check.absolute_error:.1e}"
    else:
        measure = f"{error:.1e}"
    return [check.name, fmt(check.analytic), shown, measure, check.verdict, "\n".join(notes)]


def _size(value: Value) -> int:
    return 1 if isinstance(value, float) else int(value.size)


def gradcheck_table(
    graph: Graph, checks: list[Check], precision: int, width: int = 80, full: bool = False
) -> Group:
    """The check as a table of inputs within `width` columns: the rule folded above it, each
    input's notes below it (numbers fold onto further lines, never cropped)."""
    from rich.console import Group
    from rich.constrain import Constrain
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    natural = [_check_cells(graph, check, precision, 0) for check in checks]
    fixed = sum(
        max([len(header)] + [len(row[k]) for row in natural])
        for k, header in ((0, "input"), (3, "error"), (4, "verdict"))
    )
    room = max((width - 16 - fixed) // 2, 12)  # what analytic and numeric share (16: the rules)
    if full:  # every number, folded onto further lines
        room = 1 << 30
    rows = [_check_cells(graph, check, precision, room) for check in checks]
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
