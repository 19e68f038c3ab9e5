"""Python's repr of many floats at once, as bytes in a numpy matrix, the same to the byte.

`batch --program` writes each point's value and gradients in their shortest exact form, which
is what `repr(float)` gives: the fewest digits that read back as the same float, and of those
the nearest to it. Python finds them with big-integer arithmetic, about 0.3 µs a float, more
than all the arithmetic of a small program. Here they are found for a whole array at once
with Schubfach (R. Giulietti, "The Schubfach way to render doubles", 2020; the algorithm of
Java's Double.toString since JDK 19), in numpy's 64-bit integer arithmetic: the 126-bit
powers of ten come from a table made once with Python's integers, and each 64×64-bit product
is made of four 32×32-bit ones. Then the digits are laid out as repr lays them out: plain
(`0.0123`, `12.5`, `3.0`) from 1e-4 up to 1e16, with an exponent (`1.5e-07`, `2e+16`)
outside that.

Each float becomes a row of FIELD bytes with NUL bytes wherever nothing is written: a caller
lays rows side by side with other text and removes every NUL at once (`bytes.translate`).
Zeros, subnormal numbers, infinities and NaN are written by repr itself, one by one (there
is nothing to gain on them and Java's choice differs from Python's for subnormals);
tests/test_shortest.py compares every other kind with repr, bit pattern by bit pattern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpcli.lazy import np

if TYPE_CHECKING:
    from typing import Any

    from bpcli.values import Array

    Bytes = Any  # a uint8 matrix (numpy's stubs type its integer arrays loosely)

FIELD = 46  # bytes a float's row may need (see fill): sign, '0.000', 17 digits with a place
# for the point after each, a '0' after a point at the end, and 'e-308'
_K_MIN, _K_MAX = -324, 292  # the decimal exponents a double's digits can have (Schubfach's)
_SMALLEST_NORMAL = 2.2250738585072014e-308
_LARGEST = 1.7976931348623157e308


class _Tables:
    """numpy's constants, made on first use (numpy is imported lazily)."""

    def __init__(self) -> None:
        u = np.uint64
        self.g1, self.g0 = _powers_of_ten()
        self.g1_low = self.g1 & u(0xFFFFFFFF)
        self.g1_high = self.g1 >> u(32)
        self.g0_low = self.g0 & u(0xFFFFFFFF)
        self.g0_high = self.g0 >> u(32)
        self.places = np.arange(17, dtype=np.int8)[:, None]  # a column of the digits' places


_tables: _Tables | None = None


def _powers_of_ten() -> tuple[Array, Array]:
    """Schubfach's g for each decimal exponent k: ⌊10^-k · 2^(125 - ⌊log2 10^-k⌋)⌋ + 1, a
    126-bit number, split into its high and low 63 bits."""
    high = []
    low = []
    for k in range(_K_MIN, _K_MAX + 1):
        shift = 125 - _floor_log2_pow10(-k)
        if k <= 0:
            beta = 10**-k << shift if shift >= 0 else 10**-k >> -shift
        else:
            beta = (1 << shift) // 10**k
        g = beta + 1
        high.append(g >> 63)
        low.append(g & ((1 << 63) - 1))
    return np.array(high, dtype=np.uint64), np.array(low, dtype=np.uint64)


def _floor_log2_pow10(e: int) -> int:
    return (e * 913_124_641_741) >> 38


def _high_product(a_low: Array, a_high: Array, b_low: Array, b_high: Array) -> Array:
    """The high 64 bits of the 128-bit products of 64-bit numbers given as 32-bit halves."""
    u32 = np.uint64(32)
    mask = np.uint64(0xFFFFFFFF)
    ll = a_low * b_low
    lh = a_low * b_high
    hl = a_high * b_low
    middle = (ll >> u32) + (lh & mask) + (hl & mask)
    return a_high * b_high + (lh >> u32) + (hl >> u32) + (middle >> u32)


