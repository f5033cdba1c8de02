#!/usr/bin/python3
"""gradc against PyTorch (eager, float32) and OpenBLAS, side by side in one run.

For every benchmark and thread count (1 and 2), the rounds alternate: gradc (`gradc bench
--json`, which reports medians over its own iterations) and then the same work in PyTorch
in this process, ROUNDS times; the table shows the median of the round medians and the ratio
PyTorch / gradc (above 1: gradc is faster). Timings vary 30-50% between runs on these
machines, so only ratios within one run mean anything.

  models      forward and forward+backward of each model at the issue's shapes
  gemm        GFLOP/s of gradc's GEMM tier (a model that is one matrix product) against
              OpenBLAS sgemm (through numpy) at square and per-step RNN shapes
  triad       GB/s of gradc's generated elementwise code against a C triad loop (gcc -O3
              -march=native -fopenmp): z = x + y (the triad's memory traffic) and the
              triad itself, z = x + 3y (one kernel: 3y is computed inside z's loop)
  compile     cold compile (LLVM included) and compile from the cache, per model
  optimizer   one Adam step with gradient-norm clipping: gradc's fused update
              (build/gradc_update_bench) against torch.optim.Adam after
              torch.nn.utils.clip_grad_norm_, on 200 tensors of 4096 floats and on 4 of
              4M; gradc's GB/s counts 32 bytes per element (the norm's read of g, then
              p, g, m, v read and p, m, v written), against the C triad's in the same run
  train       (2 threads) a Fashion-MNIST MLP epoch, 784-256-10, batch 128, Adam 1e-3:
              `gradc train` against the same model in PyTorch, with the test accuracy each
              reaches after 5 epochs (bench/train_bench.py, which also times the README's
              other training examples)

PyTorch runs with torch.set_num_threads(T) and OpenBLAS at 1 thread (TOOLCHAIN.md: both at
2 threads oversubscribe the two cores); the OpenBLAS column of the GEMM table runs OpenBLAS
alone at T threads.

  /usr/bin/python3 bench/run_bench.py --gradc build/gradc [--rounds 3] [--only lstm,gemm]
      [--markdown bench/results.md]
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import torch_models  # noqa: E402
import train_bench  # noqa: E402

OPENBLAS = ctypes.CDLL("libopenblas.so.0")

# name: (model file, gradc -D dims, torch builder dims)
MODELS = {
    "mlp_skip": ("models/mlp_skip.grad", {"B": 256, "D": 512}, {"B": 256, "D": 512}),
    "resnet3_bn": ("models/resnet3_bn.grad", {"B": 32, "X": 32, "Y": 32, "I": 3, "C": 16, "K": 10},
                   {"B": 32, "X": 32, "Y": 32, "I": 3, "C": 16, "K": 10}),
    "lstm": ("models/lstm.grad", {"B": 32, "T": 50, "K": 128, "H": 256},
             {"B": 32, "T": 50, "K": 128, "H": 256}),
    "gru": ("models/gru.grad", {"B": 32, "T": 50, "K": 128, "J": 256},
            {"B": 32, "T": 50, "K": 128, "H": 256}),
    "rnn": ("models/rnn.grad", {"B": 32, "T": 50, "K": 128, "H": 256},
            {"B": 32, "T": 50, "K": 128, "H": 256}),
}
GEMMS = [(512, 512, 512), (1024, 1024, 1024), (32, 1024, 256), (32, 256, 256)]
TRIAD_N = 1 << 24


def gradc_bench(gradc, path, dims, threads, iters, cache):
    cmd = [gradc, "bench", os.path.join(ROOT, path), "--threads", str(threads), "--iters",
           str(iters), "--json", "--cache-dir", cache]
    for k, v in dims.items():
        cmd += ["-D", "%s=%d" % (k, v)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def median_ms(fn, iters):
    for _ in range(max(2, iters // 10)):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def torch_model(name, threads, iters):
    torch.set_num_threads(threads)
    OPENBLAS.openblas_set_num_threads(1)
    torch.manual_seed(0)
    p, inputs, forward = torch_models.BUILDERS[name](MODELS[name][2])

    def fwd():
        with torch.no_grad():
            forward(p, inputs)

    def grad():
        for t in p.values():
            t.grad = None
        forward(p, inputs).backward()

    return median_ms(fwd, iters), median_ms(grad, iters)


def build_triad():
    so = os.path.join(tempfile.gettempdir(), "gradc_bench_triad_%d.so" % os.getpid())
    subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC",
                    os.path.join(HERE, "triad.c"), "-o", so], check=True)
    lib = ctypes.CDLL(so)
    lib.triad.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_float, ctypes.c_long, ctypes.c_int]
    return lib


def c_triad(lib, threads, iters):
    x = np.random.rand(TRIAD_N).astype(np.float32)
    y = np.random.rand(TRIAD_N).astype(np.float32)
    z = np.empty_like(x)
    ms = median_ms(lambda: lib.triad(z.ctypes.data, x.ctypes.data, y.ctypes.data, 3.0,
                                     TRIAD_N, threads), iters)
    return 3 * 4 * TRIAD_N / ms / 1e6


def numpy_gemm(m, n, k, threads, iters):
    OPENBLAS.openblas_set_num_threads(threads)
    a = np.random.rand(m, k).astype(np.float32)
    b = np.random.rand(k, n).astype(np.float32)
    ms = median_ms(lambda: a @ b, iters)
    return 2 * m * n * k / ms / 1e6


OPTIMIZER_SHAPES = {"200 x 4096": [4096] * 200, "4 x 4M": [4 << 20] * 4}


def gradc_update(exe, sizes, threads, iters):
    out = subprocess.run([exe, "adam", "1.0", str(threads), str(iters),
                          ",".join(str(n) for n in sizes)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["step_ms"]


def torch_update(sizes, threads, iters):
    torch.set_num_threads(threads)
    params = [torch.full((n,), 0.5, requires_grad=True) for n in sizes]
    for p in params:
        p.grad = torch.full((p.numel(),), 0.01)
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    return median_ms(step, iters)


def run(args):
    cache = tempfile.mkdtemp(prefix="gradc-bench-cache-")
    only = set(args.only.split(",")) if args.only else None
    want = lambda what: only is None or what in only  # noqa: E731
    rows = {"models": [], "gemm": [], "triad": [], "compile": [], "optimizer": [], "train": []}
    for threads in (1, 2):
        for name, (path, dims, _) in MODELS.items():
            if not want(name):
                continue
            g_f, g_g, t_f, t_g, comp = [], [], [], [], []
            for _ in range(args.rounds):
                j = gradc_bench(args.gradc, path, dims, threads, args.iters, cache)
                g_f.append(j["forward_ms"])
                g_g.append(j["grad_ms"])
                comp.append((j["compile_ms"], j["cached_compile_ms"]))
                tf, tg = torch_model(name, threads, args.iters)
                t_f.append(tf)
                t_g.append(tg)
            m = statistics.median
            rows["models"].append((name, threads, m(g_f), m(t_f), m(g_g), m(t_g)))
            if threads == 2:
                rows["compile"].append((name, m(c[0] for c in comp),
                                        m(c[1] for c in comp if c[1] is not None)))
        if want("gemm"):
            for (mm, nn, kk) in GEMMS:
                g, o = [], []
                for _ in range(args.rounds):
                    j = gradc_bench(args.gradc, "bench/models/gemm.grad",
                                    {"M": mm, "N": nn, "K": kk}, threads, args.iters * 2, cache)
                    g.append(2 * mm * nn * kk / j["forward_ms"] / 1e6)
                    o.append(numpy_gemm(mm, nn, kk, threads, args.iters * 2))
                rows["gemm"].append(("%dx%dx%d" % (mm, nn, kk), threads,
                                     statistics.median(g), statistics.median(o)))
        if want("triad"):
            lib = build_triad()
            g, a, c = [], [], []
            for _ in range(args.rounds):
                j = gradc_bench(args.gradc, "bench/models/triad.grad", {"N": TRIAD_N}, threads,
                                args.iters, cache)
                g.append(3 * 4 * TRIAD_N / j["forward_ms"] / 1e6)
                j = gradc_bench(args.gradc, "bench/models/add.grad", {"N": TRIAD_N}, threads,
                                args.iters, cache)
                a.append(3 * 4 * TRIAD_N / j["forward_ms"] / 1e6)
                c.append(c_triad(lib, threads, args.iters))
            rows["triad"].append((threads, statistics.median(a), statistics.median(g),
                                  statistics.median(c)))
        if want("optimizer"):
            exe = os.path.join(os.path.dirname(args.gradc), "gradc_update_bench")
            for label, sizes in OPTIMIZER_SHAPES.items():
                g, t = [], []
                for _ in range(args.rounds):
                    g.append(gradc_update(exe, sizes, threads, args.iters))
                    t.append(torch_update(sizes, threads, args.iters))
                rows["optimizer"].append((label, threads, sum(sizes), statistics.median(g),
                                          statistics.median(t)))
    if want("train"):
        rows["train"] = train_rows(args)
    subprocess.run(["rm", "-rf", cache])
    return rows


def train_rows(args):
    """Epoch times (all rounds' epochs pooled), test accuracies and peak memory of the
    Fashion-MNIST MLP in gradc and PyTorch, 5 epochs per round, at 2 threads."""
    model = os.path.join(ROOT, "examples", "fashion_mlp.grad")
    g, t, ga, ta, gm, tm = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            secs, _, peak, ckpt, _ = train_bench.gradc_train(
                args.gradc, model, train_bench.TRAIN, 2, 5, tmp, ["--seed", str(r)])
            g += secs
            gm.append(peak)
            ga.append(train_bench.gradc_accuracy(args.gradc, model, ckpt, 2))
            secs, acc, rss = train_bench.torch_train(2, 5, r)
            t += secs
            ta.append(acc)
            tm.append(rss)
    m = statistics.median
    return [("gradc", m(g), ga, max(gm)), ("PyTorch", m(t), ta, max(tm))]


def markdown(rows, args):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    out = ["Measured %s on %s (%d cores), %s; PyTorch %s, medians of %d rounds."
           % (datetime.date.today().isoformat(), cpu, os.cpu_count(), platform.platform(),
              torch.__version__, args.rounds), ""]
    if rows["models"]:
        out += ["| model | threads | gradc fwd ms | torch fwd ms | ratio | gradc fwd+bwd ms "
                "| torch fwd+bwd ms | ratio |", "|---|---|---|---|---|---|---|---|"]
        for n, t, gf, tf, gg, tg in rows["models"]:
            out.append("| %s | %d | %.2f | %.2f | %.2f× | %.2f | %.2f | %.2f× |"
                       % (n, t, gf, tf, tf / gf, gg, tg, tg / gg))
        out.append("")
    if rows["gemm"]:
        out += ["| GEMM M×N×K | threads | gradc GFLOP/s | OpenBLAS GFLOP/s | gradc/OpenBLAS |",
                "|---|---|---|---|---|"]
        for s, t, g, o in rows["gemm"]:
            out.append("| %s | %d | %.1f | %.1f | %.2f |" % (s, t, g, o, g / o))
        out.append("")
    if rows["triad"]:
        out += ["| 3 streams of 64 MiB | gradc z = x + y GB/s | gradc z = x + 3y GB/s "
                "| C triad loop GB/s | x + y / C | x + 3y / C |",
                "|---|---|---|---|---|---|"]
        for t, a, g, c in rows["triad"]:
            out.append("| %d thread%s | %.1f | %.1f | %.1f | %.2f | %.2f |"
                       % (t, "" if t == 1 else "s", a, g, c, a / c, g / c))
        out.append("")
    if rows["optimizer"]:
        triad = {t: c for t, a, g, c in rows["triad"]}
        out += ["| Adam + clipping | threads | gradc ms | torch.optim ms | ratio | gradc GB/s "
                "| of C triad |", "|---|---|---|---|---|---|---|"]
        for label, t, n, g, tt in rows["optimizer"]:
            gbs = 32 * n / g / 1e6
            frac = "%.2f" % (gbs / triad[t]) if t in triad else "—"
            out.append("| %s | %d | %.3f | %.3f | %.2f× | %.1f | %s |"
                       % (label, t, g, tt, tt / g, gbs, frac))
        out.append("")
    if rows["train"]:
        (_, g, ga, gm), (_, t, ta, tm) = rows["train"]
        out += ["| Fashion-MNIST MLP, 5 epochs, 2 threads | s / epoch | test accuracy "
                "| peak MB |", "|---|---|---|---|"]
        for name, secs, acc, mem in rows["train"]:
            out.append("| %s | %.3f | %s | %.0f |"
                       % (name, secs, ", ".join("%.4f" % a for a in acc), mem))
        out.append("| ratio (PyTorch / gradc) | %.2f× | | |" % (t / g))
        out.append("")
    if rows["compile"]:
        out += ["| model | cold compile ms | from cache ms |", "|---|---|---|"]
        for n, c, h in rows["compile"]:
            out.append("| %s | %.0f | %.1f |" % (n, c, h))
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gradc", default=os.path.join(ROOT, "build", "gradc"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--only",
                    help="comma-separated: model names, gemm, triad, optimizer, train")
    ap.add_argument("--markdown", help="also write the tables to this file")
    args = ap.parse_args()
    text = markdown(run(args), args)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
