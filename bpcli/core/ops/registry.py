"""The op registry: one fact sheet per primitive, written where its rule is.

`defop` registers a primitive with every fact the rest of bpcli needs about it, in the
spirit of HIPS autograd's `defvjp` and JAX's adjacent `ad.defjvp` lines: its forward, one
VJP per input, the local gradient as a formula, how a label writes it, its gate pattern,
its kink and the convention taken there, whether it routes. Nothing else keys an op by its
name: the engine, the diagnosis and the presenters read these facts. Teaching text is not
kept here: a convention is a key of `bpcli.texts`.

Naming follows HIPS autograd: `g` is the upstream gradient ∂f/∂node, `ans` the node's
forward value, `x, y` its inputs. A VJP returns g × (local gradient), the downstream
gradient sent to that input. Scalars stay Python floats; numpy is imported only when a
problem has arrays (see `bpcli.lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bpcli.lazy import np

if TYPE_CHECKING:  # types only: none of this is imported or built at run time (start-up)
    from collections.abc import Callable
    from typing import Protocol

    from bpcli.core.graph import Node
    from bpcli.values import Array, Mask, Value

    Shape = tuple[int, ...]
    ShapeRule = Callable[[list[Shape]], Shape]
    Forward = Callable[..., Value]
    Vjp = Callable[..., Value]  # (g, ans, *inputs) -> the downstream gradient
    Expansion = Callable[..., Node]  # (make, *inputs) -> the circuit's last gate

    class VjpTable(Protocol):
        """The VJPs of an op, by input index: a tuple, or for an op of any number of inputs
        (an array literal) an object that makes the VJP of input i."""

        def __getitem__(self, i: int, /) -> Vjp: ...

    class Maker(Protocol):
        """What an --expand circuit builds with (the builder gives it): make("add", a, b) adds
        a gate, make.smooth(…) one whose kink does not reach f, make.const(v) a constant."""

        def __call__(self, op_name: str, *inputs: Node) -> Node: ...

        def smooth(self, op_name: str, *inputs: Node) -> Node: ...

        def const(self, value: float) -> Node: ...

        def family(self, name: str, *inputs: Node, smooth: bool = False, **params: object) -> Node:
            """A gate of a family's member: make.family("sum", x, axis=-1, keepdims=True)."""
            ...


# Precedence of a rendered expression, loosest first (used for labels).
P_ADD, P_MUL, P_NEG, P_POW, P_ATOM = 1, 2, 3, 4, 5

GATE_PATTERNS = (
    "distributor",
    "swapper",
    "router",
    "gate",
    "copier",
    "averager",
    "scatter",
    "rearranger",
)  # texts steps.gate.*
ROUTES = ("largest", "smallest")


class ShapeMismatch(ValueError):
    """Raised by a forward function when its inputs' shapes do not fit."""


class Split:
    """A rule written twice: on Python floats (fast, and exact where `math` is) and on float64
    arrays. A forward whose `scalar` is None has no scalar form: its inputs must be arrays."""

    __slots__ = ("array", "scalar")

    def __init__(self, scalar: Callable[..., Value] | None, array: Callable[..., Value]) -> None:
        self.scalar = scalar
        self.array = array


