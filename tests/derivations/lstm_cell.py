"""The LSTM cell's backward pass, derived by hand (the lecture's LSTM slides
and the midterm's "LSTMs don't solve vanishing gradient"):

    c_t = f ⊙ c_{t−1} + i ⊙ g,        h_t = o ⊙ tanh(c_t)

With δh the gradient arriving at h_t and δc_next the one arriving at c_t
from later steps (and any loss on c_t):
    δc_t     = δc_next + δh ⊙ o ⊙ (1 − tanh² c_t)
    δf       = δc_t ⊙ c_{t−1}       δi = δc_t ⊙ g       δg = δc_t ⊙ i
    δo       = δh ⊙ tanh(c_t)       δc_{t−1} = δc_t ⊙ f
and through the nonlinearities δz_f = δf f(1−f), δz_i = δi i(1−i),
δz_o = δo o(1−o), δz_g = δg (1−g²); the weights collect Σ_t δz ⊗ x_t and
Σ_t δz ⊗ h_{t−1}, the previous state δh_{t−1} = Σ_gates U_gateᵀ δz.

1. One cell with its gates as inputs: gradc's gradients with respect to f,
   i, g, o and c_{t−1} are δf, δi, δg, δo and δc_{t−1} themselves.
2. A written-out LSTM over T steps (boundary h0, c0 parameters) and
   3. models/lstm.grad (the std lstm under a dense head and a squared loss):
   the hand BPTT in NumPy against every gradient gradc computes.
"""
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from common import MODELS, Derivation, f32, sigmoid  # noqa: E402

CELL = """
model cell {
  dim B = 3, H = 4
  input f[B, H]
  input ig[B, H]
  input g[B, H]
  input o[B, H]
  input cprev[B, H]
  input dh[B, H]                 # the gradient arriving at h_t
  input dcnext[B, H]             # the gradient arriving at c_t from later steps
  c[b, j] = f[b, j]*cprev[b, j] + ig[b, j]*g[b, j]
  h[b, j] = o[b, j]*tanh(c[b, j])
  loss = sum(b, j: dh[b, j]*h[b, j] + dcnext[b, j]*c[b, j])
  output c, h
  minimize loss
}
"""

LSTM = """
model lstm_bptt {
  dim B = 2, T = 5, K = 3, H = 4
  input x[B, T, K]
  input rh[B, T, H]              # dL/dh_t from the loss
  input rc[B, T, H]              # dL/dc_t from the loss
  param Wi[H, K] = xavier() ; param Ui[H, H] = xavier() ; param bi[H] = zeros()
  param Wf[H, K] = xavier() ; param Uf[H, H] = xavier() ; param bf[H] = ones()
  param Wg[H, K] = xavier() ; param Ug[H, H] = xavier() ; param bg[H] = zeros()
  param Wo[H, K] = xavier() ; param Uo[H, H] = xavier() ; param bo[H] = zeros()
  param h0[H] = zeros()
  param c0[H] = zeros()
  ig[b, t, j] = sigmoid(Wi[j, k]*x[b, t, k] + Ui[j, i]*h[b, t-1, i] + bi[j])
  f[b, t, j] = sigmoid(Wf[j, k]*x[b, t, k] + Uf[j, i]*h[b, t-1, i] + bf[j])
  g[b, t, j] = tanh(Wg[j, k]*x[b, t, k] + Ug[j, i]*h[b, t-1, i] + bg[j])
  o[b, t, j] = sigmoid(Wo[j, k]*x[b, t, k] + Uo[j, i]*h[b, t-1, i] + bo[j])
  c[b, t, j] = f[b, t, j]*c[b, t-1, j] + ig[b, t, j]*g[b, t, j]
  h[b, t, j] = o[b, t, j]*tanh(c[b, t, j])
  h[b, -1, j] = h0[j]
  c[b, -1, j] = c0[j]
  loss = sum(b, t, j: rh[b, t, j]*h[b, t, j] + rc[b, t, j]*c[b, t, j])
  output h, c
  minimize loss
}
"""

GATES = ("i", "f", "g", "o")


def lstm_forward(x, W, U, bias, h0, c0):
    """x [B, T, K]; W[gate] [H, K], U[gate] [H, H], bias[gate] [H]; h0, c0 [B, H]."""
    B, T, _ = x.shape
    H = h0.shape[1]
    s = {k: np.zeros((B, T, H)) for k in ("i", "f", "g", "o", "c", "h")}
    hp, cp = h0, c0
    for t in range(T):
        z = {q: x[:, t] @ W[q].T + hp @ U[q].T + bias[q] for q in GATES}
        s["i"][:, t], s["f"][:, t], s["o"][:, t] = sigmoid(z["i"]), sigmoid(z["f"]), sigmoid(z["o"])
        s["g"][:, t] = np.tanh(z["g"])
        s["c"][:, t] = s["f"][:, t] * cp + s["i"][:, t] * s["g"][:, t]
        s["h"][:, t] = s["o"][:, t] * np.tanh(s["c"][:, t])
        hp, cp = s["h"][:, t], s["c"][:, t]
    return s


