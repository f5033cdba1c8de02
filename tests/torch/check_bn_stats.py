#!/usr/bin/python3
"""Batch-norm running statistics after a training step, against PyTorch's.

    /usr/bin/python3 tests/torch/check_bn_stats.py --gradc build/gradc --models models

models/resnet3_bn.grad (seven batch normalizations) takes one `gradc train` step on one
batch, from parameters and running statistics drawn here (so that the old statistics
count, not only the batch's). The reference (reference_models.resnet3_bn) runs the same
batch in PyTorch's training mode, where F.batch_norm moves the running statistics
(momentum 0.1, unbiased variance). Every running mean and variance in gradc's checkpoint
must equal PyTorch's within 1e-5 relative to the tensor's largest magnitude (gradc
computes in float32). Exit status 1 on a mismatch.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "golden", "Inputs"))
import reference_models  # noqa: E402
from safetensors_tool import read  # noqa: E402

torch.set_default_dtype(torch.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradc", required=True)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    path = os.path.join(args.models, "resnet3_bn.grad")
    rng = np.random.default_rng(5)
    B, X, Y, I, K = 4, 8, 8, 3, 10
    img = rng.standard_normal((B, X, Y, I)).astype(np.float32)
    label = rng.integers(0, K, size=B).astype(np.int32)
    with tempfile.TemporaryDirectory() as tmp:
        batch = os.path.join(tmp, "batch.npz")
        np.savez(batch, img=img, label=label)
        p0, p1 = os.path.join(tmp, "p0.npz"), os.path.join(tmp, "p1.npz")
        subprocess.run([args.gradc, "run", path, "--inputs", batch, "--save-params", p0],
                       check=True, capture_output=True)
        params = dict(np.load(p0))
        for name in params:  # statistics and gains away from their initial 0 and 1
            if name.endswith("running_var") or name.endswith("gamma"):
                params[name] = rng.uniform(0.5, 2.0, params[name].shape).astype(np.float32)
            elif name.endswith("running_mean") or name.endswith("beta"):
                params[name] = rng.normal(0, 0.5, params[name].shape).astype(np.float32)
        np.savez(p1, **params)
        ckpt = os.path.join(tmp, "step.safetensors")
        subprocess.run([args.gradc, "train", path, "--data", batch, "--params", p1,
                        "--epochs", "1", "--optimizer", "sgd", "--lr", "0.01", "--save", ckpt,
                        "--quiet"], check=True, capture_output=True)
        got, _ = read(ckpt)

    P = {k: torch.tensor(v.astype(np.float64)) for k, v in params.items()}
    reference_models.UPDATE_RUNNING_STATS = True
    spec = reference_models.MODELS["resnet3_bn"]
    spec.fn({"img": torch.tensor(img.astype(np.float64)),
             "label": torch.tensor(label.astype(np.int64))}, P, {}, True)
    failed, checked = 0, 0
    for name in sorted(P):
        if not (name.endswith("running_mean") or name.endswith("running_var")):
            continue
        want = P[name].numpy()
        err = np.abs(got[name] - want).max() / max(np.abs(want).max(), 1e-30)
        moved = np.abs(want - params[name]).max()
        ok = err <= 1e-5 and moved > 1e-3
        failed += not ok
        checked += 1
        print("%-20s %s  error %.2e, moved %.3f" % (name, "ok" if ok else "MISMATCH", err, moved))
    print("%d running statistics checked, %d mismatched" % (checked, failed))
    return 1 if failed or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