class Op:
    """One primitive gate: every fact about it, fixed at registration (see `defop`)."""

    __slots__ = (
        "arity",
        "array",
        "array_vjps",
        "boolean",
        "broadcast",
        "by_output",
        "callable_as",
        "commutes",
        "convention",
        "differentiable",
        "elementwise",
        "expansion",
        "gate",
        "infix",
        "integer",
        "kink",
        "local",
        "logical",
        "name",
        "one_sided",
        "params",
        "prec",
        "routes",
        "scalar",
        "shape",
        "slots",
        "symbol",
        "template",
        "view",
        "vjps",
    )
    name: str
    arity: int  # -1: any number of inputs (an array literal)
    scalar: Forward | None  # forward on Python floats; None: arrays only
    array: Forward | None  # forward when any input is a numpy array
    vjps: VjpTable  # one per input, on floats
    array_vjps: VjpTable  # the same for arrays
    local: tuple[str, ...]  # ∂node/∂input as notation, per input: "{y}", "1/{x:a}"
    template: str  # how a label writes the node, inputs as {0}, {1}
    infix: str  # the operator of an infix template ("" for a function-style op)
    prec: int  # precedence of the template's outermost operator
    slots: tuple[int, ...]  # least precedence each input may have unparenthesised
    symbol: str  # what a circuit drawing writes on the gate
    commutes: bool  # x op y == y op x (a drawing may fold a constant on either side)
    gate: str  # the cs231n gate pattern (GATE_PATTERNS), for narration; "" for none
    kink: Callable[..., bool] | None  # true at inputs where the op is not differentiable
    convention: str  # the texts key of what bpcli does at the kink
    one_sided: bool  # a one-sided derivative at the kink is an acceptable answer too
    routes: str  # a router sends the gradient to its "largest" or "smallest" input; else ""
    broadcast: bool  # elementwise binary: sum gradients back to each input's shape
    elementwise: bool  # the local Jacobian is diagonal; shown as an array
    shape: ShapeRule | None  # the result's shape from the inputs' shapes; raises ShapeMismatch
    callable_as: tuple[str, ...]  # function names a program may call it by
    expansion: Expansion | None  # --expand: the same function built from primitive gates
    by_output: Callable[[Value, Value], Value] | None  # the textbook VJP in the value alone
    params: tuple[tuple[str, object], ...]  # a family member's static parameters (axis=1, …)
    differentiable: bool  # false: no gradient flows through it (a comparison)
    boolean: bool  # its result is a boolean array, held as 0.0/1.0 (a comparison)
    integer: bool  # its result holds integers when its inputs do (+, *, //, an index)
    logical: bool  # its result is boolean when its inputs are (numpy: bool * bool is bool)
    view: bool  # numpy gives a view of its first input, not a copy (reshape, .T, a slice)

    def __init__(self, **facts: object) -> None:
        if facts.keys() != _SETTERS.keys():
            raise TypeError(f"an op has exactly these facts: {', '.join(self.__slots__)}")
        for key, value in facts.items():
            _SETTERS[key](self, value)  # (past __setattr__, which refuses)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"op {self.name} is fixed at registration")

    def __repr__(self) -> str:
        return f"<op {self.name}>"


_SETTERS = {key: getattr(Op, key).__set__ for key in Op.__slots__}


OPS: dict[str, Op] = {}
# Function names a program may call -> op name; max and min also reduce one array.
FUNCTIONS: dict[str, str] = {}
# Function names that, called with one argument, mean a reduction: max(A) -> amax.
REDUCTIONS: dict[str, str] = {}
# (outer op, inner op) -> the one stable gate the builder writes outer(inner(x)) as.
FUSED: dict[tuple[Op, Op], Op] = {}


def defop(
    name: str,
    *,
    reduces_for: tuple[str, ...] = (),
    fuses: tuple[Op, Op] | None = None,
    **facts: Any,
) -> Op:
    """Register one primitive; every fact about it is an argument here (`make_op` takes
    them, typed, and makes the op).

    forward: one function for floats and arrays, or a Split(scalar, array) pair.
    vjp: one per input, each one function for floats and arrays or a Split pair.
    local: ∂node/∂input per input, as notation with {x}, {y} ({x:a}: parenthesised).
    infix (" + ") or template ("-{0}"), with prec; else the label is name(x, y).
    symbol: the gate's glyph in a circuit drawing (default: the infix, else the name).
    gate: the cs231n pattern, one of GATE_PATTERNS (texts steps.gate.*).
    kink: where the op is not differentiable, with its convention (a texts key), and
        whether a one-sided derivative there is accepted (one_sided).
    routes: "largest" or "smallest", the input a router sends the gradient to.
    broadcast, elementwise, shape: how shapes flow (the rule defaults from the first two).
    callable_as: function names; reduces_for: function names meaning this op with one
    argument (max(A) is amax); fuses: (outer, inner) ops written as this one gate.
    expansion: the --expand circuit, expansion(make, *inputs).
    by_output: for check's diagnosis, the unary VJP in the node's value alone, (g, ans) ->
        g·σ(1 - σ), as textbooks write it (the VJP itself may use the input to be stable).
    differentiable, boolean, integer, logical, view: dtype and memory facts, as numpy has
        them (a comparison is boolean and passes no gradient; + keeps integers; * of
        booleans is boolean; .T is a view).
    """
    if name in OPS:
        raise ValueError(f"op {name} is registered twice")
    entry = make_op(name, **facts)
    OPS[name] = entry
    for alias in entry.callable_as:
        FUNCTIONS[alias] = name
    for alias in reduces_for:
        REDUCTIONS[alias] = name
    if fuses is not None:
        FUSED[fuses] = entry
    return entry


