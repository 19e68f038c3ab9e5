"""Issue 17's acceptance cases, written from the outside: cs231n-style array homework.

Each program is written twice: as bpcli reads it (`text`), and as a Python function over HIPS
autograd's numpy (`forward`), which is the truth. bpcli is never asked for a truth here.

A student's answer set is built from that truth by applying ONE named mistake at one step, and
then carrying it on as a student would:
- a mistake in the gradient of an intermediate v (sign, scale, a fan-out branch left out, the
  upstream forgotten) reaches every gradient below v: the backward pass is linear in what flows
  into v, so the student's ∂L/∂u is the truth plus the vector-Jacobian product of their error
  at v (autograd's gradient of sum(v * error));
- a mistake in a leaf's gradient (dW transposed, db not summed, a wrong shape) stays there;
- a wrong forward value is carried through the rest of the forward pass and into every
  gradient computed from it (the program run again with that value offset).
Each answer is then rounded as students round (2-4 decimals), and its expected verdict is
decided from the construction: right when every element is within half a unit of its last
decimal of the truth (the documented rule), wrong otherwise. The builders refuse a case
whose wrong answer sits near that boundary, or whose number another simple mistake (the sign,
the transpose, a factor) would explain as well as the one applied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd import grad

KINDS = (
    "transpose",
    "missing-sum",
    "scale",
    "shape",
    "sign",
    "partial-fanout",
    "missing-upstream",
    "forward",
)


# --- the tape: every named intermediate gets a zero to differentiate by --------------------


class Tape:
    """Names the intermediates of one forward pass.

    `t(name, value)` returns value + z[name] (+ a forward offset), so ∂L/∂z[name] is ∂L/∂name;
    `t.use(name, branch, value)` adds zb[name:branch] on one use only, so its gradient is that
    fan-out branch's contribution to ∂L/∂name."""

    def __init__(self, z=None, zb=None, offsets=None):
        self.z = z
        self.zb = zb
        self.offsets = offsets or {}
        self.values: dict[str, Any] = {}
        self.uses: dict[str, Any] = {}

    def __call__(self, name: str, value):
        if name in self.offsets:
            value = value + self.offsets[name]
        if self.z is not None:
            value = value + self.z[name]
        self.values[name] = value
        return value

    def use(self, name: str, branch: str, value):
        key = f"{name}:{branch}"
        self.uses[key] = value
        if self.zb is not None:
            value = value + self.zb[key]
        return value


def _plain(value) -> np.ndarray:
    return np.asarray(getattr(value, "_value", value), dtype=float)


@dataclass(frozen=True)
class Program:
    key: str
    text: str  # as bpcli reads it
    inputs: dict[str, Any]  # float inputs (they get gradients)
    forward: Callable[[dict[str, Any], Tape], Any]  # autograd numpy; returns the output
    data: dict[str, Any] = field(default_factory=dict)  # integer labels: no gradient
    output: str = "L"
    note: str = ""

    def bindings(self) -> list[str]:
        out = []
        for name, value in {**self.inputs, **self.data}.items():
            out.append(f"{name}={json.dumps(np.asarray(value).tolist())}")
        return out


@dataclass
class Solution:
    values: dict[str, np.ndarray]  # inputs and named intermediates (and the output)
    grads: dict[str, np.ndarray]  # ∂L/∂ every input and named intermediate
    branches: dict[str, np.ndarray]  # "name:branch" → that branch's part of ∂L/∂name
    leaves: frozenset[str]


def _params(program: Program, offsets=None):
    inputs = {k: np.array(v, dtype=float) for k, v in program.inputs.items()}
    data = {k: np.array(v) for k, v in program.data.items()}
    probe = Tape(offsets=offsets)
    program.forward({**inputs, **data}, probe)
    z = {k: np.zeros(np.shape(v)) for k, v in probe.values.items()}
    zb = {k: np.zeros(np.shape(v)) for k, v in probe.uses.items()}
    return {"in": inputs, "z": z, "zb": zb}, data, probe


def solve(program: Program, offsets: dict[str, Any] | None = None) -> Solution:
    """Every value and every gradient of the program (run with `offsets` added to values)."""
    params, data, probe = _params(program, offsets)

    def loss(p):
        return program.forward({**p["in"], **data}, Tape(p["z"], p["zb"], offsets))

    g = grad(loss)(params)
    values = {k: _plain(v) for k, v in params["in"].items()}
    values.update({k: _plain(v) for k, v in probe.values.items()})
    grads = {k: _plain(v) for k, v in g["in"].items()}
    grads.update({k: _plain(v) for k, v in g["z"].items()})
    branches = {k: _plain(v) for k, v in g["zb"].items()}
    return Solution(values, grads, branches, frozenset(program.inputs))


def carried(program: Program, node: str, error: np.ndarray) -> dict[str, np.ndarray]:
    """What an error in ∂L/∂node adds to every gradient below it: the VJP of node's value."""
    params, data, _ = _params(program)

    def weighted(p):
        tape = Tape(p["z"], p["zb"])
        program.forward({**p["in"], **data}, tape)
        return anp.sum(tape.values[node] * error)

    g = grad(weighted)(params)
    out = {k: _plain(v) for k, v in g["in"].items()}
    out.update({k: _plain(v) for k, v in g["z"].items()})
    return out


# --- the programs -------------------------------------------------------------------------


def _wx(v, t):
    q = t("q", v["W"] @ v["x"])
    return t("L", anp.sum(q**2))


def _lin_l2(v, t):
    out = t("out", v["X"] @ v["W"] + v["b"])
    r = t("r", out - v["Y"])
    return t("L", anp.sum(r**2))


def _lin_l2_reg(v, t):
    out = t("out", v["X"] @ v["W"] + v["b"])
    r = t("r", out - v["Y"])
    return t("L", anp.sum(r**2) + v["reg"] * anp.sum(t.use("W", "reg", v["W"]) ** 2))


def _affine(v, t):
    out = t("out", v["X"] @ v["W"] + v["b"])
    return t("L", anp.sum(out * v["G"]))


def _colbias(v, t):
    out = t("out", v["X"] @ v["W"] + v["c"])
    return t("L", anp.sum(out * v["G"]))


def _softmax_p(v, t, reg=False):
    n = v["X"].shape[0]
    scores = t("scores", v["X"] @ v["W"])
    e = t("e", anp.exp(scores))
    p = t("p", e / anp.sum(e, axis=1, keepdims=True))
    data = -anp.sum(anp.log(p[np.arange(n), v["y"]])) / n
    if not reg:
        return t("L", data)
    data = t("data", data)
    wr = v["reg"] * anp.sum(t.use("W", "reg_left", v["W"]) * t.use("W", "reg_right", v["W"]))
    return t("L", data + wr)


def _softmax_lse(v, t, reg=False):
    # the correct-class pick s[np.arange(N), y] is its own branch out of s, beside the
    # logsumexp: ∂L/∂s = (p - onehot(y)) / N is the sum of the two branches, p/N and -onehot/N
    n = v["X"].shape[0]
    s = t("s", v["X"] @ v["W"] + v["b"])
    lse = t("lse", anp.log(anp.sum(anp.exp(t.use("s", "lse", s)), axis=1)))
    correct = t("correct", t.use("s", "pick", s)[np.arange(n), v["y"]])
    loss = anp.mean(lse - correct)
    if reg:
        w = v["W"]
        loss = loss + v["reg"] * anp.sum(t.use("W", "reg_left", w) * t.use("W", "reg_right", w))
    return t("L", loss)