def lstm_backward(x, W, U, s, h0, c0, dh_ext, dc_ext):
    """The hand-derived BPTT; dh_ext, dc_ext [B, T, H] are the loss's gradients."""
    B, T, _ = x.shape
    grads = {f"W{q}": np.zeros_like(W[q]) for q in GATES}
    grads.update({f"U{q}": np.zeros_like(U[q]) for q in GATES})
    grads.update({f"b{q}": np.zeros(W[q].shape[0]) for q in GATES})
    dx = np.zeros_like(x)
    dh_rec = np.zeros_like(h0)   # δh arriving from step t+1
    dc_next = np.zeros_like(c0)  # δc arriving from step t+1 (through f_{t+1})
    for t in reversed(range(T)):
        i, f, g, o, c = (s[k][:, t] for k in ("i", "f", "g", "o", "c"))
        c_prev = s["c"][:, t - 1] if t > 0 else c0
        h_prev = s["h"][:, t - 1] if t > 0 else h0
        dh = dh_ext[:, t] + dh_rec
        dc = dc_ext[:, t] + dc_next + dh * o * (1 - np.tanh(c) ** 2)
        d_gate = {"f": dc * c_prev, "i": dc * g, "g": dc * i, "o": dh * np.tanh(c)}
        dz = {"f": d_gate["f"] * f * (1 - f), "i": d_gate["i"] * i * (1 - i),
              "g": d_gate["g"] * (1 - g ** 2), "o": d_gate["o"] * o * (1 - o)}
        for q in GATES:
            grads[f"W{q}"] += dz[q].T @ x[:, t]
            grads[f"U{q}"] += dz[q].T @ h_prev
            grads[f"b{q}"] += dz[q].sum(0)
            dx[:, t] += dz[q] @ W[q]
        dh_rec = sum(dz[q] @ U[q] for q in GATES)
        dc_next = dc * f
    grads["x"], grads["h0"], grads["c0"] = dx, dh_rec, dc_next
    return grads


def check_cell(d, rng):
    B, H = 3, 4
    f = f32(sigmoid(rng.normal(size=(B, H))))
    i = f32(sigmoid(rng.normal(size=(B, H))))
    g = f32(np.tanh(rng.normal(size=(B, H))))
    o = f32(sigmoid(rng.normal(size=(B, H))))
    c_prev = f32(rng.normal(size=(B, H)))
    dh = f32(rng.normal(size=(B, H)))
    dc_next = f32(rng.normal(size=(B, H)))
    got = d.guard("run the single cell", lambda: d.run(CELL, inputs={
        "f": f, "ig": i, "g": g, "o": o, "cprev": c_prev, "dh": dh, "dcnext": dc_next}))
    if got is None:
        return
    values, gr = got
    c = f * c_prev + i * g
    d.close("cell: c_t = f c_{t-1} + i g", values["c"], c)
    d.close("cell: h_t = o tanh(c_t)", values["h"], o * np.tanh(c))
    dc = dc_next + dh * o * (1 - np.tanh(c) ** 2)
    d.close("cell: delta c_{t-1} = delta c_t f, delta c_t = delta c_next + delta h o (1 - tanh^2 c_t)",
            gr["cprev"], dc * f)
    d.close("cell: delta f = delta c_t c_{t-1}", gr["f"], dc * c_prev)
    d.close("cell: delta i = delta c_t g", gr["ig"], dc * g)
    d.close("cell: delta g = delta c_t i", gr["g"], dc * i)
    d.close("cell: delta o = delta h tanh(c_t)", gr["o"], dh * np.tanh(c))
    d.close("cell: dL/d(delta h) = h_t", gr["dh"], o * np.tanh(c))
    d.close("cell: dL/d(delta c_next) = c_t", gr["dcnext"], c)


