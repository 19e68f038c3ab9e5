"""`--format tree`: the expression as a tree in the terminal, value and gradient at each node.

A node used several times is expanded once; its other uses name it by its id. Nothing recurses:
the tree is built with an explicit stack, and very deep programs are cut at MAX_DEPTH.
"""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from bpcli.core.engine import gradient
from bpcli.core.graph import Node, data_use
from bpcli.core.run import Run
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.present.numbers import one_line as _fmt

MAX_DEPTH = 60


def _text(run: Run, node: Node, precision: int, kinks: set[int]) -> Text:
    grad = "—" if not node.needs_grad else _fmt(gradient(run, node), precision)
    if data_use(run.graph, node):
        grad += " (data)"  # an input read as an index or a shape: it has no gradient
    op = node.op.name + (" ⚠" if node.id in kinks else "")
    return Text.assemble(
        (scoped_label(run.graph, node), "bold"),
        "  ",
        (op, "dim"),
        "  value ",
        (_fmt(run.values[node.id], precision), "green"),
        "  ∂f/∂ ",
        (grad, "red"),
    )


def grad_tree(run: Run, precision: int = 4, max_depth: int = MAX_DEPTH) -> Tree:
    """A Rich tree rooted at the output."""
    graph = run.graph
    kinks = set(run.kinks)
    root = Tree(_text(run, graph.output, precision, kinks), guide_style="dim")
    expanded = {graph.output.id}
    stack: list[tuple[Node, Tree, int]] = [(graph.output, root, 0)]
    while stack:
        node, tree, depth = stack.pop()
        if depth >= max_depth and node.inputs:
            tree.add(Text(f"… deeper than {max_depth} levels (see --format table)", style="italic"))
            continue
        children = []
        for inp in node.inputs:
            if inp.inputs and inp.id in expanded:
                tree.add(
                    Text(
                        f"#{inp.id} {scoped_ref(graph, inp)} (expanded once, elsewhere in this tree)",
                        style="italic dim",
                    )
                )
                continue
            child = tree.add(_text(run, inp, precision, kinks))
            if inp.inputs:
                expanded.add(inp.id)
                children.append((inp, child, depth + 1))
        stack.extend(reversed(children))
    return root