def _twolayer(v, t):
    n = v["X"].shape[0]
    z1 = t("z1", v["X"] @ v["W1"] + v["b1"])
    h = t("h", anp.maximum(0.0, z1))
    s = t("s", h @ v["W2"] + v["b2"])
    lse = t("lse", anp.log(anp.sum(anp.exp(t.use("s", "lse", s)), axis=1)))
    correct = t("correct", t.use("s", "pick", s)[np.arange(n), v["y"]])
    w1, w2 = v["W1"], v["W2"]
    reg = anp.sum(t.use("W1", "reg_left", w1) * t.use("W1", "reg_right", w1)) + anp.sum(
        t.use("W2", "reg_left", w2) * t.use("W2", "reg_right", w2)
    )
    return t("L", anp.mean(lse - correct) + v["reg"] * reg)


def _mse(v, t):
    pred = t("pred", v["X"] @ v["w"] + v["b"])
    r = t("r", pred - v["y"])
    return t("L", anp.mean(r**2))


def _mse_sum_n(v, t):
    n = v["X"].shape[0]
    pred = t("pred", v["X"] @ v["w"] + v["b"])
    r = t("r", pred - v["y"])
    return t("L", anp.sum(r**2) / n)


def _tanh_layer(v, t):
    z = t("z", v["X"] @ v["W"])
    h = t("h", anp.tanh(z))
    return t("L", anp.sum(h * v["G"]))


def _sigmoid_layer(v, t):
    z = t("z", v["X"] @ v["W"] + v["b"])
    a = t("a", 1.0 / (1.0 + anp.exp(-z)))
    return t("L", anp.sum(a * v["G"]))


def _quad(v, t):
    # x is used twice: in A @ x and in x * v; dx = v + Aᵀ x adds the two branches
    x = v["x"]
    vv = t("v", v["A"] @ t.use("x", "mat", x))
    return t("L", anp.sum(t.use("x", "mul", x) * vv))


SOFTMAX_P = """N = X.shape[0]
scores = X @ W
e = np.exp(scores)
p = e / np.sum(e, axis=1, keepdims=True)
L = -np.sum(np.log(p[np.arange(N), y])) / N"""

SOFTMAX_P_REG = """N = X.shape[0]
scores = X @ W
e = np.exp(scores)
p = e / np.sum(e, axis=1, keepdims=True)
data = -np.sum(np.log(p[np.arange(N), y])) / N
L = data + reg * np.sum(W * W)"""

SOFTMAX_LSE = """N = X.shape[0]
s = X @ W + b
lse = np.log(np.sum(np.exp(s), axis=1))
correct = s[np.arange(N), y]
L = np.mean(lse - correct)"""

TWOLAYER = """N = X.shape[0]
z1 = X @ W1 + b1
h = np.maximum(0, z1)
s = h @ W2 + b2
lse = np.log(np.sum(np.exp(s), axis=1))
correct = s[np.arange(N), y]
L = np.mean(lse - correct) + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))"""

