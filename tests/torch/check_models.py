#!/usr/bin/python3
"""Checks every course model in models/ against a PyTorch reference.

    /usr/bin/python3 tests/torch/check_models.py --gradc build/gradc --models models

For each models/NAME.grad (the reference is NAME in reference_models.py):
  1. `gradc check --json` gives the inputs, parameters, state, outputs, loss and metrics;
     `gradc compile --emit=ir` the noise tensors.
  2. Inputs are drawn from a numpy generator seeded by the file name: f32 inputs normal
     (or uniform in [0, 1] where the reference asks), int inputs uniform below the dim
     that bounds them. Noise is drawn here too and fed with --in, so both sides see it.
  3. `gradc run --seed 0 --save-params` runs the model with its own initialization and
     writes the parameters it used; the reference recomputes the model from those.
  4. Every parameter and state tensor is then perturbed (zero biases, unit gains and the
     initial running statistics would hide mistakes) and the model is run again with
     --params, in the evaluation graph and, for models with batchnorm or dropout
     (--train-mode), in the training graph.
  5. Where `gradc run` supports --backward, the gradients of the loss with respect to
     every parameter and f32 input are compared with PyTorch's autograd as well.
Every output, the loss and every metric must agree within a relative tolerance: the
largest absolute difference over a tensor, divided by the tensor's largest magnitude
(gradc computes in double precision but exchanges float32 arrays, so agreement is
normally near 1e-7). One line per model; exit status 1 if any model fails or has no
reference; the last line is `N passed, M failed`.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import MODELS  # noqa: E402

torch.set_default_dtype(torch.float64)

TIMEOUT_S = 600   # per gradc call: a hang fails the model instead of the whole run
VERBOSE = False   # --verbose: print the error of every compared tensor

# `%h.dropout.u = noise "h.dropout.u" uniform(0, 1) : f32[8,16] loc(...)` in the IR text.
NOISE_LINE = re.compile(r'= noise "([^"]+)" (\w+)\(([^)]*)\) : f32\[([0-9, ]*)\]')


class GradcError(Exception):
    """gradc exited with an error; the message holds its diagnostics."""


class Model:
    """One model file (its first model) and what gradc reports about it."""

    def __init__(self, gradc, path):
        self.gradc, self.path = gradc, path
        self.info = json.loads(self.call(["check", "--json", path]))
        self.dims = self.info["dims"]
        self.state = [s["name"] for s in self.info.get("state", [])]
        self.noise = self.find_noise()

    def call(self, args):
        proc = subprocess.run([self.gradc] + args, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        if proc.returncode != 0:                          # first diagnostic line only
            first = (proc.stderr.strip().splitlines() or ["(no message)"])[0]
            raise GradcError("gradc %s: exit %d: %s" % (args[0], proc.returncode, first))
        return proc.stdout

    def find_noise(self):
        """Noise tensors (name, distribution, arguments, shape): from `check --json`
        if it lists them, else from the IR text."""
        if "noise" in self.info:
            return [(n["name"], *parse_init(n["init"]), tuple(n["shape"]))
                    for n in self.info["noise"]]
        found = []
        for m in NOISE_LINE.finditer(self.call(["compile", self.path, "--emit=ir"])):
            args = [float(a) for a in m.group(3).split(",") if a.strip()]
            shape = tuple(int(d) for d in m.group(4).split(",") if d.strip())
            found.append((m.group(1), m.group(2), args, shape))
        return found

    def run(self, workdir, tag, inputs_npz, noise_files, params=None, train=False,
            backward=False, remat=False):
        """`gradc run`; returns (outputs by name, parameters used, gradients by name)."""
        out = os.path.join(workdir, "out-" + tag)
        saved = os.path.join(workdir, "params-" + tag + ".npz")
        # The reference interpreter, in double precision like the PyTorch side;
        # native float32 code is checked against the interpreter elsewhere
        # (tests/unit/test_native_vs_interp.cpp).
        args = ["run", self.path, "--interp", "--inputs", inputs_npz, "--seed", "0", "--out", out,
                "--save-params", saved]
        for name, file in noise_files.items():
            args += ["--in", "%s=%s" % (name, file)]
        if params:
            args += ["--params", params]
        if train:
            args.append("--train-mode")
        if backward:
            args.append("--backward")
        if remat:
            args.append("--remat")
        self.call(args)
        outputs = {name[:-4]: np.load(os.path.join(out, name))
                   for name in os.listdir(out) if name.endswith(".npy")}
        grads = {}
        if backward:
            gdir = os.path.join(out, "grad")
            grads = {name[:-4]: np.load(os.path.join(gdir, name)) for name in os.listdir(gdir)}
        with np.load(saved) as npz:
            used = {k: npz[k] for k in npz.files}
        return outputs, used, grads


def parse_init(text):
    """'uniform(0, 1)' -> ('uniform', [0.0, 1.0])."""
    m = re.match(r"(\w+)\(([^)]*)\)", text)
    return m.group(1), [float(a) for a in m.group(2).split(",") if a.strip()]


def draw_inputs(model, spec, rng):
    """Seeded inputs of the declared shapes: int labels and token ids below their dim,
    f32 inputs standard normal or, where the model wants probabilities, in [0, 1]."""
    inputs = {}
    for decl in model.info["inputs"]:
        name, shape = decl["name"], tuple(decl["shape"])
        if decl["dtype"] == "int":
            if name not in spec.ints:
                raise KeyError("no range for the int input '%s' in reference_models.py" % name)
            inputs[name] = rng.integers(0, model.dims[spec.ints[name]], shape).astype(np.int32)
        elif name in spec.unit:
            inputs[name] = rng.uniform(0, 1, shape).astype(np.float32)
        else:
            inputs[name] = rng.standard_normal(shape).astype(np.float32)
    return inputs


def draw_noise(model, rng):
    """Seeded values for every noise tensor, from its own distribution."""
    noise = {}
    for name, kind, args, shape in model.noise:
        if kind == "normal":
            noise[name] = (args[0] * rng.standard_normal(shape)).astype(np.float32)
        elif kind == "uniform":
            noise[name] = rng.uniform(args[0], args[1], shape).astype(np.float32)
        else:
            raise ValueError("noise '%s' has an unknown distribution %s" % (name, kind))
    return noise


def perturb(params, state, rng):
    """Moves every parameter off its initial value; running variances stay positive."""
    out = {}
    for name, value in params.items():
        if name in state and name.endswith("var"):
            out[name] = value * rng.uniform(0.5, 2.0, value.shape)
        else:
            out[name] = value + 0.3 * rng.standard_normal(value.shape)
    return {k: v.astype(np.float32) for k, v in out.items()}


def rel_error(got, want):
    """max |got - want| / max |want|, with a floor so an all-zero tensor compares."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    if got.size == 0:
        return 0.0
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-6))


