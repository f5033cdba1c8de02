#!/usr/bin/env python3
"""Differential test: native code (LLVM JIT, float32) against the reference interpreter
(double precision) on random valid models from gen_models.py.

    /usr/bin/python3 tests/fuzz/check_generated.py --gradc build/gradc [--count N] [--seed S]
        [--keep DIR] [--jobs J] [--max-dim N] [--run-arg=ARG] [--native-arg=ARG]

(--run-arg=--remat checkpoints both engines' recurrences; --native-arg=-O0 or =--threads=1
varies the native side; --max-dim 40 lets one dim grow past the vector width.)

For each model: `gradc check --json` must accept it (a rejection is a generator bug or a gradc
bug, and fails the test either way); inputs are drawn with numpy (f32 normal(0, 0.5), int ids
uniform below the bound the generator recorded in a `# fuzz-int:` line); `gradc run --backward`
runs natively and with --interp; every .npy the two write (outputs, loss, grad/*) must agree:
max|a-b| / max(max|b|, 0.01) <= 1e-4 per tensor, NaN and infinities at the same places.
Prints one line per model (and the model itself when it fails: the log alone reproduces a
failure) and the coverage histogram, and exits 1 if any model fails. Compiled code goes to a
temporary --cache-dir, removed at the end.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_models  # noqa: E402

TOL = 1e-4
FLOOR = 0.01
TIMEOUT = 120   # seconds per gradc call; a hang is a failure, not a stuck test


def run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return 'timeout', '', 'timed out after %d s' % TIMEOUT
    except OSError as e:   # e.g. the binary being relinked while the test runs
        return 'oserror', '', str(e)


def parse_meta(text):
    """The generator's comment lines: int bounds and the feature list."""
    bounds, feats = {}, []
    for line in text.splitlines():
        if line.startswith('# fuzz-int:'):
            name, bound = line.split(':', 1)[1].split()
            bounds[name] = int(bound)
        elif line.startswith('# fuzz-features:'):
            feats = line.split(':', 1)[1].split()
    return bounds, feats


