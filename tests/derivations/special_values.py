"""The gradient rules at special values (LANGUAGE.md, docs/autodiff.md):

- relu and abs have derivative 0 at exactly 0 (so does std l1); max(x, 0)
  at x = 0, a tie, gives its gradient to the first argument, x.
- max(a, b) and min(a, b) give a tie to the first argument (a constant one
  too); clip(x, lo, hi) at a bound gives it to x (docs/language.md);
  leaky_relu(x, a) has slope a at 0, as in PyTorch.
- The max and min reductions (and max pooling) send the gradient to the first
  extreme element, a zero-padded position included; argmax returns the first
  maximal position.
- Comparisons and where conditions pass no gradient; stop_gradient cuts it.
- where(c, a, b) whose untaken branch is infinite or NaN (log(0), log of a
  negative, sqrt's slope at 0, 1/0, exp overflow, a contraction with an
  infinite factor) gives the taken branch's finite gradient.
- The stabilized forms (log sigmoid, log(1 - sigmoid), log softmax,
  log-sum-exp, softplus, bce_logits) stay finite at logits of ±800..1000.
- Powers at 0: u^0 has gradient 0 (not 0 * inf), u^1 gradient 1, u^2 and u^3
  gradient 0.
- std bce at probabilities of exactly 0 and 1 (its logs clamped at -100).
- gradcheck itself fails on a NaN gradient.
"""
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from common import Derivation  # noqa: E402



def model(body, decls, name="sv"):
    return f'import "std"\nmodel {name} {{\n{decls}\n{body}\n}}\n'


def kinks(d):
    x = np.array([0.0, -1.5, 2.0, 0.0, 0.5, -0.0])
    r = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    src = model("""
  y[n] = relu(x[n])
  a[n] = abs(x[n])
  loss = sum(n: r[n]*y[n])
  minimize loss
""", "  dim N = 6\n  input x[N]\n  input r[N]")
    got = d.guard("run relu", lambda: d.run(src, inputs={"x": x, "r": r}))
    if got:
        d.exact("relu'(0) = 0 (and 1 above 0, 0 below)", got[1]["x"], r * (x > 0))
    src = model("""
  loss = sum(n: r[n]*abs(x[n]))
  minimize loss
""", "  dim N = 6\n  input x[N]\n  input r[N]")
    got = d.guard("run abs", lambda: d.run(src, inputs={"x": x, "r": r}))
    if got:
        d.exact("abs'(0) = 0 (sign elsewhere)", got[1]["x"], r * np.sign(x))
    src = model("""
  loss = l1(x)
  minimize loss
""", "  dim N = 6\n  input x[N]")
    got = d.guard("run l1", lambda: d.run(src, inputs={"x": x}))
    if got:
        d.exact("std l1: d|x|/dx = 0 at 0", got[1]["x"], np.sign(x))
    src = model("""
  loss = sum(n: r[n]*max(x[n], 0))
  minimize loss
""", "  dim N = 6\n  input x[N]\n  input r[N]")
    got = d.guard("run max(x, 0)", lambda: d.run(src, inputs={"x": x, "r": r}))
    if got:
        d.exact("max(x, 0) at x = 0 is a tie: the gradient goes to x (unlike relu)",
                got[1]["x"], r * (x >= 0))
    # relu(w x) at x = 0: the parameter's gradient is 0 too.
    src = model("""
  loss = sum(n: relu(w*x[n] + c))
  minimize loss
""", "  dim N = 6\n  input x[N]\n  param w = constant(1.5)\n  param c = zeros()")
    got = d.guard("run relu(w x + c)", lambda: d.run(src, inputs={"x": x}))
    if got:
        d.exact("relu(w x + c) with pre-activation 0: no gradient to w or c from those elements",
                np.array([got[1]["w"], got[1]["c"]]),
                np.array([np.sum(x * (x > 0)), np.sum(x > 0)]))


