"""Each node's part in the backward pass, for presenters: local gradients, downstream
gradients, and at a fan-out the branches that add up to the upstream gradient."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bpcli.engine import downstream, gradient, local
from bpcli.graph import Graph, Node


@dataclass(slots=True)
class Edge:
    """What a node sends back to one of its inputs."""

    input: Node
    index: int
    local: Any  # ∂node/∂input: a number, an elementwise array, or None (a Jacobian)
    downstream: Any  # upstream × local, shaped like the input; None for constants


@dataclass(slots=True)
class Step:
    """One node of the backward pass."""

    node: Node
    upstream: Any  # ∂f/∂node; None for constants
    edges: list[Edge]
    branches: list[tuple[int, Any]] = field(default_factory=list)  # (consumer id, gradient)
    kink: bool = False


def derivation(graph: Graph) -> list[Step]:
    """One Step per node, in forward order."""
    kinks = set(graph.kinks)
    steps = [Step(n, gradient(n) if n.needs_grad else None, [], kink=n.id in kinks)
             for n in graph.nodes]
    for step in steps:
        node = step.node
        for i, inp in enumerate(node.inputs):
            if not inp.needs_grad:
                step.edges.append(Edge(inp, i, None, None))
                continue
            sent = downstream(graph, node, i) if node.grad is not None else None
            step.edges.append(Edge(inp, i, local(graph, node, i), sent))
            if sent is not None:
                steps[inp.id].branches.append((node.id, sent))
    return steps
