#!/usr/bin/python3
"""Writes a small classification set for the training tests: N points in D dimensions
around C well separated centres, as OUT.npz with x (float32) and y (int32).

  make_blobs.py OUT.npz N SEED
"""
import sys

import numpy as np

out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
centres = np.array([[2, 0, 0, 1], [-2, 1, 0, 0], [0, -2, 2, 0]], dtype=np.float32)
y = rng.integers(0, 3, size=n).astype(np.int32)
x = (centres[y] + 0.7 * rng.standard_normal((n, 4))).astype(np.float32)
np.savez(out, x=x, y=y)
