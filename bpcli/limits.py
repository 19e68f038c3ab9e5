"""The limits on what bpcli reads and computes, in one place (the README's Limits section
lists each, and the option that raises it where there is one)."""

from __future__ import annotations

from typing import IO, AnyStr

from bpcli.errors import InputError

MAX_ELEMENTS = 50_000_000  # elements in any one array a node holds (--max-elements raises it)
HELD_ARRAYS = 2  # the arrays of one program hold at most this many times --max-elements together
MAX_DIMENSIONS = 32  # dimensions of an array: numpy 1's limit, and far beyond any problem
MAX_TEXT_BYTES = 64 * 2**20  # a program, an answers file, a .json, .csv or .txt binding
MAX_LINE_BYTES = 16 * 2**20  # one line of batch input


SMALLEST_NORMAL = 2.2250738585072014e-308  # below it a float keeps fewer digits (subnormals)


def tiny_number_problem(text: str, value: float) -> str | None:
    """Why the number written as `text` is not what float(text) = `value` holds, when it is
    below the normal range: it underflowed to 0 (1e-400), or to a subnormal with fewer digits
    than were written (1.234567e-320 -> 1.235e-320). None when it is held as written: every
    normal number, 0 itself, and a subnormal written as its own shortest form (5e-324)."""
    if not abs(value) < SMALLEST_NORMAL:  # normal, inf or nan: other checks' business
        return None
    from decimal import Decimal, InvalidOperation

    text = text.strip()
    try:
        written = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if value == 0.0:
        return (
            None
            if written == 0
            else (f"{_short(text)} is too small for a float: the smallest is about 5e-324")
        )
    if written != Decimal(repr(value)):
        return (
            f"{_short(text)} is too small for a float to hold as written: below 2.2e-308 a"
            f" float keeps fewer digits, and it would be {value!r}"
        )
    return None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:16] + "…" + text[-16:]


def size_text(count: int) -> str:
    """A byte count as people say it: 64 MiB, 16 MiB, 512 KiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def read_limited(handle: IO[AnyStr], name: str, limit: int = MAX_TEXT_BYTES) -> AnyStr:
    """Everything `handle` has, bytes or text, refusing (InputError) more than `limit`."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputError(
            f"cannot read {name}: it is larger than {size_text(limit)},"
            " the most bpcli reads as one text (see Limits in the README)"
        )
    return data


JSON_ELEMENTS = 100_000  # JSON writes a bigger array as a summary, unless --full is given


def shape_text(shape: tuple[int, ...]) -> str:
    """(3, 2), (3,), or scalar."""
    if not shape:
        return "scalar"
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def shape_problem(shape: tuple[int, ...], max_elements: int = MAX_ELEMENTS) -> tuple[str, str | None] | None:
    """Why an array of this shape may not be made, and a hint; None when it may. (Computed
    from the shape alone, before the array is.)"""
    if len(shape) > MAX_DIMENSIONS:
        return (
            f"it would have {len(shape)} dimensions, more than the {MAX_DIMENSIONS} an array may have",
            None,
        )
    count = 1
    for size in shape:
        count *= size
    if count > max_elements:
        return (
            f"it would have shape {shape_text(shape)}, {count:,} elements, more than the"
            f" limit of {max_elements:,} elements an array may have",
            f"--max-elements {count} raises the limit, if this machine has the memory"
            f" ({size_text(8 * count)} for each such array)",
        )
    return None


def held_problem(held: int, max_elements: int = MAX_ELEMENTS) -> tuple[str, str] | None:
    """Why a program's arrays may not hold `held` elements together (each within the limit,
    but all of them, which the forward pass keeps for the backward pass); None when they may."""
    most = HELD_ARRAYS * max_elements
    if held <= most:
        return None
    return (
        f"the program's arrays would hold {held:,} elements together, more than"
        f" {HELD_ARRAYS} × --max-elements ({most:,}): each array fits, but the forward pass"
        " keeps all of them for the backward pass",
        f"--max-elements {-(-held // HELD_ARRAYS)} raises the limit, if this machine has"
        f" the memory (about {size_text(16 * held)} for the values and gradients)",
    )
