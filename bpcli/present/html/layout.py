"""The circuit drawn without Graphviz: a layered layout of the report's own, as SVG.

Layers by depth from the inputs (a gate one right of its deepest input; a constant just
left of the first gate that uses it), the order within each layer by barycentre sweeps
(each node moved towards the mean height of its neighbours, down the layers and back up),
boxes for the nodes and cubic wires between them. Linear in the graph's size per sweep, and
nothing recurses, so a graph of 100,000 nodes lays out too.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from bpcli.core.graph import Graph
from bpcli.core.ops import CONST
from bpcli.present.arrays import compact, norm_of, shape_text
from bpcli.present.html.picture import Marks, badge, node_attributes, wire_attributes
from bpcli.present.numbers import number
from bpcli.values import Value

SWEEPS = 4  # down and up, each
ROW = 66  # px between nodes of a layer
GAP = 70  # px between layers, besides the widest box
BOX_H = 26
CHAR = 7.4  # px per character of a box's label (13px system font, about)
MAX_LABEL = 18  # characters in a box; a longer label is cut, the tooltip has it whole
VALUE_ROOM = 16  # characters of a value or gradient under a box
STUB = 12  # px: the trunk where a node fans out, before its branches part
PAD = 24


def layout(graph: Graph) -> tuple[list[int], list[list[int]]]:
    """Each node's layer, and each layer's nodes in order (barycentre sweeps)."""
    count = len(graph.nodes)
    layer = [0] * count
    users: list[list[int]] = [[] for _ in range(count)]
    for node in graph.nodes:  # (in topological order)
        for inp in node.inputs:
            users[inp.id].append(node.id)
        if node.inputs:
            layer[node.id] = 1 + max(layer[i.id] for i in node.inputs)
    for node in graph.nodes:
        if node.op is CONST and users[node.id]:  # a constant stands by the gate that uses it
            layer[node.id] = max(0, min(layer[u] for u in users[node.id]) - 1)
    depth = max(layer, default=0) + 1
    layers: list[list[int]] = [[] for _ in range(depth)]
    for node in graph.nodes:
        layers[layer[node.id]].append(node.id)
    height = [0.0] * count

    def place() -> None:
        for members in layers:
            middle = (len(members) - 1) / 2
            for k, i in enumerate(members):
                height[i] = (k - middle) * ROW

    def sweep(order: range, neighbours: list[list[int]]) -> None:
        for at in order:
            members = layers[at]
            keys = {}
            for i in members:
                near = neighbours[i]
                keys[i] = sum(height[j] for j in near) / len(near) if near else height[i]
            members.sort(key=keys.__getitem__)
            middle = (len(members) - 1) / 2
            for k, i in enumerate(members):
                height[i] = (k - middle) * ROW

    inputs = [[i.id for i in node.inputs] for node in graph.nodes]
    place()
    for _ in range(SWEEPS):
        sweep(range(1, depth), inputs)
        sweep(range(depth - 2, -1, -1), users)
    return layer, layers


def circuit_svg(marks: Marks) -> str:
    """The circuit as SVG, with the same hooks as Graphviz's picture (see picture.py)."""
    return "".join(circuit_parts(marks))


