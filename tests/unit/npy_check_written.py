#!/usr/bin/env python3
"""Checks that NumPy reads the .npy/.npz files gradc wrote as gradc meant.

Usage: npy_check_written.py DIR

The doctest "npy: files for NumPy" (tests/unit/test_npy.cpp), run with
GRADC_NPY_WRITE_DIR=DIR, writes array files and DIR/written.json, which
lists for each file gradc's dtype name, shape and C-order values (or, for an
archive, its members in order). Exits 1 with one line per mismatch.
"""
import json
import os
import sys
import zipfile

import numpy as np

# gradc's ElemType name -> the dtype string its writer must produce.
NUMPY_DTYPE = {
    'f32': '<f4', 'f64': '<f8', 'i8': '|i1', 'i16': '<i2', 'i32': '<i4',
    'i64': '<i8', 'u8': '|u1', 'u16': '<u2', 'u32': '<u4', 'bool': '|b1',
}


def compare(label, a, want, errors):
    if a.dtype.str != NUMPY_DTYPE[want['dtype']]:
        errors.append(f'{label}: dtype {a.dtype.str}, expected '
                      f'{NUMPY_DTYPE[want["dtype"]]}')
    elif list(a.shape) != want['shape']:
        errors.append(f'{label}: shape {a.shape}, expected {want["shape"]}')
    elif not a.flags.c_contiguous:
        errors.append(f'{label}: not C-contiguous')
    elif a.ravel().tolist() != want['values']:
        errors.append(f'{label}: values {a.ravel().tolist()[:8]}..., '
                      f'expected {want["values"][:8]}...')


def check_npy_layout(label, path, errors):
    """NumPy's own header reader, and the data aligned as NumPy aligns it."""
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            np.lib.format.read_array_header_1_0(f)
        if version != (1, 0) or f.tell() % 64 != 0:
            errors.append(f'{label}: version {version}, data at {f.tell()}')


def main():
    root = sys.argv[1]
    with open(os.path.join(root, 'written.json')) as f:
        manifest = json.load(f)
    errors = []
    for name, want in manifest.items():
        path = os.path.join(root, name)
        if 'members' not in want:
            check_npy_layout(name, path, errors)
            compare(name, np.load(path), want, errors)
            continue
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()  # reads every member and checks its CRC-32
            if bad is not None:
                errors.append(f'{name}: member {bad} fails its CRC check')
            if any(i.compress_type != zipfile.ZIP_STORED for i in z.infolist()):
                errors.append(f'{name}: members should be stored')
        with np.load(path) as npz:
            names = [m['name'] for m in want['members']]
            if npz.files != names:
                errors.append(f'{name}: members {npz.files}, expected {names}')
            for m in want['members']:
                if m['name'] in npz.files:
                    compare(f"{name}: member '{m['name']}'", npz[m['name']],
                            m, errors)
    for e in errors:
        print(e)
    print(f'{len(manifest)} files checked, {len(errors)} mismatches')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
