#!/usr/bin/env python3
"""Compares every .npy file under DIR_A with the file of the same relative
path under DIR_B (both must hold the same set), printing the worst relative
error per file and exiting 1 when any exceeds --rtol. The error is per
element, |a - b| / max(|b|, 1e-6), or with --maxnorm per tensor,
max|a - b| / max(max|b|, 0.01): float32 results differ from double ones
relative to the tensor's scale, not to each tiny element."""
import argparse
import pathlib
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--maxnorm", action="store_true")
    args = ap.parse_args()
    a, b = pathlib.Path(args.a), pathlib.Path(args.b)
    fa = sorted(p.relative_to(a) for p in a.rglob("*.npy"))
    fb = sorted(p.relative_to(b) for p in b.rglob("*.npy"))
    if fa != fb or not fa:
        print(f"different files: {[str(p) for p in fa]} vs {[str(p) for p in fb]}")
        return 1
    bad = 0
    for rel in fa:
        x, y = np.load(a / rel), np.load(b / rel)
        if x.shape != y.shape:
            print(f"{rel}: shapes {x.shape} and {y.shape}")
            bad += 1
            continue
        x, y = x.astype(np.float64), y.astype(np.float64)
        if not x.size:
            err = 0.0
        elif args.maxnorm:
            err = float(np.max(np.abs(x - y)) / max(float(np.max(np.abs(y))), 0.01))
        else:
            err = float(np.max(np.abs(x - y) / np.maximum(1e-6, np.abs(y))))
        ok = err <= args.rtol
        bad += not ok
        print(f"{rel}: {err:.3e} {'ok' if ok else 'DIFFERENT'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