def draw_inputs(info, bounds, seed):
    """Values for every input: f32 small normals, ints uniform in 0..bound-1."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for inp in info['inputs']:
        shape = tuple(inp['shape'])
        if inp['dtype'] == 'int':
            if inp['name'] not in bounds:
                raise ValueError("int input '%s' has no '# fuzz-int:' bound" % inp['name'])
            arrays[inp['name']] = rng.integers(0, bounds[inp['name']], size=shape).astype(np.int32)
        else:
            arrays[inp['name']] = (0.5 * rng.standard_normal(shape)).astype(np.float32)
    return arrays


def npy_files(root):
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith('.npy'):
                out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def compare(a, b):
    """Relative error of a against the reference b, or a string saying why they differ."""
    if a.shape != b.shape:
        return 'shape %s vs %s' % (a.shape, b.shape)
    a, b = a.astype(np.float64), b.astype(np.float64)
    na, nb, ia, ib = np.isnan(a), np.isnan(b), np.isinf(a), np.isinf(b)
    if (na != nb).any() or (ia != ib).any() or (a[ia] != b[ib]).any():
        return 'NaN or infinity at different places'
    fa = fb = ~(nb | ib)
    if not fb.any():
        return 0.0
    scale = max(np.abs(b[fb]).max(), FLOOR)
    return float(np.abs(a[fa] - b[fb]).max() / scale)


def check_model(gradc, path, work, seed, cache, run_args=(), native_args=()):
    """Returns (ok, message, features) for one model file."""
    text = open(path).read()
    bounds, feats = parse_meta(text)
    name = os.path.splitext(os.path.basename(path))[0]
    rc, out, err = run([gradc, 'check', path, '--json'])
    if rc != 0:   # exit 1: a diagnostic (a generator bug, or gradc rejecting a valid model)
        what = 'internal error' if rc == 3 else 'rejected the model'
        return False, 'gradc check: %s (exit %s)\n%s' % (what, rc, err), feats
    try:
        info = json.loads(out)
        arrays = draw_inputs(info, bounds, seed)
    except ValueError as e:
        return False, 'generator bug: %s\n%s' % (e, text), feats
    npz = os.path.join(work, name + '.inputs.npz')
    np.savez(npz, **arrays)
    dirs = {}
    for engine, extra in (('native', list(native_args)), ('interp', ['--interp'])):
        dirs[engine] = os.path.join(work, name + '.' + engine)
        shutil.rmtree(dirs[engine], ignore_errors=True)
        rc, _, err = run([gradc, 'run', path, '--backward', '--seed', '1', '--inputs', npz,
                          '--out', dirs[engine], '--cache-dir', cache] + list(run_args) + extra)
        if rc != 0:
            what = 'internal error' if rc == 3 else 'exit %s' % rc
            return False, '%s run failed (%s): %s' % (engine, what, err.strip()), feats
    fa, fb = npy_files(dirs['native']), npy_files(dirs['interp'])
    if fa != fb:
        return False, 'different files: native only %s, interp only %s' % (
            sorted(fa - fb), sorted(fb - fa)), feats
    worst, worst_name, bad = 0.0, '-', []
    for f in sorted(fa):
        e = compare(np.load(os.path.join(dirs['native'], f)), np.load(os.path.join(dirs['interp'], f)))
        if isinstance(e, str) or e > TOL:
            bad.append('%s: %s' % (f[:-4], e if isinstance(e, str) else '%.3g' % e))
        elif e >= worst:
            worst, worst_name = e, f[:-4]
    if bad:
        return False, 'native and interpreter differ: ' + '; '.join(bad), feats
    return True, 'worst %.2g (%s), %d tensors' % (worst, worst_name, len(fa)), feats


def main():
    ap = argparse.ArgumentParser(description='native vs interpreter on generated models')
    ap.add_argument('--gradc', required=True, help='the gradc binary')
    ap.add_argument('--count', type=int, default=40)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--keep', help='keep models, inputs and results in this directory')
    ap.add_argument('--jobs', type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument('--max-dim', type=int, default=6, help='largest size of the generator\'s dim D3')
    ap.add_argument('--run-arg', action='append', default=[], metavar='ARG',
                    help='an extra `gradc run` argument for both engines (e.g. --remat)')
    ap.add_argument('--native-arg', action='append', default=[], metavar='ARG',
                    help='an extra argument for the native run only (e.g. -O0, --threads=1)')
    a = ap.parse_args()
    gradc = os.path.abspath(a.gradc)
    tmp = tempfile.mkdtemp(prefix='gradc-fuzz-')
    work = os.path.abspath(a.keep) if a.keep else tmp
    os.makedirs(work, exist_ok=True)
    cache = os.path.join(tmp, 'cache')   # compiled objects go here, never to the user's cache
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # a killed test still cleans up
    try:
        def one(i):
            p = os.path.join(work, 'gen_%d_%d.grad' % (a.seed, i))
            try:
                text = gen_models.generate(a.seed, i, a.max_dim)
            except Exception:   # a generator crash is a failure of this model, not of the run
                return p, (False, 'generator crashed\n' + traceback.format_exc(), [])
            with open(p, 'w') as f:
                f.write(text)
            return p, check_model(gradc, p, work, a.seed * 1000 + i, cache, a.run_arg, a.native_arg)

        hist, failed = collections.Counter(), []
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            for p, (ok, msg, feats) in pool.map(one, range(a.count)):   # in order, as they finish
                hist.update(feats)
                name = os.path.basename(p)
                print('%s %s  %s' % ('PASS' if ok else 'FAIL', name, msg), flush=True)
                if not ok:   # the model itself, so that the log alone reproduces the failure
                    failed.append(name)
                    if os.path.exists(p):
                        print(''.join('    | ' + l for l in open(p).readlines()), flush=True)
        print('\n%d models, %d failed%s' % (a.count, len(failed), ': ' + ' '.join(failed) if failed else ''))
        if failed:
            print('reproduce: %s --gradc %s --seed %d --count %d --keep DIR'
                  % (sys.argv[0], a.gradc, a.seed, a.count))
        print('constructs (models using each): ' +
              ', '.join('%s %d' % kv for kv in sorted(hist.items())))
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