def circuit_parts(marks: Marks) -> Iterator[str]:
    """circuit_svg in pieces: a wire or a node at a time."""
    graph = marks.graph
    run = marks.run
    _, layers = layout(graph)
    labels = [_label(graph, node_id, marks.precision) for node_id in range(len(graph.nodes))]
    widths = [max(34.0, min(len(t), MAX_LABEL) * CHAR + 16) for t in labels]
    columns = [max((widths[i] for i in members), default=0.0) for members in layers]
    lefts = [float(PAD)]
    for width in columns:
        lefts.append(lefts[-1] + width + GAP)
    tallest = max((len(members) for members in layers), default=1)
    top = PAD + 14 + (tallest - 1) * ROW / 2
    x = [0.0] * len(graph.nodes)
    y = [0.0] * len(graph.nodes)
    for at, members in enumerate(layers):
        middle = (len(members) - 1) / 2
        for k, i in enumerate(members):
            x[i] = lefts[at] + (columns[at] - widths[i]) / 2
            y[i] = top + (k - middle) * ROW
    out = graph.output.id
    end_x = lefts[len(layers) - 1] + columns[-1] + GAP if layers else PAD
    total_w = end_x + 60 + PAD
    total_h = top + (tallest - 1) * ROW / 2 + 14 + PAD + 16

    fans = marks.fans
    yield (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="own" role="img" aria-label="the circuit"'
        f' width="{total_w:.0f}" height="{total_h:.0f}" viewBox="0 0 {total_w:.0f} {total_h:.0f}">'
        '<g class="wires">'
    )

    def start(source: int) -> tuple[float, float]:
        sx = x[source] + widths[source]
        return (sx + STUB if fans[source] > 1 else sx), y[source]

    for node in graph.nodes:
        count = len(node.inputs)
        for index, inp in enumerate(node.inputs):
            x1, y1 = start(inp.id)
            x2 = x[node.id]
            y2 = y[node.id] + (index - (count - 1) / 2) * min(8.0, (BOX_H - 6) / max(count - 1, 1))
            attributes, tip = wire_attributes(marks, inp.id, node.id, index)
            yield _wire(attributes, tip, x1, y1, x2, y2)
    x1, y1 = start(out)
    attributes, tip = wire_attributes(marks, out, None, 0)
    yield _wire(attributes, tip, x1, y1, end_x, y1)
    for source, fan in enumerate(fans):
        if fan > 1:
            attributes, tip = wire_attributes(marks, source, None, -1)
            sx = x[source] + widths[source]
            yield (
                f"<g {attributes}><title>{tip}</title>"
                f'<path class="hit" d="M{sx:.1f},{y[source]:.1f}h{STUB}"/>'
                f'<path d="M{sx:.1f},{y[source]:.1f}h{STUB}"/></g>'
            )
    yield '</g><g class="nodes">'

    for node in graph.nodes:
        i = node.id
        attributes, tip = node_attributes(marks, node)
        text = labels[i] if len(labels[i]) <= MAX_LABEL else labels[i][: MAX_LABEL - 1] + "…"
        cx = x[i] + widths[i] / 2
        parts = [
            f"<g {attributes}><title>{tip}</title>",
            f'<rect x="{x[i]:.1f}" y="{y[i] - BOX_H / 2:.1f}" width="{widths[i]:.1f}" height="{BOX_H}"'
            f' rx="{BOX_H / 2 if node.inputs else 4}"/>',
            f'<text class="label" x="{cx:.1f}" y="{y[i] + 4.5:.1f}">{escape(text)}</text>',
        ]
        value = run.values[i]
        parts.append(
            f'<text class="value" x="{cx:.1f}" y="{y[i] - BOX_H / 2 - 4:.1f}">'
            f"{escape(_short(value, marks.precision, False))}</text>"
        )
        gradient = run.grads[i]
        if gradient is not None:
            parts.append(
                f'<text class="gradient" x="{cx:.1f}" y="{y[i] + BOX_H / 2 + 13:.1f}">'
                f"{escape(_short(gradient, marks.precision, True))}</text>"
            )
        answer = marks.answers.get(i)
        if answer is not None:
            parts.append(
                f'<text class="badge badge-{answer}" x="{x[i] + widths[i] + 2:.1f}"'
                f' y="{y[i] - BOX_H / 2 - 2:.1f}">{badge(marks, i, answer)}</text>'
            )
        parts.append("</g>")
        yield "".join(parts)
    yield (
        f'<g class="end"><text class="label" x="{end_x + 4:.1f}" y="{y[out] + 4.5:.1f}"'
        f' text-anchor="start">{escape(_end(graph))}</text></g></g></svg>'
    )


def _wire(attributes: str, tip: str, x1: float, y1: float, x2: float, y2: float) -> str:
    """A wire: straight when level, else a cubic curve; with a wide invisible path to hover."""
    if abs(y1 - y2) < 0.5:
        d = f"M{x1:.1f},{y1:.1f}H{x2:.1f}"
    else:
        bend = max(20.0, (x2 - x1) / 2)
        d = f"M{x1:.1f},{y1:.1f}C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    return f'<g {attributes}><title>{tip}</title><path class="hit" d="{d}"/><path d="{d}"/></g>'


def _short(v: Value | None, precision: int, gradient: bool) -> str:
    """A value under or over a box: a number, a short vector whole, else an array's shape
    (and a gradient's norm); the tooltip has more."""
    if v is None or isinstance(v, float):
        return compact(v, precision, VALUE_ROOM)
    whole = compact(v, precision, VALUE_ROOM)
    if "…" not in whole and "(" not in whole and len(whole) <= VALUE_ROOM:
        return whole
    if gradient:
        return f"‖g‖ {number(norm_of(v), min(precision, 3))}"
    return shape_text(v)


def _label(graph: Graph, node_id: int, precision: int) -> str:
    node = graph.nodes[node_id]
    if node.inputs:
        return node.op.symbol
    if node.name:
        return node.name
    value = graph.leaves[node_id]
    return compact(value, precision, MAX_LABEL) if value is not None else "?"


def _end(graph: Graph) -> str:
    if graph.output.name:
        return graph.output.name
    return "output" if "f" in graph.names or "f" in graph.inputs else "f"