PROGRAMS: dict[str, Program] = {
    p.key: p
    for p in [
        Program(
            "wx3",
            "q = W @ x\nL = np.sum(q ** 2)",
            {"W": [[0.6, -0.4], [0.3, 0.9], [-0.7, 0.2]], "x": [0.5, -1.2]},
            _wx,
            note="||W x||² with a 3×2 W",
        ),
        Program(
            "wx2",
            "q = W @ x\nL = np.sum(q ** 2)",
            {"W": [[0.8, -0.3], [0.5, 1.1]], "x": [-0.6, 0.9]},
            _wx,
            note="||W x||² with a square W",
        ),
        Program(
            "lin_l2",
            "out = X @ W + b\nr = out - Y\nL = np.sum(r ** 2)",
            {
                "X": [[0.5, -1.0], [1.2, 0.4], [-0.3, 0.8], [0.9, -0.6]],
                "W": [[0.4, -0.7, 0.2], [0.1, 0.5, -0.3]],
                "b": [0.1, -0.2, 0.3],
                "Y": [[0.5, -1.0, 0.2], [0.3, 0.4, -0.5], [-0.2, 0.6, 0.1], [1.0, -0.8, 0.0]],
            },
            _lin_l2,
            note="a linear layer with an L2 loss, N=4, D=2, C=3",
        ),
        Program(
            "lin_l2_reg",
            "out = X @ W + b\nr = out - Y\nL = np.sum(r ** 2) + reg * np.sum(W ** 2)",
            {
                "X": [[0.7, 0.2], [-0.5, 1.1], [0.3, -0.9]],
                "W": [[0.6, -0.2, 0.9], [-0.8, 0.4, 0.3]],
                "b": [0.0, 0.1, -0.1],
                "Y": [[0.2, 0.1, 0.5], [-0.9, 0.3, 0.2], [1.0, -0.4, 0.0]],
                "reg": 0.5,
            },
            _lin_l2_reg,
            note="a linear layer with an L2 loss and L2 regularisation",
        ),
        Program(
            "affine",
            "out = X @ W + b\nL = np.sum(out * G)",
            {
                "X": [[1.0, -0.5], [0.3, 0.8], [-1.2, 0.4], [0.6, 0.9]],
                "W": [[0.2, -0.6, 0.5], [0.7, 0.1, -0.4]],
                "b": [0.3, -0.1, 0.2],
                "G": [[0.5, -0.2, 0.1], [-0.4, 0.3, 0.6], [0.2, 0.7, -0.5], [-0.3, -0.1, 0.4]],
            },
            _affine,
            note="an affine layer checked cs231n's way: L = sum(out * G) for an upstream G",
        ),
        Program(
            "affine_sq",
            "out = X @ W + b\nL = np.sum(out * G)",
            {
                "X": [[0.7, -0.2], [0.4, 1.1], [-0.9, 0.5]],
                "W": [[0.3, -0.8], [0.6, 0.2]],
                "b": [0.1, -0.4],
                "G": [[0.9, -0.3], [0.2, 0.5], [-0.6, 0.8]],
            },
            _affine,
            note="an affine layer with a square W",
        ),
        Program(
            "colbias",
            "out = X @ W + c\nL = np.sum(out * G)",
            {
                "X": [[0.4, -1.0], [0.9, 0.3], [-0.6, 0.7]],
                "W": [[0.5, -0.3, 0.8, 0.1], [0.2, 0.6, -0.4, 0.9]],
                "c": [[0.1], [-0.2], [0.3]],
                "G": [[0.3, -0.5, 0.2, 0.7], [-0.1, 0.4, 0.6, -0.3], [0.8, 0.2, -0.6, 0.5]],
            },
            _colbias,
            note="a column bias c (N×1) broadcast along the classes",
        ),
        Program(
            "softmax",
            SOFTMAX_P,
            {"X": [[1.0, 0.5], [-0.6, 1.2], [0.3, -0.9]], "W": [[0.5, -0.3, 0.8], [-0.2, 0.6, 0.1]]},
            _softmax_p,
            data={"y": [2, 0, 1]},
            note="softmax loss, vectorised, p = e / sum(e)",
        ),
        Program(
            "softmax_reg",
            SOFTMAX_P_REG,
            {
                "X": [[0.8, -0.6], [0.2, 1.0], [-1.1, 0.4], [0.5, 0.7]],
                "W": [[0.9, -0.4, 0.2], [0.3, 0.7, -0.8]],
                "reg": 0.1,
            },
            lambda v, t: _softmax_p(v, t, reg=True),
            data={"y": [0, 2, 1, 1]},
            note="softmax loss with reg * np.sum(W * W)",
        ),
        Program(
            "softmax_lse",
            SOFTMAX_LSE,
            {
                "X": [[0.8, -0.4], [0.2, 1.0], [-1.1, 0.6]],
                "W": [[0.3, -0.6, 0.5], [0.7, 0.2, -0.4]],
                "b": [0.1, 0.0, -0.2],
            },
            _softmax_lse,
            data={"y": [1, 2, 0]},
            note="softmax loss as mean(logsumexp(s) - s[range(N), y]): the pick is a branch of s",
        ),
        Program(
            "softmax_lse_reg",
            SOFTMAX_LSE + " + reg * np.sum(W * W)",
            {
                "X": [[0.5, -0.3, 0.9], [1.2, 0.4, -0.2], [-0.7, 0.8, 0.1], [0.3, -1.0, 0.6]],
                "W": [[0.4, -0.5], [0.9, 0.2], [-0.3, 0.7]],
                "b": [0.2, -0.1],
                "reg": 0.1,
            },
            lambda v, t: _softmax_lse(v, t, reg=True),
            data={"y": [0, 1, 1, 0]},
            note="softmax loss (logsumexp form, D=3, C=2) with regularisation",
        ),
        Program(
            "twolayer",
            TWOLAYER,
            {
                "X": [[0.5, -1.2], [1.5, 0.3], [-0.8, 0.9], [0.2, 1.1]],
                "W1": [[0.6, -0.5, 0.3], [-0.4, 0.8, 0.7]],
                "b1": [0.1, -0.2, 0.05],
                "W2": [[0.7, -0.3], [-0.6, 0.4], [0.2, 0.9]],
                "b2": [0.05, -0.1],
                "reg": 0.05,
            },
            _twolayer,
            data={"y": [0, 1, 1, 0]},
            note="affine - relu - affine - softmax, with regularisation; N=4, D=2, H=3, C=2",
        ),
        Program(
            "mse",
            "pred = X @ w + b\nr = pred - y\nL = np.mean(r ** 2)",
            {
                "X": [[0.8, -0.5], [1.1, 0.3], [-0.4, 0.9]],
                "w": [0.5, -0.7],
                "b": 0.2,
                "y": [0.3, 1.0, -0.6],
            },
            _mse,
            note="mean squared error of a linear model with a scalar bias",
        ),
        Program(
            "mse_sum_n",
            "N = X.shape[0]\npred = X @ w + b\nr = pred - y\nL = np.sum(r ** 2) / N",
            {
                "X": [[0.6, -0.2, 1.0], [-0.9, 0.4, 0.3], [0.2, 1.3, -0.5], [1.1, -0.7, 0.8]],
                "w": [0.3, -0.6, 0.4],
                "b": -0.1,
                "y": [0.9, -0.4, 0.2, 1.5],
            },
            _mse_sum_n,
            note="mean squared error written with its 1/N",
        ),
        Program(
            "tanh_layer",
            "z = X @ W\nh = np.tanh(z)\nL = np.sum(h * G)",
            {
                "X": [[0.9, -0.4], [0.2, 1.0], [-0.7, 0.5]],
                "W": [[0.6, -0.8, 0.3], [0.4, 0.5, -0.9]],
                "G": [[0.7, -0.2, 0.5], [-0.6, 0.9, 0.1], [0.3, 0.4, -0.8]],
            },
            _tanh_layer,
            note="a tanh layer under an upstream G",
        ),
        Program(
            "sigmoid_layer",
            "z = X @ W + b\na = sigmoid(z)\nL = np.sum(a * G)",
            {
                "X": [[0.3, -1.1], [1.4, 0.2], [-0.5, 0.8], [0.9, 0.6]],
                "W": [[0.7, -0.4, 0.2], [-0.3, 0.9, 0.5]],
                "b": [0.1, -0.3, 0.2],
                "G": [[0.6, -0.9, 0.3], [-0.2, 0.5, 0.8], [0.4, 0.1, -0.7], [-0.8, 0.6, 0.2]],
            },
            _sigmoid_layer,
            note="a sigmoid layer with a bias, under an upstream G",
        ),
        Program(
            "quad",
            "v = A @ x\nL = np.sum(x * v)",
            {"A": [[0.5, -0.9, 0.3], [0.8, 0.2, -0.6], [-0.4, 0.7, 1.0]], "x": [0.6, -1.1, 0.4]},
            _quad,
            note="xᵀ A x: x feeds the matmul and the product",
        ),
    ]
}


# --- answers as students write them ----------------------------------------------------------


def fmt(value, decimals: int) -> str:
    """A number or an array as a nested list, every element with `decimals` decimals."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return f"{float(a):.{decimals}f}"
    return _nested(a, decimals)


def _nested(a: np.ndarray, decimals: int) -> str:
    if a.ndim == 1:
        return "[" + ", ".join(f"{x:.{decimals}f}" for x in a) + "]"
    return "[" + ", ".join(_nested(row, decimals) for row in a) + "]"


def multiline(value, decimals: int) -> str:
    """A matrix one row a line, as students type it in a file."""
    a = np.asarray(value, dtype=float)
    assert a.ndim == 2
    rows = [_nested(row, decimals) for row in a]
    return "[" + ",\n    ".join(rows) + "]"


def numpy_printed(value, decimals: int | None = None) -> str:
    """What print() shows for the array (np.round(a, decimals) first, when given)."""
    a = np.asarray(value, dtype=float)
    if decimals is not None:
        a = np.round(a, decimals)
    return str(a)


def unicode_minus(text: str) -> str:
    return re.sub(r"(?<![eE])-", "\u2212", text)


def decimals_of(text: str) -> np.ndarray | float:
    """The half-unit of each number's last decimal, as the documented rule reads it."""
    numbers = re.findall(r"[-\u2212]?\d+(?:\.(\d*))?(?:[eE][-+]?\d+)?", text)
    return min(0.5 * 10.0 ** -len(d) for d in numbers) if numbers else 0.0


def within(answer, truth, half_unit: float) -> bool:
    a, t = np.asarray(answer, dtype=float), np.asarray(truth, dtype=float)
    if a.shape != t.shape:
        return False
    return bool(np.all(np.abs(a - t) <= half_unit * (1 + 1e-9) + 1e-12 * np.maximum(1, np.abs(t))))


def margin(answer, truth, half_unit: float) -> float:
    """How far the worst element is from the truth, in half-units (inf for another shape)."""
    a, t = np.asarray(answer, dtype=float), np.asarray(truth, dtype=float)
    if a.shape != t.shape:
        return np.inf
    return float(np.max(np.abs(a - t)) / half_unit) if a.size else 0.0


@dataclass(frozen=True)
class Answer:
    name: str  # as written
    text: str
    ok: bool


