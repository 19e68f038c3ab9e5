"""bpcli.present.shortest (repr of many floats at once) and bpcli.present.blocks (records
laid out as rows of bytes): the same text as Python's repr and `%`, to the byte.

No timing here: benchmarks/run.py's `points` measures what they are for."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from bpcli.present.blocks import lay_out, text
from bpcli.present.records import record_form
from bpcli.present.shortest import FIELD, fill, reprs


def same_as_repr(values) -> None:
    x = np.asarray(values, dtype=np.float64)
    got = reprs(x)
    expected = [repr(v) for v in x.tolist()]
    wrong = [(e, g) for e, g in zip(expected, got, strict=True) if e != g]
    assert not wrong, wrong[:10]


def test_random_bit_patterns():
    """Any double: every exponent, both signs, subnormals, NaNs and infinities among them."""
    rng = np.random.default_rng(20)
    same_as_repr(rng.integers(0, 2**64 - 1, size=200_000, dtype=np.uint64).view(np.float64))


@pytest.mark.parametrize("scale", [1e-12, 1e-6, 1e-3, 0.01, 1.0, 3.0, 1e4, 1e12, 1e15, 1e17, 1e200])
def test_numbers_of_every_size(scale):
    rng = np.random.default_rng(int(math.log10(scale) + 100))
    same_as_repr(rng.standard_normal(20_000) * scale)


def test_the_numbers_at_the_edges_of_the_plain_form():
    """repr writes 1e-4 ≤ |x| < 1e16 without an exponent: each power of ten, its neighbours,
    and numbers with few digits around them."""
    powers = 10.0 ** np.arange(-30, 30)
    values = [powers, np.nextafter(powers, 0), np.nextafter(powers, np.inf)]
    values.append(np.array([9999999999999998.0, 1e16, 0.0001, 0.00011, 9.99e-5, 0.001, 123.0, 0.5, 2.5e-5]))
    values.append(np.array([1.5 * 10.0**e for e in range(-8, 20)]))
    values.append(np.arange(-100_000, 100_000, dtype=np.float64))
    values.append(np.arange(1, 20_000) / 1000)  # decimals of few digits
    x = np.concatenate(values)
    same_as_repr(np.concatenate([x, -x]))


def test_powers_of_two_and_the_ends_of_the_range():
    """At a power of two the gap below is half the gap above (Schubfach's other case)."""
    powers = 2.0 ** np.arange(-1074, 1024)
    ends = [5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, 1e-323]
    x = np.concatenate([powers, np.nextafter(powers, 0), np.nextafter(powers, np.inf), ends])
    same_as_repr(np.concatenate([x, -x]))


def test_numbers_that_are_not_plain():
    same_as_repr([0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, 5e-324, -1e-310, 1.0])


def test_shortest_digits_that_tie():
    """Decimals halfway between two floats, and floats that are short decimals."""
    rng = random.Random(7)
    texts = [f"{rng.randint(1, 10**17)}e{rng.randint(-330, 300)}" for _ in range(20_000)]
    texts += [f"0.{rng.randint(1, 10 ** rng.randint(1, 17))}" for _ in range(20_000)]
    same_as_repr([float(t) for t in texts])


def test_a_field_has_nul_bytes_where_nothing_is_written():
    x = np.array([0.5, -1.25e-7, 3.0])
    out = np.full((3, FIELD), 255, dtype=np.uint8)
    fill(x, out)
    assert [row.tobytes().replace(b"\0", b"") for row in out] == [b"0.5", b"-1.25e-07", b"3.0"]


# --- records laid out as rows ---------------------------------------------------------------------


@pytest.mark.parametrize("block", [7, 8192])
def test_rows_are_the_form_filled_in(block, monkeypatch):
    """A form with % and non-ASCII text, line numbers, ids, one text for all rows, floats
    (written in runs of `block` floats)."""
    from bpcli.present import blocks

    monkeypatch.setattr(blocks, "BLOCK", block)
    form = '{"source":"100%% ünï.jsonl","line":%s,"id":%s,"output":%s,"value":%s,"g":%s}\n'
    rng = np.random.default_rng(3)
    n = 500
    lines = rng.integers(1, 10**9, size=n)
    ids = [json.dumps(rng.choice(["a", "é", "%s", 'q"uote', ""]) * int(rng.integers(0, 3))) for _ in range(n)]
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-20, 20, size=n)
    grads = np.where(rng.random(n) < 0.1, 0.0, rng.standard_normal(n))
    rows = lay_out(form, [lines, ids, '"f"', values, grads], n, integers=frozenset({0}))
    expected = "".join(
        form % (line, ident, '"f"', value, grad)
        for line, ident, value, grad in zip(lines.tolist(), ids, values.tolist(), grads.tolist(), strict=True)
    )
    assert text(rows) == expected
    assert text(rows[10:20]) == "".join(expected.splitlines(keepends=True)[10:20])


def test_rows_of_a_record_form():
    """The form `batch` writes with (bpcli.present.records.record_form), of a real graph."""
    from bpcli.language.parse import parse

    graph = parse("w = 2; x = -1; f = 1 / (1 + exp(-(w*x)))")
    form = record_form(graph, "points.jsonl", False, False)
    assert form is not False
    n = 300
    rng = np.random.default_rng(5)
    columns = [rng.standard_normal(n) for _ in range(1 + len(graph.names))]
    numbers = np.arange(1, n + 1) * 7
    rows = lay_out(form, [numbers, *columns], n, integers=frozenset({0}))
    expected = "".join(
        form % (number, *values)
        for number, *values in zip(numbers.tolist(), *(c.tolist() for c in columns), strict=True)
    )
    assert text(rows) == expected
    assert all(json.loads(line)["line"] % 7 == 0 for line in text(rows).splitlines())