def worse(err, worst):
    """Whether error `err` is worse than `worst`; a NaN is worse than anything."""
    return not np.isnan(worst) and (np.isnan(err) or err > worst)


def tensor(a):
    return torch.tensor(a, dtype=torch.int64 if a.dtype.kind == "i" else torch.float64)


def compare(model, spec, graph, outputs, params, inputs, noise, grads=None):
    """Runs the reference on the same values; returns (max error, worst name, problems).
    `graph` is init or eval (the evaluation graph), train or backward (the training one)."""
    training = graph in ("train", "backward")
    I = {k: tensor(v) for k, v in inputs.items()}
    P = {k: tensor(v) for k, v in params.items()}
    N = {k: tensor(v) for k, v in noise.items()}
    if grads is not None:                                 # differentiate params and f32 inputs
        for name, t in list(P.items()) + list(I.items()):
            if t.is_floating_point() and name not in model.state:
                t.requires_grad_(True)
    want = spec.fn(I, P, N, training)

    expected = [o["name"] for o in model.info["outputs"]] + list(model.info["metrics"])
    if model.info.get("loss"):
        expected.append(model.info["loss"])
    worst, worst_name, problems = 0.0, "", []
    pairs = []
    for name in expected:
        if name not in outputs:
            problems.append("%s: gradc wrote no %s.npy" % (graph, name))
        elif name not in want:
            problems.append("%s: the reference returns no '%s'" % (graph, name))
        else:
            pairs.append((name, outputs[name], want[name].detach().numpy()))
    if grads is not None and model.info.get("loss"):
        want[model.info["loss"]].backward()
        for name, t in list(P.items()) + list(I.items()):
            if t.requires_grad:
                ref = t.grad if t.grad is not None else torch.zeros_like(t)
                if name not in grads:
                    problems.append("%s: gradc wrote no grad/%s.npy" % (graph, name))
                else:
                    pairs.append(("grad." + name, grads[name], ref.numpy()))
    for name, got, ref in pairs:
        err = rel_error(got, ref)
        if VERBOSE:
            print("    %-8s %-28s %.2e" % (graph, name, err))
        if worse(err, worst):
            worst, worst_name = err, "%s:%s" % (graph, name)
    return worst, worst_name, problems


