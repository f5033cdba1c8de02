"""Writes ugrnn_inputs.npz: a batch of sine waves for models/ugrnn.grad.

x[b, t, k] is a sine of frequency (k + 1) and phase b; y is the same wave one
step ahead, so the model's loss measures how well it predicts the next step.
Run with /usr/bin/python3 (Debian's numpy)."""
import numpy as np

B, T, K = 4, 6, 5
t = np.arange(T + 1)[None, :, None]
k = np.arange(K)[None, None, :]
b = np.arange(B)[:, None, None]
wave = np.sin(0.3 * (k + 1) * t + b).astype(np.float32)
np.savez("ugrnn_inputs.npz", x=wave[:, :T, :], y=wave[:, 1:, :])
