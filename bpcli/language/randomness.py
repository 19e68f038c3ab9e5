"""np.random in a program: numbers drawn while the program is read, as numpy draws them.

A program's `np.random.rand(3, 4) < p` (a dropout mask) is drawn once, when the builder
reads the call, by numpy's legacy generator (`np.random.RandomState`), so that after
`--seed N` (or the program's own `np.random.seed(N)`) the numbers are exactly those a
student's numpy prints after `np.random.seed(N)`. A draw is data, not an input: a float
draw is a constant node named by its call (`np.random.rand(3, 4)`), so a table shows its
values and gives it no gradient; an integer draw (randint, choice, permutation) is a static
integer array, usable as an index. With no seed at all, a fresh one is chosen and a warning
says which, so that a result is never silently irreproducible.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from bpcli.core.graph import CONST, Node
from bpcli.errors import BpcliError
from bpcli.language.calls import _arguments, _close, _shape_argument
from bpcli.language.statics import Keyword, Use, describe
from bpcli.lazy import np
from bpcli.limits import shape_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from bpcli.language.builder import Builder

MAX_SEED = 2**32 - 1  # numpy's legacy seeds are 32-bit
UNSEEDED = "the program draws random numbers: --seed {seed} repeats them"
RESEEDED = "np.random.seed() takes a fresh seed: the program's numbers differ on every run"
LEGACY_HINT = "bpcli draws as numpy's np.random functions do: np.random.seed(0); np.random.randn(3, 4)"


def known(name: str) -> bool:
    """Whether np.random.name is a function a program may call."""
    return name in FUNCTIONS


def unknown(b: Builder, name: str, pos: int) -> BpcliError:
    """The error for np.random.name that bpcli does not have."""
    if name in ("default_rng", "Generator", "RandomState", "PCG64", "MT19937", "SeedSequence"):
        return b._error(f"np.random.{name}: bpcli has numpy's np.random functions only", pos, LEGACY_HINT)
    if name in ("shuffle", "set_state", "get_state"):
        return b._error(f"np.random.{name} is not a function bpcli knows", pos, LEGACY_HINT)
    return b._error(
        f"np.random.{name} is not a function bpcli knows",
        pos,
        hint=_close(name, list(FUNCTIONS)) or LEGACY_HINT,
    )


def call(b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    """np.random.name(…): the numbers drawn (a constant node or a static integer array), or
    None for np.random.seed."""
    return FUNCTIONS[name](b, name, args, keywords, start, end)


# --- the generator -------------------------------------------------------------------------------


def _state(b: Builder, pos: int) -> Any:
    """This parse's generator: seeded by --seed, by the program's np.random.seed, or afresh
    (with a warning that names the seed)."""
    b.reusable = False  # (batch: the numbers are drawn again for each problem)
    state = b.randomness
    if state is None:
        seed = b.seed
        if seed is None:
            seed = int.from_bytes(os.urandom(4), "little")
            b.warnings.append(UNSEEDED.format(seed=seed))
        elif not 0 <= seed <= MAX_SEED:
            raise b._error(
                f"--seed {seed}: numpy's np.random takes a seed from 0 to 2**32 - 1",
                pos,
                hint="give --seed a whole number from 0 to 2**32 - 1 (0, 42, 231)",
            )
        state = b.randomness = np.random.RandomState(seed)
    return state


def _seed(b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int, end: int) -> None:
    (given,) = _arguments(b, "seed", args, keywords, ("seed",), 0, start)
    seed = None if given is None else b.integers(given, "a seed")
    if seed is None:
        b.warnings.append(RESEEDED)
        seed = int.from_bytes(os.urandom(4), "little")
    if not isinstance(seed, int) or isinstance(seed, bool):
        assert given is not None
        raise b._error(f"a seed is an integer, not {describe(seed)}", given[1])
    if not 0 <= seed <= MAX_SEED:
        assert given is not None
        raise b._error("Seed must be between 0 and 2**32 - 1", given[1])
    b.reusable = False
    b.randomness = np.random.RandomState(seed)
    return None


# --- what is drawn ---------------------------------------------------------------------------------


def _drawn(b: Builder, value: Any, start: int, end: int) -> Node:
    """A float draw as a constant node, named by its call as written."""
    array = np.asarray(value, dtype=float)
    node = b._node(CONST, (), start, end, float(array) if array.ndim == 0 else array, False)
    node.name = " ".join(b.source[start:end].split())
    b.drawn.add(node.id)
    return node


def _draw(b: Builder, name: str, make: Callable[[], Any], start: int) -> Any:
    try:
        return make()
    except (ValueError, TypeError, OverflowError) as err:
        raise b._error(f"np.random.{name}: {err}", start) from None


def _size(b: Builder, use: Use | None) -> tuple[int, ...] | None:
    if use is None or (type(use[0]) is not Node and use[0] is None):
        return None
    return _shape_argument(b, use)


def _numbers(b: Builder, use: Use | None, default: float, what: str) -> Any:
    """A float parameter (low, scale, …): a number or an array of numbers, read now."""
    if use is None:
        return default
    value = b.static(use)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise b._error(f"{what} must be a number, not {describe(value)}", use[1]) from None
    if not np.all(np.isfinite(array)):
        raise b._error(f"{what} must be finite", use[1])
    return float(array) if array.ndim == 0 else array


def _result_size(b: Builder, size: tuple[int, ...] | None, params: list[Any], start: int) -> None:
    """Refuse parameters that broadcast to an array too big to draw (size=None)."""
    if size is None:
        shapes = [np.shape(p) for p in params]
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:
            shown = " and ".join(shape_text(s) for s in shapes)
            raise b._shape_error(f"the parameters' shapes {shown} do not broadcast", start) from None
        _shape_argument(b, (shape, start, start))


def _dimensions(
    b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int
) -> tuple[int, ...]:
    """rand(d0, d1, …)'s dimensions, each an integer argument of its own."""
    if keywords:
        raise b._error(f"{name}() takes no keyword arguments", keywords[0].use[1])
    dims = []
    for use in args:
        try:
            d = b.integers(use, "a dimension")
        except BpcliError as err:
            err.hint = None  # (not an index: numpy's "cannot be interpreted as an integer")
            raise
        if not isinstance(d, int) or isinstance(d, bool):
            raise b._error(
                f"{name}() takes each dimension as an integer of its own, not {describe(d)}",
                use[1],
                hint=f"np.random.{name}(3, 4); np.random.random((3, 4)) takes a tuple",
            )
        dims.append(d)
    return _shape_argument(b, (tuple(dims), start, start))


