"""PyTorch (eager, float32) versions of the benchmarked models, written as a PyTorch user
writes them: nn.functional layers and hand-written recurrent cells whose gate products are
one matrix product each (the fused form, as in torch.nn.LSTMCell). They compute the same
functions as the .grad files at the same shapes; tests/torch/reference_models.py is where
equality of values is checked, this file only times them.

Each builder takes the dims and returns (params, inputs, forward) where forward(params,
inputs) returns the loss; parameters require grad, so loss.backward() is the backward pass.
"""

import torch
import torch.nn.functional as F


def _param(*shape, scale=None):
    fan_in = shape[-1] if len(shape) > 1 else shape[0]
    scale = scale if scale is not None else (2.0 / fan_in) ** 0.5
    return (torch.randn(*shape) * scale).requires_grad_()


def _zeros(*shape):
    return torch.zeros(*shape).requires_grad_()


def mlp_skip(d):
    B, D = d["B"], d["D"]
    p = {"W1": _param(D, D), "c1": _zeros(D), "W2": _param(D, D), "c2": _zeros(D)}
    inputs = {"x": torch.randn(B, D), "y": torch.rand(B, D)}

    def forward(p, i):
        a1 = F.relu(F.linear(i["x"], p["W1"], p["c1"]))
        z2 = F.linear(a1, p["W2"], p["c2"]) + i["x"]
        return F.binary_cross_entropy_with_logits(z2, i["y"], reduction="sum") / B

    return p, inputs, forward


def _recurrent(d, gates, cell):
    B, T, K, H = d["B"], d["T"], d["K"], d["H"]
    p = {"Wx": _param(gates * H, K), "Wh": _param(gates * H, H), "b": _zeros(gates * H),
         "Wp": _param(K, H), "cp": _zeros(K)}
    inputs = {"x": torch.randn(B, T, K), "y": torch.randn(B, T, K)}

    def forward(p, i):
        x = i["x"]
        state = None
        hs = []
        for t in range(T):
            # The step's input product inside the loop, as in a hand-written cell (and as
            # the .grad model computes it); slicing a precomputed product instead makes
            # PyTorch's backward allocate and zero a full-size gradient at every step.
            h, state = cell(F.linear(x[:, t], p["Wx"], p["b"]), state, p, B, H)
            hs.append(h)
        out = F.linear(torch.stack(hs, 1), p["Wp"], p["cp"])
        return (out - i["y"]).pow(2).sum(-1).mean()

    return p, inputs, forward


def _lstm_cell(xt, state, p, B, H):
    h, c = state if state is not None else (torch.zeros(B, H), torch.zeros(B, H))
    g = xt + h @ p["Wh"].t()
    i, f, gg, o = g.chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, (h, c)


def _gru_cell(xt, state, p, B, H):
    h = state if state is not None else torch.zeros(B, H)
    gh = h @ p["Wh"].t()
    xr, xz, xn = xt.chunk(3, 1)
    hr, hz, hn = gh.chunk(3, 1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    h = (1 - z) * n + z * h
    return h, h


def _rnn_cell(xt, state, p, B, H):
    h = state if state is not None else torch.zeros(B, H)
    h = torch.tanh(xt + h @ p["Wh"].t())
    return h, h


def lstm(d):
    return _recurrent(d, 4, _lstm_cell)


def gru(d):
    return _recurrent(d, 3, _gru_cell)


def rnn(d):
    return _recurrent(d, 1, _rnn_cell)


def resnet3_bn(d):
    B, X, Y, I, C, K = d["B"], d["X"], d["Y"], d["I"], d["C"], d["K"]
    p = {"A0": _param(C, I, 3, 3, scale=(2.0 / (9 * I)) ** 0.5), "a0": _zeros(C)}
    for k in (1, 2, 3):
        p["A%d" % k] = _param(C, C, 3, 3, scale=(2.0 / (9 * C)) ** 0.5)
        p["B%d" % k] = _param(C, C, 3, 3, scale=(2.0 / (9 * C)) ** 0.5)
        p["a%d" % k], p["b%d" % k] = _zeros(C), _zeros(C)
    for n in ["S0"] + ["U%d" % k for k in (1, 2, 3)] + ["N%d" % k for k in (1, 2, 3)]:
        p[n + ".g"] = torch.ones(C).requires_grad_()
        p[n + ".b"] = _zeros(C)
    p["Wz"], p["cz"] = _param(K, C), _zeros(K)
    inputs = {"img": torch.randn(B, I, X, Y), "label": torch.randint(0, K, (B,))}

    def bn(x, n):
        return F.batch_norm(x, None, None, p[n + ".g"], p[n + ".b"], training=True, eps=1e-5)

    def forward(p, i):
        S = F.relu(bn(F.conv2d(i["img"], p["A0"], p["a0"], padding=1), "S0"))
        for k in (1, 2, 3):
            U = F.relu(bn(F.conv2d(S, p["A%d" % k], p["a%d" % k], padding=1), "U%d" % k))
            S = F.relu(S + bn(F.conv2d(U, p["B%d" % k], p["b%d" % k], padding=1), "N%d" % k))
        z = F.linear(S.mean((2, 3)), p["Wz"], p["cz"])
        return F.cross_entropy(z, i["label"])

    return p, inputs, forward


BUILDERS = {"mlp_skip": mlp_skip, "lstm": lstm, "gru": gru, "rnn": rnn,
            "resnet3_bn": resnet3_bn}
