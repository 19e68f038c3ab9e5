"""The hand-written numpy version of `bpcli grad -f net.bp X=@X.npy Y=@Y.npy W1=@W1.npy
b1=@b1.npy W2=@W2.npy b2=@b2.npy N=<batch size>`, cs231n's two-layer net:

    h = relu(X @ W1 + b1)
    scores = h @ W2 + b2
    loss = -sum(Y * logsoftmax(scores)) / N

The loss uses a numerically stable log-softmax (the row maximum subtracted before exp),
and the backward pass is written out by hand for every gradient bpcli reports: the inputs
X, Y, W1, b1, W2, b2, N and the named intermediates h, scores, loss.

--format summary (the default) prints the loss in full precision and, per gradient, its
shape, first values, norm, min and max (numpy_baseline.py's summary); --format json prints
the loss and every gradient in full as one line of JSON (for checking against
`bpcli grad … --format json`).
Usage: python numpy_net_baseline.py DIR|X.npy Y.npy W1.npy b1.npy W2.npy b2.npy N [--format json|summary]
"""

from __future__ import annotations

import json
import sys

import numpy as np
from baseline_io import net_files
from numpy_baseline import summary


def net(arrays: dict[str, np.ndarray], n: float) -> tuple[float, dict[str, np.ndarray | float]]:
    """The loss and the gradient of every input and named intermediate."""
    X, Y, W1, b1, W2, b2 = (arrays[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0.0)
    scores = h @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    logsoftmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    total = float(np.sum(Y * logsoftmax))
    loss = -total / n

    # loss = -total / N: ∂/∂total = -1/N, ∂/∂N = total / N²
    dtotal = -1.0 / n
    dY = dtotal * logsoftmax
    dlogsoftmax = dtotal * Y
    # logsoftmax(s) = s - logsumexp(s) per row: ∂/∂s = g - softmax(s) · (row sum of g)
    dscores = dlogsoftmax - np.exp(logsoftmax) * dlogsoftmax.sum(axis=1, keepdims=True)
    dW2 = h.T @ dscores
    db2 = dscores.sum(axis=0)
    dh = dscores @ W2.T
    dz1 = dh * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    dX = dz1 @ W1.T
    grads = {
        "X": dX,
        "W1": dW1,
        "b1": db1,
        "W2": dW2,
        "b2": db2,
        "Y": dY,
        "N": total / (n * n),
        "h": dh,
        "scores": dscores,
        "loss": 1.0,
    }
    return loss, grads


def main(argv: list[str]) -> None:
    fmt = "summary"
    if "--format" in argv:
        at = argv.index("--format")
        fmt, argv = argv[at + 1], argv[:at] + argv[at + 2 :]
    paths, n = net_files(argv)
    arrays = {
        name: np.asarray(np.load(path, allow_pickle=False), dtype=float) for name, path in paths.items()
    }
    loss, grads = net(arrays, n)
    if fmt == "json":
        doc = {
            "output": "loss",
            "value": loss,
            "grads": {k: g.tolist() if isinstance(g, np.ndarray) else g for k, g in grads.items()},
        }
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    lines = [f"loss = {loss!r}"]
    for name, g in grads.items():
        lines.append(summary(name, g) if isinstance(g, np.ndarray) else f"∂f/∂{name} = {g:.4g}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
