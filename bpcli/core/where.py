"""How a node made inside a call or a loop's iteration is named where no heading says where
it was made: `rnn_step_forward@t=2: next_h`, as the issue's labels, steps and errors write it.

Within its own scope (under a heading that names it) a node keeps its plain name or label.
"""

from __future__ import annotations

from bpcli.core.graph import Graph, Node, Scope

# `within`: the scope a heading already names; this default means none does.
NOWHERE: Scope | None = Scope(None, "")


def scoped_ref(graph: Graph, node: Node, atomic: bool = False, within: Scope | None = NOWHERE) -> str:
    """graph.ref(node), prefixed by where the node was made when it has a name, was made in
    a call or an iteration, and that is not `within` (the scope of the text around it)."""
    scope = node.scope
    if scope is not None and node.name and scope is not within:
        return f"{scope.label()}: {node.name}"
    return graph.ref(node, atomic)


def scoped_label(graph: Graph, node: Node, within: Scope | None = NOWHERE) -> str:
    """graph.label(node), prefixed by where the node was made unless that is `within`."""
    scope = node.scope
    if scope is not None and scope is not within:
        return f"{scope.label()}: {graph.label(node)}"
    return graph.label(node)
