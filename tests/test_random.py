"""np.random in a program: drawn while reading, numpy's legacy numbers, data with no gradient."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from bpcli.core.engine import forward, gradients, run
from bpcli.errors import BpcliError
from bpcli.language.parse import parse
from bpcli.language.randomness import UNSEEDED

# (program, what numpy itself gives after np.random.seed(N)), the draws in the same order
SEEDED = [
    ("np.random.rand(3, 4)", lambda r: r.rand(3, 4)),
    ("np.random.rand()", lambda r: r.rand()),
    ("np.random.randn(2, 3)", lambda r: r.randn(2, 3)),
    ("np.random.random((2, 2))", lambda r: r.random((2, 2))),
    ("np.random.random_sample(3)", lambda r: r.random_sample(3)),
    ("np.random.standard_normal(size=4)", lambda r: r.standard_normal(size=4)),
    ("np.random.uniform(-1, 2, (2, 3))", lambda r: r.uniform(-1, 2, (2, 3))),
    ("np.random.uniform(high=[1, 2, 3])", lambda r: r.uniform(high=[1, 2, 3])),
    ("np.random.normal(1, 0.5, size=4)", lambda r: r.normal(1, 0.5, size=4)),
    ("np.random.randint(0, 10, size=5)", lambda r: r.randint(0, 10, size=5)),
    ("np.random.randint(7)", lambda r: r.randint(7)),
    ("np.random.choice(10, 3)", lambda r: r.choice(10, 3)),
    ("np.random.choice(5, 5, replace=False)", lambda r: r.choice(5, 5, replace=False)),
    (
        "np.random.choice([3, 5, 7], 4, p=[0.2, 0.3, 0.5])",
        lambda r: r.choice([3, 5, 7], 4, p=[0.2, 0.3, 0.5]),
    ),
    ("np.random.permutation(6)", lambda r: r.permutation(6)),
    ("x = np.zeros((2, 3))\nnp.random.rand(*x.shape) < 0.3", lambda r: r.rand(2, 3) < 0.3),
    # the generator goes on from draw to draw, as numpy's does
    ("a = np.random.rand(2)\nb = np.random.randn(2)\na * b", lambda r: r.rand(2) * r.randn(2)),
]


def value(program: str, seed: int | None) -> object:
    return forward(parse(program, seed=seed)).output


@pytest.mark.parametrize(("program", "numpy"), SEEDED, ids=[p for p, _ in SEEDED])
@pytest.mark.parametrize("seed", [0, 231, 2**32 - 1])
def test_seeded_draws_are_numpy_s_own(program, numpy, seed):
    np.testing.assert_array_equal(value(program, seed), numpy(np.random.RandomState(seed)))


def test_the_program_s_np_random_seed_wins_over_seed():
    program = "np.random.seed(3)\nx = np.random.randn(2, 2)\nnp.random.seed(3)\nx + np.random.randn(2, 2)"
    want = 2 * np.random.RandomState(3).randn(2, 2)
    for seed in (None, 0, 5):
        graph = parse(program, seed=seed)
        np.testing.assert_array_equal(forward(graph).output, want)
        assert not any("draws random numbers" in w for w in graph.warnings)


def test_a_seed_from_a_variable():
    # cs231n's dropout: if 'seed' in dropout_param: np.random.seed(dropout_param['seed'])
    seeded = "s = 123\nnp.random.seed(s)\nnp.random.rand(4) < 0.5"
    np.testing.assert_array_equal(value(seeded, None), np.random.RandomState(123).rand(4) < 0.5)


def test_without_a_seed_a_fresh_one_is_warned_about_once_and_repeats_the_numbers():
    graph = parse("a = np.random.rand(3)\nb = np.random.rand(3)\na + b", seed=None)
    warned = [w for w in graph.warnings if "draws random numbers" in w]
    assert len(warned) == 1
    seed = int(re.fullmatch(UNSEEDED.replace("{seed}", r"(\d+)"), warned[0]).group(1))
    state = np.random.RandomState(seed)
    np.testing.assert_array_equal(forward(graph).output, state.rand(3) + state.rand(3))


def test_without_a_seed_two_parses_draw_other_numbers():
    values = [value("np.random.rand(4)", None) for _ in range(3)]
    assert not all(np.array_equal(values[0], v) for v in values[1:])


def test_a_program_that_draws_nothing_is_not_warned_about():
    assert parse("x * 2", {"x": 1.0}).warnings == ()


# --- masks are data ------------------------------------------------------------------------------


DROPOUT = "mask = np.random.rand(3, 4) < p\ny = x * mask / p\nnp.sum(y)"


def test_a_mask_is_data_with_no_gradient():
    graph = parse(DROPOUT, {"x": np.ones((3, 4)), "p": 0.5}, seed=0)
    grads = gradients(run(graph))
    want = np.random.RandomState(0).rand(3, 4) < 0.5
    assert grads["mask"] is None
    np.testing.assert_array_equal(grads["x"], want / 0.5)
    drawn = graph.nodes[0]
    assert drawn.name == "np.random.rand(3, 4)" and not drawn.needs_grad
    assert drawn.op.name == "const" and drawn.name not in graph.inputs


def test_grad_json_shows_the_draw_and_the_mask(bpcli):
    result = bpcli("grad", DROPOUT, "x=ones(3,4)", "p=0.5", "--seed", "7", "--format", "json")
    assert result.code == 0 and result.err == ""
    document = json.loads(result.out)
    drawn = np.random.RandomState(7).rand(3, 4)
    node = document["nodes"][0]
    assert node["label"] == "np.random.rand(3, 4)" and node["upstream"] is None
    np.testing.assert_array_equal(node["value"], drawn)
    assert document["grads"]["mask"] is None
    np.testing.assert_array_equal(document["grads"]["x"], (drawn < 0.5) / 0.5)


def test_grad_table_names_the_draw(bpcli):
    result = bpcli("grad", "np.sum(x * np.random.rand(2))", "x=[1, 2]", "--seed", "0")
    assert result.code == 0 and result.err == ""
    row = next(line for line in result.out.splitlines() if "np.random.rand(2)" in line)
    assert "const" in row and "0.5488" in row and "—" in row


def test_grad_without_seed_warns_on_stderr(bpcli):
    result = bpcli("grad", "np.sum(x * np.random.rand(2))", "x=[1, 2]", "--format", "json")
    assert result.code == 0
    seed = re.fullmatch(r"warning: the program draws random numbers: --seed (\d+) repeats them\n", result.err)
    assert seed is not None
    want = np.random.RandomState(int(seed.group(1))).rand(2)
    np.testing.assert_array_equal(json.loads(result.out)["grads"]["x"], want)


def test_seed_repeats_across_processes():
    """Two processes (other hash seeds) print the same numbers: numpy's after np.random.seed(5)."""
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        command = [sys.executable, "-m", "bpcli", "grad", "np.sum(x * np.random.randn(3))", "x=[1, 2, 3]"]
        done = subprocess.run(
            [*command, "--seed", "5", "--format", "json"], capture_output=True, text=True, env=env, check=True
        )
        assert done.stderr == ""
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    np.testing.assert_array_equal(json.loads(outputs[0])["grads"]["x"], np.random.RandomState(5).randn(3))


