"""Random numpy-homework programs, each written twice: as bpcli reads it, and as a Python
function over HIPS autograd's numpy (the oracle of tests/test_oracle_numpy*.py).

A program is a few statements over a growing set of named arrays whose shapes are known
while it is made: matmul and affine layers, broadcasting arithmetic, exp/log/tanh/sigmoid,
maximum and where, comparisons and masks, basic and integer-array indexing (repeats,
s[np.arange(N), y]), index assignment (m[idx] = 0, m[:, 0:2] += e, m[m > 0] = 0), reshape,
transpose, flatten, swapaxes, expand_dims, squeeze, concatenate, stack, split, and shapes
read as integers (R, C = a.shape). Most statements are the same text on both sides, which is
the point: bpcli reads numpy. Index assignment differs: autograd cannot assign in place, so
the Python side calls `assign`, which builds the new array by gathering, and settles repeated
indices with a plain loop (numpy's last write wins), independently of bpcli's own code.

Every choice goes through a `Chooser`, so hypothesis can draw (and shrink) the program's
structure; the numbers come from a seeded numpy generator.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_ELEMENTS = 96  # per array: keeps programs quick
MAX_NDIM = 4


class Chooser:
    """Where a program's choices come from: a random.Random, or hypothesis (see `drawn`)."""

    def __init__(self, integer: Callable[[int, int], int]) -> None:
        self._integer = integer

    def integer(self, low: int, high: int) -> int:
        return self._integer(low, high)

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.integer(0, len(options) - 1)]

    def chance(self, p_in_4: int = 2) -> bool:
        return self.integer(0, 3) < p_in_4

    @classmethod
    def seeded(cls, seed: int) -> Chooser:
        rng = random.Random(seed)
        return cls(rng.randint)


def drawn(data: Any) -> Chooser:
    """A chooser drawing from hypothesis's `st.data()`."""
    from hypothesis import strategies as st

    return Chooser(lambda low, high: data.draw(st.integers(low, high)))


def shape_after(shape: tuple[int, ...], index: Any) -> tuple[int, ...]:
    return np.zeros(shape)[index].shape


def fits(shape: tuple[int, ...]) -> bool:
    return len(shape) <= MAX_NDIM and 0 < int(np.prod(shape)) <= MAX_ELEMENTS


