"""Make the bindings of the cs231n samples: small .npy files in data/, the same every run.

    python3 samples/cs231n/make_data.py

Shapes follow cs231n's assignments, made small so that every table fits a screen. Floats are
drawn from a normal distribution (so no relu input, max-pool window or SVM margin sits on a
kink); labels and word ids are integer arrays; masks are boolean arrays. Files shared by
several samples (X, y, W for the linear classifiers and the two-layer net) have plain
names; the others are prefixed with their sample's short name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"


def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(231)

    def randn(*shape: int, scale: float = 1.0) -> np.ndarray:
        return np.round(scale * rng.standard_normal(shape), 4)

    out: dict[str, np.ndarray] = {}
    # linear classifiers (svm_loss, softmax_loss) and the two-layer net: N = 5, D = 4, C = 3
    out["X"] = randn(5, 4)
    out["y"] = np.array([0, 2, 1, 2, 0])
    out["W"] = randn(4, 3, scale=0.5)
    out["W1"] = randn(4, 6, scale=0.5)
    out["b1"] = randn(6, scale=0.1)
    out["W2"] = randn(6, 3, scale=0.5)
    out["b2"] = randn(3, scale=0.1)
    # affine_forward: x of rank 4 (N = 2, d = 3 x 2 x 2), M = 4
    out["affine_x"] = randn(2, 3, 2, 2)
    out["affine_w"] = randn(12, 4, scale=0.5)
    out["affine_b"] = randn(4, scale=0.1)
    out["affine_dout"] = randn(2, 4)
    # relu_forward
    out["relu_x"] = randn(3, 4)
    out["relu_dout"] = randn(3, 4)
    # batchnorm_forward and layernorm_forward: N = 4, D = 5
    out["bn_x"] = randn(4, 5, scale=2.0) + 1.0
    out["bn_gamma"] = randn(5, scale=0.5) + 1.0
    out["bn_beta"] = randn(5, scale=0.5)
    out["bn_dout"] = randn(4, 5)
    out["ln_x"] = randn(4, 5, scale=2.0) - 1.0
    out["ln_gamma"] = randn(5, scale=0.5) + 1.0
    out["ln_beta"] = randn(5, scale=0.5)
    out["ln_dout"] = randn(4, 5)
    # dropout_forward: the mask cs231n draws as np.random.rand(*x.shape) < p, here bound
    out["dropout_x"] = randn(3, 4)
    out["dropout_mask"] = rng.random((3, 4)) < 0.5
    out["dropout_dout"] = randn(3, 4)
    # conv_forward: N = 2, C = 3, H = W = 5; F = 2 filters of 3 x 3; stride 2, pad 1 -> 3 x 3
    out["conv_x"] = randn(2, 3, 5, 5)
    out["conv_w"] = randn(2, 3, 3, 3, scale=0.3)
    out["conv_b"] = randn(2, scale=0.1)
    out["conv_dout"] = randn(2, 2, 3, 3)
    # max_pool_forward: N = 2, C = 2, H = W = 4; 2 x 2 windows, stride 2 -> 2 x 2
    out["pool_x"] = randn(2, 2, 4, 4)
    out["pool_dout"] = randn(2, 2, 2, 2)
    # spatial_batchnorm_forward: N = 2, C = 3, H = W = 2
    out["sbn_x"] = randn(2, 3, 2, 2, scale=2.0) + 0.5
    out["sbn_gamma"] = randn(3, scale=0.5) + 1.0
    out["sbn_beta"] = randn(3, scale=0.5)
    out["sbn_dout"] = randn(2, 3, 2, 2)
    # rnn_step_forward and lstm_step_forward: N = 3, D = 4, H = 5
    out["rnn_x"] = randn(3, 4)
    out["rnn_prev_h"] = randn(3, 5)
    out["rnn_Wx"] = randn(4, 5, scale=0.4)
    out["rnn_Wh"] = randn(5, 5, scale=0.4)
    out["rnn_b"] = randn(5, scale=0.1)
    out["rnn_dnext_h"] = randn(3, 5)
    out["lstm_x"] = randn(3, 4)
    out["lstm_prev_h"] = randn(3, 5)
    out["lstm_prev_c"] = randn(3, 5)
    out["lstm_Wx"] = randn(4, 20, scale=0.4)
    out["lstm_Wh"] = randn(5, 20, scale=0.4)
    out["lstm_b"] = randn(20, scale=0.1)
    out["lstm_dnext_h"] = randn(3, 5)
    out["lstm_dnext_c"] = randn(3, 5)
    # word_embedding_forward: N = 2, T = 4 word ids (some repeated) in a vocabulary of V = 5, D = 3
    out["embed_x"] = np.array([[0, 3, 1, 3], [2, 3, 0, 4]])
    out["embed_W"] = randn(5, 3)
    out["embed_dout"] = randn(2, 4, 3)
    # temporal_affine_forward: N = 2, T = 3, D = 4, M = 5
    out["taffine_x"] = randn(2, 3, 4)
    out["taffine_w"] = randn(4, 5, scale=0.5)
    out["taffine_b"] = randn(5, scale=0.1)
    out["taffine_dout"] = randn(2, 3, 5)
    # temporal_softmax_loss: N = 2, T = 3, V = 4; the mask drops the padding at the end
    out["tsm_x"] = randn(2, 3, 4)
    out["tsm_y"] = np.array([[1, 3, 0], [2, 2, 1]])
    out["tsm_mask"] = np.array([[True, True, True], [True, True, False]])
    return out


def main() -> None:
    DATA.mkdir(exist_ok=True)
    for name, value in arrays().items():
        np.save(DATA / f"{name}.npy", value)


if __name__ == "__main__":
    main()
