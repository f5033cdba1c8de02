"""Shared harness of the derivation tests (tests/derivations).

Each derivation script writes a model and its inputs and parameters, runs
`gradc run --backward`, and compares gradc's gradients with the closed forms
derived by hand in the lecture, evaluated here in NumPy. Usage of a script:

    /usr/bin/python3 tests/derivations/SCRIPT.py [PATH/TO/gradc]

(default: $GRADC, else build/gradc of this checkout). It prints one line per
check, `PASS: ...`, `FAIL: ...` (with the worst element), `XFAIL: ...` (a
known gradc bug, named by its repro file) or `XPASS: ...`, then
`N passed, M failed` (expected failures counted apart), and exits 1 if any check failed or passed unexpectedly.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(ROOT, "models")


def find_gradc():
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    if os.environ.get("GRADC"):
        return os.environ["GRADC"]
    return os.path.join(ROOT, "build", "gradc")


class GradcError(Exception):
    pass


class Derivation:
    """Runs gradc and records the checks of one derivation script."""

    def __init__(self, title):
        self.title = title
        self.gradc = find_gradc()
        self.tmp = tempfile.mkdtemp(prefix="gradc-deriv-")
        self.passed = 0
        self.failed = 0
        self.xfailed = 0
        self.runs = 0
        print(f"== {title}")

    # -- running gradc -----------------------------------------------------
    def run(self, model, inputs=None, params=None, dims=None, backward=True, train_mode=False,
            extra=()):
        """Runs `gradc run` on `model` (a path, or the source text of a model) with the
        given inputs and parameters (dicts of arrays; parameters not given come from
        --seed 0). Returns (values, grads): the outputs and the loss by name, and the
        gradient of every parameter and f32 input by name (empty without backward)."""
        self.runs += 1
        work = os.path.join(self.tmp, f"run{self.runs}")
        os.makedirs(work)
        if os.path.exists(model):
            path = model
        else:
            path = os.path.join(work, "model.grad")
            with open(path, "w") as f:
                f.write(model)
        cmd = [self.gradc, "run", path, "--seed", "0", "--out", os.path.join(work, "out")]
        if backward:
            cmd.append("--backward")
        if train_mode:
            cmd.append("--train-mode")
        if inputs:
            np.savez(os.path.join(work, "inputs.npz"), **inputs)
            cmd += ["--inputs", os.path.join(work, "inputs.npz")]
        if params:
            np.savez(os.path.join(work, "params.npz"), **params)
            cmd += ["--params", os.path.join(work, "params.npz")]
        for k, v in (dims or {}).items():
            cmd += ["-D", f"{k}={v}"]
        cmd += list(extra)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise GradcError(f"`{' '.join(cmd)}` exited {r.returncode}:\n{r.stderr.strip()}")
        out = os.path.join(work, "out")
        values, grads = {}, {}
        for name in os.listdir(out):
            if name.endswith(".npy"):
                values[name[:-4]] = np.load(os.path.join(out, name)).astype(np.float64)
        gdir = os.path.join(out, "grad")
        if os.path.isdir(gdir):
            for name in os.listdir(gdir):
                grads[name[:-4]] = np.load(os.path.join(gdir, name)).astype(np.float64)
        return values, grads

    def gradcheck(self, model, args=(), arrays=None):
        """Runs `gradc gradcheck` on `model` (a path or source text) with `--in NAME=...`
        for each array given; returns (exit status, stdout)."""
        self.runs += 1
        work = os.path.join(self.tmp, f"run{self.runs}")
        os.makedirs(work)
        path = model if os.path.exists(model) else os.path.join(work, "model.grad")
        if path != model:
            with open(path, "w") as f:
                f.write(model)
        cmd = [self.gradc, "gradcheck", path] + list(args)
        for name, a in (arrays or {}).items():
            np.save(os.path.join(work, name + ".npy"), a)
            cmd += ["--in", f"{name}={os.path.join(work, name + '.npy')}"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        return r.returncode, r.stdout

    # -- checks ------------------------------------------------------------
    def _report(self, ok, label, detail, xfail):
        if xfail:
            if ok:
                self.failed += 1
                print(f"XPASS: {label} (expected to fail: {xfail})")
            else:
                self.xfailed += 1
                print(f"XFAIL: {label} ({xfail}): {detail}")
        elif ok:
            self.passed += 1
            print(f"PASS: {label}")
        else:
            self.failed += 1
            print(f"FAIL: {label}: {detail}")

    def close(self, label, actual, expected, rtol=2e-5, atol=1e-6, xfail=None):
        """actual ≈ expected elementwise: |a - e| <= atol + rtol |e|, all finite."""
        a = np.asarray(actual, dtype=np.float64)
        e = np.asarray(expected, dtype=np.float64)
        if e.size == 1:
            e = np.broadcast_to(e.reshape(()), a.shape)
        if a.shape != e.shape:
            self._report(False, label, f"shape {a.shape}, expected {e.shape}", xfail)
            return False
        bad = ~np.isfinite(a) | (np.abs(a - e) > atol + rtol * np.abs(e))
        ok = not bad.any()
        detail = ""
        if not ok:
            i = np.unravel_index(np.argmax(bad), a.shape) if a.ndim else ()
            detail = f"at {tuple(int(k) for k in i)}: gradc {a[i]!r}, expected {e[i]!r}"
        self._report(ok, label, detail, xfail)
        return ok

    def exact(self, label, actual, expected, xfail=None):
        """actual == expected exactly (special values: 0 at a kink, a tie's winner)."""
        return self.close(label, actual, expected, rtol=0, atol=0, xfail=xfail)

    def truth(self, label, ok, detail="", xfail=None):
        self._report(bool(ok), label, detail, xfail)
        return bool(ok)

    def guard(self, label, fn, xfail=None):
        """Runs fn(); a gradc failure (non-zero exit) becomes a failed check."""
        try:
            return fn()
        except GradcError as err:
            self._report(False, label, str(err), xfail)
            return None

    def finish(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.xfailed:
            print(f"{self.xfailed} expected failures (known gradc bugs)")
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def f32(x):
    """Rounds to float32 and back: the values gradc reads."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)
