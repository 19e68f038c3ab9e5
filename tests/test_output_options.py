"""--output NAME (-y) picks the output; --upstream [NAME=]VALUE gives the gradient that flows
into it (cs231n's dout); -o/--out FILE writes to a file, and the old `--output FILE` still
does, with a warning. The same for check and batch (JSON Lines "output" and "upstream")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bpcli.core.engine import run
from bpcli.errors import ProgramError, ShapeError
from bpcli.language.parse import parse

from conftest import SAMPLES

DATA = SAMPLES / "cs231n" / "data"
OLD_SPELLING = "warning: write -o FILE (or --out FILE): --output NAME now picks the output\n"


def grads_of(result):
    assert result.code == 0, result.err
    return json.loads(result.out)["grads"]


def assert_same_grads(given, written, names):
    for name in names:
        np.testing.assert_allclose(np.asarray(given[name]), np.asarray(written[name]), rtol=1e-12, atol=1e-15)


# --- --upstream: the backward pass starts from a given gradient ---------------------------


@pytest.mark.parametrize(
    "program, bindings, upstream, names",
    [
        ("h = W @ x; out = tanh(h)", ["W=randn(3,4)", "x=randn(4)"], "randn(3)", ["W", "x", "h"]),
        ("out = maximum(0, x) * w + b", ["x=randn(2,3)", "w=randn(3)", "b=2"], "randn(2,3)", ["x", "w", "b"]),
        ("q = x + y; out = q * z", ["x=-2", "y=5", "z=-4"], "1.5", ["x", "y", "z", "q"]),
        ("out = softmax(s, axis=1)", ["s=randn(2,4)"], "randn(2,4)", ["s"]),
    ],
)
def test_upstream_gives_the_gradients_of_sum_out_times_dout(bpcli, program, bindings, upstream, names):
    given = grads_of(
        bpcli("grad", program, *bindings, "--upstream", f"dout={upstream}", "--seed", "3", "--format", "json")
    )
    # the program a student writes today: the same draws, dout drawn last
    written = grads_of(
        bpcli(
            "grad",
            f"{program}; f = sum(out * dout)",
            *bindings,
            f"dout={upstream}",
            "--seed",
            "3",
            "--format",
            "json",
        )
    )
    assert_same_grads(given, written, names)
    # the output's gradient is dout, given or computed (∂f/∂out of sum(out * dout))
    np.testing.assert_array_equal(given["out"], written["out"])


def test_a_cs231n_layer_with_its_dout_file(bpcli):
    affine = (SAMPLES / "cs231n" / "affine_forward.bp").read_text()
    layer = affine.replace("f = np.sum(out * dout)\n", "")  # the forward pass alone
    files = [f"{n}=@{DATA}/affine_{n}.npy" for n in ("x", "w", "b")]
    given = grads_of(
        bpcli("grad", layer, *files, "--upstream", f"dout=@{DATA}/affine_dout.npy", "--format", "json")
    )
    written = grads_of(bpcli("grad", affine, *files, f"dout=@{DATA}/affine_dout.npy", "--format", "json"))
    assert_same_grads(given, written, ["x", "w", "b"])
    assert np.shape(given["x"]) == (2, 3, 2, 2)


def test_upstream_through_the_engine_is_a_seed_not_a_node():
    bindings = {"W": np.arange(6.0).reshape(2, 3), "x": np.array([1.0, -1.0, 2.0])}
    plain = parse("h = W @ x; out = tanh(h)", bindings)
    seeded = parse("h = W @ x; out = tanh(h)", bindings, upstream=("dout", [0.5, -2.0]))
    assert len(seeded.nodes) == len(plain.nodes)  # no sum(out * dout) gates
    result = run(seeded)
    np.testing.assert_array_equal(result.grads[seeded.output.id], [0.5, -2.0])
    assert (seeded.upstream_name, seeded.output_text) == ("dout", "out")


def test_an_unnamed_upstream_is_called_d_and_the_outputs_name(bpcli):
    result = bpcli("grad", "h = 2 * x", "x=[1, 2]", "--upstream", "[3, 4]", "--format", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["upstream"] == {"name": "dh", "value": [3.0, 4.0]}
    assert document["grads"]["x"] == [6.0, 8.0]


@pytest.mark.parametrize(
    "upstream, message",
    [
        (
            "dout=[1, 2, 3]",
            "error: the upstream gradient dout has shape (3,), but the output out has shape (2,):"
            " they must be the same\n",
        ),
        (
            "dout=[[1, 2]]",
            "error: the upstream gradient dout has shape (1, 2), but the output out has shape (2,):"
            " they must be the same\n",
        ),
        (
            "dout=1",
            "error: the upstream gradient dout has shape scalar, but the output out has shape (2,):"
            " they must be the same\n",
        ),
    ],
)
def test_an_upstream_of_another_shape_is_an_error(bpcli, upstream, message):
    result = bpcli("grad", "out = tanh(x)", "x=[1, 2]", "--upstream", upstream)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(message)


def test_an_array_output_without_an_upstream_is_still_an_error(bpcli):
    result = bpcli("grad", "out = tanh(x)", "x=[1, 2]")
    assert result.code == 2
    assert "backpropagation needs a scalar output" in result.err
    assert "--upstream dout=" in result.err


def test_upstream_named_after_another_node_makes_it_the_output(bpcli):
    result = bpcli(
        "grad", "h = 2 * x; out = tanh(h)", "x=[1, 2]", "--upstream", "dh=[1, -1]", "--format", "json"
    )
    document = json.loads(result.out)
    assert (document["output"], document["value"]) == ("h", [2.0, 4.0])
    assert document["grads"]["x"] == [2.0, -2.0]
    same = bpcli(
        "grad", "h = 2 * x; out = tanh(h)", "x=[1, 2]", "--upstream", "h=[1, -1]", "--format", "json"
    )
    assert json.loads(same.out) == document


def test_conflicting_output_and_upstream_names_are_an_error(bpcli):
    result = bpcli(
        "grad", "h = 2 * x; out = tanh(h)", "x=[1, 2]", "--output", "out", "--upstream", "dh=[1, 1]"
    )
    assert result.code == 2
    assert result.err.startswith("error: --upstream dh=… and --output out disagree")
    agreeing = bpcli("grad", "h = 2 * x; out = tanh(h)", "x=[1, 2]", "-y", "h", "--upstream", "dh=[1, 1]")
    assert agreeing.code == 0, agreeing.err


def test_an_upstream_naming_nothing_is_an_error(bpcli):
    result = bpcli("grad", "h = 2 * x; out = tanh(h)", "x=[1, 2]", "--upstream", "dq=[1, 1]")
    assert result.code == 2
    assert result.err.startswith("error: --upstream dq=…: the program has no dq or q\n")


def test_gradcheck_differences_sum_out_times_dout(bpcli):
    result = bpcli(
        "grad",
        "h = W @ x; out = tanh(h)",
        "W=randn(3,2)",
        "x=randn(2)",
        "--seed",
        "1",
        "--upstream",
        "dout=randn(3)",
        "--gradcheck",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    checks = json.loads(result.out)["gradcheck"]
    assert [(c["name"], c["verdict"]) for c in checks] == [("W", "good"), ("x", "good")]


def test_presenters_say_the_upstream_is_given(bpcli):
    args = ["grad", "h = 2 * x; out = tanh(h)", "x=[1, 2]", "--upstream", "dout=[1, -1]"]
    steps = bpcli(*args, "--format", "steps").out
    assert "upstream  ∂f/∂out = dout = [1, -1]  (the upstream gradient of out is given\n" in steps
    table = bpcli(*args).out
    assert "[1, -1] (given: dout)" in table
    assert "dout = [1, -1]  (given: ∂f/∂out, the upstream gradient)" in table
    assert "∂f/∂f" not in table
    zh = bpcli(*args, "--format", "steps", "--lang", "zh").out
    assert "out 的上游梯度 dout 是给定的" in zh
    latex = bpcli(*args, "--format", "latex").out
    assert "% the upstream gradient of out is given: dout" in latex


# --- --output NAME: which node is the output ------------------------------------------------


def test_output_picks_a_named_intermediate(bpcli):
    for option in ("--output", "-y"):
        result = bpcli("grad", "q = x + y; f = q*z", "x=-2", "y=5", "z=-4", option, "q", "--format", "json")
        assert result.code == 0, result.err
        document = json.loads(result.out)
        assert (document["output"], document["value"]) == ("q", 3.0)
        assert document["grads"] == {"x": 1.0, "y": 1.0, "z": 0.0, "q": 1.0, "f": 0.0}


def test_output_takes_the_last_binding_of_a_name(bpcli):
    result = bpcli("grad", "a = x * 2; b = a + 1; a = b * 3; a + x", "x=1", "-y", "a", "--format", "json")
    document = json.loads(result.out)
    assert (document["output"], document["value"]) == ("a", 9.0)
    assert document["grads"]["x"] == 6.0


def test_an_unknown_output_names_the_close_matches(bpcli):
    result = bpcli("grad", "hidden = x * 2; out = hidden + 1", "x=1", "--output", "hiden")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "error: the output hiden is not a name in the program\n"
        "did you mean hidden? the program's names are hidden, out, x\n"
        "to write to a file named hiden, give -o hiden\n"
    )


def test_an_output_known_while_reading_is_an_error():
    with pytest.raises(ProgramError, match="the output N is 2, known while reading"):
        parse("N = x.shape[0]; out = x * N", {"x": np.ones(2)}, output="N")


def test_parse_output_and_upstream_shape():
    graph = parse("q = x + y; f = q*z", {"x": 1.0, "y": 2.0, "z": 3.0}, output="q", upstream=(None, [1.0]))
    with pytest.raises(ShapeError, match=r"has shape \(1,\), but the output q has shape scalar"):
        run(graph)


# --- the old --output FILE, and -o/--out FILE -----------------------------------------------


@pytest.mark.parametrize(
    "spelling", [["--output", "out.json"], ["--output=out.json"], ["--output", "sub/g.json"]]
)
def test_the_old_output_file_spelling_still_writes_with_a_warning(bpcli, tmp_path, monkeypatch, spelling):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    path = tmp_path / spelling[-1].partition("=")[2] if "=" in spelling[0] else tmp_path / spelling[-1]
    result = bpcli("grad", "x*y", "x=2", "y=3", "--format", "json", *spelling)
    assert (result.code, result.out) == (0, "")
    assert result.err == OLD_SPELLING + f"wrote {spelling[-1].partition('=')[2] or spelling[-1]}\n"
    assert json.loads(path.read_text())["value"] == 6.0


@pytest.mark.parametrize("spelling", [["-o", "out.json"], ["--out", "out.json"], ["--out=out.json"]])
def test_o_and_out_write_a_file_without_a_warning(bpcli, tmp_path, monkeypatch, spelling):
    monkeypatch.chdir(tmp_path)
    result = bpcli("grad", "x*y", "x=2", "y=3", "--format", "json", *spelling)
    assert (result.code, result.out, result.err) == (0, "", "wrote out.json\n")
    assert json.loads((tmp_path / "out.json").read_text())["value"] == 6.0


def test_help_lists_the_new_spellings(bpcli):
    text = bpcli("grad", "--help").out
    assert "-o, --out FILE" in text
    assert "-y, --output NAME" in text
    assert "--upstream [NAME=]VALUE" in text
    assert "-y, --output NAME" in bpcli("check", "--help").out
    assert "--upstream [NAME=]VALUE" in bpcli("batch", "--help").out


# --- check and batch ------------------------------------------------------------------------


def test_check_takes_output_and_upstream(bpcli):
    args = ["check", "h = 2 * x; out = tanh(h)", "x=[1, 2]", "--upstream", "dout=[1, -1]"]
    right = bpcli(*args, "-e", "dx=[0.1413, -0.002682]", "-e", "dout=[1, -1]")
    assert right.code == 0, right.out + right.err
    assert right.out.endswith("2 of 2 correct\n")
    wrong = bpcli(*args, "-e", "dx=[0.1413, 0.002682]")
    assert wrong.code == 1
    assert "dx" in wrong.out.splitlines()[-1]  # first wrong step: dx
    picked = bpcli(
        "check", "q = x + y; f = q*z", "x=-2", "y=5", "z=-4", "-y", "q", "-e", "dz=0", "-e", "dx=1"
    )
    assert picked.code == 0, picked.out


def records(text):
    return [json.loads(line) for line in text.splitlines()]


def test_batch_records_with_output_and_upstream(bpcli):
    lines = [
        {"program": "h = 2 * x; out = tanh(h)", "bindings": {"x": [1, 2]}, "upstream": "dout=[1, -1]"},
        {
            "program": "h = 2 * x; out = tanh(h)",
            "bindings": {"x": [1, 2]},
            "output": "h",
            "upstream": [1, -1],
        },
        {"program": "q = x + y; f = q*z", "bindings": {"x": -2, "y": 5, "z": -4}, "output": "q"},
        {"program": "q = x + y; f = q*z", "bindings": {"x": -2, "y": 5, "z": -4}, "output": "qq"},
        {"program": "out = tanh(x)", "bindings": {"x": [1, 2]}, "upstream": [1, 2, 3]},
        {"program": "out = tanh(x)", "bindings": {"x": [1, 2]}, "upstream": True},
    ]
    result = bpcli("batch", input="".join(json.dumps(line) + "\n" for line in lines))
    assert result.code == 1
    out = records(result.out)
    h = np.tanh([2.0, 4.0])
    np.testing.assert_allclose(out[0]["grads"]["x"], 2 * (1 - h**2) * [1, -1])
    assert out[0]["upstream"] == {"name": "dout", "value": [1.0, -1.0]}
    assert (out[1]["output"], out[1]["grads"]["x"], out[1]["upstream"]["name"]) == ("h", [2.0, -2.0], "dh")
    assert (out[2]["output"], out[2]["value"], out[2]["grads"]["z"]) == ("q", 3.0, 0.0)
    assert out[3]["error"].startswith("the output qq is not a name in the program")
    assert "has shape (3,), but the output out has shape (2,)" in out[4]["error"]
    assert out[5]["error"].startswith('"upstream" must be a number, an array or a string')


def test_batch_points_with_program_reserve_output_and_upstream(bpcli):
    points = '{"x": -2, "y": 5, "z": -4, "output": "q", "upstream": 2}\n{"x": 1, "y": 1, "z": 1}\n'
    result = bpcli("batch", "--program", "q = x + y; f = q*z", input=points)
    assert result.code == 0, result.out
    first, second = records(result.out)
    assert (first["output"], first["value"], first["grads"]["x"]) == ("q", 3.0, 2.0)
    assert (second["output"], second["value"]) == ("f", 2.0)


def test_batch_options_apply_to_every_problem(bpcli):
    lines = "x=1; y=2; q = x*y; f = q+1\nx=3; y=2; q = x*y; f = q+1\nx=3; y=2; q = x*y; f = q+1\n"
    result = bpcli("batch", "--output", "q", "--upstream", "2", input=lines)
    assert result.code == 0, result.out
    assert [(r["output"], r["value"], r["grads"]["x"]) for r in records(result.out)] == [
        ("q", 2.0, 4.0),
        ("q", 6.0, 4.0),
        ("q", 6.0, 4.0),
    ]


def test_batch_output_must_be_a_name(bpcli):
    result = bpcli("batch", "--output", "results.jsonl", input="x=1; f = x*2\n")
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("error: --output results.jsonl: --output NAME names the output;")


LOOP = """def step(x, h, w):
    return tanh(x + h * w)
h = h0
for t in range(3):
    h = step(xs[t], h, w)
loss = sum(h)
"""


def test_output_and_upstream_with_a_loop_and_a_function(bpcli):
    bindings = ["h0=[0.1, 0.2]", "xs=[[1, 2], [3, 4], [5, 6]]", "w=[0.5, -0.5]"]
    given = grads_of(bpcli("grad", LOOP, *bindings, "--upstream", "dh=[1, -2]", "--format", "json"))
    written = grads_of(bpcli("grad", LOOP + "f = sum(h * dh)\n", *bindings, "dh=[1, -2]", "--format", "json"))
    assert_same_grads(given, written, ["h0", "xs", "w"])
    local = bpcli("grad", LOOP, *bindings, "-y", "x")  # a function's own name is not the program's
    assert local.code == 2
    assert local.err.startswith("error: the output x is not a name in the program\ndid you mean xs?")
