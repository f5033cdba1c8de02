"""PyTorch references for the course models in models/.

One function per model file, named after the file, written from the lecture's equations
the way a PyTorch user would write them (torch.nn.functional layers, PyTorch's own RNN
cells with the weights copied in) and independently of the .grad text. check_models.py
runs each .grad file through `gradc run` and compares with the function registered here.

Every reference function takes
    I         the model's inputs by name (float64 tensors; int inputs as int64),
    P         its parameters and state by gradc's names (`a1.W`, `U.running_mean`), float64,
    N         its noise tensors by name, float64 (fed to gradc with --in),
    training  True for the training graph (`training` = 1), False for evaluation,
and returns the model's outputs, its minimized loss and its metrics by name. Images are
channels-last in the models (L[b, x, y, j]) and channels-first in PyTorch, so the CNN
references permute on the way in and out.
"""

from dataclasses import dataclass, field
from typing import Callable, Dict, Set

import torch
import torch.nn.functional as F
from torch.nn.utils.stateless import functional_call


@dataclass
class Spec:
    """How to test one model file."""

    fn: Callable                       # the reference function
    ints: Dict[str, str] = field(default_factory=dict)  # int input -> dim bounding its values
    unit: Set[str] = field(default_factory=set)          # f32 inputs drawn in [0, 1]
    train_mode: bool = False           # also compare the training graph (batchnorm, dropout)


MODELS: Dict[str, Spec] = {}


def reference(file, ints=None, unit=(), train_mode=False):
    """Registers `fn` as the reference for models/<file>.grad."""

    def register(fn):
        MODELS[file] = Spec(fn, dict(ints or {}), set(unit), train_mode)
        return fn

    return register


# --------------------------------------------------------------------- helpers ---

def nchw(t):
    """Channels-last [B, X, Y, J] -> PyTorch's channels-first [B, J, X, Y]."""
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    """Channels-first [B, J, X, Y] -> channels-last [B, X, Y, J]."""
    return t.permute(0, 2, 3, 1)


# check_bn_stats.py sets this to let F.batch_norm update P's running statistics.
UPDATE_RUNNING_STATS = False


def batch_norm(x, P, name, training):
    """std batchnorm `name` on a channels-first tensor: PyTorch's BatchNorm2d semantics.

    F.batch_norm updates the running statistics in place in training mode, so it gets
    copies (the forward value is what check_models.py compares), unless
    UPDATE_RUNNING_STATS asks for the update itself."""
    mean, var = P[name + ".running_mean"], P[name + ".running_var"]
    if not UPDATE_RUNNING_STATS:
        mean, var = mean.clone(), var.clone()
    return F.batch_norm(x, mean, var,
                        weight=P[name + ".gamma"], bias=P[name + ".beta"],
                        training=training, momentum=0.1, eps=1e-5)


def run_cell(cell, weights, x, state):
    """Runs a PyTorch RNN cell (nn.RNNCell, nn.GRUCell, nn.LSTMCell) with the given weights
    over x[B, T, K], from `state`; returns the per-step cell outputs, stacked along T.

    functional_call keeps the weights in the autograd graph, so gradients reach them."""
    outs = []
    for t in range(x.shape[1]):
        state = functional_call(cell, weights, (x[:, t], state))
        outs.append(state)
    return outs


def rnn_cell_weights(P, prefix, gates, input_bias=None, hidden_bias=None):
    """PyTorch's stacked cell weights from std's per-gate parameters `prefix.Wx<g>`,
    `prefix.Wh<g>`, `prefix.b<g>`. std has one bias per gate: it goes to bias_ih, and
    bias_hh is zero, unless `input_bias` and `hidden_bias` name the per-gate biases."""
    H = P[prefix + ".Wh" + gates[0]].shape[0]
    zero = torch.zeros(H, dtype=torch.float64)
    b_ih = input_bias or ["b" + g for g in gates]
    b_hh = [P[prefix + "." + b] if b else zero for b in (hidden_bias or [None] * len(gates))]
    return {
        "weight_ih": torch.cat([P[prefix + ".Wx" + g] for g in gates]),
        "weight_hh": torch.cat([P[prefix + ".Wh" + g] for g in gates]),
        "bias_ih": torch.cat([P[prefix + "." + b] for b in b_ih]),
        "bias_hh": torch.cat(b_hh),
    }