@dataclass(frozen=True)
class Case:
    id: str
    program: Program
    answers: tuple[Answer, ...]
    first: str | None = None  # the first wrong step (an answer name)
    kind: str | None = None  # its kind
    by_file: bool = False  # answers in a file (else -e)
    files: dict[str, Any] = field(default_factory=dict)  # extra files: name → array (.npy/.csv)
    comment: str = ""
    explained_as: str | None = None  # the simple mistake its number is ("scale 0.5", "sign")
    made_at: str | None = None  # where the mistake was made, when the student did not give it

    @property
    def factor(self) -> float | None:
        """The factor of a scale mistake."""
        if self.explained_as and self.explained_as.startswith("scale "):
            return float(self.explained_as.split()[1])
        return None

    def answers_text(self) -> str:
        return "".join(f"{a.name} = {a.text}\n" for a in self.answers)

    def args(self, tmp: Path) -> list[str]:
        """The command line after `check`: program, bindings, answers, --format json."""
        for name, array in self.files.items():
            if name.endswith(".npy"):
                np.save(tmp / name, np.asarray(array))
            else:
                np.savetxt(tmp / name, np.atleast_2d(np.asarray(array)), delimiter=",", fmt="%.17g")
        args = [self.program.text, *self.program.bindings()]
        if self.by_file:
            path = tmp / f"{self.id}.txt"
            path.write_text(self.answers_text(), encoding="utf-8")
            args += ["--answers", str(path)]
        else:
            for a in self.answers:
                args += ["-e", f"{a.name}={a.text}"]
        return [*args, "--format", "json"]


def _target(name: str, sol: Solution) -> tuple[str, bool]:
    """An answer's name → (the node it names, whether it is a gradient)."""
    for prefix in ("dL/d", "∂L/∂", "d"):
        if name.startswith(prefix) and name[len(prefix) :] in sol.values:
            return name[len(prefix) :], True
    assert name in sol.values, name
    return name, False


# The simple mistakes every wrong first step is tested against: a case whose number one of
# them explains, other than the one applied, is ambiguous and is not built.
def simple_explanations(truth: np.ndarray, n: int) -> dict[str, np.ndarray]:
    out = {"right": truth, "sign": -truth}
    if truth.ndim == 2:
        out["transpose"] = truth.T
    for factor in sorted({2.0, 0.5, 3.0, 1 / 3, 4.0, 0.25, float(n), 1.0 / n}):
        out[f"scale {factor:g}"] = factor * truth
    return out


def mistake_case(
    id: str,
    program: str | Program,
    kind: str,
    at: str,
    make: Callable[[Solution], Any],
    given: Iterable[str],
    decimals: int | dict[str, int] = 3,
    by_file: bool = False,
    explained_as: str | None = None,
    made_at: str | None = None,
    comment: str = "",
) -> Case:
    """One student's answers with one mistake at `at`, carried on to everything it reaches.

    `make(truth)` gives the student's number at `at`: for kind "forward" the wrong forward
    value, else the wrong gradient. `explained_as` is the simple explanation the number is
    (e.g. "scale 0.5") when the kind is one of those. With `made_at`, the mistake is made at
    that gradient, which the student does not give, and `at` is the first given answer it
    reaches (the one that must be named, with the mistake's kind)."""
    prog = program if isinstance(program, Program) else PROGRAMS[program]
    sol = solve(prog)
    node, is_grad = _target(made_at or at, sol)
    assert made_at is None or made_at not in given
    wrong = np.asarray(make(sol), dtype=float)
    student_values = dict(sol.values)
    student_grads = dict(sol.grads)
    if kind == "forward":
        assert not is_grad and wrong.shape == sol.values[node].shape
        moved = solve(prog, {node: wrong - sol.values[node]})
        student_values, student_grads = moved.values, moved.grads
    elif node in sol.leaves:
        student_grads[node] = wrong
    else:
        assert is_grad
        if wrong.shape == sol.grads[node].shape:
            for name, extra in carried(prog, node, wrong - sol.grads[node]).items():
                student_grads[name] = sol.grads[name] + extra
        student_grads[node] = wrong
    given = list(given)
    assert at in given
    answers = []
    for name in given:
        target, gradient = _target(name, sol)
        student = (student_grads if gradient else student_values)[target]
        truth = (sol.grads if gradient else sol.values)[target]
        k = decimals if isinstance(decimals, int) else decimals.get(name, 3)
        text = fmt(student, k)
        rounded = np.round(np.asarray(student, dtype=float), k)
        half = 0.5 * 10.0**-k
        m = margin(rounded, truth, half)
        ok = m <= 1.0 + 1e-9
        assert ok or m >= 1.6, f"{id}: {name} is too near its rounding boundary ({m:.2f} half-units)"
        if name == at:
            assert not ok, f"{id}: the mistake at {at} does not show at {k} decimals"
            n = _batch(prog)
            for label, other in simple_explanations(np.asarray(truth), n).items():
                if label == explained_as:
                    assert margin(rounded, other, half) <= 1.0 + 1e-9, f"{id}: not {label}"
                elif other.shape == rounded.shape:
                    assert margin(rounded, other, half) >= 1.6, f"{id}: {label} explains it too"
        answers.append(Answer(name, text, bool(ok)))
    return Case(
        id,
        prog,
        tuple(answers),
        first=at,
        kind=kind,
        by_file=by_file,
        comment=comment,
        explained_as=explained_as,
        made_at=made_at,
    )


def _batch(prog: Program) -> int:
    for name in ("X",):
        if name in prog.inputs:
            return len(prog.inputs[name])
    return 2


def right_case(
    id: str,
    program: str | Program,
    given: dict[str, Callable[[Any], str] | int],
    by_file: bool = False,
    files: dict[str, str] | None = None,
    comment: str = "",
) -> Case:
    """An all-right answer set: `given` maps an answer name to its decimals, or to a function
    of the true number that writes it (numpy's print, a multi-line matrix, …)."""
    prog = program if isinstance(program, Program) else PROGRAMS[program]
    sol = solve(prog)
    answers = []
    arrays: dict[str, Any] = {}
    for name, how in given.items():
        target, gradient = _target(name, sol)
        truth = (sol.grads if gradient else sol.values)[target]
        if files and name in files:
            arrays[files[name]] = truth
            text = f"@{files[name]}"
        else:
            text = fmt(truth, how) if isinstance(how, int) else how(truth)
        answers.append(Answer(name, text, True))
    return Case(id, prog, tuple(answers), by_file=by_file, files=arrays, comment=comment)


# --- the ~60 wrong answer sets ----------------------------------------------------------------


def _g(name):
    return lambda s: s.grads[name]