def make_op(
    name: str,
    *,
    arity: int,
    forward: Forward | Split | None,
    vjp: tuple[Vjp | Split, ...] | VjpTable,
    local: tuple[str, ...],
    infix: str | None = None,
    template: str | None = None,
    prec: int = P_ATOM,
    symbol: str | None = None,
    commutes: bool = False,
    gate: str = "",
    kink: Callable[..., bool] | None = None,
    convention: str = "",
    one_sided: bool = False,
    routes: str = "",
    broadcast: bool = False,
    elementwise: bool = False,
    shape: ShapeRule | None = None,
    callable_as: tuple[str, ...] = (),
    expansion: Expansion | None = None,
    by_output: Callable[[Value, Value], Value] | None = None,
    differentiable: bool = True,
    boolean: bool = False,
    integer: bool = False,
    logical: bool = False,
    view: bool = False,
    params: tuple[tuple[str, object], ...] = (),
    slots: tuple[int, ...] | None = None,
) -> Op:
    """An op with these facts (see `defop`), not registered: a family's member is made so."""
    if infix is not None:
        template = "{0}" + infix + "{1}"
        slots = (prec, prec + 1) if prec != P_POW else (prec + 1, prec)
    elif template is not None:
        slots = slots or (prec,) * max(arity, 0)
    else:
        template = name + "(" + ", ".join(f"{{{i}}}" for i in range(arity)) + ")"
        slots = (0,) * arity
    if shape is None and arity > 0:  # the two common rules; other ops give their own
        if broadcast:
            shape = broadcast_shape
        elif arity == 1 and elementwise:
            shape = same_shape
    if arity >= 0 and not (len(local) == arity and isinstance(vjp, tuple) and len(vjp) == arity):
        raise ValueError(f"op {name}: give one local gradient and one VJP per input")
    if (kink is None) != (convention == "") or (one_sided and kink is None):
        raise ValueError(f"op {name}: a kink and its convention go together")
    if gate not in ("", *GATE_PATTERNS) or routes not in ("", *ROUTES):
        raise ValueError(f"op {name}: unknown gate pattern {gate!r} or route {routes!r}")
    scalar: Forward | None
    array: Forward | None
    if isinstance(forward, Split):
        scalar, array = forward.scalar, forward.array
    else:
        scalar = array = forward
    vjps: VjpTable
    array_vjps: VjpTable
    if isinstance(vjp, tuple):
        vjps = tuple(_pick(rule, arrays=False) for rule in vjp)
        array_vjps = tuple(_pick(rule, arrays=True) for rule in vjp)
    else:
        vjps = array_vjps = vjp
    entry = Op(
        name=name,
        arity=arity,
        scalar=scalar,
        array=array,
        vjps=vjps,
        array_vjps=array_vjps,
        local=local,
        template=template,
        infix=infix or "",
        prec=prec,
        slots=slots,
        symbol=symbol or (infix.strip() if infix else name),
        commutes=commutes,
        gate=gate,
        kink=kink,
        convention=convention,
        one_sided=one_sided,
        routes=routes,
        broadcast=broadcast,
        elementwise=elementwise,
        shape=shape,
        callable_as=callable_as,
        expansion=expansion,
        by_output=by_output,
        params=params,
        differentiable=differentiable,
        boolean=boolean,
        integer=integer,
        logical=logical,
        view=view,
    )
    return entry


REQUIRED = object()  # a family parameter with no default


class Family:
    """Ops that differ only in static parameters: an axis, an index, a shape, a stride.

    `family(**params)` is the op for those parameters: `make(**params)` gives it, every fact
    an op has (a call without parameters may give a registered op: `sum(x)` is `sum`). A
    program calls a family as numpy does: the first `arrays` positional arguments are the
    arrays (inputs; -1: one list of them, as concatenate takes), the rest and the keywords
    are `params`, in order, each with its default (REQUIRED: none). A method call
    (`x.reshape(N, -1)`) gathers extra positional arguments into the parameter `packs`."""

    __slots__ = ("arrays", "make", "name", "packs", "params")

    def __init__(
        self,
        name: str,
        make: Callable[..., Op],
        arrays: int,
        params: tuple[tuple[str, object], ...],
        packs: str | None,
    ) -> None:
        self.name = name
        self.make = make
        self.arrays = arrays
        self.params = params
        self.packs = packs

    def __call__(self, **params: object) -> Op:
        return self.make(**params)

    def __repr__(self) -> str:
        return f"<family {self.name}>"