@dataclass
class Program:
    chooser: Chooser
    seed: int
    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)  # float inputs: shapes
    data: dict[str, np.ndarray] = field(default_factory=dict)  # integer inputs (indices)
    vars: dict[str, tuple[int, ...]] = field(default_factory=dict)  # float arrays so far
    used: set[str] = field(default_factory=set)
    bp: list[str] = field(default_factory=list)
    py: list[str] = field(default_factory=list)
    count: int = 0
    extras: tuple[Callable[[Program], bool], ...] = ()

    # --- names ------------------------------------------------------------------------

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def new_input(self, shape: tuple[int, ...], prefix: str = "A") -> str:
        name = self.fresh(prefix)
        self.inputs[name] = shape
        return name

    def new_data(self, values: np.ndarray) -> str:
        name = self.fresh("I")
        self.data[name] = np.asarray(values, dtype=int)
        return name

    def pick(self, where: Callable[[tuple[int, ...]], bool] = lambda s: True) -> str | None:
        names = [n for n, s in self.vars.items() if where(s)]
        if not names:
            return None
        # the newest half the time: chains grow deep, not only wide
        name = names[-1] if self.chooser.chance() else self.chooser.choice(names)
        self.used.add(name)
        return name

    def emit(self, bp: str, py: str | None = None) -> None:
        self.bp.append(bp)
        self.py.append(bp if py is None else py)

    def define(self, shape: tuple[int, ...], bp_expr: str, py_expr: str | None = None) -> str:
        name = self.fresh("v")
        self.emit(f"{name} = {bp_expr}", None if py_expr is None else f"{name} = {py_expr}")
        self.vars[name] = shape
        return name

    def operand_for(self, shape: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
        """Something to combine with an array of this shape: another array of the same
        shape, or a new input that broadcasts against it."""
        same = [n for n, s in self.vars.items() if s == shape]
        if same and self.chooser.chance(1):
            name = self.chooser.choice(same)
            self.used.add(name)
            return name, shape
        options = [shape, ()]
        if shape:
            options += [shape[-1:], (1, *shape[1:])]
            if len(shape) >= 2:
                options.append((*shape[:-1], 1))
        other = self.chooser.choice(options)
        return self.new_input(other), other

    # --- the bpcli program and the Python function ----------------------------------------

    def bpcli_text(self) -> str:
        return "\n".join(self.bp)

    def python_function(self) -> Callable[[dict[str, Any]], Any]:
        import autograd.numpy as anp

        body = "\n".join("    " + line for line in self.py)
        unpack = "".join(f"    {n} = inputs[{n!r}]\n" for n in self.inputs)
        source = f"def program(inputs):\n{unpack}{body}\n    return f\n"
        scope = {"np": anp, "sigmoid": sigmoid, "logsumexp": logsumexp, "assign": assign, "S": np.s_}
        scope.update(self.data)
        exec(compile(source, "<program>", "exec"), scope)
        return scope["program"]  # type: ignore[no-any-return]

    def values(self) -> dict[str, Any]:
        rng = np.random.default_rng(self.seed)
        return {n: (float(rng.normal()) if s == () else rng.normal(size=s)) for n, s in self.inputs.items()}


def sigmoid(z: Any) -> Any:
    import autograd.numpy as anp

    return 1 / (1 + anp.exp(-z))


def logsumexp(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """scipy's logsumexp over autograd.numpy (autograd.scipy would need scipy)."""
    import autograd.numpy as anp

    shift = np.max(getattr(a, "_value", a), axis=axis, keepdims=True)  # a constant: no gradient
    result = anp.log(anp.sum(anp.exp(a - shift), axis=axis, keepdims=True)) + shift
    if keepdims:
        return result
    return anp.reshape(result, np.shape(np.sum(np.zeros(anp.shape(a)), axis=axis)))


def assign(m: Any, index: Any, value: Any) -> Any:
    """numpy's `m[index] = value` as a new array, for autograd (which cannot assign in
    place): each element of the result is gathered from `value` where the index writes it
    (the last write, where an index repeats) and from `m` elsewhere."""
    import autograd.numpy as anp

    shape = anp.shape(m)
    positions = np.arange(int(np.prod(shape))).reshape(shape)[index]
    if positions.size == 0:  # an empty mask writes nothing
        return m
    spread = value * np.ones(positions.shape)  # broadcast as numpy's assignment does
    last: dict[int, int] = {}
    for k, p in enumerate(positions.ravel().tolist()):
        last[p] = k  # in order: the last write wins
    source = np.array([last.get(p, -1) for p in range(int(np.prod(shape)))], dtype=int)
    written = source >= 0
    gathered = anp.reshape(spread, (-1,))[np.where(written, source, 0)]
    return anp.reshape(anp.where(written, gathered, anp.reshape(m, (-1,))), shape)


# --- the statements a program is made of -------------------------------------------------------
# Each tries to add one statement (or a few) and says whether it did.


def matmul(p: Program) -> bool:
    a = p.pick(lambda s: len(s) in (1, 2))
    if a is None:
        return False
    shape = p.vars[a]
    k = p.chooser.integer(1, 4)
    w = p.new_input((shape[-1], k), "W")
    if p.chooser.chance():
        b = p.new_input((k,), "b")
        p.define((*shape[:-1], k), f"{a} @ {w} + {b}")
    else:
        p.define((*shape[:-1], k), f"np.dot({a}, {w})" if p.chooser.chance(1) else f"{a} @ {w}")
    return True


def arithmetic(p: Program) -> bool:
    a = p.pick()
    if a is None:
        return False
    shape = p.vars[a]
    b, other = p.operand_for(shape)
    result = np.broadcast_shapes(shape, other)
    if not fits(result):
        return False
    template = p.chooser.choice(["{a} + {b}", "{a} - {b}", "{a} * {b}", "{b} * {a}", "{a} / (1 + {b} * {b})"])
    p.define(result, template.format(a=a, b=b))
    return True


def unary(p: Program) -> bool:
    a = p.pick()
    if a is None:
        return False
    template = p.chooser.choice(
        [
            "np.tanh({a})",
            "sigmoid({a})",
            "np.exp(np.tanh({a}))",
            "np.exp(-{a} * {a})",
            "np.log(1 + {a} * {a})",
            "np.maximum(0, {a})",
            "np.maximum({a}, 0.1 * {a})",
            "np.sqrt(1 + {a} ** 2)",
        ]
    )
    p.define(p.vars[a], template.format(a=a))
    return True


def compare(p: Program) -> bool:
    a = p.pick()
    if a is None:
        return False
    shape = p.vars[a]
    form = p.chooser.integer(0, 3)
    if form == 0:
        b, other = p.operand_for(shape)
        result = np.broadcast_shapes(shape, other)
        # (autograd's where does not sum a broadcast gradient back: broadcast first there)
        p.define(
            result, f"np.where({a} > {b}, {a}, {b})", f"np.where({a} > {b}, {a} + 0 * {b}, {b} + 0 * {a})"
        )
    elif form == 1:
        p.define(shape, f"np.where({a} > 0, {a}, 0.01 * {a})")
    elif form == 2:
        p.define(shape, f"({a} > 0) * {a}")
    else:  # a mask picks a number of elements known only from the values: summed at once
        if shape == ():
            return False
        p.define((), f"np.sum({a}[{a} > 0.1] * {a}[{a} > 0.1])")
    return True


def basic_index(p: Program) -> bool:
    a = p.pick(lambda s: len(s) >= 1)
    if a is None:
        return False
    shape = p.vars[a]
    n = shape[0]
    i = p.chooser.integer(0, n - 1)
    options = [f"{i}", "-1", f"{i}:", "::-1", f":{max(1, i)}", "...", "None", "..., None"]
    if len(shape) >= 2:
        m = shape[1]
        j = p.chooser.integer(0, m - 1)
        k = p.chooser.integer(-shape[-1], shape[-1] - 1)
        options += [":, ::2", f"{i}, {j}", f"..., {k}", ":, None", f"{i}, {j - m}:", f"::2, {j}"]
    index = p.chooser.choice(options)
    result = shape_after(shape, eval(f"np.s_[{index}]"))
    if not fits(result):
        return False
    p.define(result, f"{a}[{index}]")
    return True


def repeats(rng_values: Chooser, size: int, length: int) -> list[int]:
    """`length` indices below `size`, the first repeated at the end (numpy's repeats)."""
    values = [rng_values.integer(-size, size - 1) for _ in range(max(length - 1, 1))]
    return [*values, values[0]]


def array_index(p: Program) -> bool:
    a = p.pick(lambda s: len(s) >= 1)
    if a is None:
        return False
    shape = p.vars[a]
    form = p.chooser.integer(0, 3)
    if form == 0:  # a list literal, with a repeat
        index = str(repeats(p.chooser, shape[0], p.chooser.integer(2, 4)))
    elif form == 1:  # a label array bound on the command line (data: no gradient)
        values = np.array([p.chooser.integer(0, shape[0] - 1) for _ in range(p.chooser.integer(1, 4))])
        values[-1] = values[0]
        index = p.new_data(values)
    elif form == 2 and len(shape) >= 2:  # s[np.arange(N), y]
        y = p.new_data(np.array([p.chooser.integer(0, shape[1] - 1) for _ in range(shape[0])]))
        rows = p.chooser.choice([str(shape[0]), f"{a}.shape[0]", f"len({a})"])
        p.define((shape[0], *shape[2:]), f"{a}[np.arange({rows}), {y}]")
        return True
    elif len(shape) >= 2:  # along the second axis
        index = ":, " + str(repeats(p.chooser, shape[1], p.chooser.integer(2, 3)))
    else:
        return False
    result = shape_after(shape, eval(f"np.s_[{index}]", {"np": np, **p.data}))
    if not fits(result):
        return False
    p.define(result, f"{a}[{index}]")
    return True


def index_assignment(p: Program) -> bool:
    a = p.pick(lambda s: len(s) >= 1)
    if a is None:
        return False
    shape = p.vars[a]
    m = p.fresh("m")
    p.emit(f"{m} = {a}.copy()" if p.chooser.chance() else f"{m} = np.copy({a})", f"{m} = {a} * 1.0")
    p.vars[m] = shape
    form = p.chooser.integer(0, 6)
    if form == 0:  # m[idx] = 0, a repeated index
        index = str(repeats(p.chooser, shape[0], p.chooser.integer(1, 3)))
        value = "0"
    elif form == 1:  # m[idx] = v, repeated: the last write wins
        values = np.array([p.chooser.integer(0, shape[0] - 1) for _ in range(p.chooser.integer(1, 3))])
        values[-1] = values[0]
        index = p.new_data(values)
        value = p.new_input(shape_after(shape, values)[p.chooser.integer(0, 1) :])
    elif form == 2 and len(shape) >= 2 and shape[1] >= 2:  # m[:, 0:2] += e
        target = shape_after(shape, np.s_[:, 0:2])
        e, _ = p.operand_for(target)
        operator = p.chooser.choice(["+", "-", "*"])
        p.emit(f"{m}[:, 0:2] {operator}= {e}", f"{m} = assign({m}, S[:, 0:2], {m}[:, 0:2] {operator} {e})")
        return True
    elif form == 3:  # margins[margins < 0] = 0
        index, value = f"{m} < 0", "0"
    elif form == 4:  # m[a > 0] *= 2
        p.emit(f"{m}[{a} > 0] *= 2", f"{m} = assign({m}, S[{a} > 0], {m}[{a} > 0] * 2)")
        return True
    elif form == 5 and len(shape) == 2:  # margins[np.arange(N), y] = 0
        y = p.new_data(np.array([p.chooser.integer(0, shape[1] - 1) for _ in range(shape[0])]))
        index, value = f"np.arange({shape[0]}), {y}", "0"
    elif shape[0] >= 2:  # one row from another
        index, value = "0", f"{m}[-1] * 0.5"
    else:
        return False
    p.emit(f"{m}[{index}] = {value}", f"{m} = assign({m}, S[{index}], {value})")
    return True


def rearrange(p: Program) -> bool:
    a = p.pick(lambda s: len(s) >= 1)
    if a is None:
        return False
    shape = p.vars[a]
    size = int(np.prod(shape))
    ndim = len(shape)
    # (bpcli's text, the result's shape, the Python text where autograd needs another)
    options: list[tuple[str, tuple[int, ...], str | None]] = [
        (f"{a}.T", shape[::-1], None),
        (f"{a}.flatten()", (size,), None),
        (f"np.ravel({a})", (size,), None),
        (f"{a}.reshape(-1)", (size,), None),
        (f"np.expand_dims({a}, {-1 if ndim % 2 else 0})", (*shape, 1) if ndim % 2 else (1, *shape), None),
        (f"{a}[:, None]", shape_after(shape, np.s_[:, None]), None),
    ]
    if size % 2 == 0:
        options += [
            (f"{a}.reshape(2, -1)", (2, size // 2), None),
            (f"np.reshape({a}, (-1, 2))", (size // 2, 2), None),
            (f"{a}.reshape(2, -1, 1)", (2, size // 2, 1), None),
        ]
    if ndim >= 2:
        options += [
            (f"np.swapaxes({a}, 0, -1)", (shape[-1], *shape[1:-1], shape[0]), None),
            (f"{a}.transpose()", shape[::-1], None),
        ]
    if ndim >= 3:
        # (autograd's x.transpose takes one tuple, and its VJP no negative axes)
        rest = tuple(range(3, ndim))
        axes = (1, 2, 0, *rest)
        text = ", ".join(map(str, axes))
        options += [
            (f"{a}.transpose({text})", tuple(shape[k] for k in axes), f"np.transpose({a}, ({text}))"),
            (
                f"{a}.transpose((-1, {', '.join(map(str, range(ndim - 1)))}))",
                (shape[-1], *shape[:-1]),
                f"np.transpose({a}, ({', '.join(map(str, (ndim - 1, *range(ndim - 1))))}))",
            ),
            (
                f"np.transpose({a}, axes=(2, 0, 1{', 3' if ndim == 4 else ''}))",
                (shape[2], shape[0], shape[1], *shape[3:]),
                None,
            ),
        ]
    if 1 in shape:
        options.append((f"np.squeeze({a})", tuple(n for n in shape if n != 1), None))
    text, result, python = p.chooser.choice(options)
    if not fits(result) or result == ():
        return False
    p.define(result, text, python)
    return True


def join(p: Program) -> bool:
    a = p.pick(lambda s: len(s) >= 1)
    if a is None:
        return False
    shape = p.vars[a]
    axis = p.chooser.integer(-len(shape), len(shape) - 1)
    if p.chooser.chance():
        other = list(shape)
        other[axis] = p.chooser.integer(1, 3)
        result = list(shape)
        result[axis] += other[axis]
        if not fits(tuple(result)):
            return False
        b = p.new_input(tuple(other))
        if p.chooser.chance(1):
            p.define(tuple(result), f"np.concatenate(({b}, {a}), {axis})")
        else:
            p.define(tuple(result), f"np.concatenate([{a}, {b}], axis={axis})")
    else:
        where = p.chooser.integer(-len(shape) - 1, len(shape))
        at = where % (len(shape) + 1)
        result = (*shape[:at], 2, *shape[at:])
        if not fits(result):
            return False
        b = a if p.chooser.chance(1) else p.new_input(shape)
        p.define(result, f"np.stack([{a}, {b}], axis={where})")
    return True


def split(p: Program) -> bool:
    a = p.pick(lambda s: len(s) >= 1 and max(s) >= 2)
    if a is None:
        return False
    shape = p.vars[a]
    axis = p.chooser.choice([k for k, n in enumerate(shape) if n >= 2])
    size = shape[axis]
    names = [p.fresh("v"), p.fresh("v")]
    if size % 2 == 0 and p.chooser.chance():
        call = p.chooser.choice([f"np.split({a}, 2, axis={axis})", f"np.array_split({a}, 2, {axis})"])
        if axis == 1 and p.chooser.chance(1):
            call = f"np.hsplit({a}, 2)"
        cuts = [0, size // 2, size]
    else:
        cut = p.chooser.integer(1, size - 1)
        call = f"np.split({a}, [{cut}], axis={axis - len(shape)})"
        cuts = [0, cut, size]
    p.emit(f"{names[0]}, {names[1]} = {call}")
    for name, lo, hi in zip(names, cuts, cuts[1:], strict=False):
        piece = list(shape)
        piece[axis] = hi - lo
        p.vars[name] = tuple(piece)
    return True


def shapes_as_integers(p: Program) -> bool:
    a = p.pick(lambda s: len(s) == 2)
    if a is None:
        return False
    rows, cols = p.vars[a]
    r, c = p.fresh("R"), p.fresh("D")
    p.emit(f"{r}, {c} = {a}.shape")
    text, result = p.chooser.choice(
        [
            (f"{a}.reshape({r} * {c})", (rows * cols,)),
            (f"{a}.reshape({c}, {r})", (cols, rows)),
            (f"{a}[:, {c} // 2:]", (rows, cols - cols // 2)),
            (f"{a}[{r} - 1] * ({c} % 2 + {r})", (cols,)),
            (f"{a} @ np.ones(({c}, 1)) / {c}", (rows, 1)),
            (f"{a} / {a}.size + len({a}) * {a}.ndim", (rows, cols)),
        ]
    )
    p.define(result, text)
    return True


STATEMENTS: tuple[Callable[[Program], bool], ...] = (
    matmul,
    arithmetic,
    unary,
    compare,
    basic_index,
    array_index,
    index_assignment,
    rearrange,
    join,
    split,
    shapes_as_integers,
)


def make_program(
    chooser: Chooser, seed: int, length: int, extras: tuple[Callable[[Program], bool], ...] = ()
) -> Program:
    """A program of about `length` statements, ending f = a weighted sum of the arrays that
    nothing else uses."""
    p = Program(chooser, seed, extras=extras)
    n, d = chooser.integer(1, 4), chooser.integer(1, 4)
    x = p.new_input((n, d), "X")
    p.vars[x] = (n, d)
    statements = STATEMENTS + extras
    tries = 0
    while len(p.bp) < length and tries < 4 * length:
        tries += 1
        chooser.choice(statements)(p)
    terms = []
    sinks = [name for name in p.vars if name not in p.used] or list(p.vars)[-1:]  # (m[…] += m: used)
    for name in sinks:
        shape = p.vars[name]
        weights = p.new_input(shape, "C")
        terms.append(f"{name} * {weights}" if shape == () else f"np.sum({name} * {weights})")
    p.emit("f = " + " + ".join(terms))
    return p