def _mistakes() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # --- transpose: the truth transposed -------------------------------------------------
    add(
        mistake_case(
            "T1-wx3-dW",
            "wx3",
            "transpose",
            "dW",
            lambda s: s.grads["W"].T,
            ["q", "dq", "dW", "dx"],
            explained_as="transpose",
            comment="x qᵀ for q xᵀ: a 2×3 dW for a 3×2 W",
        )
    )
    add(
        mistake_case(
            "T2-wx2-dW-square",
            "wx2",
            "transpose",
            "dW",
            lambda s: s.grads["W"].T,
            ["dq", "dW", "dx"],
            explained_as="transpose",
            by_file=True,
            comment="square W: the shape cannot tell, the numbers do",
        )
    )
    add(
        mistake_case(
            "T3-lin_l2-dW",
            "lin_l2",
            "transpose",
            "dW",
            lambda s: s.grads["W"].T,
            ["r", "dr", "dout", "dW", "db"],
            explained_as="transpose",
        )
    )
    add(
        mistake_case(
            "T4-affine-dW",
            "affine",
            "transpose",
            "dW",
            lambda s: s.grads["W"].T,
            ["dout", "dW", "db", "dX"],
            explained_as="transpose",
            comment="doutᵀ X for Xᵀ dout: a 3×2 dW for a 2×3 W",
        )
    )
    add(
        mistake_case(
            "T5-affine_sq-dW",
            "affine_sq",
            "transpose",
            "dW",
            lambda s: s.grads["W"].T,
            ["dW", "dX", "db"],
            decimals=2,
            explained_as="transpose",
            by_file=True,
        )
    )
    add(
        mistake_case(
            "T6-affine-dX",
            "affine",
            "transpose",
            "dX",
            lambda s: s.grads["X"].T,
            ["dX", "dW"],
            explained_as="transpose",
            comment="W @ doutᵀ for dout @ Wᵀ: a 2×4 dX for a 4×2 X",
        )
    )
    add(
        mistake_case(
            "T7-softmax_reg-dW",
            "softmax_reg",
            "transpose",
            "dW",
            lambda s: s.grads["W"].T,
            ["L", "dscores", "dW"],
            decimals=4,
            explained_as="transpose",
        )
    )
    add(
        mistake_case(
            "T8-twolayer-dW1",
            "twolayer",
            "transpose",
            "dW1",
            lambda s: s.grads["W1"].T,
            ["ds", "dW2", "db2", "dW1", "db1"],
            explained_as="transpose",
            by_file=True,
        )
    )
    add(
        mistake_case(
            "T9-twolayer-dW2",
            "twolayer",
            "transpose",
            "dW2",
            lambda s: s.grads["W2"].T,
            ["L", "dW2", "db2", "dW1"],
            explained_as="transpose",
        )
    )

    # --- missing-sum: a broadcast variable's gradient not summed over its broadcast axes ---
    add(
        mistake_case(
            "M1-affine-db",
            "affine",
            "missing-sum",
            "db",
            _g("out"),
            ["dW", "db", "dX"],
            comment="db given per example: the N×C upstream",
        )
    )
    add(
        mistake_case(
            "M2-lin_l2-db", "lin_l2", "missing-sum", "db", _g("out"), ["dr", "dout", "dW", "db"], by_file=True
        )
    )
    add(mistake_case("M3-twolayer-db1", "twolayer", "missing-sum", "db1", _g("z1"), ["dz1", "dW1", "db1"]))
    add(
        mistake_case(
            "M4-twolayer-db2",
            "twolayer",
            "missing-sum",
            "db2",
            _g("s"),
            ["ds", "dW2", "db2", "dW1", "db1"],
            decimals=4,
        )
    )
    add(
        mistake_case(
            "M5-mse-db",
            "mse",
            "missing-sum",
            "db",
            _g("pred"),
            ["dw", "db"],
            comment="a scalar b broadcast over the batch: db given as a vector of N",
        )
    )
    add(
        mistake_case(
            "M6-colbias-dc",
            "colbias",
            "missing-sum",
            "dc",
            _g("out"),
            ["dW", "dc"],
            by_file=True,
            comment="a column bias (N×1) not summed along the classes",
        )
    )
    add(
        mistake_case(
            "M7-softmax_lse-db", "softmax_lse", "missing-sum", "db", _g("s"), ["ds", "dW", "db"], decimals=4
        )
    )
    add(
        mistake_case("M8-sigmoid_layer-db", "sigmoid_layer", "missing-sum", "db", _g("z"), ["dz", "dW", "db"])
    )

    # --- scale: the truth times a constant (the 2 of a square, the 1/N of a mean) --------
    add(
        mistake_case(
            "S1-wx3-dq",
            "wx3",
            "scale",
            "dq",
            lambda s: s.values["q"],
            ["q", "dq", "dW", "dx"],
            explained_as="scale 0.5",
            comment="d(q²) written q: the 2 forgotten, and carried into dW and dx",
        )
    )
    add(
        mistake_case(
            "S2-lin_l2-dW",
            "lin_l2",
            "scale",
            "dW",
            lambda s: s.grads["W"] / 2,
            ["dW", "db"],
            explained_as="scale 0.5",
            by_file=True,
        )
    )
    add(
        mistake_case(
            "S3-mse-dw",
            "mse",
            "scale",
            "dw",
            lambda s: 3 * s.grads["w"],
            ["dw", "db"],
            explained_as="scale 3",
            comment="the 1/N of the mean forgotten (N = 3)",
        )
    )
    add(
        mistake_case(
            "S4-softmax-dscores",
            "softmax",
            "scale",
            "dscores",
            lambda s: 3 * s.grads["scores"],
            ["L", "dscores", "dW"],
            explained_as="scale 3",
            comment="dscores = p - onehot(y): the /N forgotten, carried into dW",
        )
    )
    add(
        mistake_case(
            "S5-lin_l2-dr",
            "lin_l2",
            "scale",
            "dr",
            lambda s: s.values["r"],
            ["L", "dr", "dout", "dW", "db"],
            explained_as="scale 0.5",
        )
    )
    add(
        mistake_case(
            "S6-mse_sum_n-dw",
            "mse_sum_n",
            "scale",
            "dw",
            lambda s: 4 * s.grads["w"],
            ["L", "dw", "db"],
            decimals=4,
            explained_as="scale 4",
            by_file=True,
            comment="L = sum(r**2)/N: the 1/N forgotten in dw only",
        )
    )
    add(
        mistake_case(
            "S7-softmax_lse-dW",
            "softmax_lse",
            "scale",
            "dW",
            lambda s: 3 * s.grads["W"],
            ["dW", "db"],
            explained_as="scale 3",
        )
    )
    add(
        mistake_case(
            "S8-wx2-dW",
            "wx2",
            "scale",
            "dW",
            lambda s: s.grads["W"] / 2,
            ["dW", "dx"],
            explained_as="scale 0.5",
            comment="square W: dW = q xᵀ without the 2",
        )
    )

    # --- shape: any other shape ----------------------------------------------------------
    add(
        mistake_case(
            "H1-wx3-dx-column",
            "wx3",
            "shape",
            "dx",
            lambda s: s.grads["x"].reshape(2, 1),
            ["dq", "dW", "dx"],
            comment="right values as a (2,1) column for a (2,) x",
        )
    )
    add(
        mistake_case(
            "H2-affine-db-keepdims",
            "affine",
            "shape",
            "db",
            lambda s: s.grads["b"].reshape(1, 3),
            ["dW", "db"],
            by_file=True,
            comment="np.sum(dout, axis=0, keepdims=True): (1,3) for (3,)",
        )
    )
    add(
        mistake_case(
            "H3-lin_l2-dW-flat",
            "lin_l2",
            "shape",
            "dW",
            lambda s: s.grads["W"].ravel(),
            ["dr", "dW", "db"],
            comment="dW flattened: (6,) for (2,3)",
        )
    )
    add(
        mistake_case(
            "H4-softmax_lse-dW-bias-row",
            "softmax_lse",
            "shape",
            "dW",
            lambda s: np.vstack([s.grads["W"], s.grads["b"]]),
            ["ds", "dW"],
            decimals=4,
            comment="the bias trick: db appended to dW as a row, (3,3) for (2,3)",
        )
    )
    add(
        mistake_case(
            "H5-mse-dw-row",
            "mse",
            "shape",
            "dw",
            lambda s: s.grads["w"].reshape(1, 2),
            ["dw", "db"],
            comment="a (1,2) row for a (2,) w",
        )
    )
    add(
        mistake_case(
            "H6-twolayer-db1-column",
            "twolayer",
            "shape",
            "db1",
            lambda s: s.grads["b1"].reshape(3, 1),
            ["ds", "dW1", "db1"],
            by_file=True,
        )
    )
    add(
        mistake_case(
            "H7-affine-db-scalar",
            "affine",
            "shape",
            "db",
            lambda s: s.grads["b"].sum(),
            ["dW", "db"],
            comment="one number (the sum) for a (3,) db",
        )
    )
    add(
        mistake_case(
            "H8-tanh_layer-dz-one-row",
            "tanh_layer",
            "shape",
            "dz",
            lambda s: s.grads["z"][0],
            ["dh", "dz"],
            comment="the first example's row only: (3,) for (3,3)",
        )
    )

    # --- sign ------------------------------------------------------------------------------
    add(
        mistake_case(
            "G1-wx3-dW", "wx3", "sign", "dW", lambda s: -s.grads["W"], ["dq", "dW", "dx"], explained_as="sign"
        )
    )
    add(
        mistake_case(
            "G2-softmax-dscores",
            "softmax",
            "sign",
            "dscores",
            lambda s: -s.grads["scores"],
            ["L", "dscores", "dW"],
            decimals=4,
            explained_as="sign",
            comment="(onehot - p)/N, carried into dW",
        )
    )
    add(
        mistake_case(
            "G3-lin_l2-dr",
            "lin_l2",
            "sign",
            "dr",
            lambda s: -s.grads["r"],
            ["r", "dr", "dW", "db"],
            explained_as="sign",
            by_file=True,
            comment="2(Y - out) for 2(out - Y), carried into dW and db",
        )
    )
    add(
        mistake_case(
            "G4-twolayer-dh",
            "twolayer",
            "sign",
            "dh",
            lambda s: -s.grads["h"],
            ["ds", "dW2", "db2", "dh", "dz1", "dW1", "db1"],
            explained_as="sign",
            comment="carried into dz1, dW1 (its reg part stays right), db1",
        )
    )
    add(
        mistake_case(
            "G5-mse-dw", "mse", "sign", "dw", lambda s: -s.grads["w"], ["dw", "db"], explained_as="sign"
        )
    )
    add(
        mistake_case(
            "G6-tanh_layer-dz",
            "tanh_layer",
            "sign",
            "dz",
            lambda s: -s.grads["z"],
            ["h", "dh", "dz", "dW"],
            explained_as="sign",
            by_file=True,
        )
    )
    add(
        mistake_case(
            "G7-softmax_lse_reg-dW",
            "softmax_lse_reg",
            "sign",
            "dW",
            lambda s: -s.grads["W"],
            ["ds", "dW", "db"],
            decimals=4,
            explained_as="sign",
        )
    )
    add(
        mistake_case(
            "G8-quad-dx",
            "quad",
            "sign",
            "dx",
            lambda s: -s.grads["x"],
            ["v", "dv", "dx"],
            explained_as="sign",
        )
    )

    # --- partial-fanout: a branch of a fan-out left out -----------------------------------
    add(
        mistake_case(
            "F1-softmax_reg-dW-no-reg",
            "softmax_reg",
            "partial-fanout",
            "dW",
            lambda s: s.grads["W"] - s.branches["W:reg_left"] - s.branches["W:reg_right"],
            ["L", "dscores", "dW"],
            decimals=4,
            comment="W feeds the scores and reg*sum(W*W): the 2*reg*W branch forgotten",
        )
    )
    add(
        mistake_case(
            "F2-softmax_lse-ds-p",
            "softmax_lse",
            "partial-fanout",
            "ds",
            lambda s: s.grads["s"] - s.branches["s:pick"],
            ["lse", "ds", "dW", "db"],
            decimals=4,
            comment="ds = p/N where (p - onehot)/N belongs: s feeds logsumexp and the"
            " correct-class pick s[range(N), y], two branches; the pick's -onehot/N is"
            " left out, and carried into dW and db",
        )
    )
    add(
        mistake_case(
            "F3-softmax_lse-ds-pick-only",
            "softmax_lse",
            "partial-fanout",
            "ds",
            lambda s: s.grads["s"] - s.branches["s:lse"],
            ["ds", "dW"],
            decimals=4,
            by_file=True,
            comment="only the pick's branch (-onehot/N): the logsumexp's p/N left out",
        )
    )
    add(
        mistake_case(
            "F4-twolayer-dW1-no-reg",
            "twolayer",
            "partial-fanout",
            "dW1",
            lambda s: s.grads["W1"] - s.branches["W1:reg_left"] - s.branches["W1:reg_right"],
            ["dz1", "dW1", "db1", "dW2"],
            decimals=4,
            comment="the regularisation gradient 2*reg*W1 forgotten",
        )
    )
    add(
        mistake_case(
            "F5-twolayer-ds-p",
            "twolayer",
            "partial-fanout",
            "ds",
            lambda s: s.grads["s"] - s.branches["s:pick"],
            ["L", "ds", "dW2", "db2", "dW1"],
            decimals=4,
            comment="p/N for (p - onehot)/N; s feeds logsumexp and the pick: two"
            " branches; carried through the relu into dW1",
        )
    )
    add(
        mistake_case(
            "F6-quad-dx",
            "quad",
            "partial-fanout",
            "dx",
            lambda s: s.grads["x"] - s.branches["x:mat"],
            ["v", "dv", "dx"],
            comment="dx = A x: the branch through v = A @ x (Aᵀ x) left out",
        )
    )
    add(
        mistake_case(
            "F7-softmax_lse_reg-dW-no-reg",
            "softmax_lse_reg",
            "partial-fanout",
            "dW",
            lambda s: s.grads["W"] - s.branches["W:reg_left"] - s.branches["W:reg_right"],
            ["ds", "dW", "db"],
            decimals=4,
            by_file=True,
            # Not dW = Xᵀ ds + reg*W (one of W*W's two uses left out): that number is as much
            # "the 2 of the square forgotten" (scale 1/2 at the W*W gate) as a branch left out.
            comment="W feeds s and reg * sum(W * W): the 2*reg*W branch forgotten",
        )
    )
    add(
        mistake_case(
            "F8-lin_l2_reg-dW-no-reg",
            "lin_l2_reg",
            "partial-fanout",
            "dW",
            lambda s: s.grads["W"] - s.branches["W:reg"],
            ["dr", "dW", "db"],
            comment="W feeds X @ W and reg * sum(W**2): the 2*reg*W branch forgotten",
        )
    )

    # --- missing-upstream: the local gradient alone ---------------------------------------
    add(
        mistake_case(
            "U1-wx3-dW",
            "wx3",
            "missing-upstream",
            "dW",
            lambda s: np.outer(np.ones(3), s.values["x"]),
            ["dq", "dW", "dx"],
            comment="dW = 1 xᵀ: the rule dW = dq xᵀ without dq",
        )
    )
    add(
        mistake_case(
            "U2-tanh_layer-dz",
            "tanh_layer",
            "missing-upstream",
            "dz",
            lambda s: 1 - s.values["h"] ** 2,
            ["dh", "dz", "dW"],
            decimals=4,
            comment="dz = 1 - h² without the upstream dh = G, carried into dW",
        )
    )
    add(
        mistake_case(
            "U3-twolayer-dz1",
            "twolayer",
            "missing-upstream",
            "dz1",
            lambda s: (s.values["z1"] > 0).astype(float),
            ["dh", "dz1", "dW1", "db1"],
            by_file=True,
            comment="the relu's mask alone, without dh",
        )
    )
    add(
        mistake_case(
            "U4-sigmoid_layer-dz",
            "sigmoid_layer",
            "missing-upstream",
            "dz",
            lambda s: s.values["a"] * (1 - s.values["a"]),
            ["da", "dz", "dW", "db"],
            decimals=4,
            comment="σ(z)(1 - σ(z)) without the upstream da = G",
        )
    )
    add(
        mistake_case(
            "U5-affine-dX",
            "affine",
            "missing-upstream",
            "dX",
            lambda s: np.ones((4, 3)) @ s.values["W"].T,
            ["dout", "dX", "dW"],
            comment="dX = 1 Wᵀ: dout forgotten",
        )
    )
    add(
        mistake_case(
            "U6-lin_l2-dW",
            "lin_l2",
            "missing-upstream",
            "dW",
            lambda s: s.values["X"].T @ np.ones((4, 3)),
            ["dout", "dW", "db"],
            by_file=True,
        )
    )
    add(
        mistake_case(
            "U7-softmax-dscores",
            "softmax",
            "missing-upstream",
            "dscores",
            lambda s: s.values["e"],
            ["de", "dscores", "dW"],
            decimals=4,
            comment="d exp = exp(scores) without the upstream de",
        )
    )
    add(
        mistake_case(
            "U8-mse-dw",
            "mse",
            "missing-upstream",
            "dw",
            lambda s: s.values["X"].T @ np.ones(3),
            ["dpred", "dw", "db"],
            comment="dw = Xᵀ 1: the upstream dpred = 2r/N forgotten",
        )
    )

    # --- forward: a wrong forward value, and the gradients computed from it ---------------
    def one_element(node, index, new):
        def make(s):
            value = s.values[node].copy()
            value[index] = new(value[index])
            return value

        return make

    add(
        mistake_case(
            "W1-wx3-q",
            "wx3",
            "forward",
            "q",
            one_element("q", 1, lambda v: -v),
            ["q", "L", "dq", "dW", "dx"],
            comment="q[1] with its sign slipped; L, dq, dW and dx computed from it",
        )
    )
    add(
        mistake_case(
            "W2-softmax-scores",
            "softmax",
            "forward",
            "scores",
            one_element("scores", (1, 2), lambda v: v + 0.5),
            ["scores", "p", "L", "dW"],
            decimals=4,
            comment="one score off by 0.5; p, L, dW follow from it",
        )
    )
    add(
        mistake_case(
            "W3-lin_l2-out",
            "lin_l2",
            "forward",
            "out",
            lambda s: s.values["out"] - s.values["b"],
            ["out", "r", "L", "dr", "dW"],
            by_file=True,
            comment="the bias left out of out; r, L, dr, dW follow",
        )
    )
    add(
        mistake_case(
            "W4-twolayer-h",
            "twolayer",
            "forward",
            "h",
            lambda s: np.where(np.arange(3) == 1, s.values["z1"], s.values["h"]),
            ["h", "s", "L", "ds", "dW2"],
            decimals=4,
            comment="the relu forgotten on the second hidden unit (its negatives kept);"
            " s, L, ds and dW2 follow from h",
        )
    )
    add(
        mistake_case(
            "W5-mse-pred",
            "mse",
            "forward",
            "pred",
            one_element("pred", 0, lambda v: v + 0.3),
            ["pred", "r", "L", "dw", "db"],
            comment="one prediction off by 0.3",
        )
    )
    add(
        mistake_case(
            "W6-tanh_layer-h",
            "tanh_layer",
            "forward",
            "h",
            lambda s: s.values["z"],
            ["h", "L", "dh"],
            by_file=True,
            comment="h = z: the tanh forgotten; L follows, dh = G stays right",
        )
    )
    add(
        mistake_case(
            "W7-affine-out",
            "affine",
            "forward",
            "out",
            lambda s: s.values["X"] @ s.values["W"],
            ["out", "L", "dW", "db"],
            comment="out without b; L follows, dW and db do not depend on out",
        )
    )
    add(
        mistake_case(
            "W8-wx2-q",
            "wx2",
            "forward",
            "q",
            one_element("q", 0, lambda v: v + 0.4),
            ["q", "dq", "dW"],
            comment="q[0] off by 0.4; dq and dW follow",
        )
    )

    # --- carried through intermediates the student did not give: the one wrong answer is a
    # leaf, and its kind is the kind of the step where the mistake was made ---------------
    add(
        mistake_case(
            "X1-softmax_lse-dW-via-s",
            "softmax_lse",
            "partial-fanout",
            "dW",
            lambda s: s.grads["s"] - s.branches["s:pick"],
            ["lse", "correct", "dW"],
            decimals=4,
            made_at="ds",
            comment="ds = p/N (the pick's branch left out), not given; dW = Xᵀ (p/N)",
        )
    )
    add(
        mistake_case(
            "X2-tanh_layer-dW-via-z",
            "tanh_layer",
            "missing-upstream",
            "dW",
            lambda s: 1 - s.values["h"] ** 2,
            ["h", "dh", "dW"],
            decimals=4,
            made_at="dz",
            comment="dz = 1 - h² without dh, not given; dW = Xᵀ (1 - h²)",
        )
    )
    add(
        mistake_case(
            "X3-twolayer-dW1-via-h",
            "twolayer",
            "sign",
            "dW1",
            lambda s: -s.grads["h"],
            ["ds", "dW2", "dW1"],
            decimals=4,
            made_at="dh",
            by_file=True,
            comment="dh with its sign flipped, not given; dW1 = Xᵀ(-dz1) + 2 reg W1 is not -dW1",
        )
    )
    add(
        mistake_case(
            "X4-softmax-dW-via-scores",
            "softmax",
            "scale",
            "dW",
            lambda s: 3 * s.grads["scores"],
            ["L", "p", "dW"],
            decimals=4,
            made_at="dscores",
            explained_as="scale 3",
            comment="dscores = p - onehot (the /N forgotten), not given; dW is 3 × the truth",
        )
    )
    add(
        mistake_case(
            "X5-lin_l2-dW-via-r",
            "lin_l2",
            "scale",
            "dW",
            lambda s: s.values["r"],
            ["r", "L", "dW"],
            made_at="dr",
            explained_as="scale 0.5",
            comment="dr = r (the 2 of the square forgotten), not given",
        )
    )
    add(
        mistake_case(
            "X6-sigmoid_layer-dW-via-z",
            "sigmoid_layer",
            "missing-upstream",
            "dW",
            lambda s: s.values["a"] * (1 - s.values["a"]),
            ["a", "dW"],
            decimals=4,
            made_at="dz",
            comment="dz = σ(1 - σ) without da = G, not given",
        )
    )
    add(
        mistake_case(
            "X7-twolayer-dW2-via-s",
            "twolayer",
            "partial-fanout",
            "dW2",
            lambda s: s.grads["s"] - s.branches["s:pick"],
            ["L", "h", "dW2"],
            decimals=4,
            made_at="ds",
            comment="ds = p/N, not given; dW2 = hᵀ (p/N) + 2 reg W2",
        )
    )
    return cases


