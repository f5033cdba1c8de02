#!/usr/bin/env python3
"""Generates random, valid gradc models for the native-vs-interpreter differential test.

    python3 gen_models.py --seed N --count K --out DIR    # writes DIR/gen_<N>_<i>.grad

Models are built from typed building blocks, never by trial and error: every pool tensor
carries its axes (dim names) and a rough magnitude, every read subscripts an axis with an
index variable of that axis's dim, and values are kept tame (bounded activations, small
weights, exp/log/sqrt only of arguments known to be in range, no ties in max/min or in
comparisons by construction) because float32 and float64 must agree to 1e-4. A model is
deterministic in (seed, index).

Each file starts with comment lines that check_generated.py reads:
    # fuzz-int: NAME BOUND      an int input whose values must lie in 0..BOUND-1
    # fuzz-features: a b c      the constructs the model uses (the coverage histogram)

The generator itself is the package genmodels/ next to this file.
"""
import argparse
import os

from genmodels import generate   # also gen_models.generate, which check_generated.py calls


def main():
    ap = argparse.ArgumentParser(description='random valid gradc models')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--count', type=int, default=10)
    ap.add_argument('--out', required=True)
    ap.add_argument('--max-dim', type=int, default=6, help='largest size of the dim D3')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.count):
        text = generate(a.seed, i, a.max_dim)   # before opening, so a generator crash leaves no empty file
        with open(os.path.join(a.out, 'gen_%d_%d.grad' % (a.seed, i)), 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