def ties(d):
    a = np.array([1.0, 2.0, -3.0, 0.0, 5.0])
    b = np.array([1.0, 3.0, -3.0, 0.0, 4.0])
    r = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    q = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    src = model("""
  loss = sum(n: r[n]*max(a[n], b[n]) + q[n]*min(a[n], b[n]))
  minimize loss
""", "  dim N = 5\n  input a[N]\n  input b[N]\n  input r[N]\n  input q[N]")
    got = d.guard("run max/min ties", lambda: d.run(src, inputs={"a": a, "b": b, "r": r, "q": q}))
    if got:
        g = got[1]
        d.exact("max(a, b) and min(a, b): a tie's gradient goes to a", g["a"],
                r * (a >= b) + q * (a <= b))
        d.exact("max(a, b) and min(a, b): b gets nothing at a tie", g["b"],
                r * (b > a) + q * (b < a))
    # A constant first argument wins its ties too; leaky_relu(0, a) has PyTorch's slope a.
    x = np.array([0.0, 0.5, -1.0])
    src = model("""
  loss = sum(n: leaky_relu(x[n], 0.1) + 10*max(0, x[n]) + 100*min(0.5, x[n]))
  minimize loss
""", "  dim N = 3\n  input x[N]")
    got = d.guard("run constant-first ties", lambda: d.run(src, inputs={"x": x}))
    if got:
        d.close("max(0, x) at x = 0 and min(0.5, x) at x = 0.5: the tie goes to the constant; "
                "leaky_relu'(0) = a", got[1]["x"], np.array([0.1 + 0 + 100, 1 + 10 + 0, 0.1 + 0 + 100]),
                rtol=1e-7, atol=0)
    x = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    src = model("""
  loss = sum(n: r[n]*clip(x[n], -1, 0.5))
  minimize loss
""", "  dim N = 7\n  input x[N]\n  input r[N]")
    rr = np.arange(1.0, 8.0)
    got = d.guard("run clip", lambda: d.run(src, inputs={"x": x, "r": rr}))
    if got:
        d.exact("clip(x, lo, hi): gradient 1 inside and at the bounds, 0 outside", got[1]["x"],
                rr * ((x >= -1) & (x <= 0.5)))