def _right() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    def npr(k=None):
        return lambda t: numpy_printed(t, k)

    def ml(k):
        return lambda t: multiline(t, k)

    def um(k):
        return lambda t: unicode_minus(fmt(t, k))

    add(right_case("R1-wx3", "wx3", {"q": 2, "L": 2, "dq": 2, "dW": 2, "dx": 2}))
    add(right_case("R2-wx2-multiline", "wx2", {"q": 3, "dq": 3, "dW": ml(3), "dx": 3}, by_file=True))
    add(
        right_case(
            "R3-lin_l2-numpy",
            "lin_l2",
            {"out": npr(), "r": npr(), "L": 4, "dr": npr(), "dW": npr(), "db": npr()},
            by_file=True,
            comment="print() of every array, as pasted from a notebook",
        )
    )
    add(
        right_case(
            "R4-affine-dL/dW",
            "affine",
            {"dL/dW": 3, "dL/db": 3, "dL/dX": 3, "dout": 3},
            comment="dL/dW spelling for an output named L",
        )
    )
    add(
        right_case(
            "R5-softmax-unicode-minus",
            "softmax",
            {"L": um(4), "dscores": um(4), "dW": um(4), "dp": um(3)},
            comment="− (U+2212) pasted from a PDF",
        )
    )
    add(
        right_case(
            "R6-softmax_reg-numpy-rounded",
            "softmax_reg",
            {"L": 4, "data": 4, "dscores": npr(4), "dW": npr(4), "dreg": 3},
            by_file=True,
        )
    )
    add(
        right_case(
            "R7-softmax_lse-partial-d",
            "softmax_lse",
            {"∂L/∂s": 4, "∂L/∂W": 4, "∂L/∂b": 4, "lse": 3, "correct": 3},
        )
    )
    add(
        right_case(
            "R8-twolayer-multiline",
            "twolayer",
            {
                "L": 4,
                "z1": ml(3),
                "h": ml(3),
                "ds": ml(4),
                "dW2": ml(4),
                "db2": 4,
                "dh": ml(4),
                "dz1": ml(4),
                "dW1": ml(4),
                "db1": 4,
            },
            by_file=True,
        )
    )
    add(
        right_case(
            "R9-twolayer-numpy",
            "twolayer",
            {"dW1": npr(), "db1": npr(), "dW2": npr(), "db2": npr()},
            by_file=True,
        )
    )
    add(right_case("R10-mse-2dp", "mse", {"pred": 2, "r": 2, "L": 2, "dr": 2, "dpred": 2, "dw": 2, "db": 2}))
    add(
        right_case(
            "R11-tanh_layer-npy",
            "tanh_layer",
            {"z": 3, "h": 3, "dz": 3, "dW": 0},
            by_file=True,
            files={"dW": "dW.npy"},
            comment="dW = @dW.npy, saved by numpy",
        )
    )
    add(right_case("R12-sigmoid_layer-4dp", "sigmoid_layer", {"a": 4, "dz": 4, "dW": 4, "db": 4, "dX": 4}))
    add(
        right_case(
            "R13-quad-numpy-1d",
            "quad",
            {"v": npr(2), "dv": npr(2), "dx": npr(2), "dA": 2},
            comment="1-D arrays in numpy's printed form on the command line",
        )
    )
    add(
        right_case(
            "R14-colbias-csv",
            "colbias",
            {"out": 3, "dc": 3, "dW": 0},
            by_file=True,
            files={"dW": "dW.csv"},
            # a matrix: a one-column .csv cannot say whether it holds a (3,) or a (3,1) array
            comment="dW = @dW.csv, saved by np.savetxt",
        )
    )
    add(
        right_case(
            "R15-lin_l2_reg-mixed",
            "lin_l2_reg",
            {"L": 2, "r": 3, "dr": 4, "dout": 2, "dW": 3, "db": 4, "dreg": 2, "dY": 3},
        )
    )
    add(
        right_case(
            "R16-softmax_lse_reg-file-unicode",
            "softmax_lse_reg",
            {"dL/ds": um(4), "dL/dW": lambda t: unicode_minus(multiline(t, 4)), "dL/db": um(4), "dL/dreg": 3},
            by_file=True,
        )
    )
    return cases


