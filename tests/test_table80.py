"""The node table at a terminal's width (issue 18): nothing wider than the width, numbers
never cropped, labels folded rather than cut, arrays summarised numpy-style."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcli.cells import cells as width_of
from bpcli.core.engine import gradients
from bpcli.core.engine import run as run_graph
from bpcli.language.parse import parse
from bpcli.present.arrays import BLOCK, block, inline, norm_of, value_range
from bpcli.present.numbers import number
from bpcli.present.table import grad_report

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PROGRAMS = [*sorted(SAMPLES.glob("*.bp")), SAMPLES / "homework" / "softmax.bp"]


def report(source: str, width: int, **options) -> str:
    run = run_graph(parse(source, seed=0), record=True)
    parts = grad_report(run, 4, width=width, **options)
    return "\n".join(p.plain if hasattr(p, "plain") else str(p) for p in parts)


@pytest.mark.parametrize("width", [40, 60, 80, 120])
@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_every_line_fits_and_every_gradient_is_shown_whole(path, width):
    source = path.read_text(encoding="utf-8")
    text = report(source, width)
    assert max(width_of(line) for line in text.splitlines()) <= width
    run = run_graph(parse(source, seed=0), record=True)
    symbol = run.graph.symbol
    for name, grad in gradients(run).items():
        if name not in run.graph.inputs or grad is None:
            continue
        if isinstance(grad, float):
            assert f"∂{symbol}/∂{name} = {number(grad, 4)}" in text
        else:  # every number of a small gradient, whole, in the lines under its name; on a
            # narrow screen, columns left out in the middle (…) and the shape said
            at = text.index(f"∂{symbol}/∂{name} ")
            below = text[at:]
            if width < 80:
                ends = below[: below.index("]]") if "]]" in below else below.index("]")]
                assert "…" not in ends or f"({'×'.join(map(str, np.shape(grad)))})" in below
                continue
            for x in np.ravel(grad)[:12]:
                assert re.search(rf"(?<![\d.e-]){re.escape(number(float(x), 4))}(?![\d.e])", below)


def test_the_sigmoid_neuron_reads_across_as_cs231n_draws_it():
    text = report((SAMPLES / "neuron.bp").read_text(encoding="utf-8"), 80)
    rows = text.splitlines()
    header = ["#", "node", "op", "value", "∂f/∂node", "│", "input", "local", "∂node/∂input", "downstream"]
    assert rows[0].split() == header
    # a gate: its value and upstream gradient, then a line for each input: local, downstream
    at = next(k for k, row in enumerate(rows) if row.startswith(" 7  w0*x0"))
    assert re.match(r" 7  w0\*x0 +mul +-2 +0\.1966 │ w0 +x0 = -1 +-0\.1966$", rows[at])
    assert re.match(r" +│ x0 +w0 = 2 +0\.3932$", rows[at + 1])
    # later rows refer to earlier ones by id; constants are written where they are used
    assert any(
        re.match(r"14  f = 1/#13 +div +0\.7311 +1 │ #13 +-1/#13\^2 = -0\.5344 +-0\.5344$", r) for r in rows
    )
    assert not any(re.match(r" ?[56]  ", r) for r in rows)  # the two constants 1 have no row
    assert "constants get no gradient" in text


def test_a_fan_out_shows_the_branches_that_add_up_under_the_total():
    text = report("x = 3\ny = x*x + x", 80)
    lines = text.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("0  x "))
    assert lines[at].rstrip().endswith(" 7 │")
    assert lines[at + 1].rstrip().endswith("= 3 + 3 + 1 │")


def test_long_names_fold_and_are_never_cut():
    name = "a_rather_long_intermediate_name"
    text = report(f"x = 2\ny = 3\n{name} = x*y + x\nf = {name}*{name}", 50)
    assert max(width_of(line) for line in text.splitlines()) <= 50
    assert "…" not in text
    squashed = re.sub(r"[\s│]", "", text)
    assert name in squashed and f"{name}*{name}" in squashed


def test_too_narrow_for_columns_each_node_is_a_block():
    text = report((SAMPLES / "neuron.bp").read_text(encoding="utf-8"), 46)
    assert "#7 w0*x0 (mul): value -2, ∂f/∂node 0.1966" in text
    assert "  → w0: local x0 = -1, downstream -0.1966" in text


def test_an_array_program_has_a_line_per_node_and_its_gradients_whole():
    text = report((SAMPLES / "two_layer_net.bp").read_text(encoding="utf-8"), 80)
    rows = text.splitlines()
    assert rows[0].split() == ["#", "node", "op", "shape", "value", "∂loss/∂node"]
    assert re.match(r" 8  h = relu\(#7\) +relu +3×5 +0 to 2\.649 +-0\.1562 to 0\.1247$", rows[10])
    assert "∂loss/∂W2 = [[ -0.3444,  0.08046,    0.2639],\n             [  0.0316," in text
    wide = report((SAMPLES / "two_layer_net.bp").read_text(encoding="utf-8"), 120)
    assert "[[1, 0, 0], [0, 0, 1], [0, 1, 0]]" in wide  # a small array whole where it fits


def test_full_shows_each_gate_with_every_element():
    text = report((SAMPLES / "two_layer_net.bp").read_text(encoding="utf-8"), 80, full=True)
    assert "#8 h = relu(#7)  (relu)" in text
    at = text.index("#8 h = relu(#7)  (relu)")
    gate = text[at : text.index("\n\n", at)]
    assert "  ∂loss/∂node = [[" in gate and "→ #7: local" in gate and "downstream = [[" in gate
    assert "…" not in gate


# --- arrays as text -------------------------------------------------------------------------


def test_inline_prefers_the_whole_array_then_corners_then_the_range():
    a = np.array([[-0.36, 2.97, 0.15, 0.58], [-0.38, -0.82, -0.07, 0.06]])
    assert inline(a, 4, 80) == "[[-0.36, 2.97, 0.15, 0.58], [-0.38, -0.82, -0.07, 0.06]]"
    assert inline(a, 4, 34) == "[[-0.36, 2.97, 0.15, 0.58], …]"  # the first row whole
    assert inline(a, 4, 28) == "-0.82 to 2.97"  # (one number at each end says less)
    assert inline(np.arange(10.0), 4, 25) == "[0, 1, 2, …, 7, 8, 9]"
    assert inline(a, 4, 20) == "-0.82 to 2.97"
    assert inline(np.full((3, 3), -1 / 3), 4, 14) == "all -0.3333"
    assert inline(a, 4, 12) == f"‖·‖ {number(float(np.linalg.norm(a)), 4)}"
    assert inline(np.array(2.5), 4, 3) == "2.5"


@pytest.mark.parametrize("size", [1, 7, BLOCK, BLOCK + 1, 3 * BLOCK + 5])
def test_an_arrays_range_is_its_min_and_max_read_a_block_at_a_time(size):
    rng = np.random.default_rng(size)
    a = rng.standard_normal(size)
    assert value_range(a) == (a.min(), a.max())
    assert value_range(a.reshape(1, -1)[:, ::-1]) == (a.min(), a.max())  # (not contiguous)
    if size > 1:
        a[-1] = a.max() + 1.0  # in the last block only
        a[size // 2] = a.min() - 1.0
        assert value_range(a) == (a.min(), a.max())
        b = a.copy()
        b[-1] = np.nan  # a nan anywhere: nan, as min and max give
        low, high = value_range(b)
        assert low != low and high != high
        assert norm_of(b) != norm_of(b)
    # norm_of: the largest size from the range, never negative, the norm unchanged
    assert norm_of(a) == float(np.linalg.norm(a))
    assert norm_of(-np.abs(a)) == float(np.linalg.norm(a))
    assert norm_of(a * 1e200) == float(np.max(np.abs(a * 1e200))) * float(
        np.linalg.norm(a * 1e200 / np.max(np.abs(a * 1e200)))
    )
    zeros = np.zeros(size)
    zeros[0] = -0.0
    assert str(norm_of(zeros)) == "0.0"


def test_a_tables_cells_find_an_arrays_range_and_norm_once():
    a = np.linspace(-1.0, 2.0, 1000).reshape(10, 100)
    seen = {}
    assert inline(a, 4, 16, seen) == "-1 to 2"
    assert seen[id(a)][0] is a
    seen[id(a)][1].update(min=-5.0, max=5.0)  # (a stand-in: the cell reads what was found before)
    assert inline(a, 4, 16, seen) == "-5 to 5"
    c = np.linspace(-1.23456, 2.34567, 1000).reshape(10, 100)
    assert inline(c, 4, 12, seen) == f"‖·‖ {number(float(np.linalg.norm(c)), 4)}"
    seen[id(c)][1]["norm"] = 7.0
    assert inline(c, 4, 12, seen) == "‖·‖ 7"
    b = a.copy()  # another array is not mistaken for it
    assert inline(b, 4, 16, seen) == "-1 to 2"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=3),
    st.integers(20, 120),
    st.integers(0, 2**32 - 1),
)
def test_block_keeps_rows_whole_within_the_width(shape, width, seed):
    a = np.random.default_rng(seed).normal(size=shape) * 10.0 ** np.random.default_rng(seed).integers(-5, 5)
    lines = block(a, 4, width)
    texts = [number(float(x), 4) for x in a.ravel()]
    widest = max(len(t) for t in texts)
    assert all(width_of(line) <= max(width, 2 * widest + 3 * a.ndim + 8) for line in lines)
    numbers = re.findall(r"-?[\d.]+(?:e-?\d+)?", " ".join(lines))
    assert set(numbers) <= set(texts)  # never a cropped number
    full = block(a, 4, width, full=True)
    assert re.findall(r"-?[\d.]+(?:e-?\d+)?", " ".join(full)) == texts  # every number, in order
    assert "…" not in " ".join(full)