def supports_backward(gradc):
    proc = subprocess.run([gradc, "run", "--help"], capture_output=True, text=True)
    return "--backward" in proc.stdout


def check_model(gradc, path, tol, backward, workdir):
    """Returns (passed, max error, detail)."""
    name = os.path.splitext(os.path.basename(path))[0]
    spec = MODELS.get(name)
    if spec is None:
        return False, float("nan"), "no reference in reference_models.py"
    model = Model(gradc, path)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    inputs = draw_inputs(model, spec, rng)
    noise = draw_noise(model, rng)
    inputs_npz = os.path.join(workdir, "inputs.npz")
    np.savez(inputs_npz, **inputs)
    noise_files = {}
    for k, v in noise.items():
        noise_files[k] = os.path.join(workdir, "noise-%s.npy" % k)
        np.save(noise_files[k], v)

    results, problems, remat = [], [], False
    # The model's own initialization, as gradc draws it.
    outputs, used, _ = model.run(workdir, "init", inputs_npz, noise_files)
    results.append(compare(model, spec, "init", outputs, used, inputs, noise))
    # Perturbed parameters and state, in each graph the model has.
    given = perturb(used, set(model.state), rng)
    params_npz = os.path.join(workdir, "perturbed.npz")
    np.savez(params_npz, **given)
    graphs = ["eval"] + (["train"] if spec.train_mode else [])
    for graph in graphs:
        outputs, used, _ = model.run(workdir, graph, inputs_npz, noise_files, params_npz,
                                     train=graph == "train")
        for k, v in given.items():
            if not np.array_equal(used.get(k), v):
                problems.append("%s: gradc did not use the given '%s'" % (graph, k))
        results.append(compare(model, spec, graph, outputs, used, inputs, noise))
    if backward and model.info.get("loss"):
        outputs, used, grads = model.run(workdir, "grad", inputs_npz, noise_files, params_npz,
                                         backward=True)
        results.append(compare(model, spec, "backward", outputs, used, inputs, noise, grads))
        # Backpropagation through time from checkpoints gives the same gradients.
        if "recurrence" in model.call(["compile", path, "--emit=ir"]):
            outputs, used, grads = model.run(workdir, "remat", inputs_npz, noise_files,
                                             params_npz, backward=True, remat=True)
            results.append(compare(model, spec, "remat", outputs, used, inputs, noise, grads))
            remat = True

    worst, where = 0.0, ""
    for err, name, probs in results:
        problems += probs
        if worse(err, worst):
            worst, where = err, name
    passed = not problems and worst <= tol
    detail = "; ".join(problems) if problems else "graphs %s, worst %s" % (
        "+".join(["init"] + graphs + (["backward"] if backward else []) +
                 (["remat"] if remat else [])), where or "-")
    return passed, worst, detail


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gradc", required=True, help="the gradc binary")
    ap.add_argument("--models", required=True, help="the directory of .grad models")
    ap.add_argument("--tol", type=float, default=1e-4, help="relative tolerance")
    ap.add_argument("--only", nargs="*", help="check only these models (file stems)")
    ap.add_argument("--verbose", action="store_true", help="print every tensor's error")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose

    files = sorted(f for f in os.listdir(args.models) if f.endswith(".grad"))
    if args.only:
        files = [f for f in files if f[:-5] in args.only]
    backward = supports_backward(args.gradc)
    passed = failed = 0
    for f in files:
        with tempfile.TemporaryDirectory(prefix="gradc-torch-") as workdir:
            try:
                ok, err, detail = check_model(args.gradc, os.path.join(args.models, f),
                                              args.tol, backward, workdir)
            except GradcError as e:
                ok, err, detail = False, float("nan"), str(e)
            except Exception as e:                        # a broken reference or a bad array
                ok, err, detail = False, float("nan"), "%s: %s" % (type(e).__name__, e)
        print("%-22s max rel err %-9.2e %s  (%s)" % (f[:-5], err, "PASS" if ok else "FAIL",
                                                    detail), flush=True)
        passed, failed = passed + ok, failed + (not ok)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not files else 0


if __name__ == "__main__":
    sys.exit(main())