def accuracy(logits, labels):
    return (logits.argmax(-1) == labels).double().mean()


# ----------------------------------------------------------------- perceptrons ---

@reference("relu_net")
def relu_net(I, P, N, training):
    x, y = I["x"], I["y"]
    a = F.relu(torch.outer(x, P["W1"]) + P["b1"])      # hidden ReLUs, [B, K]
    yhat = a @ P["W2"] + P["b2"]
    return {"yhat": yhat, "loss": F.mse_loss(yhat, y)}


@reference("mlp_skip", unit=["y"])
def mlp_skip(I, P, N, training):
    x, y = I["x"], I["y"]
    a1 = F.relu(F.linear(x, P["a1.W"], P["a1.c"]))
    z2 = F.linear(a1, P["z2.W"], P["z2.c"]) + x
    # summed over features, averaged over the batch
    loss = F.binary_cross_entropy_with_logits(z2, y, reduction="sum") / x.shape[0]
    return {"z2": z2, "loss": loss}


@reference("ridge")
def ridge(I, P, N, training):
    yhat = I["X"] @ P["w"] + P["c"]
    loss = F.mse_loss(yhat, I["y"]) + 0.1 * P["w"].pow(2).sum()
    return {"yhat": yhat, "loss": loss}


@reference("perceptron_heads", unit=["y"])
def perceptron_heads(I, P, N, training):
    W, B, V, C = P["W"], P["B"], P["V"], P["C"]
    h, heads = I["x"], []
    for l in range(W.shape[0]):
        h = torch.sigmoid(h @ W[l].T - B[l])
        heads.append(torch.sigmoid(h @ V[l] - C[l]))
    q = torch.stack(heads)                               # [L, N]
    loss = sum(F.binary_cross_entropy(q[l], I["y"]) for l in range(len(heads)))
    return {"q": q, "loss": loss}


@reference("residual_perceptron", unit=["y"])
def residual_perceptron(I, P, N, training):
    W, B, V, C = P["W"], P["B"], P["V"], P["C"]
    h, hs, logits = I["x"], [], []
    for l in range(W.shape[0]):
        h = h + torch.sigmoid(h @ W[l].T - B[l])         # skip + residual correction
        hs.append(h)
        logits.append(h @ V[l] - C[l])
    s = torch.stack(logits)
    loss = sum(F.binary_cross_entropy_with_logits(s[l], I["y"]) for l in range(len(logits)))
    return {"h": torch.stack(hs), "s": s, "loss": loss}


# ---------------------------------------------------------- recurrent networks ---

@reference("rnn")
def vanilla_rnn(I, P, N, training):
    x, y = I["x"], I["y"]
    B, T, K = x.shape
    H = P["h.Whh"].shape[0]
    cell = torch.nn.RNNCell(K, H, nonlinearity="tanh")
    weights = {"weight_ih": P["h.Wxh"], "weight_hh": P["h.Whh"],
               "bias_ih": P["h.bh"], "bias_hh": torch.zeros(H, dtype=torch.float64)}
    h = torch.stack(run_cell(cell, weights, x, torch.zeros(B, H, dtype=torch.float64)), 1)
    p = F.linear(h, P["p.W"], P["p.c"])
    loss = (p - y).pow(2).sum() / B                      # Σ over steps and features, mean over b
    return {"h": h, "p": p, "loss": loss}


@reference("ugrnn")
def ugrnn(I, P, N, training):
    x, y = I["x"], I["y"]
    B, T, _ = x.shape
    h = torch.zeros(B, P["WhR"].shape[0], dtype=torch.float64)
    hs = []
    for t in range(T):
        R = torch.tanh(h @ P["WhR"].T + x[:, t] @ P["WxR"].T - P["BR"])
        G = torch.sigmoid(h @ P["WhG"].T + x[:, t] @ P["WxG"].T - P["BG"])
        h = G * h + (1 - G) * R
        hs.append(h)
    h = torch.stack(hs, 1)
    p = h @ P["Wout"].T
    loss = (p - y).pow(2).sum(-1).mean()
    return {"h": h, "loss": loss}


