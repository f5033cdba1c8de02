"""The MLP with a skip connection and a binary cross-entropy loss
(models/mlp_skip.grad, LANGUAGE.md's `mlp`):

    a1 = relu(W1 x + c1),   z2 = W2 a1 + c2 + x,   ŷ = σ(z2)
    J  = mean_b Σⱼ BCE(ŷ[b, j], y[b, j])

The lecture's derivation: for one example ∂J/∂z2 = ŷ − y (here divided by B,
the batch mean). Then δ2 = ∂J/∂z2, ∂J/∂W2 = δ2ᵀ a1, ∂J/∂c2 = Σ_b δ2,
δ1 = (δ2 W2) ⊙ 1[W1 x + c1 > 0], ∂J/∂W1 = δ1ᵀ x, ∂J/∂c1 = Σ_b δ1, and x gets
the gradient of its two streams: ∂J/∂x = δ1 W1 (through the layers) + δ2 (the
skip connection).

∂J/∂z2 is exposed directly by models that take z2 as an input (the loss in the
std form, written out with ŷ = sigmoid(z2) and logs, and with std bce on ŷ);
the two streams by a copy of the model whose skip reads a second input xs
holding the same values as x (so grad x is the main stream, grad xs the skip).
"""
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from common import MODELS, Derivation, f32, sigmoid  # noqa: E402

B, D = 8, 16

Z2_AS_INPUT = {
    "bce_logits (std)": """
import "std"
model m {
  dim B = 8, D = 16
  input z2[B, D]
  input y[B, D]
  loss = mean(b: sum(j: bce_logits(z2[b, j], y[b, j])))
  minimize loss
}
""",
    "-(y log yhat + (1-y) log(1-yhat)), yhat = sigmoid(z2)": """
model m {
  dim B = 8, D = 16
  input z2[B, D]
  input y[B, D]
  yhat = sigmoid(z2)
  loss = mean(b: sum(j: -(y[b, j]*log(yhat[b, j]) + (1 - y[b, j])*log(1 - yhat[b, j]))))
  minimize loss
}
""",
    "bce(sigmoid(z2), y) (std)": """
import "std"
model m {
  dim B = 8, D = 16
  input z2[B, D]
  input y[B, D]
  yhat = sigmoid(z2)
  loss = mean(b: sum(j: bce(yhat[b, j], y[b, j])))
  minimize loss
}
""",
}

SPLIT_SKIP = """
import "std"
model mlp_skip_split {
  dim B = 8, D = 16
  input x[B, D]
  input xs[B, D]                   # the skip stream's copy of x
  input y[B, D]
  a1 = relu(dense(x, D))
  z2 = dense(a1, D) + xs
  loss = mean(b: sum(j: bce_logits(z2[b, j], y[b, j])))
  output z2
  minimize loss
}
"""



def main():
    d = Derivation("MLP with a skip connection and BCE (mlp_skip): dJ/dz2 = yhat - y, two streams")
    rng = np.random.default_rng(3)

    # dJ/dz2 = (yhat - y)/B with z2 an input, in three spellings of the loss.
    z2 = f32(rng.normal(size=(B, D)) * 2)
    y = f32(rng.uniform(0, 1, size=(B, D)))
    y[0, :4] = [0, 1, 0, 1]
    for name, src in Z2_AS_INPUT.items():
        got = d.guard(f"run z2-input model, {name}", lambda: d.run(src, inputs={"z2": z2, "y": y}))
        if got is None:
            continue
        _, g = got
        d.close(f"{name}: dJ/dz2 = (yhat - y)/B", g["z2"], (sigmoid(z2) - y) / B)
        d.close(f"{name}: dJ/dy = -z2/B", g["y"], -z2 / B, atol=2e-6)

    # The same at logits of exactly 0 (zero-initialized heads): yhat = 1/2.
    z0 = np.zeros((B, D))
    y0 = f32(rng.uniform(0, 1, size=(B, D)))
    y0[0, :2] = [0, 1]
    for name, src in Z2_AS_INPUT.items():
        got = d.guard(f"run z2-input model at z2 = 0, {name}",
                      lambda: d.run(src, inputs={"z2": z0, "y": y0}))
        if got is None:
            continue
        d.close(f"{name}: dJ/dz2 = (1/2 - y)/B at z2 = 0", got[1]["z2"], (0.5 - y0) / B)

    # models/mlp_skip.grad by the chain rule.
    W1 = f32(rng.normal(size=(D, D)) * np.sqrt(2 / D))
    c1 = f32(rng.normal(size=D) * 0.1)
    W2 = f32(rng.normal(size=(D, D)) * np.sqrt(2 / D))
    c2 = f32(rng.normal(size=D) * 0.1)
    params = {"a1.W": W1, "a1.c": c1, "z2.W": W2, "z2.c": c2}
    x = f32(rng.normal(size=(B, D)))
    y = f32(rng.uniform(0, 1, size=(B, D)))
    got = d.guard("run models/mlp_skip.grad",
                  lambda: d.run(os.path.join(MODELS, "mlp_skip.grad"), inputs={"x": x, "y": y},
                                params=params))
    if got is not None:
        values, g = got
        pre1 = x @ W1.T + c1
        a1 = np.maximum(pre1, 0)
        z2 = a1 @ W2.T + c2 + x
        d.close("mlp_skip: z2 = W2 relu(W1 x + c1) + c2 + x", values["z2"], z2, rtol=1e-5, atol=1e-5)
        z2 = values["z2"]  # gradc's own forward values for the closed forms
        delta2 = (sigmoid(z2) - y) / B
        delta1 = (delta2 @ W2) * (pre1 > 0)
        main_stream, skip_stream = delta1 @ W1, delta2
        d.close("mlp_skip: dJ/dz2.c = sum_b (yhat - y)/B", g["z2.c"], delta2.sum(0))
        d.close("mlp_skip: dJ/dz2.W = delta2^T a1", g["z2.W"], delta2.T @ a1)
        d.close("mlp_skip: dJ/da1.c = sum_b delta1, delta1 = (delta2 W2) * 1[pre1 > 0]",
                g["a1.c"], delta1.sum(0))
        d.close("mlp_skip: dJ/da1.W = delta1^T x", g["a1.W"], delta1.T @ x)
        d.close("mlp_skip: dJ/dx = delta1 W1 (main) + delta2 (skip)", g["x"],
                main_stream + skip_stream)
        d.truth("mlp_skip: the skip stream is a real part of dJ/dx",
                np.abs(skip_stream).max() > 1e-3 and np.abs(main_stream).max() > 1e-3)
        d.close("mlp_skip: dJ/dy = -z2/B", g["y"], -z2 / B, atol=2e-6)

        split = d.guard("run the split-skip copy",
                        lambda: d.run(SPLIT_SKIP, inputs={"x": x, "xs": x, "y": y}, params=params))
        if split is not None:
            _, gs = split
            d.close("split: grad xs (the skip stream) = dJ/dz2 = (yhat - y)/B", gs["xs"], skip_stream)
            d.close("split: grad x (the main stream) = delta1 W1", gs["x"], main_stream)
            d.close("dJ/dx of mlp_skip = main stream + skip stream (both from gradc)", g["x"],
                    gs["x"] + gs["xs"])
    d.finish()


if __name__ == "__main__":
    main()
