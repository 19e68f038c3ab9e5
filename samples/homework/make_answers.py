"""Make the answer files of the array homework: a student's, and a small class of five.

    python3 samples/homework/make_answers.py      (needs autograd: pip install -e ".[dev]")

The truth comes from HIPS autograd, independently of bpcli, at the numbers that
softmax.bp assigns (read from that file, so they are written once). Every mistake is made
from the truth by the transformation that names it (a transpose, a missing sum, a factor
N), and every number is rounded to 4 decimals, as a student would write it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import autograd.numpy as anp
import numpy as np
from autograd import grad

HERE = Path(__file__).resolve().parent
DECIMALS = 4


def bindings() -> dict[str, np.ndarray]:
    """The literal assignments of softmax.bp (X, y, W, b)."""
    found = {}
    for line in (HERE / "softmax.bp").read_text().splitlines():
        match = re.fullmatch(r"(\w+) = (\[.*\])\s*(#.*)?", line)
        if match:
            found[match.group(1)] = np.array(ast.literal_eval(match.group(2)), dtype=float)
    return found


def truth() -> dict[str, object]:
    """L, the forward values, and every gradient of the homework, from autograd."""
    v = bindings()
    X, W, b, y = v["X"], v["W"], v["b"], v["y"].astype(int)
    N = X.shape[0]

    def loss_of_scores(scores):
        shifted = scores - anp.max(scores, axis=1, keepdims=True)
        logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(logp[anp.arange(N), y])

    def loss(W, b, X):
        return loss_of_scores(anp.dot(X, W) + b)

    scores = X @ W + b
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    onehot = np.eye(W.shape[1])[y]
    return {
        "N": N,
        "X": X,
        "W": W,
        "p": p,
        "onehot": onehot,
        "L": float(loss(W, b, X)),
        "dscores": grad(loss_of_scores)(scores),
        "dW": grad(loss, 0)(W, b, X),
        "db": grad(loss, 1)(W, b, X),
        "dX": grad(loss, 2)(W, b, X),
    }


def number(value: float) -> str:
    text = f"{value:.{DECIMALS}f}"
    return "0.0000" if text == "-0.0000" else text


def literal(value: object, indent: int = 0) -> str:
    """An array as a student writes it: rounded, with commas, a matrix one row a line."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return number(float(array))
    if array.ndim == 1:
        return "[" + ", ".join(number(float(x)) for x in array) + "]"
    pad = " " * (indent + 1)
    return "[" + f",\n{pad}".join(literal(row, indent + 1) for row in array) + "]"


def printed(value: object) -> str:
    """An array as numpy prints it, rounded: no commas, a row a line."""
    array = np.round(np.asarray(value, dtype=float), DECIMALS)
    return number(float(array)) if array.ndim == 0 else str(array)


def answers_file(
    header: str, answers: dict[str, object], comments: dict[str, str], as_printed: bool = False
) -> str:
    lines = [header]
    for name, value in answers.items():
        if name in comments:
            lines.append(f"# {comments[name]}")
        text = printed(value) if as_printed else literal(value, len(name) + 3)
        lines.append(f"{name} = {text}")
    return "\n".join(lines) + "\n"


def main() -> None:
    t = truth()
    N, X, W, p, onehot = t["N"], t["X"], t["W"], t["p"], t["onehot"]
    right = {name: t[name] for name in ("L", "dscores", "dW", "db", "dX")}

    def scaled(k: float) -> dict[str, object]:
        return {"L": t["L"], **{n: k * np.asarray(t[n]) for n in ("dscores", "dW", "db", "dX")}}

    # p where p - onehot(y) belongs (the branch through the correct-class pick left out),
    # and the rest of the backward pass done right from that wrong dscores
    no_onehot = p / N
    p_only = {
        "L": t["L"],
        "dscores": no_onehot,
        "df/dW": X.T @ no_onehot,
        "db": no_onehot.sum(axis=0),
        "dX": no_onehot @ W.T,
    }
    assert np.allclose((p - onehot) / N, t["dscores"])  # the textbook formula agrees with autograd

    student = dict(right)
    student["dW"] = np.asarray(t["dW"]).T  # transposed: X.T @ dscores written as dscores.T @ X
    student["db"] = t["dscores"]  # per example: not summed over the batch
    student["dX"] = N * np.asarray(t["dX"])  # (p - onehot) @ W.T: the 1/N of the mean forgotten
    (HERE / "answers_student.txt").write_text(
        answers_file(
            "# A student's answers to softmax.bp, with three classic array mistakes.\n"
            "#   bpcli check samples/homework/softmax.bp --answers samples/homework/answers_student.txt",
            student,
            {
                "dW": "wrong: transposed (dscores.T @ X for X.T @ dscores)",
                "db": "wrong: one row an example, never summed over the batch",
                "dX": "wrong: (p - onehot) @ W.T, the 1/N of the mean forgotten",
            },
        )
    )

    bob = dict(right)
    bob["dW"] = np.asarray(t["dW"]).T
    carol = dict(right)
    carol["db"] = t["dscores"]
    head = "# {who}'s answers to samples/homework/softmax.bp: {what}"
    students = {
        "alice": (right, "all right, pasted as numpy prints them"),
        "bob": (bob, "dW transposed"),
        "carol": (carol, "db not summed over the batch"),
        "dave": (scaled(N), "the 1/N of the mean forgotten, from dscores on"),
        "erin": (p_only, "p where p - onehot(y) belongs, the rest done right from it"),
    }
    (HERE / "class").mkdir(exist_ok=True)
    for who, (answers, what) in students.items():
        # alice pasted numpy's printed arrays (print(np.round(dW, 4))), commas and all left out
        text = answers_file(head.format(who=who.capitalize(), what=what), answers, {}, who == "alice")
        (HERE / "class" / f"{who}.txt").write_text(text)


if __name__ == "__main__":
    main()
