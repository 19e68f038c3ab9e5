"""The HTML report's hooks on the circuit Graphviz draws: each node's and wire's `<g>` in
dot's SVG gets the report's data attributes and a `<title>` (its tooltip), read from the
names `present.dot` gives them (n7 a node, w7_0 the label of the wire into input 0 of node
7, t3 and j3 the trunk and junction where node 3 fans out, out the end node).
"""

from __future__ import annotations

import html
import re
from html import escape

from bpcli.core.graph import Graph
from bpcli.present.html.picture import Marks, badge, node_attributes, wire_attributes

# Every node and edge group of dot's SVG opens with its title: the DOT name(s).
_GROUP = re.compile(r'<g id="((?:node|edge)\d+)" class="(node|edge)">\n<title>([^<]*)</title>')
_WIRE = re.compile(r"w(\d+)_(\d+)")
_TRUNK = re.compile(r"[tj](\d+)")
_LINE = re.compile(r'<path fill="none" stroke="[^"]*" d="([^"]*)"/>')


def hook(svg: str, graph: Graph, marks: Marks) -> str:
    """dot's SVG with the report's hooks: data-node on nodes, data-edge (data-from, data-to,
    data-index) on every piece of a wire, a trunk's pieces data-from and data-trunk; titles
    that are the tooltips; dot's own tooltips (xlink:title) left out."""
    out = graph.output.id
    tr = marks.tr

    def wire(name: str) -> tuple[str, str] | None:
        """The attributes of the wire a DOT name belongs to, or None."""
        if name == "w_out" or name == "out":
            return wire_attributes(marks, out, None, 0)
        found = _WIRE.fullmatch(name)
        if found:
            consumer, index = int(found.group(1)), int(found.group(2))
            node = graph.nodes[consumer]
            return wire_attributes(marks, node.inputs[index].id, consumer, index)
        found = _TRUNK.fullmatch(name)
        if found:
            return wire_attributes(marks, int(found.group(1)), None, -1)
        return None

    def replace(match: re.Match[str]) -> str:
        group_id, kind, title = match.group(1), match.group(2), html.unescape(match.group(3))
        attributes: tuple[str, str] | None = None
        if kind == "node":
            found = re.fullmatch(r"n(\d+)", title)
            if found:
                attributes = node_attributes(marks, graph.nodes[int(found.group(1))])
            elif title == "out":
                attributes = ('class="end"', escape(tr("html.the-output"), quote=False))
            else:
                attributes = wire(title)
        else:
            ends = [end.split(":")[0] for end in title.split("->")]
            for end in ends[::-1]:  # (the wire's own node: the label, trunk or junction end)
                attributes = wire(end)
                if attributes is not None:
                    break
            if attributes is None and len(ends) == 2 and ends[0].startswith("n") and ends[1].startswith("n"):
                attributes = wire(f"w{ends[1][1:]}_0")
        if attributes is None:
            return f'<g id="{group_id}" class="{kind}">\n<title>{html.escape(title)}</title>'
        return f'<g id="{group_id}" {attributes[0]}>\n<title>{attributes[1]}</title>'

    svg = _GROUP.sub(replace, svg)
    # a wire's line is thin: a wide invisible copy under it takes the hover
    svg = _LINE.sub(r'<path class="hit" fill="none" d="\1"/>\g<0>', svg)
    svg = re.sub(r' xlink:title="[^"]*"', "", svg)
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)
    svg = svg.replace("<title>bpcli</title>\n", "", 1)
    svg = _badges(svg, marks)
    return svg.replace("<svg ", '<svg role="img" aria-label="the circuit" ', 1)


def _badges(svg: str, marks: Marks) -> str:
    """✓ or ✗ beside each node a check answers, placed by the node's first text."""
    for node_id, verdict in marks.answers.items():
        at = svg.find(f' data-node="{node_id}"')
        if at < 0:
            continue
        close = svg.find("</title>", at)
        text = re.compile(r'<text [^>]*?x="([-\d.]+)" y="([-\d.]+)"').search(svg, close)
        if close < 0 or text is None:
            continue
        x, y = float(text.group(1)), float(text.group(2))
        mark = f'<text class="badge badge-{verdict}" x="{x + 20:.1f}" y="{y - 16:.1f}">'
        mark += f"{badge(marks, node_id, verdict)}</text>"
        end = close + len("</title>")
        svg = svg[:end] + mark + svg[end:]
    return svg
