"""Issue 18, readable at 80 columns: --format steps, tree and markdown at the reader's width,
and the narration's texts (the sub gate, broadcasts, ∂loss/∂W labels, zh 局部梯度)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from bpcli.cells import cells
from bpcli.present.arrays import block, compact, one_line
from bpcli.present.fold import fold
from bpcli.present.numbers import number

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DATA = SAMPLES / "cs231n" / "data"

PROGRAMS = {
    "neuron": [str(SAMPLES / "neuron.bp")],
    "gates": [str(SAMPLES / "gates.bp")],
    "fanout": [str(SAMPLES / "fanout.bp")],
    "two_layer_net": [str(SAMPLES / "two_layer_net.bp")],
    "softmax": [str(SAMPLES / "homework" / "softmax.bp")],
    "batchnorm": [
        str(SAMPLES / "cs231n" / "batchnorm_forward.bp"),
        f"x=@{DATA / 'bn_x.npy'}",
        f"gamma=@{DATA / 'bn_gamma.npy'}",
        f"beta=@{DATA / 'bn_beta.npy'}",
        f"dout=@{DATA / 'bn_dout.npy'}",
    ],
    "conv": [
        str(SAMPLES / "cs231n" / "conv_forward.bp"),
        f"x=@{DATA / 'conv_x.npy'}",
        f"w=@{DATA / 'conv_w.npy'}",
        f"b=@{DATA / 'conv_b.npy'}",
        f"dout=@{DATA / 'conv_dout.npy'}",
    ],
}


def widest(text: str) -> int:
    return max(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s) for s in text.split("\n"))


def first_numbers(value: float | np.ndarray) -> list[str]:
    """The numbers of a gradient any summary shows: its first and last elements."""
    flat = np.ravel(value)
    return [number(float(flat[0]), 4), number(float(flat[-1]), 4)]


# --- every line fits, and the gradients are there uncropped -------------------------------------


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("fmt", ["steps", "tree"])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("program", list(PROGRAMS))
def test_output_fits_the_width_and_shows_each_gradient(bpcli, monkeypatch, program, fmt, lang, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    result = bpcli("grad", *PROGRAMS[program], "--format", fmt, "--lang", lang)
    assert result.code == 0, result.err
    assert widest(result.out) <= columns
    document = json.loads(bpcli("grad", *PROGRAMS[program], "--format", "json").out)
    inputs = {node["name"] for node in document["nodes"] if node["op"] == "input"}
    for name, grad in document["grads"].items():
        if name not in inputs or grad is None or isinstance(grad, dict):
            continue  # data, or a summarised big array
        value = np.array(grad, dtype=float)
        for text in first_numbers(value):
            # a number stands whole, between spaces or brackets, never cut at a line's end
            assert re.search(r"(?<![\d.])" + re.escape(text) + r"(?![\d.e])", result.out), (name, text)


def test_piped_output_without_columns_is_80_wide(bpcli):
    out = bpcli("grad", *PROGRAMS["two_layer_net"], "--format", "steps").out
    assert 70 < widest(out) <= 80


def test_columns_is_respected(bpcli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    out = bpcli("grad", *PROGRAMS["neuron"], "--format", "steps").out
    assert 50 < widest(out) <= 60
    # the sentence folds at its pause, with a hanging indent under its start
    assert "    to 1 + exp(…):\n      local ∂/∂(1 + exp(…)) = -1/(1 + exp(…))^2 = -0.5344;\n" in out


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
@pytest.mark.parametrize("columns", [72, 120])
def test_a_terminal_gives_its_own_width(columns):
    """On a terminal without COLUMNS, the terminal's own width (TIOCSWINSZ) is used."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["NO_COLOR"] = "1"
    program = [sys.executable, "-m", "bpcli", "grad", *PROGRAMS["two_layer_net"], "--format", "steps"]
    proc = subprocess.Popen(program, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    out = b"".join(chunks).decode().replace("\r\n", "\n")
    assert proc.returncode == 0
    assert columns - 12 < widest(out) <= columns


# --- folding and arrays -------------------------------------------------------------------------


def test_a_long_formula_folds_after_an_operator_and_keeps_every_character():
    word = "sum(Y*logsoftmax(scores))" * 5
    lines = fold("#3 " + word, 40, "", "  ")
    assert all(cells(line) <= 40 for line in lines)
    assert "".join(line.strip() for line in lines).replace(" ", "") == ("#3" + word)
    assert all(line.rstrip()[-1] in "*(),+-/=" or line is lines[-1] for line in lines[1:])


def test_cjk_counts_two_columns_and_folds_between_characters():
    text = (
        "减法门带符号地分配：局部梯度是 +1 和 −1，所以第一个输入得到不变的上游梯度，第二个输入得到它的相反数"
    )
    text += "，就是这样"
    lines = fold(text, 30, "    ", "      ")
    assert all(cells(line) <= 30 for line in lines) and len(lines) > 2
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    assert not any(line.strip().startswith(("，", "：")) for line in lines)  # never a line's first


def test_an_operator_ends_a_line_rather_than_starting_one():
    lines = fold("downstream = 0.1966 × -1 = -0.1966 and more words here", 20, "", "  ")
    assert not any(line.strip().startswith(("=", "×")) for line in lines)


def test_arrays_print_numpy_style_with_whole_aligned_rows():
    a = np.array([[1.0, -2.5, 3], [0.25, 5, -6]])
    assert block(a, 4, 80) == ["[[   1, -2.5,  3],", " [0.25,    5, -6]]"]
    cube = np.arange(8.0).reshape(2, 2, 2)
    assert block(cube, 4, 80) == ["[[[0, 1],", "  [2, 3]],", "", " [[4, 5],", "  [6, 7]]]"]


def test_big_arrays_are_summarised_with_their_edges():
    big = np.arange(100 * 30, dtype=float).reshape(100, 30)
    lines = block(big, 4, 70)
    assert len(lines) == 7 and lines[3].strip() == "…,"
    assert all(cells(line) <= 70 for line in lines)
    assert lines[0].startswith("[[   0,    1,    2,") and "…" in lines[0] and lines[-1].endswith("2999]]")
    assert len(block(big, 4, 70, full=True)) > 100  # --full: every row


def test_a_row_too_wide_for_the_width_folds_like_numpy():
    lines = block(np.linspace(-1, 1, 30), 4, 40)
    assert all(cells(line) <= 40 for line in lines) and len(lines) > 3
    assert lines[0].startswith("[") and lines[-1].endswith("]")
    found = [float(x) for line in lines for x in re.findall(r"-?[\d.]+(?:e-?\d+)?", line)]
    assert found == [float(number(float(x), 4)) for x in np.linspace(-1, 1, 30)]  # every number, none cut


def test_compact_summaries_name_the_shape():
    assert compact(np.arange(12.0).reshape(4, 3) / 3, 4, 30) == "[[0, 0.3333, 0.6667], …] (4×3)"
    assert compact(np.ones((4, 3)) / 3, 4, 20) == "all 0.3333 (4×3)"
    assert compact(np.array([1.0, 2.0]), 4, 20) == "[1, 2]"
    assert one_line(np.eye(2), 4) == "[[1, 0], [0, 1]]"


# --- the narration --------------------------------------------------------------------------------


def test_the_sub_gate_has_its_own_pattern(bpcli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    out = bpcli("grad", "f = x - y", "x=1", "y=2", "--format", "steps").out
    assert "a subtract gate distributes with a sign: its local gradients are +1 and −1" in out
    assert "an add gate" not in out
    zh = bpcli("grad", "f = x - y", "x=1", "y=2", "--format", "steps", "--lang", "zh").out
    assert "局部梯度是 +1 和 −1" in zh and "加法门" not in zh


def test_a_broadcast_says_the_axis_its_gradient_sums(bpcli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    args = ["grad", "f = sum((x + b) * d)", "x=[[1,2,3,4],[5,6,7,8],[9,10,11,12]]", "b=[1,2,3,4]"]
    args += ["d=[[1,0,0,0],[0,1,0,0],[0,0,1,1]]"]
    out = bpcli(*args, "--format", "steps").out
    assert "b was broadcast along axis 0 of the (3, 4) result, so its gradient sums g over axis 0" in out
    assert "to b:  local ∂/∂b = 1;  downstream, summed over axis 0 = [1, 1, 1, 1]" in out
    scalar = bpcli("grad", "f = sum(w * x)", "w=2", "x=[[1,2],[3,4]]", "--format", "steps").out
    said = "w was broadcast along axes 0, 1 of the (2, 2) result, so its gradient sums upstream × local"
    assert said in scalar
    md = bpcli(*args, "--format", "markdown").out
    assert "∂/∂b = 1, summed over axis 0" in md


def test_labels_use_the_outputs_own_name(bpcli):
    program = str(SAMPLES / "two_layer_net.bp")
    steps = bpcli("grad", program, "--format", "steps").out
    assert "∂loss/∂loss = 1" in steps and "∂loss/∂W1 =" in steps and "∂f/" not in steps
    tree = bpcli("grad", program, "--format", "tree").out
    assert "∂loss/∂node 1" in tree and "∂loss/∂W1 =" in tree and "∂f/" not in tree
    md = bpcli("grad", program, "--format", "markdown").out
    assert "upstream ∂loss/∂node" in md and "- ∂loss/∂W1 = `[[" in md and "∂f/" not in md


def test_the_chinese_texts_say_局部梯度():
    from bpcli.texts.zh import MESSAGES

    assert not [key for key, text in MESSAGES.items() if "本地梯度" in text]
    assert "局部梯度" in MESSAGES["steps.edge"] and "局部梯度" in MESSAGES["steps.title"]


# --- markdown: a valid table with short cells -----------------------------------------------------


@pytest.mark.parametrize("program", ["neuron", "two_layer_net", "batchnorm"])
def test_markdown_rows_are_valid_and_short(bpcli, program):
    out = bpcli("grad", *PROGRAMS[program], "--format", "markdown").out
    table = [line for line in out.split("\n") if line.startswith("|")]
    columns = {len(re.split(r"(?<!\\)\|", line)) for line in table}
    assert len(columns) == 1  # every row has the header's cells
    for line in table:
        cells_ = re.split(r"(?<!\\)\|", line)[1:-1]
        for cell in cells_:
            for piece in cell.split("<br>"):
                assert len(piece) <= 100, piece


def test_markdown_names_long_inputs_by_id(bpcli):
    out = bpcli("grad", *PROGRAMS["neuron"], "--format", "markdown").out
    assert "| 14 | f = 1/#13 | div | 0.7311 | 1 (∂f/∂f) | `∂/∂#13 = -1/#13^2 = -0.5344` |" in out
    assert "| 12 | exp(#11) | exp | 0.3679 |" in out