@reference("gru")
def gru_cho(I, P, N, training):
    """Cho et al.'s GRU: the reset gate multiplies the state before the product."""
    x, y = I["x"], I["y"]
    h, hs = I["h0"], []
    for t in range(x.shape[1]):
        xt = x[:, t]
        Q = torch.sigmoid(h @ P["WhQ"].T + xt @ P["WxQ"].T - P["BQ"])
        R = torch.tanh((Q * h) @ P["WhR"].T + xt @ P["WxR"].T - P["BR"])
        G = torch.sigmoid(h @ P["WhG"].T + xt @ P["WxG"].T - P["BG"])
        h = G * h + (1 - G) * R
        hs.append(h)
    h = torch.stack(hs, 1)
    p = h @ P["Wout"].T
    return {"h": h, "p": p, "loss": (p - y).pow(2).sum(-1).mean()}


@reference("lstm")
def lstm(I, P, N, training):
    x, y = I["x"], I["y"]
    B, T, K = x.shape
    H = P["h.Whi"].shape[0]
    cell = torch.nn.LSTMCell(K, H)                       # gate order i, f, g, o
    zero = torch.zeros(B, H, dtype=torch.float64)
    steps = run_cell(cell, rnn_cell_weights(P, "h", "ifgo"), x, (zero, zero))
    h = torch.stack([s[0] for s in steps], 1)
    c = torch.stack([s[1] for s in steps], 1)
    p = F.linear(h, P["p.W"], P["p.c"])
    return {"h": h, "c": c, "loss": (p - y).pow(2).sum(-1).mean()}


@reference("seq_classifier", ints={"y": "C"})
def seq_classifier(I, P, N, training):
    x, y = I["x"], I["y"]
    B, T, K = x.shape
    H = P["h.Whr"].shape[0]
    cell = torch.nn.GRUCell(K, H)                        # gate order r, z, n
    weights = rnn_cell_weights(P, "h", "rzn", input_bias=["br", "bz", "bxn"],
                               hidden_bias=[None, None, "bhn"])
    h = run_cell(cell, weights, x, torch.zeros(B, H, dtype=torch.float64))[-1]
    z = F.linear(h, P["z.W"], P["z.c"])
    return {"z": z, "loss": F.cross_entropy(z, y), "acc": accuracy(z, y)}


@reference("lm", ints={"tok": "V", "next": "V"})
def lm(I, P, N, training):
    tok, nxt = I["tok"], I["next"]
    e = F.embedding(tok, P["e.E"])                      # [B, T, D]
    h = torch.zeros(tok.shape[0], P["h.WhR"].shape[0], dtype=torch.float64)
    hs = []
    for t in range(tok.shape[1]):                        # std's UGRNN, biases added
        R = torch.tanh(F.linear(e[:, t], P["h.WxR"]) + F.linear(h, P["h.WhR"]) + P["h.bR"])
        G = torch.sigmoid(F.linear(e[:, t], P["h.WxG"]) + F.linear(h, P["h.WhG"]) + P["h.bG"])
        h = G * h + (1 - G) * R
        hs.append(h)
    z = F.linear(torch.stack(hs, 1), P["Wout"], P["cout"])   # [B, T, V]
    V = z.shape[-1]
    return {"logp": F.log_softmax(z, -1),
            "loss": F.cross_entropy(z.reshape(-1, V), nxt.reshape(-1)),
            "acc": accuracy(z, nxt)}


# ------------------------------------------------------------------------ CNNs ---

@reference("resnet_bn", ints={"label": "C"}, train_mode=True)
def resnet_bn(I, P, N, training):
    img, label = nchw(I["img"]), I["label"]
    L0 = F.relu(F.conv2d(img, P["W0"], P["c0"], padding=1))
    A = F.conv2d(L0, P["W1"], padding=1)
    An = F.batch_norm(A, P["mean1"].clone(), P["var1"].clone(), P["gamma1"], P["beta1"],
                      training=training, momentum=0.1, eps=1e-5)
    R = F.conv2d(F.relu(An), P["W2"], padding=1)
    L1 = F.relu(L0 + batch_norm(R, P, "L1", training))
    pooled = F.max_pool2d(L1, 2).mean((2, 3))           # 2×2 max pool, global average
    z = F.linear(pooled, P["Wc"], P["cc"])
    return {"L1": nhwc(L1), "z": z, "loss": F.cross_entropy(z, label),
            "acc": accuracy(z, label)}


