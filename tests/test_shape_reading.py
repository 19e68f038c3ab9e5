"""Shapes read while reading (x.shape, an array made of numbers alone): a program of scalars
skips the walk that finds them (Builder._scalar_prefix), which must never change a result."""

from __future__ import annotations

import numpy as np
import pytest

from bpcli.core.engine import gradients, run
from bpcli.errors import ProgramError
from bpcli.language.parse import parse


def test_a_literal_input_bound_to_an_array_has_the_arrays_shape():
    # x = 1.0 is an input, and the binding makes it an array: y's shape is not a scalar's
    source = "x = 1.0\ny = x * 2\nn = y.shape[0]\nf = (y * n).sum()\n"
    result = run(parse(source, {"x": np.array([1.0, 2.0, 3.0])}))
    assert result.output == pytest.approx(36.0)
    np.testing.assert_allclose(gradients(result)["x"], [6.0, 6.0, 6.0])


def test_an_array_after_scalar_statements_has_its_shape():
    source = "s = x * 2\nt = s + 1\nv = np.ones(3) * t\nk = v.shape[0]\nf = (v * k).sum()\n"
    result = run(parse(source, {"x": 0.5}))
    assert result.output == pytest.approx(18.0)
    assert gradients(result)["x"] == pytest.approx(18.0)


def test_an_array_made_of_numbers_after_scalar_statements_is_an_input():
    graph = parse("a = 2 * 3\nc = a + 1\nb = np.ones(3) * c\nf = b.sum()\n")
    assert [n.name for n in graph.nodes if n.op.name == "input"] == ["b"]


def test_a_scalar_statement_then_a_name_with_no_value():
    with pytest.raises(ProgramError, match="no value for q") as raised:
        parse("y = 2 * 3\nw = y + q\nf = w * 2\n")
    assert raised.value.pos == len("y = 2 * 3\nw = y + ")
