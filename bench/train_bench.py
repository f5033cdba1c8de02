#!/usr/bin/python3
"""Training on real data: gradc train against PyTorch, side by side in one run.

The Fashion-MNIST MLP of the README (examples/fashion_mlp.grad: 784-256-10, relu, batch 128,
Adam lr 1e-3, shuffled, last partial batch dropped) trains for EPOCHS epochs in gradc
(`gradc train`, time per epoch from its --log) and in PyTorch (eager, float32, the same
model, batch size and optimizer, in a child process so that its peak memory is its own),
alternating for ROUNDS rounds. Reported: the median epoch time of each and their ratio
(PyTorch / gradc, above 1: gradc is faster), the test accuracy after the last epoch (gradc's
from `gradc run` on the whole test set), and peak memory (max RSS).

With --examples it also times the README's other examples (gradc only): the residual CNN
on Fashion-MNIST and the character LSTM on /usr/share/common-licenses/GPL-3. With --cnn the
residual CNN also trains one epoch in PyTorch (the same layers, batch size and optimizer).

  /usr/bin/python3 bench/train_bench.py [--gradc build/gradc] [--threads 2] [--epochs 5]
      [--rounds 2] [--examples] [--cnn]
"""

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FASHION = "/usr/share/datasets/fashion-mnist"
TRAIN = "x=%s/train-images-idx3-ubyte.gz,y=%s/train-labels-idx1-ubyte.gz" % (FASHION, FASHION)
TEST_IN = ["--in", "x=%s/t10k-images-idx3-ubyte.gz" % FASHION,
           "--in", "y=%s/t10k-labels-idx1-ubyte.gz" % FASHION]

TORCH_CHILD = r"""
import gzip, resource, sys, time
import numpy as np, torch
threads, epochs, seed, kind = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
torch.manual_seed(seed)
def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
D = "%s"
X = torch.tensor(idx(D + "/train-images-idx3-ubyte.gz", 16).reshape(-1, 784), dtype=torch.float32) / 255
Y = torch.tensor(idx(D + "/train-labels-idx1-ubyte.gz", 8).astype(np.int64))
Xt = torch.tensor(idx(D + "/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784), dtype=torch.float32) / 255
Yt = torch.tensor(idx(D + "/t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
nn = torch.nn


class Block(nn.Module):  # the lecture's residual block: relu(L + BN(conv(relu(BN(conv L)))))
    def __init__(self, c):
        super().__init__()
        self.a, self.na = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
        self.b, self.nb = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.nb(self.b(torch.relu(self.na(self.a(x))))))


if kind == "mlp":  # examples/fashion_mlp.grad
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt, B = torch.optim.Adam(model.parameters(), lr=1e-3), 128
else:  # examples/fashion_resnet.grad
    X, Xt = X.reshape(-1, 1, 28, 28), Xt.reshape(-1, 1, 28, 28)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                          nn.MaxPool2d(2), Block(16), nn.MaxPool2d(2), Block(16),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    opt, B = torch.optim.Adam(model.parameters(), lr=2e-3), 64
lossf = nn.CrossEntropyLoss()
for e in range(epochs):
    t0 = time.perf_counter()
    order = torch.randperm(X.shape[0])
    for k in range(X.shape[0] // B):
        i = order[k * B:(k + 1) * B]
        opt.zero_grad()
        loss = lossf(model(X[i]), Y[i])
        loss.backward()
        opt.step()
    print("epoch", time.perf_counter() - t0, flush=True)
model.eval()
with torch.no_grad():
    acc = (model(Xt).argmax(1) == Yt).float().mean().item()
print("acc", acc)
print("rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
""" % FASHION


def gradc_train(gradc, model, data, threads, epochs, tmp, extra=()):
    log = os.path.join(tmp, "log.csv")
    ckpt = os.path.join(tmp, "ckpt.safetensors")
    cmd = [gradc, "train", model, "--data", data, "--epochs", str(epochs), "--threads",
           str(threads), "--log", log, "--save", ckpt, "--quiet"] + list(extra)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    with open(log) as f:
        rows = list(csv.DictReader(f))
    secs = [float(r["seconds"]) for r in rows if r["split"] == "train"]
    peak = float(re.search(r"peak memory (\d+) MB", out).group(1))
    return secs, rows, peak, ckpt, out


def gradc_accuracy(gradc, model, ckpt, threads):
    out = subprocess.run([gradc, "run", model, "-D", "B=10000", "--params", ckpt, "--threads",
                          str(threads)] + TEST_IN, check=True, capture_output=True,
                         text=True).stdout
    return float(re.search(r"acc : f32\[\]\n\s+(\S+)", out).group(1))