FAMILIES: dict[str, Family] = {}
CALLS: dict[str, Family] = {}  # numpy function names (np.sum, np.reshape) -> family
METHODS: dict[str, Family] = {}  # array method names (x.sum, x.reshape) -> family


def deffamily(
    name: str,
    make: Callable[..., Op],
    *,
    arrays: int = 1,
    params: tuple[tuple[str, object], ...] = (),
    callable_as: tuple[str, ...] = (),
    methods: tuple[str, ...] = (),
    packs: str | None = None,
) -> Family:
    """Register a family of ops (see `Family`) and the numpy names that reach it."""
    if name in FAMILIES:
        raise ValueError(f"family {name} is registered twice")
    family = Family(name, make, arrays, params, packs)
    FAMILIES[name] = family
    for alias in callable_as:
        CALLS[alias] = family
    for alias in methods:
        METHODS[alias] = family
    return family


_MEMBERS: dict[tuple[str, str], Op] = {}


def member(family: str, params: dict[str, object], make: Callable[[], Op]) -> Op:
    """The op of `family` for these (checked) parameters, made once: the same parameters give
    the same op, so that a graph's gates compare by identity as registered ops do. Keyed by
    the parameters' repr: 1, 1.0 and True are equal keys of a dict but not the same parameter."""
    key = (family, repr(tuple(params.items())))
    op = _MEMBERS.get(key)
    if op is None:
        op = _MEMBERS[key] = make()
    return op


def param_text(params: tuple[tuple[str, object], ...]) -> str:
    """Parameters as a call writes them: ", axis=1, keepdims=True" (empty for none)."""
    return "".join(f", {key}={value!r}" for key, value in params)


def _pick(rule: Vjp | Split, arrays: bool) -> Vjp:
    """A VJP's form on arrays or on floats."""
    if not isinstance(rule, Split):
        return rule
    picked = rule.array if arrays else rule.scalar
    if picked is None:
        raise ValueError("a VJP needs a form on floats")
    return picked


# --- helpers for the families ---------------------------------------------------------------


def numpy_function(name: str) -> Callable[..., Array]:
    """numpy's function `name`, looked up when called: numpy is imported on first use only."""

    def call(*args: Value) -> Array:
        result: Array = getattr(np, name)(*args)
        return result

    call.__name__ = call.__qualname__ = "np." + name
    return call


def identity(x: Value) -> Value:
    return x


def any_true(mask: bool | Mask) -> bool:
    """Whether a comparison holds anywhere: a bool from floats, or a boolean array."""
    return mask if isinstance(mask, bool) else bool(mask.any())


def shape_of(value: Value) -> Shape:
    """A value's shape: () for a scalar (without numpy's dispatch: this is on every array gate)."""
    return () if isinstance(value, float) else value.shape


def unbroadcast(grad: Value, like: Value) -> Value:
    """Sum a broadcast gradient back to the shape of `like` (a float or an array)."""
    if type(like) is float:
        return grad if type(grad) is float else float(np.sum(grad))
    shape = shape_of(like)
    if shape_of(grad) == shape:
        return grad
    summed: Array = np.asarray(grad)
    while summed.ndim > len(shape):
        summed = summed.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and summed.shape[axis] != 1:
            summed = summed.sum(axis=axis, keepdims=True)
    return np.broadcast_to(summed, shape).copy() if summed.shape != shape else summed


# --- shape rules ----------------------------------------------------------------------------
# Each takes the list of the inputs' shapes (() for a scalar) and gives the result's.


def broadcast_shape(shapes: list[Shape]) -> Shape:
    """numpy's broadcasting rule."""
    if shapes and not any(shapes):  # scalars only (the common case while reading: x*y + 2)
        return ()
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -axis and s[axis] != 1:
                if size not in (1, s[axis]):
                    raise ShapeMismatch(
                        "operands could not be broadcast together with shapes "
                        + " ".join(
                            "(" + ",".join(map(str, s)) + ("," if len(s) == 1 else "") + ")" for s in shapes
                        )
                    )
                size = s[axis]
        result.append(size)
    return tuple(result)


def same_shape(shapes: list[Shape]) -> Shape:
    return shapes[0]


def reduced_shape(shapes: list[Shape]) -> Shape:
    return ()


# --- leaves ---------------------------------------------------------------------------------
# Inputs (the variables we differentiate with respect to) and constants have no forward
# function: the engine leaves their value as it is.

INPUT = defop("input", arity=0, forward=None, vjp=(), local=(), template="")
CONST = defop("const", arity=0, forward=None, vjp=(), local=(), template="")