def _round_to_odd(x1: Array, y0: Array, y1: Array) -> Array:
    """Schubfach's rop from the parts of g·cp it uses: g0·cp's high 64 bits (x1) and g1·cp
    (y1, y0): g·cp / 2^127, rounded down, its last bit set if anything was cut."""
    u = np.uint64
    z = (y0 >> u(1)) + x1
    mask63 = u((1 << 63) - 1)
    return (y1 + (z >> u(63))) | (((z & mask63) + mask63) >> u(63))


def decimals(x: Array) -> tuple[Array, Array]:
    """For positive normal floats x: (f, k), the shortest decimal f·10^k that reads back as
    x, the nearest to x of those (an even last digit on a tie); f has 16 or 17 digits, with
    trailing zeros where the shortest has fewer."""
    global _tables
    t = _tables = _tables or _Tables()
    u = np.uint64
    bits = x.view(u)
    q = (bits >> u(52)).astype(np.int64) - 1075
    fraction = bits & u((1 << 52) - 1)
    power_of_two = fraction == 0  # the gap below is half the gap above
    c = fraction | u(1 << 52)
    k = (q * 661_971_961_083 - power_of_two * 274_743_187_321) >> 41
    h = (q + (((-k) * 913_124_641_741) >> 38) + 2).astype(u)
    index = k - _K_MIN
    g0 = t.g0[index]
    g1 = t.g1[index]
    odd = c & u(1)
    # Schubfach's three products: g·cp for cp = c·2^(h+2), and that ∓ 2^(h+1) (2^h below a
    # power of two). The two around it are the middle one plus or minus g shifted left,
    # carried through the 64-bit parts by hand.
    cp = c << (h + u(2))
    cp_low = cp & u(0xFFFFFFFF)
    cp_high = cp >> u(32)
    x1 = _high_product(t.g0_low[index], t.g0_high[index], cp_low, cp_high)
    low0 = g0 * cp  # (the low 64 bits of g0·cp)
    y0 = g1 * cp
    y1 = _high_product(t.g1_low[index], t.g1_high[index], cp_low, cp_high)
    vb = _round_to_odd(x1, y0, y1)
    shift = h + u(1)
    back = u(64) - shift
    add0 = g0 << shift
    add1 = g1 << shift
    y0r = y0 + add1
    vbr = _round_to_odd(x1 + (g0 >> back) + (low0 + add0 < low0), y0r, y1 + (g1 >> back) + (y0r < y0))
    shift = shift - power_of_two
    back = u(64) - shift
    sub0 = g0 << shift
    sub1 = g1 << shift
    vbl = _round_to_odd(x1 - (g0 >> back) - (low0 < sub0), y0 - sub1, y1 - (g1 >> back) - (y0 < sub1))
    s = vb >> u(2)
    sp10 = (s // u(10)) * u(10)
    upin = vbl + odd <= sp10 << u(2)
    wpin = ((sp10 + u(10)) << u(2)) + odd <= vbr
    uin = vbl + odd <= s << u(2)
    win = ((s + u(1)) << u(2)) + odd <= vbr
    middle = ((s << u(1)) + u(1)) << u(1)  # 2(s + t), t = s + 1
    nearer_t = (vb > middle) | ((vb == middle) & ((s & u(1)) == 1))
    f = s + np.where(uin != win, win, nearer_t)  # s or t
    return np.where(upin != wpin, sp10 + u(10) * wpin, f), k


def fill(x: Array, out: Bytes) -> None:
    """Write repr(x[i]) into row i of out, a (len(x), FIELD) uint8 array, NUL bytes elsewhere.

    A row's bytes: 0 the sign; 1-5 '0.000' for a number below 1e-3 (as many zeros as it
    takes); 6-39 the 17 digits of f, each with a place after it for the point; 40 a '0' for
    a point after the last digit; 41-45 the exponent, 'e+16' or 'e-308'."""
    global _tables
    t = _tables = _tables or _Tables()
    n = len(x)
    size = np.abs(x)
    plain = (size >= _SMALLEST_NORMAL) & (size <= _LARGEST)
    f, k = decimals(np.where(plain, size, 1.0))
    # the digits of f, a row a place (the ones last), and how many of them end it as zeros
    digits = np.empty((17, n), dtype=np.uint8)
    zeros_at_end = np.zeros(n, dtype=np.int8)
    ending = np.ones(n, dtype=bool)
    high = f // np.uint64(10**9)  # (the halves in 32 bits, where numpy's division is quicker)
    rest = (f - high * np.uint64(10**9)).astype(np.uint32)
    ten = np.uint32(10)
    for place in range(16, -1, -1):
        if place == 7:
            rest = high.astype(np.uint32)
        quotient = rest // ten
        digit = digits[place]
        np.subtract(rest, quotient * ten, out=digit, casting="unsafe")
        ending &= digit == 0
        zeros_at_end += ending
        rest = quotient
    lead = (f < np.uint64(10**16)).astype(np.int8)  # where the first digit is (16 or 17 of them)
    trail = 16 - zeros_at_end  # the last digit that is not a trailing zero
    k8 = k.astype(np.int8)  # (from -20 to 0 where the form is plain)
    point = (17 - lead) + k  # the number is 0.DIGITS × 10^point
    exponent = (point <= -4) | (point > 16)
    any_exponent = bool(exponent.any())
    d = 16 + k8  # in plain form, the digit the point goes after (before the first if < 0)
    if any_exponent:
        first = np.where(exponent, lead, np.minimum(lead, d))
        last = np.where(exponent, trail, np.maximum(trail, d + 1))
        dot = np.where(exponent, np.where(trail > lead, lead, -1), d)
    else:
        first = np.minimum(lead, d)
        last = np.maximum(trail, d + 1)
        dot = d
    places = t.places
    digits += 48
    digits *= (places >= first) & (places <= last)
    out[:, 6:40:2] = digits.T
    out[:, 7:41:2] = (places == dot).T * np.uint8(46)
    out[:, 0] = np.signbit(x) * np.uint8(45)
    small = ~exponent & (d < 0)
    if small.any():
        zeros = -d - 1
        out[:, 1] = small * np.uint8(48)
        out[:, 2] = small * np.uint8(46)
        out[:, 3] = (small & (zeros >= 1)) * np.uint8(48)
        out[:, 4] = (small & (zeros >= 2)) * np.uint8(48)
        out[:, 5] = (small & (zeros >= 3)) * np.uint8(48)
    else:
        out[:, 1:6] = 0
    out[:, 40] = (~exponent & (d == 16)) * np.uint8(48)
    out[:, 41:46] = 0
    if any_exponent:  # (the rows with an exponent alone: they are few)
        rows = np.flatnonzero(exponent)
        power = point[rows] - 1
        magnitude = np.abs(power)
        out[rows, 41] = 101
        out[rows, 42] = np.where(power < 0, 45, 43)
        out[rows, 43] = (magnitude >= 100) * (48 + magnitude // 100)
        out[rows, 44] = 48 + magnitude // 10 % 10
        out[rows, 45] = 48 + magnitude % 10
    if not plain.all():
        for i in np.flatnonzero(~plain).tolist():
            text = repr(float(x[i])).encode("ascii")
            out[i] = 0
            out[i, : len(text)] = np.frombuffer(text, dtype=np.uint8)


def reprs(x: Array) -> list[str]:
    """repr of each float of x (what the tests compare; `fill` is what records use)."""
    out = np.zeros((len(x), FIELD), dtype=np.uint8)
    fill(np.ascontiguousarray(x, dtype=np.float64), out)
    return [row.tobytes().translate(None, b"\0").decode("ascii") for row in out]
