"""The one-hidden-layer ReLU network of EECS 182 Discussion 2, "Visualizing
Derivatives":  y = Σₖ W2ₖ max(0, W1ₖ x + b1ₖ) + b2  (x, y scalars).

The lecture's derivatives of the output:
    ∂y/∂b2   = 1
    ∂y/∂W2ₖ  = max(0, W1ₖ x + b1ₖ)
    ∂y/∂b1ₖ  = W2ₖ · 1[W1ₖ x + b1ₖ > 0]
    ∂y/∂W1ₖ  = W2ₖ · x · 1[W1ₖ x + b1ₖ > 0]
    ∂y/∂x    = Σₖ W2ₖ W1ₖ · 1[W1ₖ x + b1ₖ > 0]
Unit k puts a kink at x = −b1ₖ/W1ₖ: crossing it, ∂y/∂b1ₖ jumps between 0 and
W2ₖ and ∂y/∂x by W2ₖ·W1ₖ; exactly at it relu'(0) = 0, so unit k contributes
nothing. The kinks here are exactly representable, so W1ₖ x + b1ₖ is exactly 0.
Then models/relu_net.grad (least squares over a batch) by the chain rule:
∂J/∂θ = mean_b 2 (ŷ_b − y_b) ∂ŷ_b/∂θ.
"""
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from common import MODELS, Derivation, f32  # noqa: E402

MODEL = """
model relu_y {
  dim B = 1, K = 5
  input x[B]
  param W1[K] = normal(1)
  param b1[K] = uniform(-1, 1)
  param W2[K] = he()
  param b2 = zeros()
  a[b, k] = relu(W1[k]*x[b] + b1[k])
  yhat[b] = W2[k]*a[b, k] + b2
  loss = sum(b: yhat[b])
  output yhat, a
  minimize loss
}
"""

W1 = np.array([2.0, -1.0, 0.5, 4.0, -3.0])
b1 = np.array([-1.0, 0.5, 0.25, 2.0, -0.75])
W2 = np.array([1.5, -2.0, 0.75, 1.25, -0.5])
b2 = 0.3
KINKS = -b1 / W1  # 0.5, 0.5, -0.5, -0.5, -0.25 (exact in binary)
PARAMS = {"W1": W1, "b1": b1, "W2": W2, "b2": np.array(b2)}


def closed_form(x):
    pre = W1 * x + b1
    on = (pre > 0).astype(float)
    return {
        "b2": 1.0,
        "W2": np.maximum(0.0, pre),
        "b1": W2 * on,
        "W1": W2 * x * on,
        "x": np.array([np.sum(W2 * W1 * on)]),
        "yhat": np.array([np.sum(W2 * np.maximum(0.0, pre)) + b2]),
    }


def derivative_at(d, x):
    values, grads = d.run(MODEL, inputs={"x": np.array([x])}, params=PARAMS)
    return values, grads


