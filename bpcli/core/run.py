"""The result of running a graph: what the passes computed, kept apart from the graph itself.

A Graph is the program (its structure and its leaves' values) and never changes; a Run is one
evaluation of it: each node's value and gradient, by node id, and what was noticed on the way.
A Run is not changed either once the engine returns it (`with_warnings` makes another).
"""

from __future__ import annotations

from bpcli.core.graph import Graph, Node
from bpcli.values import Value


class Run:
    """The forward and backward passes of one graph. (A plain class with fixed slots, not a
    dataclass: making a frozen dataclass costs a millisecond of every start-up.)"""

    __slots__ = ("grads", "graph", "kinks", "missing", "reached", "sent", "values", "warnings")

    graph: Graph
    values: list[Value | None]  # by node id; None: off the output's path and not computable
    grads: list[Value | None]  # ∂f/∂node by node id; None: no path to the output, or a constant
    warnings: tuple[str, ...]  # the builder's, then the engine's
    kinks: tuple[int, ...]  # ids of nodes evaluated where they are not differentiable
    # with record=True: (node id, input index) -> the downstream gradient sent along that wire
    sent: dict[tuple[int, int], Value] | None
    missing: bool  # a node off the output's path could not be computed (value None)
    # with --wrt: by node id, whether its gradient was computed (it depends on a name asked
    # for); the others get none, and cost nothing. None: every node's was.
    reached: list[bool] | None

    def __init__(
        self,
        graph: Graph,
        values: list[Value | None],
        grads: list[Value | None],
        warnings: tuple[str, ...],
        kinks: tuple[int, ...] = (),
        sent: dict[tuple[int, int], Value] | None = None,
        missing: bool = False,
        reached: list[bool] | None = None,
    ) -> None:
        for key, value in (
            ("graph", graph),
            ("values", values),
            ("grads", grads),
            ("warnings", warnings),
            ("kinks", kinks),
            ("sent", sent),
            ("missing", missing),
            ("reached", reached),
        ):
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("a run is not changed once the engine returns it")

    def __repr__(self) -> str:
        return f"<Run of {self.graph.output_text}: f = {self.values[self.graph.output.id]!r}>"

    def value(self, node: Node) -> Value | None:
        return self.values[node.id]

    def grad(self, node: Node) -> Value | None:
        """∂f/∂node as the backward pass left it: None where nothing flowed back."""
        return self.grads[node.id]

    @property
    def output(self) -> Value:
        """f, the output's value (never None: the output leads to itself)."""
        value = self.values[self.graph.output.id]
        assert value is not None
        return value

    def with_warnings(self, more: list[str]) -> Run:
        """The same run with more warnings (a caller's, such as --gradcheck's)."""
        return Run(
            self.graph,
            self.values,
            self.grads,
            (*self.warnings, *more),
            self.kinks,
            self.sent,
            self.missing,
            self.reached,
        )


def freeze(run: Run) -> None:
    """Make the run's arrays read-only: when many students are checked against this one run,
    a check that wrote into it would change the truth for the students after."""
    from bpcli.lazy import np

    for array in (*run.values, *run.grads, *(run.sent or {}).values()):
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
