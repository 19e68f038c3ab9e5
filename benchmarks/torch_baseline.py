"""PyTorch's autograd on bpcli's benchmark problems (float64 tensors, torch's default threads).

    python torch_baseline.py batch FILE [--limit N]
        the micrograd baseline's loop (baseline_io.run): per line, each `name=number` is a
        0-d float64 tensor with requires_grad=True, any other `name = expr` is evaluated with
        Python's eval in a namespace where exp is torch.exp (intermediates retain their
        gradient), backward runs from the last name, and one JSON line is written with the
        value and every named variable's gradient as floats. --limit 0: only import torch.
    python torch_baseline.py arrays W.npy x.npy
        f = sum((W@x)^2) by autograd on torch.from_numpy of the files; prints f in full
        precision and numpy_baseline.py's summary of ∂f/∂W and ∂f/∂x.
    python torch_baseline.py net DIR|X.npy Y.npy W1.npy b1.npy W2.npy b2.npy N
        numpy_net_baseline.py's two-layer net by autograd (torch.log_softmax over the
        classes); prints the loss in full precision and the summary of every gradient that
        bpcli reports (X, W1, b1, W2, b2, Y, N, h, scores, loss).
    python torch_baseline.py import
        only the imports of the modes above (to time them alone).

PyTorch is not a bpcli dependency: `run.py --torch` installs it into the benchmark venv.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch
from baseline_io import net_files, run, statements
from numpy_baseline import summary

F64 = torch.float64
GLOBALS = {"__builtins__": {}, "exp": torch.exp}


def solve(text: str) -> tuple[str, float, dict[str, float]]:
    """One batch problem: value and gradients of the last statement's name."""
    names: dict[str, torch.Tensor] = {}
    output = ""
    for name, number, rhs in statements(text):
        if number is not None:
            value = torch.tensor(number, dtype=F64, requires_grad=True)
        else:
            value = eval(rhs, GLOBALS, names)
            if isinstance(value, torch.Tensor) and value.requires_grad:
                value.retain_grad()
            else:
                value = torch.tensor(float(value), dtype=F64, requires_grad=True)
        names[name] = value
        output = name
    out = names[output]
    out.backward()
    grads = {name: (v.grad.item() if v.grad is not None else 0.0) for name, v in names.items()}
    return output, out.item(), grads


def load(path: str) -> torch.Tensor:
    return torch.from_numpy(np.asarray(np.load(path, allow_pickle=False), dtype=float)).requires_grad_()


def arrays(w_path: str, x_path: str) -> str:
    W, x = load(w_path), load(x_path)
    f = torch.sum((W @ x) ** 2)
    f.backward()
    return f"sum((W@x)^2) = {f.item()!r}\n{summary('W', W.grad.numpy())}\n{summary('x', x.grad.numpy())}\n"


def net(args: list[str]) -> str:
    paths, n = net_files(args)
    t = {name: load(path) for name, path in paths.items()}
    N = torch.tensor(n, dtype=F64, requires_grad=True)
    h = torch.relu(t["X"] @ t["W1"] + t["b1"])
    scores = h @ t["W2"] + t["b2"]
    loss = -torch.sum(t["Y"] * torch.log_softmax(scores, dim=1)) / N
    for v in (h, scores, loss):
        v.retain_grad()
    loss.backward()
    grads: dict[str, Any] = {k: t[k].grad for k in ("X", "W1", "b1", "W2", "b2", "Y")}
    grads.update(N=N.grad, h=h.grad, scores=scores.grad, loss=loss.grad)
    lines = [f"loss = {loss.item()!r}"]
    for name, g in grads.items():
        lines.append(summary(name, g.numpy()) if g.dim() else f"∂f/∂{name} = {g.item():.4g}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    mode, args = (argv[0], argv[1:]) if argv else ("", [])
    if mode == "batch":
        run(args, solve)
    elif mode == "arrays" and len(args) == 2:
        sys.stdout.write(arrays(*args))
    elif mode == "net":
        sys.stdout.write(net(args))
    elif mode != "import":
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