@reference("resnet3_bn", ints={"label": "K"}, train_mode=True)
def resnet3_bn(I, P, N, training):
    def conv(x, name):
        return F.conv2d(x, P[name + ".W"], P[name + ".c"], padding=1)

    S = F.relu(batch_norm(conv(nchw(I["img"]), "A0"), P, "S0", training))
    for k in (1, 2, 3):
        U = F.relu(batch_norm(conv(S, "A%d" % k), P, "U%d" % k, training))
        S = F.relu(S + batch_norm(conv(U, "B%d" % k), P, "N%d" % k, training))
    z = F.linear(S.mean((2, 3)), P["z.W"], P["z.c"])
    label = I["label"]
    return {"z": z, "loss": F.cross_entropy(z, label), "acc": accuracy(z, label)}


@reference("reduction_block")
def reduction_block(I, P, N, training):
    L = nchw(I["L"])
    R1 = F.relu(F.conv2d(L, P["R1.W"], P["R1.c"], stride=2, padding=1))
    R = F.conv2d(R1, P["R.W"], P["R.c"], padding=1)
    J, J2 = L.shape[1], R.shape[1]
    Lt = F.pad(L[:, :, ::2, ::2], (0, 0, 0, 0, 0, J2 - J))   # subsample, zero channels
    L2 = nhwc(Lt + R)
    return {"L2": L2, "loss": F.mse_loss(L2, I["target"])}


@reference("bottleneck", train_mode=True)
def bottleneck(I, P, N, training):
    L = nchw(I["L"])
    U = F.relu(batch_norm(F.conv2d(L, P["A.W"], P["A.c"]), P, "U", training))
    V = F.relu(batch_norm(F.conv2d(U, P["Cv.W"], P["Cv.c"], padding=1), P, "V", training))
    R = batch_norm(F.conv2d(V, P["Cr.W"], P["Cr.c"]), P, "R", training)
    L2 = nhwc(F.relu(L + R))
    return {"L2": L2, "loss": F.mse_loss(L2, I["target"])}


# -------------------------------------------------------- energy-based models ---

@reference("sparse_coding")
def sparse_coding(I, P, N, training):
    y, W, z = I["y"], P["W"], P["z"]
    recon = (y - z @ W.T).pow(2).sum(1)                 # ‖y - Wz‖² per example
    energy = recon + 0.1 * z.abs().sum(1)
    return {"energy": energy, "loss": energy.mean()}


@reference("vae", unit=["x"])
def vae(I, P, N, training):
    x, eps = I["x"], N["eps"]
    h = F.relu(F.linear(x, P["h.W"], P["h.c"]))
    mu = F.linear(h, P["mu.W"], P["mu.c"])
    logvar = F.linear(h, P["logvar.W"], P["logvar.c"])
    z = mu + torch.exp(0.5 * logvar) * eps
    xlogit = F.linear(F.relu(F.linear(z, P["g.W"], P["g.c"])), P["xlogit.W"], P["xlogit.c"])
    recon = F.binary_cross_entropy_with_logits(xlogit, x, reduction="sum") / x.shape[0]
    kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(1).mean()
    return {"mu": mu, "logvar": logvar, "xlogit": xlogit, "recon": recon, "kl": kl,
            "loss": recon + kl}


@reference("infonce")
def infonce(I, P, N, training):
    fu = torch.tanh(I["u"] @ P["Wf"].T)
    gv = torch.tanh(I["v"] @ P["Wg"].T)
    s = F.cosine_similarity(fu[:, None, :], gv[None, :, :], dim=-1)   # [B, B]
    positives = torch.arange(s.shape[0])
    return {"s": s, "loss": F.cross_entropy(s / 0.1, positives),
            "top1": accuracy(s, positives)}


# ------------------------------------------------------------- classification ---

@reference("mlp_classifier", ints={"y": "C"}, train_mode=True)
def mlp_classifier(I, P, N, training):
    x, y = I["x"], I["y"]
    z1 = F.linear(x, P["z1.W"], P["z1.c"])
    a = F.layer_norm(z1, z1.shape[-1:], P["a.gamma"], P["a.beta"], eps=1e-5)
    h = F.relu(a)
    if training:                                         # dropout, p = 0.25, mask from the noise
        h = h * (N["h.dropout.u"] >= 0.25) / 0.75
    z = F.linear(h, P["z.W"], P["z.c"])
    return {"z": z, "loss": F.cross_entropy(z, y), "acc": accuracy(z, y)}