def _rand(b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    shape = _dimensions(b, name, args, keywords, start)
    state = _state(b, start)
    method = state.random_sample if name == "rand" else state.standard_normal
    return _drawn(b, method(shape) if shape else method(), start, end)


def _sample(b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    (size,) = _arguments(b, name, args, keywords, ("size",), 0, start)
    shape = _size(b, size)
    state = _state(b, start)
    method = state.standard_normal if name == "standard_normal" else state.random_sample
    return _drawn(b, method(shape), start, end)


def _two_parameters(
    params: tuple[str, str], defaults: tuple[float, float], method: str
) -> Callable[..., Any]:
    """uniform(low, high, size), normal(loc, scale, size)."""

    def make(b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
        first, second, size = _arguments(b, name, args, keywords, (*params, "size"), 0, start)
        a = _numbers(b, first, defaults[0], params[0])
        c = _numbers(b, second, defaults[1], params[1])
        shape = _size(b, size)
        _result_size(b, shape, [a, c], start)
        state = _state(b, start)
        return _drawn(b, _draw(b, name, lambda: getattr(state, method)(a, c, shape), start), start, end)

    return make


def _integers(value: Any) -> Any:
    """An integer draw as a static value: a Python int, or an integer array."""
    array = np.asarray(value)
    return int(array) if array.ndim == 0 else array.astype(np.intp)


def _randint(b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    params = ("low", "high", "size", "dtype")
    low, high, size, _ = _arguments(b, name, args, keywords, params, 1, start)
    assert low is not None
    bounds = [b.integers(u, "a bound") for u in (low, high) if u is not None]
    if not all(isinstance(v, int) for v in bounds):
        raise b._error("randint's bounds are integers: np.random.randint(0, 10, size=5)", low[1])
    shape = _size(b, size)
    state = _state(b, start)
    return _integers(_draw(b, name, lambda: state.randint(*bounds, size=shape), start))


def _choice(b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int, end: int) -> Any:
    params = ("a", "size", "replace", "p")
    a, size, replace, p = _arguments(b, name, args, keywords, params, 1, start)
    assert a is not None
    population = b.integers(a, "the population")  # an int n (range(n)) or integer values
    if isinstance(population, bool) or not isinstance(population, int | list | tuple | np.ndarray):
        raise b._error(
            f"choice takes a number of items or a list of integers, not {describe(population)}", a[1]
        )
    shape = _size(b, size)
    with_replacement = True if replace is None else bool(b.static(replace))
    weights = None if p is None else _numbers(b, p, 0.0, "p")
    state = _state(b, start)
    drawn = _draw(b, name, lambda: state.choice(population, shape, with_replacement, weights), start)
    return _integers(drawn)


def _permutation(
    b: Builder, name: str, args: list[Use], keywords: list[Keyword], start: int, end: int
) -> Any:
    (x,) = _arguments(b, name, args, keywords, ("x",), 1, start)
    assert x is not None
    items = b.integers(x, "the items")
    if isinstance(items, int) and not isinstance(items, bool):
        _shape_argument(b, ((items,), x[1], x[2]))
    elif not isinstance(items, list | tuple | np.ndarray):
        raise b._error(f"permutation takes a number of items or integers, not {describe(items)}", x[1])
    state = _state(b, start)
    return _integers(_draw(b, name, lambda: state.permutation(items), start))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "seed": _seed,
    "rand": _rand,
    "randn": _rand,
    "random": _sample,
    "random_sample": _sample,
    "sample": _sample,
    "ranf": _sample,
    "standard_normal": _sample,
    "uniform": _two_parameters(("low", "high"), (0.0, 1.0), "uniform"),
    "normal": _two_parameters(("loc", "scale"), (0.0, 1.0), "normal"),
    "randint": _randint,
    "choice": _choice,
    "permutation": _permutation,
}
