"""`--format tree`: the expression as a tree in the terminal, value and gradient at each node.

A node used several times is expanded once; its other uses name it by its id. Nothing recurses:
the tree is drawn from an explicit stack. Every line fits the width it is given: a long label
folds under its own guide, arrays are shown by their edges and shape, and a branch deeper than
the width allows continues as a tree of its own below, named by its id.
"""

from __future__ import annotations

from rich.text import Text

from bpcli.cells import cells
from bpcli.core.engine import gradient
from bpcli.core.graph import Node, data_use
from bpcli.core.run import Run
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.present.arrays import compact
from bpcli.present.fold import Piece, fold_pieces

NBSP = "\u00a0"
MAX_DEPTH = 60  # levels drawn in one tree at most, however wide the terminal


def _pieces(run: Run, node: Node, precision: int, kinks: set[int], room: int) -> list[Piece]:
    graph = run.graph
    value_room = max(16, room // 2)
    grad = "—" if not node.needs_grad else compact(gradient(run, node), precision, value_room)
    grad = grad.replace(" ", NBSP)  # (an array's summary never folds)
    if data_use(graph, node):
        grad += " (data)"  # an input read as an index or a shape: it has no gradient
    op = node.op.name + (" ⚠" if node.id in kinks else "")
    return [
        (scoped_label(graph, node), "bold"),
        ("  ", ""),
        (op, "dim"),
        ("  value ", ""),
        (compact(run.values[node.id], precision, value_room).replace(" ", NBSP), "green"),
        (f"  ∂{graph.symbol}/∂node ", ""),
        (grad, "red"),
    ]


def grad_tree(run: Run, precision: int = 4, max_depth: int = MAX_DEPTH, width: int = 80) -> Text:
    """The tree rooted at the output, as lines of styled text at most `width` columns wide."""
    graph = run.graph
    kinks = set(run.kinks)
    depth_cap = max(3, min(max_depth, (width - 36) // 4))  # 4 columns a level, 36 for the text
    out = Text()
    expanded = {graph.output.id}
    roots: list[Node] = [graph.output]
    k = 0
    while k < len(roots):
        root = roots[k]
        pieces = _pieces(run, root, precision, kinks, width)
        if k:  # a branch continued from above
            out.append("\n")
            pieces = [(f"#{root.id} ", "dim"), *pieces]
        _emit(out, pieces, width, "", "  ")
        # what is left to draw, the next on top: (node, its line's guide, the guide under it, depth)
        stack: list[tuple[Node, str, str, int]] = _children(root, "", 0)
        while stack:
            node, guide, below, depth = stack.pop()
            if node.inputs and node.id in expanded:
                note = f"#{node.id} {scoped_ref(graph, node)} (expanded once, elsewhere in this tree)"
                _emit(out, [(note, "italic dim")], width, guide, below + "  ")
                continue
            pieces = _pieces(run, node, precision, kinks, width - cells(guide))
            if not node.inputs:
                _emit(out, pieces, width, guide, below + "  ")
                continue
            expanded.add(node.id)
            if depth >= depth_cap:  # too deep for the width: a tree of its own below
                roots.append(node)
                pieces.append((f"  (#{node.id}, continued below)", "italic dim"))
                _emit(out, pieces, width, guide, below + "  ")
                continue
            _emit(out, pieces, width, guide, below + ("│ " if node.inputs else "  "))
            stack += _children(node, below, depth)
        k += 1
    out.rstrip()
    return out


def _children(node: Node, under: str, depth: int) -> list[tuple[Node, str, str, int]]:
    """A node's inputs to draw under it, the last first (the stack pops the first first)."""
    entries = []
    for i, inp in enumerate(node.inputs):
        last = i == len(node.inputs) - 1
        entries.append(
            (inp, under + ("└── " if last else "├── "), under + ("    " if last else "│   "), depth + 1)
        )
    entries.reverse()
    return entries


def _emit(out: Text, pieces: list[Piece], width: int, guide: str, hang: str) -> None:
    for line in fold_pieces(pieces, width, guide, hang):
        for text, style in line:
            drawn = bool(text) and text.strip(" │├└─") == ""  # the guides are dim
            out.append(text.replace(NBSP, " "), style or ("dim" if drawn else ""))
        out.append("\n")