MISTAKES: list[Case] = _mistakes()
RIGHT: list[Case] = _right()


# --- random small problems (the property tests) ----------------------------------------------

FAMILIES = ("linear", "affine", "softmax", "softmax_reg", "mse")


def random_problem(family: str, seed: int, n: int, d: int, c: int) -> Program:
    """A small linear or softmax problem with 2-decimal numbers from a seeded generator."""
    rng = np.random.default_rng(seed)

    def numbers(*shape, scale=1.0):
        return np.round(rng.normal(0, scale, shape), 2).tolist()

    if family == "linear":
        inputs = {"X": numbers(n, d), "W": numbers(d, c, scale=0.7), "b": numbers(c, scale=0.3)}
        inputs["Y"] = numbers(n, c)
        return Program(family, PROGRAMS["lin_l2"].text, inputs, _lin_l2)
    if family == "affine":
        inputs = {"X": numbers(n, d), "W": numbers(d, c, scale=0.7), "b": numbers(c, scale=0.3)}
        inputs["G"] = numbers(n, c, scale=0.5)
        return Program(family, PROGRAMS["affine"].text, inputs, _affine)
    if family in ("softmax", "softmax_reg"):
        inputs = {"X": numbers(n, d), "W": numbers(d, c, scale=0.7), "b": numbers(c, scale=0.3)}
        labels = {"y": rng.integers(0, c, n).tolist()}
        if family == "softmax":
            return Program(family, SOFTMAX_LSE, inputs, _softmax_lse, data=labels)
        inputs["reg"] = 0.1
        return Program(
            family,
            SOFTMAX_LSE + " + reg * np.sum(W * W)",
            inputs,
            lambda v, t: _softmax_lse(v, t, reg=True),
            data=labels,
        )
    assert family == "mse"
    inputs = {"X": numbers(n, d), "w": numbers(d, scale=0.7), "b": float(np.round(rng.normal(0, 0.3), 2))}
    inputs["y"] = numbers(n)
    return Program(family, PROGRAMS["mse"].text, inputs, _mse)


# per family: the weight, the node the bias is broadcast into, and the gradient just above
WEIGHT = {"linear": "W", "affine": "W", "softmax": "W", "softmax_reg": "W", "mse": "w"}
BROADCAST_INTO = {"linear": "out", "affine": "out", "softmax": "s", "softmax_reg": "s", "mse": "pred"}
ABOVE = {"linear": "r", "affine": "out", "softmax": "s", "softmax_reg": "s", "mse": "r"}