def reductions(d):
    x = np.array([1.0, 3.0, 0.0, 3.0, 3.0, 2.0])
    src = model("""
  loss = max(n: x[n]) + 10*min(n: x[n] - 3*where(n == 5, 1, 0))
  minimize loss
""", "  dim N = 6\n  input x[N]")
    # min's argument: [1, 3, 0, 3, 3, -1] -> unique minimum at 5; and a tie for min below.
    got = d.guard("run max reduction", lambda: d.run(src, inputs={"x": x}))
    if got:
        d.exact("max(n: x): the first maximal element gets the gradient",
                got[1]["x"], np.array([0, 1, 0, 0, 0, 10.0]))
    x2 = np.array([4.0, 0.0, 2.0, 0.0, 0.0])
    src = model("""
  loss = min(n: x[n])
  minimize loss
""", "  dim N = 5\n  input x[N]")
    got = d.guard("run min reduction", lambda: d.run(src, inputs={"x": x2}))
    if got:
        d.exact("min(n: x): the first minimal element gets the gradient",
                got[1]["x"], np.array([0, 1.0, 0, 0, 0]))
    X = np.array([[1.0, 0.0, 7.0, 7.0], [7.0, 2.0, 3.0, 7.0], [0.0, 7.0, 1.0, 1.0]])
    src = model("""
  m2 = max(i, j: X[i, j])
  rowmax[i] = max(j: X[i, j])
  colmin[j] = min(i: X[i, j])
  loss = m2 + 10*sum(i: rowmax[i]) + 100*sum(j: colmin[j])
  minimize loss
""", "  dim I = 3, J = 4\n  input X[I, J]")
    got = d.guard("run several-axis max", lambda: d.run(src, inputs={"X": X}))
    if got:
        exp = np.zeros_like(X)
        exp[0, 2] += 1                                  # first of the maxima in row-major order
        exp[0, 2] += 10; exp[1, 0] += 10; exp[2, 1] += 10  # first maximum of each row
        exp[2, 0] += 100; exp[0, 1] += 100; exp[2, 2] += 100; exp[2, 3] += 100  # first minimum per column
        d.exact("max(i, j: X): the first maximum in row-major order; per-row and per-column ties "
                "to the first", got[1]["X"], exp)
    # Max pooling over a window of equal values (a ReLU's zeros): the first position.
    img = np.zeros((1, 4, 4, 1))
    img[0, 2, 2, 0] = img[0, 3, 3, 0] = 5.0  # the bottom-right window: a tie at 5
    src = model("""
  P[b, x, y, j] = max(dx in 0..2, dy in 0..2: L[b, 2*x + dx, 2*y + dy, j]) for x in 0..2, y in 0..2
  loss = sum(b, x, y, j: P[b, x, y, j])
  minimize loss
""", "  dim B = 1, X = 4, J = 1\n  input L[B, X, X, J]")
    got = d.guard("run max pooling ties", lambda: d.run(src, inputs={"L": img}))
    if got:
        exp = np.zeros_like(img)
        exp[0, 0, 0, 0] = exp[0, 0, 2, 0] = exp[0, 2, 0, 0] = exp[0, 2, 2, 0] = 1
        d.exact("max pooling: each tied window's gradient goes to its first position (dx = dy = 0)",
                got[1]["L"], exp)
    # A padded window: out-of-bounds reads are 0 and take part in the max; a window
    # whose first maximal element is padding sends its gradient nowhere.
    src = model("""
  Q[x] = max(d in 0..3: L[x + d - 1]) for x in 0..N
  loss = sum(x: Q[x])
  output Q
  minimize loss
""", "  dim N = 3\n  input L[N]")
    for Lv, q, gl in (([-1.0, -2.0, -3.0], [0, -1, 0], [1, 0, 0]), ([0.0, -1.0, 5.0], [0, 5, 5], [0, 0, 2])):
        got = d.guard("run padded max window", lambda: d.run(src, inputs={"L": np.array(Lv)}))
        if got:
            d.exact(f"max over a zero-padded window, L = {Lv}: values", got[0]["Q"], np.array(q, float))
            d.exact(f"max over a zero-padded window, L = {Lv}: padding that is the first maximum "
                    "takes the gradient (L gets none from that window)", got[1]["L"], np.array(gl, float))
    # argmax returns the first maximum; the logit it selects gets the gradient.
    z = np.array([[0.5, 2.0, 2.0, 1.0], [3.0, 3.0, 3.0, 3.0]])
    src = model("""
  k[b] = argmax(c: z[b, c])
  sel[b] = z[b, k[b]]
  loss = sum(b: sel[b])
  output k
  minimize loss
""", "  dim B = 2, C = 4\n  input z[B, C]")
    got = d.guard("run argmax ties", lambda: d.run(src, inputs={"z": z}))
    if got:
        d.exact("argmax: the first maximal position", got[0]["k"], np.array([1, 0]))
        d.exact("z[b, argmax(c: z[b, c])]: the gradient goes to that position", got[1]["z"],
                np.array([[0, 1.0, 0, 0], [1.0, 0, 0, 0]]))


def no_gradient(d):
    x = np.array([-1.0, 0.5, 2.0, 3.0])
    src = model("""
  loss = sum(n: (x[n] > w)*x[n] + where(w > 0, 2, 3)*x[n] + stop_gradient(w^2)*x[n] + w*x[n])
  minimize loss
""", "  dim N = 4\n  input x[N]\n  param w = constant(1)")
    got = d.guard("run comparisons", lambda: d.run(src, inputs={"x": x}))
    if got:
        w = 1.0
        d.exact("comparisons, where conditions and stop_gradient pass no gradient to w",
                got[1]["w"], x.sum())
        d.exact("... and the comparison is a 0/1 factor for x", got[1]["x"],
                (x > w) * 1.0 + 2 + w ** 2 + w)
        d.close("value: stop_gradient passes the value", got[0]["loss"],
                np.sum((x > w) * x + 2 * x + w ** 2 * x + w * x))