def main():
    d = Derivation("one-hidden-layer ReLU network (relu_net): dy/dtheta and its kinks")
    assert np.all(f32(KINKS) == KINKS)

    # Ordinary points, away from every kink.
    for x in [-2.0, -0.75, -0.375, 0.125, 0.875, 1.5]:
        got = d.guard(f"run at x = {x}", lambda: derivative_at(d, x))
        if got is None:
            continue
        values, grads = got
        cf = closed_form(x)
        d.close(f"x = {x:+}: y", values["yhat"], cf["yhat"])
        d.exact(f"x = {x:+}: dy/db2 = 1", grads["b2"], 1.0)
        d.close(f"x = {x:+}: dy/dW2_k = max(0, W1_k x + b1_k)", grads["W2"], cf["W2"])
        d.close(f"x = {x:+}: dy/db1_k = W2_k 1[W1_k x + b1_k > 0]", grads["b1"], cf["b1"])
        d.close(f"x = {x:+}: dy/dW1_k = W2_k x 1[...]", grads["W1"], cf["W1"])
        d.close(f"x = {x:+}: dy/dx = sum_k W2_k W1_k 1[...]", grads["x"], cf["x"])

    # The kinks: both sides and the kink itself.
    eps = 2.0 ** -10
    for xk in sorted(set(KINKS.tolist())):
        units = np.nonzero(KINKS == xk)[0]
        runs = {}
        for side, x in (("left", xk - eps), ("at", xk), ("right", xk + eps)):
            got = d.guard(f"run at x = {x}", lambda: derivative_at(d, x))
            if got is not None:
                runs[side] = got[1]
        if len(runs) < 3:
            continue
        left, at, right = runs["left"], runs["at"], runs["right"]
        for k in units:
            # Which side is active: W1_k > 0 turns on to the right of the kink.
            on_side, off_side = (right, left) if W1[k] > 0 else (left, right)
            tag = f"kink of unit {k} at x = -b1/W1 = {xk:+}"
            d.exact(f"{tag}: dy/db1_k = 0 on the inactive side", off_side["b1"][k], 0.0)
            d.close(f"{tag}: dy/db1_k = W2_k on the active side", on_side["b1"][k], W2[k])
            d.exact(f"{tag}: dy/db1_k = 0 exactly at the kink (relu'(0) = 0)", at["b1"][k], 0.0)
            d.exact(f"{tag}: dy/dW1_k = 0 at the kink", at["W1"][k], 0.0)
            d.exact(f"{tag}: dy/dW2_k = max(0, 0) = 0 at the kink", at["W2"][k], 0.0)
        # dy/dx jumps by the sum of W2_k W1_k over the units turning on to the right
        # (minus those turning off), and at the kink equals the side where they are off.
        jump = sum(W2[k] * W1[k] * (1 if W1[k] > 0 else -1) for k in units)
        d.close(f"kink at x = {xk:+}: dy/dx jumps by sum W2_k W1_k across it",
                right["x"][0] - left["x"][0], jump)
        d.close(f"kink at x = {xk:+}: dy/dx at the kink = dy/dx without the kinking units",
                at["x"], closed_form(xk)["x"])

    # models/relu_net.grad: the lecture's model with its least-squares loss.
    path = os.path.join(MODELS, "relu_net.grad")
    B, K = 16, 8
    rng = np.random.default_rng(7)
    p = {"W1": f32(rng.normal(size=K)), "b1": f32(rng.uniform(-1, 1, size=K)),
         "W2": f32(rng.normal(size=K) * 0.5), "b2": np.array(0.25)}
    p["W1"][3], p["b1"][3] = 2.0, -0.5
    x = f32(rng.normal(size=B))
    x[0] = 0.25  # exactly at unit 3's kink: W1_3 x + b1_3 = 0
    y = f32(rng.normal(size=B))
    got = d.guard("run models/relu_net.grad", lambda: d.run(path, inputs={"x": x, "y": y}, params=p))
    if got is not None:
        values, grads = got
        pre = p["W1"][None, :] * x[:, None] + p["b1"][None, :]
        on = (pre > 0).astype(float)
        yhat = (p["W2"][None, :] * np.maximum(pre, 0)).sum(1) + p["b2"]
        r = 2 * (yhat - y) / B  # dJ/dyhat_b
        d.close("relu_net.grad: yhat", values["yhat"], yhat)
        d.close("relu_net.grad: dJ/db2 = mean 2(yhat - y)", grads["b2"], r.sum())
        d.close("relu_net.grad: dJ/dW2_k = mean 2(yhat - y) max(0, W1_k x + b1_k)",
                grads["W2"], r @ np.maximum(pre, 0))
        d.close("relu_net.grad: dJ/db1_k = mean 2(yhat - y) W2_k 1[...]",
                grads["b1"], (r[:, None] * on).sum(0) * p["W2"])
        d.close("relu_net.grad: dJ/dW1_k = mean 2(yhat - y) W2_k x 1[...]",
                grads["W1"], (r[:, None] * on * x[:, None]).sum(0) * p["W2"])
        d.close("relu_net.grad: dJ/dx_b = 2(yhat_b - y_b)/B sum_k W2_k W1_k 1[...]",
                grads["x"], r * (on * p["W2"] * p["W1"]).sum(1))
        d.close("relu_net.grad: dJ/dy_b = -2(yhat_b - y_b)/B", grads["y"], -r)
    d.finish()


if __name__ == "__main__":
    main()