def check_bptt(d, rng):
    B, T, K, H = 2, 5, 3, 4
    p = {}
    for q in GATES:
        p[f"W{q}"] = f32(rng.normal(size=(H, K)) * 0.6)
        p[f"U{q}"] = f32(rng.normal(size=(H, H)) * 0.6)
        p[f"b{q}"] = f32(rng.normal(size=H) * 0.3)
    p["h0"] = f32(rng.normal(size=H) * 0.5)
    p["c0"] = f32(rng.normal(size=H) * 0.5)
    x = f32(rng.normal(size=(B, T, K)))
    rh = f32(rng.normal(size=(B, T, H)))
    rc = f32(rng.normal(size=(B, T, H)) * 0.5)
    got = d.guard("run the written-out LSTM", lambda: d.run(LSTM, inputs={"x": x, "rh": rh, "rc": rc},
                                                            params=p))
    if got is None:
        return
    values, gr = got
    W = {q: p[f"W{q}"] for q in GATES}
    U = {q: p[f"U{q}"] for q in GATES}
    bias = {q: p[f"b{q}"] for q in GATES}
    h0 = np.broadcast_to(p["h0"], (B, H))
    c0 = np.broadcast_to(p["c0"], (B, H))
    s = lstm_forward(x, W, U, bias, h0, c0)
    d.close("lstm: forward h", values["h"], s["h"])
    d.close("lstm: forward c", values["c"], s["c"])
    hand = lstm_backward(x, W, U, s, h0, c0, rh, rc)
    for q in GATES:
        d.close(f"lstm: dL/dW{q} = sum_t delta z_{q} x_t^T", gr[f"W{q}"], hand[f"W{q}"])
        d.close(f"lstm: dL/dU{q} = sum_t delta z_{q} h_(t-1)^T", gr[f"U{q}"], hand[f"U{q}"])
        d.close(f"lstm: dL/db{q} = sum_t,b delta z_{q}", gr[f"b{q}"], hand[f"b{q}"])
    d.close("lstm: dL/dx_t = sum_gates W^T delta z", gr["x"], hand["x"])
    d.close("lstm: dL/dh0 = sum_b sum_gates U^T delta z at t = 0", gr["h0"], hand["h0"].sum(0))
    d.close("lstm: dL/dc0 = sum_b delta c_0 f_0", gr["c0"], hand["c0"].sum(0))


def check_std_model(d, rng):
    """models/lstm.grad: h, c = lstm(x, H); p = dense(h, K); loss = mean_bt sum_k (p - y)^2."""
    B, T, K, H = 4, 6, 5, 8
    p = {}
    for q in GATES:
        p[f"h.Wx{q}"] = f32(rng.normal(size=(H, K)) * 0.5)
        p[f"h.Wh{q}"] = f32(rng.normal(size=(H, H)) * 0.4)
        p[f"h.b{q}"] = f32(rng.normal(size=H) * 0.2)
    p["p.W"] = f32(rng.normal(size=(K, H)) * 0.4)
    p["p.c"] = f32(rng.normal(size=K) * 0.1)
    x = f32(rng.normal(size=(B, T, K)))
    y = f32(rng.normal(size=(B, T, K)))
    got = d.guard("run models/lstm.grad", lambda: d.run(os.path.join(MODELS, "lstm.grad"),
                                                        inputs={"x": x, "y": y}, params=p))
    if got is None:
        return
    values, gr = got
    W = {q: p[f"h.Wx{q}"] for q in GATES}
    U = {q: p[f"h.Wh{q}"] for q in GATES}
    bias = {q: p[f"h.b{q}"] for q in GATES}
    zeros = np.zeros((B, H))
    s = lstm_forward(x, W, U, bias, zeros, zeros)
    d.close("models/lstm.grad: forward h", values["h"], s["h"])
    pred = s["h"] @ p["p.W"].T + p["p.c"]
    dp = 2 * (pred - y) / (B * T)
    dh_ext = dp @ p["p.W"]
    hand = lstm_backward(x, W, U, s, zeros, zeros, dh_ext, np.zeros_like(dh_ext))
    for q in GATES:
        d.close(f"models/lstm.grad: dJ/dh.Wx{q}", gr[f"h.Wx{q}"], hand[f"W{q}"])
        d.close(f"models/lstm.grad: dJ/dh.Wh{q}", gr[f"h.Wh{q}"], hand[f"U{q}"])
        d.close(f"models/lstm.grad: dJ/dh.b{q}", gr[f"h.b{q}"], hand[f"b{q}"])
    d.close("models/lstm.grad: dJ/dp.W = sum dp h^T", gr["p.W"],
            np.einsum("btk,btj->kj", dp, s["h"]))
    d.close("models/lstm.grad: dJ/dp.c = sum dp", gr["p.c"], dp.sum((0, 1)))
    d.close("models/lstm.grad: dJ/dx", gr["x"], hand["x"])
    d.close("models/lstm.grad: dJ/dy = -dp", gr["y"], -dp)


def main():
    d = Derivation("LSTM cell: delta c_t = delta c_next + delta h o (1 - tanh^2 c_t), delta f = delta c_t c_(t-1), ...")
    rng = np.random.default_rng(11)
    check_cell(d, rng)
    check_bptt(d, rng)
    check_std_model(d, rng)
    d.finish()


if __name__ == "__main__":
    main()