def nonfinite_where(d):
    x = np.array([0.0, -1.0, 4.0, 0.25, -0.0])
    def safe(x, cond):
        return np.where(cond, x, 1.0)  # a stand-in where the branch is not taken

    cases = [
        ("where(x[n] > 0, log(x[n]), 0)", lambda x: np.where(x > 0, 1 / safe(x, x > 0), 0)),
        ("where(x[n] > 0, sqrt(x[n]), 0)", lambda x: np.where(x > 0, 0.5 / np.sqrt(safe(x, x > 0)), 0)),
        ("where(x[n] != 0, 1/x[n], 0)", lambda x: np.where(x != 0, -1 / safe(x, x != 0) ** 2, 0)),
        ("where(x[n] > 0, x[n]*log(x[n]), 0)", lambda x: np.where(x > 0, np.log(safe(x, x > 0)) + 1, 0)),
        ("where(x[n] > 0, rsqrt(x[n]), x[n])", lambda x: np.where(x > 0, -0.5 * safe(x, x > 0) ** -1.5, 1)),
        ("where(x[n] > 0, x[n]^-0.5, 2*x[n])", lambda x: np.where(x > 0, -0.5 * safe(x, x > 0) ** -1.5, 2)),
        ("where(x[n] <= 0, 0, log(relu(x[n])))", lambda x: np.where(x > 0, 1 / safe(x, x > 0), 0)),
        ("where(x[n] > 0, log(x[n]), 0) + where(x[n] < 0, log(-x[n]), 0)",
         lambda x: np.where(x != 0, 1 / safe(x, x != 0), 0)),
    ]
    for expr, grad in cases:
        src = model(f"""
  y[n] = {expr}
  loss = sum(n: y[n])
  minimize loss
""", "  dim N = 5\n  input x[N]")
        label = expr.replace("[n]", "")
        got = d.guard(f"run {label}", lambda: d.run(src, inputs={"x": x}))
        if got:
            d.close(f"{label} at x = 0 and x < 0: the taken branch's finite gradient",
                    got[1]["x"], grad(x), rtol=1e-6, atol=0)
    # exp overflowing to inf in the untaken branch.
    src = model("""
  loss = sum(n: where(x[n] < 50, exp(x[n]), 3*x[n]))
  minimize loss
""", "  dim N = 3\n  input x[N]")
    xe = np.array([1000.0, 0.0, -1.0])
    got = d.guard("run where(x < 50, exp(x), 3x)", lambda: d.run(src, inputs={"x": xe}))
    if got:
        d.close("where(x < 50, exp(x), 3x) at x = 1000 (exp = inf untaken): gradient 3",
                got[1]["x"], np.array([3.0, 1.0, np.exp(-1.0)]), rtol=1e-6, atol=0)
    # The condition's side gets no gradient even when it reads the same tensor.
    src = model("""
  p[n] = relu(x[n])
  y[n] = where(p[n] > 0, log(p[n]), 0)
  loss = sum(n: w*y[n])
  minimize loss
""", "  dim N = 5\n  input x[N]\n  param w = constant(2)")
    got = d.guard("run where(relu(x) > 0, log(relu(x)), 0)", lambda: d.run(src, inputs={"x": x}))
    if got:
        d.close("where(p > 0, log(p), 0) with p = relu(x) exactly 0: gradient 0 there, w/x above",
                got[1]["x"], np.where(x > 0, 2 / np.where(x > 0, x, 1), 0), rtol=1e-6, atol=0)


def nonfinite_where_contraction(d):
    # The untaken branch holds a contraction (W[j, n]*log(x[n]) summed over n) whose
    # factor log(x[0]) = -inf: the mask must pass through the contraction's adjoint.
    src = model("""
  c[j] = where(x[0] > 0, W[j, n]*log(x[n]), 1)
  e[j] = where(x[0] > 0, sum(n: W[j, n]*log(x[n])), 1)
  loss = sum(j: c[j] + e[j])
  minimize loss
""", "  dim N = 2, J = 2\n  input x[N]\n  param W[J, N] = constant(0.5)")
    got = d.guard("run where over a contraction", lambda: d.run(src, inputs={"x": np.array([0.0, 1.0])}))
    if got:
        d.close("where(x0 > 0, W[j,n] log(x[n]), 1) at x0 = 0: loss 4", got[0]["loss"], 4.0)
        d.exact("... no gradient reaches x or W through the untaken contraction (not NaN)",
                np.concatenate([got[1]["x"], got[1]["W"].ravel()]), np.zeros(6))


