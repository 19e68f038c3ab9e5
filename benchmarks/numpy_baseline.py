"""The hand-written numpy version of `bpcli grad "sum((W@x)^2)" W=@W.npy x=@x.npy`.

    q = W @ x,  f = sum(q^2),  ∂f/∂W = 2 q xᵀ,  ∂f/∂x = 2 Wᵀ q

--format json prints f and both gradients in full, as one line of JSON (json.dumps with
its defaults: the same separators as bpcli's JSON on a pipe); --format summary prints f
and, per gradient, its shape, first values, norm, min and max, as bpcli's table does for
large arrays.
Usage: python numpy_baseline.py W.npy x.npy [--format json|summary]
"""

from __future__ import annotations

import json
import sys

import numpy as np


def summary(name: str, a: np.ndarray) -> str:
    head = ", ".join(f"{v:.4g}" for v in a.ravel()[:4])
    shape = "×".join(map(str, a.shape))
    return (
        f"∂f/∂{name} = {shape} array [{head}, …]\n"
        f"  norm {np.linalg.norm(a):.4g}, min {a.min():.4g}, max {a.max():.4g}"
    )


def main(argv: list[str]) -> None:
    w_path, x_path = argv[0], argv[1]
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else "json"
    W = np.asarray(np.load(w_path, allow_pickle=False), dtype=float)
    x = np.asarray(np.load(x_path, allow_pickle=False), dtype=float)
    q = W @ x
    f = float(np.sum(q**2))
    dW = 2.0 * np.outer(q, x)
    dx = 2.0 * (W.T @ q)
    if fmt == "json":
        doc = {"output": "sum((W@x)^2)", "value": f, "grads": {"W": dW.tolist(), "x": dx.tolist()}}
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        sys.stdout.write(f"sum((W@x)^2) = {f:.4g}\n{summary('W', dW)}\n{summary('x', dx)}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