def torch_train(threads, epochs, seed, kind="mlp"):
    out = subprocess.run([sys.executable, "-c", TORCH_CHILD, str(threads), str(epochs),
                          str(seed), kind], check=True, capture_output=True, text=True).stdout
    secs = [float(l.split()[1]) for l in out.splitlines() if l.startswith("epoch")]
    acc = float(re.search(r"acc (\S+)", out).group(1))
    rss = float(re.search(r"rss_mb (\S+)", out).group(1))
    return secs, acc, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gradc", default=os.path.join(ROOT, "build", "gradc"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--examples", action="store_true",
                    help="also time the README's residual CNN and character LSTM")
    ap.add_argument("--cnn", action="store_true",
                    help="also train the residual CNN for one epoch in gradc and in PyTorch")
    args = ap.parse_args()
    model = os.path.join(ROOT, "examples", "fashion_mlp.grad")
    g_secs, t_secs, g_acc, t_acc, g_mem, t_mem = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            secs, _, peak, ckpt, _ = gradc_train(args.gradc, model, TRAIN, args.threads,
                                                 args.epochs, tmp, ["--seed", str(r)])
            g_secs += secs
            g_mem.append(peak)
            g_acc.append(gradc_accuracy(args.gradc, model, ckpt, args.threads))
            secs, acc, rss = torch_train(args.threads, args.epochs, r)
            t_secs += secs
            t_acc.append(acc)
            t_mem.append(rss)
        m = statistics.median
        print("Fashion-MNIST MLP 784-256-10, batch 128, Adam 1e-3, %d epochs, %d threads, "
              "%d rounds" % (args.epochs, args.threads, args.rounds))
        print("| | s / epoch (median) | test accuracy after %d epochs | peak memory MB |"
              % args.epochs)
        print("|---|---|---|---|")
        print("| gradc | %.3f | %s | %.0f |" % (m(g_secs), " ".join("%.4f" % a for a in g_acc),
                                              max(g_mem)))
        print("| PyTorch | %.3f | %s | %.0f |" % (m(t_secs), " ".join("%.4f" % a for a in t_acc),
                                                max(t_mem)))
        print("| ratio (PyTorch / gradc) | %.2f× | | |" % (m(t_secs) / m(g_secs)))
        if args.cnn:
            path = os.path.join(ROOT, "examples", "fashion_resnet.grad")
            data = TRAIN.replace("x=", "img=").replace("y=", "label=")
            secs, _, peak, _, _ = gradc_train(args.gradc, path, data, args.threads, 1, tmp)
            tsecs, tacc, trss = torch_train(args.threads, 1, 0, "cnn")
            print("\nFashion-MNIST residual CNN, batch 64, Adam 2e-3, 1 epoch, %d threads"
                  % args.threads)
            print("| | s / epoch | peak memory MB |\n|---|---|---|")
            print("| gradc | %.2f | %.0f |" % (secs[0], peak))
            print("| PyTorch | %.2f | %.0f |" % (tsecs[0], trss))
            print("| ratio (PyTorch / gradc) | %.2f× | |" % (tsecs[0] / secs[0]))
        if args.examples:
            print("\n| README example | epochs | s / epoch (median) | training loss, metrics "
                  "| validation loss, metrics | total s | peak memory MB |")
            print("|---|---|---|---|---|---|---|")
            for name, path, data, val, epochs in EXAMPLES:
                extra = ["--val", val] if val else []
                secs, rows, peak, _, out = gradc_train(args.gradc, os.path.join(ROOT, path),
                                                       data, args.threads, epochs, tmp, extra)
                total = float(re.search(r"in ([0-9.]+) s;", out).group(1))

                def last(split):
                    r = [r for r in rows if r["split"] == split]
                    if not r:
                        return "—"
                    mets = [(k, v) for k, v in r[-1].items()
                            if k not in ("epoch", "split", "loss", "seconds")]
                    return "%.4f" % float(r[-1]["loss"]) + "".join(
                        ", %s %.4f" % (k, float(v)) for k, v in mets)
                print("| %s | %d | %.2f | %s | %s | %.1f | %.0f |"
                      % (name, epochs, m(secs), last("train"), last("val"), total, peak))


TEST = "x=%s/t10k-images-idx3-ubyte.gz,y=%s/t10k-labels-idx1-ubyte.gz" % (FASHION, FASHION)
GPL = "/usr/share/common-licenses/GPL-3"
# name, file, training data, validation data (or None), epochs
EXAMPLES = [
    ("Fashion-MNIST MLP", "examples/fashion_mlp.grad", TRAIN, TEST, 5),
    ("Fashion-MNIST residual CNN", "examples/fashion_resnet.grad",
     TRAIN.replace("x=", "img=").replace("y=", "label="),
     TEST.replace("x=", "img=").replace("y=", "label="), 3),
    ("character LSTM on GPL-3", "examples/char_lstm.grad",
     "tok=text:%s,next=text+1:%s" % (GPL, GPL), None, 20),
]

if __name__ == "__main__":
    main()