def test_batch_seeds_each_problem_afresh(bpcli):
    problem = "x = [1, 2]; np.sum(x * np.random.rand(2))\n"
    result = bpcli("batch", "-", "--seed", "4", input=problem * 3)
    assert result.code == 0
    values = [json.loads(line)["value"] for line in result.out.splitlines()]
    assert values == [float(np.dot([1, 2], np.random.RandomState(4).rand(2)))] * 3


def test_batch_without_seed_draws_for_each_problem(bpcli):
    result = bpcli("batch", "-", input="x = [1, 2]; np.sum(x * np.random.rand(2))\n" * 3)
    records = [json.loads(line) for line in result.out.splitlines()]
    assert len({r["value"] for r in records}) == 3
    assert all("draws random numbers" in r["warnings"][0] for r in records)


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ("np.random.rand((3, 4))", "rand() takes each dimension as an integer of its own"),
        ("np.random.rand(2.5)", "a dimension must be an integer, not 2.5"),
        ("np.random.rand(-1)", "negative dimensions are not allowed"),
        ("np.random.rand(10**9)", "the array would be too big"),
        ("np.random.rand(n=3)", "rand() takes no keyword arguments"),
        ("np.random.normal(0, -1, 3)", "np.random.normal: scale < 0"),
        ("np.random.uniform([0, 1], [1, 2, 3])", "shapes (2,) and (3,) do not broadcast"),
        ("np.random.randint(5, 2)", "np.random.randint: low >= high"),
        ("np.random.randint(0.5, 2)", "a bound must be an integer"),
        ("np.random.choice(3, 5, replace=False)", "np.random.choice: Cannot take a larger sample"),
        ("np.random.choice('abc')", "the population must be an integer, not the string 'abc'"),
        ("np.random.choice(None)", "choice takes a number of items or a list of integers, not None"),
        ("np.random.seed(-1)", "Seed must be between 0 and 2**32 - 1"),
        ("np.random.seed(2**40)", "Seed must be between 0 and 2**32 - 1"),
        ("np.random.seed(1.5)", "a seed must be an integer"),
        ("np.random.default_rng(0)", "bpcli has numpy's np.random functions only"),
        ("np.random.RandomState(0)", "bpcli has numpy's np.random functions only"),
        ("np.random.randm(3)", "np.random.randm is not a function bpcli knows"),
    ],
)
def test_bad_calls_are_errors(program, message):
    with pytest.raises(BpcliError) as caught:  # (a ProgramError, or a ShapeError for a shape)
        parse(program, seed=0)
    assert message in caught.value.message


def test_a_seed_numpy_cannot_take_is_an_error_where_the_program_draws(bpcli):
    result = bpcli("grad", "np.sum(x * np.random.rand(2))", "x=[1, 2]", "--seed", str(2**32))
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(f"error: --seed {2**32}: numpy's np.random takes a seed from 0 to 2**32 - 1")
    assert bpcli("grad", "x*2", "x=1", "--seed", str(2**32)).code == 0  # (nothing drawn: no matter)


def test_a_value_does_not_draw(bpcli):
    result = bpcli("grad", "sum(x)", "x=[np.random.rand(), 1]", "--seed", "0")
    assert result.code == 2
    message = "np.random draws in a program only, not in a value"
    assert result.err == f"error: in the binding x=[np.random.rand(), 1]: {message}\n"
