"""The hand-written numpy version of cs231n's vectorised softmax loss, forward and backward,
as bpcli's program (SOFTMAX_PROGRAM in inprocess_cnn.py) writes it:

    s = X @ W
    s = s - s.max(axis=1, keepdims=True)
    p = exp(s) / exp(s).sum(axis=1, keepdims=True)
    L = -log(p[arange(N), y]).mean()

∂L/∂s = (p - onehot(y)) / N; the gradients are those bpcli reports for the arrays: W and X
(y holds class indices and gets none).

--format summary (the default) prints L in full and the summary of each gradient
(numpy_baseline.py's); --format json prints L and both gradients in full as one line of JSON.
Usage: python numpy_softmax_baseline.py X.npy W.npy y.npy [--format json|summary]
"""

from __future__ import annotations

import json
import sys

import numpy as np


def softmax_loss(X: np.ndarray, W: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The mean cross-entropy of softmax(X @ W) at the labels y, and its gradients of W and X."""
    n = X.shape[0]
    rows = np.arange(n)
    labels = y.astype(np.intp)
    s = X @ W
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    p = e / e.sum(axis=1, keepdims=True)
    loss = float(-np.log(p[rows, labels]).mean())
    ds = p  # ∂L/∂s = (p - onehot(y)) / N
    ds[rows, labels] -= 1.0
    ds /= n
    return loss, {"W": X.T @ ds, "X": ds @ W.T}


def main(argv: list[str]) -> None:
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else "summary"
    X, W, y = (np.asarray(np.load(path, allow_pickle=False), dtype=float) for path in argv[:3])
    loss, grads = softmax_loss(X, W, y)
    if fmt == "json":
        doc = {"output": "L", "value": loss, "grads": {k: v.tolist() for k, v in grads.items()}}
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        from numpy_baseline import summary

        sys.stdout.write("\n".join([f"L = {loss!r}", *(summary(k, v) for k, v in grads.items())]) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
