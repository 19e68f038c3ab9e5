"""What `bpcli check` finds, as data: a verdict for each answer and, for a wrong one, the
likely mistake with the numbers involved. bpcli.present.check puts them into words."""

from __future__ import annotations

from dataclasses import dataclass

from bpcli.core.graph import Node
from bpcli.grading.answers import Expectation
from bpcli.values import Value

KINDS = (
    "forward",
    "sign",
    "transpose",
    "missing-sum",
    "scale",
    "missing-upstream",
    "missing-local",
    "partial-fanout",
    "swapped-inputs",
    "value-confusion",
    "wrong-route",
    "repeated-index",
    "rounding",
    "shape",
    "unknown",
)


@dataclass(frozen=True, slots=True)
class Pointer:
    """The local gradient to re-derive where the derivation broke: input `index` of `gate`,
    whose local gradient is `local` (a number on scalars; None for an array gate, whose rule
    is shown instead, or where it has no finite value)."""

    gate: Node
    index: int
    local: Value | None
    shapes: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())  # of the gate's upstream g, and of the input
    operands: tuple[tuple[int, ...], ...] = ()  # the shape of each input of the gate


@dataclass(frozen=True, slots=True)
class Rounded:
    """A right method with the upstream gradient rounded too early: `upstream` as the
    student rounded it (text, with their decimals) times the local gradient `local`."""

    upstream: str
    local: Value


@dataclass(frozen=True, slots=True)
class Branch:
    """One gate that sends a node a gradient, what it sends, and whether the answer left it out."""

    gate: Node
    value: Value | None
    left_out: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """The likely mistake behind a wrong answer, as data: the kind of mistake, where it is,
    and the numbers involved. bpcli.present.check puts it into words, in either language."""

    kind: str  # one of KINDS
    node: Node  # the gate whose local gradient to re-derive, or the node of a wrong value
    name: str  # the answer's name
    answer: str  # the answer as written
    truth: Value
    shape: tuple[int, ...]  # the answer's shape
    truth_shape: tuple[int, ...]
    gradient: bool = True  # an answer for a gradient (else for a forward value)
    first: bool = False  # the first wrong step
    index: int = 0  # which input of `node` (a gate) the mistake is on
    at: Node | None = None  # the node whose gradient the mistake is in, when it is not the answer's
    upstream: Value | None = None  # ∂f/∂node (the upstream gradient the gate got); None at the output
    uses: int = 0  # how many gates send `at` (or the answer's node) a gradient
    branches: tuple[Branch, ...] = ()  # partial-fanout: each of them
    winner: Node | None = None  # wrong-route: the input the router sends the gradient to
    factor: float | None = None  # scale: your answer is the truth times this
    branch: bool = False  # sign, scale: in one branch (through `node`) of ∂f/∂at, not in all of it
    hint: str = ""  # scale: what the factor most likely is: "square", "mean N" (N elements averaged)
    axes: tuple[int, ...] = ()  # missing-sum: the axes to sum over
    same_numbers: bool = False  # shape: the right numbers in the wrong shape
    carried_from: Node | None = None  # the node whose wrong answer (or value) this one follows from
    carried_answer: str = ""  # that answer, as written
    follows: str = ""  # the answer (as written) whose mistake this one shares
    common: tuple[str, ...] = ()  # the other answers the same mistake explains, as written
    through: tuple[str, ...] = ()  # names between the answer and the answers given above it
    above: tuple[str, ...] = ()  # the right answers given just above it, as written
    also: tuple[str, ...] = ()  # other kinds that explain the number as well
    rounded: Rounded | None = None
    pointer: Pointer | None = None


@dataclass(slots=True)
class Verdict:
    """One answer checked."""

    expectation: Expectation
    node: Node
    truth: Value
    ok: bool
    worst: int | None = None  # for an array: the flat index of the element furthest off
    finding: Finding | None = None
    one_sided: tuple[int, ...] = ()  # accepted as a one-sided derivative at these kinks (ids)
    scale: Value = 0.0  # the magnitude of what flowed into the truth: its noise is relative to it