def gradcheck_sees_nan(d):
    # The checker itself: a NaN analytic gradient must fail gradcheck (exit 4, FAIL),
    # not pass with an error of 0. sqrt(x^2) at x = 0 has the NaN gradient
    # (0.5/sqrt(0))·2x = inf·0 in any reverse-mode autodiff (PyTorch's too), while its
    # central difference is 0.
    src = model("""
  loss = sum(n: w*sqrt(x[n]^2))
  minimize loss
""", "  dim N = 3\n  input x[N]\n  param w = constant(1)")
    rc, out = d.gradcheck(src, arrays={"x": np.array([0.0, -2.0, 0.5])})
    d.truth("gradcheck fails (exit 4) on a NaN gradient", rc == 4 and "FAIL" in out,
            f"exit {rc}: {out.strip().splitlines()[1:]}")
    # ... and passes an ordinary model (the harness works).
    src = model("""
  loss = sum(n: tanh(w*x[n]))
  minimize loss
""", "  dim N = 3\n  input x[N]\n  param w = constant(1)")
    rc, out = d.gradcheck(src, arrays={"x": np.array([0.25, -2.0, 0.5])})
    d.truth("gradcheck passes a smooth model (exit 0)", rc == 0, f"exit {rc}: {out}")


def stable_forms(d):
    z = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    s = 1 / (1 + np.exp(-np.clip(z, -700, 700)))
    src = model("""
  ls[n] = log(sigmoid(z[n]))
  l1s[n] = log(1 - sigmoid(z[n]))
  sp[n] = softplus(z[n])
  loss = sum(n: ls[n] + 2*l1s[n] + 4*sp[n])
  output ls, l1s, sp
  minimize loss
""", "  dim N = 5\n  input z[N]")
    got = d.guard("run log sigmoid forms", lambda: d.run(src, inputs={"z": z}))
    if got:
        v, g = got
        d.close("log(sigmoid(z)) = -softplus(-z), finite at -800", v["ls"], -np.logaddexp(0, -z))
        d.close("log(1 - sigmoid(z)) = -softplus(z), finite at 800", v["l1s"], -np.logaddexp(0, z))
        d.close("softplus(z) at +-800", v["sp"], np.logaddexp(0, z))
        d.close("d/dz [log sigmoid + 2 log(1 - sigmoid) + 4 softplus] = (1 - s) - 2 s + 4 s",
                g["z"], (1 - s) - 2 * s + 4 * s, atol=1e-6)
    zz = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0]])
    src = model("""
  lp[b, c] = log_softmax(c: z[b, c])
  lq[b, c] = log(softmax(c: z[b, c]))
  lse[b] = logsumexp(c: z[b, c])
  lse2[b] = log(sum(c: exp(z[b, c])))
  loss = sum(b, c: w[c]*(lp[b, c] + lq[b, c])) + sum(b: lse[b] + lse2[b])
  output lp, lq, lse, lse2
  minimize loss
""", "  dim B = 2, C = 3\n  input z[B, C]\n  param w[C] = zeros()")
    w = np.array([1.0, -2.0, 0.5])
    got = d.guard("run log_softmax / logsumexp", lambda: d.run(src, inputs={"z": zz}, params={"w": w}))
    if got:
        v, g = got
        m = zz.max(1, keepdims=True)
        lse = (m + np.log(np.exp(zz - m).sum(1, keepdims=True)))[:, 0]
        lp = zz - lse[:, None]
        sm = np.exp(lp)
        d.close("log_softmax at logits of +-1000", v["lp"], lp)
        d.close("log(softmax) rewritten to log_softmax", v["lq"], lp)
        d.close("logsumexp at 1000", v["lse"], lse)
        d.close("log(sum(exp)) rewritten to logsumexp", v["lse2"], lse)
        # d/dz of sum_c w_c lp_c = w - softmax * sum(w); twice; plus 2 softmax from the lse terms.
        exp = 2 * (w[None, :] - sm * w.sum()) + 2 * sm
        d.close("their gradients: 2(w - softmax sum w) + 2 softmax, finite", g["z"], exp)
        d.close("... and the weights' gradient sum_b 2 lp", g["w"], 2 * lp.sum(0))
    zb = np.array([-800.0, -1.0, 0.5, 800.0])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    src = model("""
  loss = sum(b: bce_logits(z[b], y[b]))
  minimize loss
""", "  dim B = 4\n  input z[B]\n  input y[B]")
    got = d.guard("run bce_logits at +-800", lambda: d.run(src, inputs={"z": zb, "y": y}))
    if got:
        sb = 1 / (1 + np.exp(-np.clip(zb, -700, 700)))
        d.close("bce_logits at +-800: value", got[0]["loss"],
                np.sum(np.logaddexp(0, zb) - zb * y))
        d.close("bce_logits at +-800: gradient sigmoid(z) - y", got[1]["z"], sb - y)


