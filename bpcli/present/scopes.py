"""Calls and loop iterations in the presenters: heading lines over the nodes made in one
call or iteration, and the calls --depth collapses into one gate each.

A node's scope (bpcli.core.graph.Scope) says where it was made. Consecutive rows made in the
same scope stand under one heading (`rnn_step_forward, t = 2`); a call deeper than --depth
is shown as one gate, `rnn_step_forward(…)`, whose value and upstream gradient are those of
its results and whose inputs are the nodes outside it that it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from bpcli.core.graph import Graph, Node, Scope
from bpcli.core.run import Run
from bpcli.present.explain import Step, derivation
from bpcli.values import Value


class Group:
    """The nodes of one call collapsed by --depth, shown as one gate."""

    __slots__ = ("inputs", "nodes", "results", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope  # the call's scope (the collapsed one: deeper calls are in it)
        self.nodes: list[Node] = []  # in forward order
        self.results: list[Node] = []  # nodes of the call used outside it, or the output
        self.inputs: list[Node] = []  # nodes outside the call that it uses, by first use

    @property
    def name(self) -> str:
        """The gate's name: `rnn_step_forward(…)`."""
        return f"{self.scope.function}(…)"

    @property
    def span(self) -> str:
        """The ids of its nodes, for the # column: `5–17`."""
        first, last = self.nodes[0].id, self.nodes[-1].id
        return str(first) if first == last else f"{first}–{last}"


Item: TypeAlias = "Node | Group"


def scoped(graph: Graph) -> bool:
    """Whether any node was made in a call or an iteration (else no headings at all)."""
    return any(node.scope is not None for node in graph.nodes)


def scope_of(item: Item) -> Scope | None:
    """The scope a row stands in: a node's own, a collapsed call's."""
    return item.scope


def collapse(graph: Graph, depth: int | None) -> list[Item]:
    """The graph's rows in forward order: its nodes, with every call more than `depth` calls
    deep (Scope.calls > depth) made one Group, at the place of its first node. None: no
    call is collapsed. Loops alone are never collapsed."""
    if depth is None or not scoped(graph):
        return list(graph.nodes)
    target: dict[int, Scope | None] = {}  # id(scope) -> the call it is collapsed into, or None
    groups: dict[int, Group] = {}  # id(call scope) -> its group
    member: list[Group | None] = [None] * len(graph.nodes)
    items: list[Item] = []
    for node in graph.nodes:
        scope = node.scope
        call = None
        if scope is not None and scope.calls > depth:
            key = id(scope)
            if key not in target:
                target[key] = next(s for s in scope.chain() if s.calls > depth)
            call = target[key]
        if call is None:
            items.append(node)
            continue
        group = groups.get(id(call))
        if group is None:
            group = groups[id(call)] = Group(call)
            items.append(group)
        group.nodes.append(node)
        member[node.id] = group
    if not groups:
        return items
    results: set[int] = set()
    used: dict[int, set[int]] = {}  # id(group) -> ids of its inputs
    for node in graph.nodes:
        home = member[node.id]
        for inp in node.inputs:
            source = member[inp.id]
            if source is home:
                continue
            if source is not None and inp.id not in results:
                results.add(inp.id)
                source.results.append(inp)
            if home is not None and inp.id not in used.setdefault(id(home), set()):
                used[id(home)].add(inp.id)
                home.inputs.append(inp)
    output = graph.output
    home = member[output.id]
    if home is not None and output.id not in results:
        home.results.append(output)
    for group in groups.values():
        group.results.sort(key=lambda n: n.id)
        if not group.results:  # used by nothing: its last node stands for it
            group.results.append(group.nodes[-1])
    return items


class GroupStep:
    """A collapsed call's part in the backward pass: its results' steps (value, upstream
    gradient), and for each input what the call sends back to it (the downstream gradients
    of its wires into the call, added up)."""

    __slots__ = ("edges", "group", "results")

    def __init__(self, group: Group, results: list[Step], edges: list[tuple[Node, Value | None]]) -> None:
        self.group = group
        self.results = results
        self.edges = edges


def explain(run: Run, items: Sequence[Item]) -> list[Step | GroupStep]:
    """derivation() for rows: a Step for each node, a GroupStep for each collapsed call."""
    groups = [item for item in items if isinstance(item, Group)]
    ids = [item.id for item in items if isinstance(item, Node)]
    wanted = set(ids)
    for group in groups:
        inside = {n.id for n in group.nodes}
        wanted.update(n.id for n in group.results)
        wanted.update(n.id for n in group.nodes if any(i.id not in inside for i in n.inputs))
    steps = {step.node.id: step for step in derivation(run, sorted(wanted))}
    out: list[Step | GroupStep] = []
    for item in items:
        if isinstance(item, Node):
            out.append(steps[item.id])
            continue
        inside = {n.id for n in item.nodes}
        sent: dict[int, Value | None] = {inp.id: None for inp in item.inputs}
        for node in item.nodes:
            step = steps.get(node.id)
            if step is None:
                continue
            for edge in step.edges:
                if edge.input.id in inside or edge.downstream is None:
                    continue
                total = sent[edge.input.id]
                sent[edge.input.id] = edge.downstream if total is None else total + edge.downstream
        edges = [(inp, sent[inp.id]) for inp in item.inputs]
        out.append(GroupStep(item, [steps[n.id] for n in item.results], edges))
    return out


_UNSEEN = Scope(None, "")  # before any row, after a gap: any scope gets its heading


class Headings:
    """Tells, row by row, when a heading line goes before the row: when its scope is not the
    previous row's. The program's first rows need none at the top level, and a graph made
    with no calls or loops never gets one."""

    def __init__(self, graph: Graph) -> None:
        self.on = scoped(graph)
        self.current: Scope | None = None

    def change(self, scope: Scope | None) -> bool:
        """Whether a heading goes before a row in `scope` (and that row is now the last)."""
        if not self.on or scope is self.current:
            return False
        self.current = scope
        return True

    def gap(self) -> None:
        """Rows were left out: the next row gets its heading whatever its scope."""
        self.current = _UNSEEN


def heading(scope: Scope | None, top: str = "top level") -> str:
    """The heading line's text: `rnn_step_forward, t = 2`, or `top` for the top level."""
    return top if scope is None else scope.heading()
