"""Writes torch.optim's first five updates as fixtures for test_optimizer.cpp.

For each case: CASE.npz holds three parameters' starting values (p0_K), the
gradients given at steps 1..5 (gS_K) and torch.optim's parameters after each
step (pS_K); CASE.json names the optimizer, its arguments as a model's
`optimizer` statement gives them, and clip_norm (0: none). Gradient-norm
clipping is torch.nn.utils.clip_grad_norm_ before each step.
"""
import json
import os
import sys

import numpy as np
import torch

CASES = {
    "sgd": ("sgd", {"lr": 0.1}, 0.0),
    "momentum": ("momentum", {"lr": 0.05, "beta": 0.9}, 0.0),
    "rmsprop": ("rmsprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}, 0.0),
    "adam": ("adam", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, 0.0),
    "adamw": ("adamw", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
                        "weight_decay": 0.1}, 0.0),
    "adam_clip": ("adam", {"lr": 0.01}, 0.5),
    "sgd_clip": ("sgd", {"lr": 0.1}, 100.0),  # a norm below the limit: no scaling
}


def make(name, a, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=a["lr"])
    if name == "momentum":
        return torch.optim.SGD(params, lr=a["lr"], momentum=a.get("beta", 0.9))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=a["lr"], alpha=a.get("alpha", 0.99),
                                   eps=a.get("eps", 1e-8))
    betas = (a.get("beta1", 0.9), a.get("beta2", 0.999))
    if name == "adam":
        return torch.optim.Adam(params, lr=a["lr"], betas=betas, eps=a.get("eps", 1e-8))
    return torch.optim.AdamW(params, lr=a["lr"], betas=betas, eps=a.get("eps", 1e-8),
                             weight_decay=a.get("weight_decay", 0.01))


def main(out):
    os.makedirs(out, exist_ok=True)
    shapes = [(5,), (3, 4), (2,)]
    for case, (name, args, clip) in CASES.items():
        rng = np.random.default_rng(len(case))
        arrays = {}
        params = []
        for k, s in enumerate(shapes):
            p0 = rng.standard_normal(s).astype(np.float32)
            arrays["p0_%d" % k] = p0
            params.append(torch.tensor(p0, requires_grad=True))
        opt = make(name, args, params)
        for step in range(1, 6):
            for k, p in enumerate(params):
                g = rng.standard_normal(p.shape).astype(np.float32)
                arrays["g%d_%d" % (step, k)] = g
                p.grad = torch.tensor(g)
            if clip > 0:
                torch.nn.utils.clip_grad_norm_(params, clip)
            opt.step()
            for k, p in enumerate(params):
                arrays["p%d_%d" % (step, k)] = p.detach().numpy().copy()
        np.savez(os.path.join(out, case + ".npz"), **arrays)
        with open(os.path.join(out, case + ".json"), "w") as f:
            json.dump({"name": name, "args": args, "clip_norm": clip}, f)


if __name__ == "__main__":
    main(sys.argv[1])