def powers(d):
    x = np.array([0.0, -2.0, 0.5])
    src = model("""
  loss = sum(n: 2*x[n]^1 + 3*x[n]^2 + 4*x[n]^3)
  minimize loss
""", "  dim N = 3\n  input x[N]")
    got = d.guard("run powers", lambda: d.run(src, inputs={"x": x}))
    if got:
        d.exact("d/dx [2x^1 + 3x^2 + 4x^3] = 2 + 6x + 12x^2 (2 at x = 0)",
                got[1]["x"], 2 + 6 * x + 12 * x ** 2)
    src = model("""
  loss = sum(n: (w*x[n])^0) + w
  minimize loss
""", "  dim N = 3\n  input x[N]\n  param w = constant(1)")
    got = d.guard("run x^0", lambda: d.run(src, inputs={"x": x}))
    if got:
        d.exact("u^0 is the constant 1: gradient 0 at u = 0 too (not 0 * inf = NaN), and w's is 1",
                np.concatenate([got[1]["x"], [got[1]["w"]]]), np.array([0, 0, 0, 1.0]))


def bce_clamp(d):
    p = np.array([0.0, 0.0, 1.0, 1.0, 0.25])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    src = model("""
  loss = sum(b: bce(p[b], y[b]))
  minimize loss
""", "  dim B = 5\n  input p[B]\n  input y[B]")
    got = d.guard("run bce at p = 0 and 1", lambda: d.run(src, inputs={"p": p, "y": y}))
    if got:
        v, g = got
        d.close("bce at p in {0, 1}: value with the logs clamped at -100", v["loss"],
                100 + 100 + 0 + 0 - np.log(0.25))
        # Finite everywhere (the clamped expression's own derivative would be
        # [1, 0, 0, -1, -4]; PyTorch's (p - y)/max(p(1 - p), 1e-12) is [0, -1e12, 1e12, 0, -4]);
        # inside (0, 1) both are -y/p + (1 - y)/(1 - p).
        d.truth("bce at p in {0, 1}: the gradient is finite", np.all(np.isfinite(g["p"])),
                f"gradc {g['p'].tolist()}")
        d.close("bce at p = 0.25, y = 1: gradient -y/p = -4", g["p"][4], -4.0)


def main():
    d = Derivation("special values: kinks, ties, first extreme elements, where with non-finite branches")
    kinks(d)
    ties(d)
    reductions(d)
    no_gradient(d)
    nonfinite_where(d)
    nonfinite_where_contraction(d)
    stable_forms(d)
    powers(d)
    bce_clamp(d)
    gradcheck_sees_nan(d)
    d.finish()


if __name__ == "__main__":
    main()
