"""The hand-written numpy version of

    bpcli grad "sum(conv2d(x, w, b, stride=1, pad=1) * C)" x=@x.npy w=@w.npy b=@b.npy C=@C.npy

cs231n's convolutional layer, forward and backward, with im2col as a student writes it in
numpy: the windows of the padded input copied once into a (N·H'·W', C·HH·WW) matrix that the
forward multiplies by the filters and the backward reuses for ∂f/∂w, and the windows'
gradients added back kernel offset by kernel offset (col2im). The loss f = sum(out · C) has
∂f/∂out = C; the gradients are those bpcli reports: x, w, b and C (= out).

--format summary (the default) prints f in full and, per gradient, the summary of
numpy_baseline.py; --format json prints f and every gradient in full as one line of JSON.
Usage: python numpy_conv_baseline.py x.npy w.npy b.npy C.npy [--stride S] [--pad P] [--format json|summary]
"""

from __future__ import annotations

import json
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PROGRAM = "sum(conv2d(x, w, b, stride={stride}, pad={pad}) * C)"


def conv_loss(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, C: np.ndarray, stride: int = 1, pad: int = 0
) -> tuple[float, dict[str, np.ndarray]]:
    """f = sum(conv2d(x, w, b) · C) and the gradients of x, w, b and C."""
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (hh, ww), axis=(2, 3))[:, :, ::stride, ::stride]
    oh, ow = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * hh * ww)  # im2col
    filters = w.reshape(f, -1)
    out = (cols @ filters.T + b).reshape(n, oh, ow, f).transpose(0, 3, 1, 2)
    loss = float(np.sum(out * C))

    dout = C.transpose(0, 2, 3, 1).reshape(-1, f)  # ∂f/∂out = C, one row per window
    dw = (dout.T @ cols).reshape(w.shape)
    db = dout.sum(axis=0)
    dcols = (dout @ filters).reshape(n, oh, ow, c, hh, ww)
    dxp = np.zeros(xp.shape)
    for i in range(hh):  # col2im: each kernel offset's share, added where it was taken from
        for j in range(ww):
            down = slice(i, i + stride * (oh - 1) + 1, stride)
            across = slice(j, j + stride * (ow - 1) + 1, stride)
            dxp[:, :, down, across] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    dx = dxp[:, :, pad : pad + h, pad : pad + wd]
    return loss, {"x": dx, "w": dw, "b": db, "C": out}


def main(argv: list[str]) -> None:
    def option(name: str, default: str) -> str:
        return argv[argv.index(name) + 1] if name in argv else default

    fmt, stride, pad = option("--format", "summary"), int(option("--stride", "1")), int(option("--pad", "0"))
    arrays = [np.asarray(np.load(path, allow_pickle=False), dtype=float) for path in argv[:4]]
    loss, grads = conv_loss(*arrays, stride=stride, pad=pad)
    program = PROGRAM.format(stride=stride, pad=pad)
    if fmt == "json":
        doc = {"output": program, "value": loss, "grads": {k: v.tolist() for k, v in grads.items()}}
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        from numpy_baseline import summary

        lines = [f"f = {loss!r}", *(summary(k, v) for k, v in grads.items())]
        sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
