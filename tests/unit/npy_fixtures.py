#!/usr/bin/env python3
"""Writes .npy and .npz files with real NumPy for gradc's reader tests.

Usage: npy_fixtures.py DIR

Besides the array files it writes DIR/manifest.json, which says what each
file holds (gradc's dtype name, shape, values in C order as NumPy reads
them) or which error gradc must report for it. The doctest "npy: files
written by NumPy" (tests/unit/test_npy.cpp) reads the files with gradc and
compares them against the manifest when GRADC_NPY_FIXTURES=DIR is set.
"""
import json
import os
import sys

import numpy as np

# NumPy dtype string -> gradc's ElemType name (runtime/HostArray.h).
GRADC_DTYPE = {
    '<f4': 'f32', '>f4': 'f32', '<f8': 'f64', '>f8': 'f64',
    '|i1': 'i8', '<i2': 'i16', '<i4': 'i32', '>i4': 'i32', '<i8': 'i64',
    '|u1': 'u8', '<u2': 'u16', '<u4': 'u32', '|b1': 'bool',
}


def describe(a):
    return {'dtype': GRADC_DTYPE[a.dtype.str], 'shape': list(a.shape),
            'values': a.ravel().tolist()}


def arrays():
    """Every dtype gradc reads, ranks 0 to 5, NumPy's default dtypes."""
    i = np.arange
    return {
        'f4': (i(12) * 0.5 - 2).astype('<f4').reshape(3, 4),
        'f8': (i(6) / 3).reshape(2, 3),
        'i4': (i(24) * 7 - 50).astype('<i4').reshape(2, 3, 4),
        'i8': i(5, dtype='<i8') * 2**40 - 3,
        'b1': i(7) % 3 == 0,
        'u1': i(256).astype('|u1').reshape(16, 16),
        'i1': (i(10) - 5).astype('|i1'),
        'i2': (i(10) * 1000 - 5000).astype('<i2'),
        'u2': (i(10) * 6000).astype('<u2'),
        'u4': (i(10) * 400000000).astype('<u4'),
        'scalar_f4': np.array(3.25, dtype='<f4'),
        'scalar_i8': np.array(-7, dtype='<i8'),
        'scalar_b1': np.array(True),
        'empty': np.zeros((0, 3), dtype='<f4'),
        'rank5': (i(8) * 0.5 - 2).astype('<f4').reshape(1, 2, 1, 2, 2),
        'tiny': np.array([1e-38, -3.4e38, 0.1], dtype='<f4'),
    }


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = {}

    def save(name, a, **kw):
        with open(os.path.join(out, name), 'wb') as f:
            np.lib.format.write_array(f, a, **kw)
        manifest[name] = describe(a)

    for key, a in arrays().items():
        np.save(os.path.join(out, key + '.npy'), a)
        manifest[key + '.npy'] = describe(a)

    # Other header versions and byte orders.
    save('v2.npy', arrays()['f4'], version=(2, 0))
    save('v3.npy', arrays()['i4'], version=(3, 0))
    for key, dtype in [('be_f8', '>f8'), ('be_i4', '>i4'), ('be_f4', '>f4')]:
        a = (np.arange(6) * 1.25 - 2).astype(dtype).reshape(3, 2)
        if dtype == '>i4':
            a = (np.arange(6) * 70000 - 9).astype(dtype)
        np.save(os.path.join(out, key + '.npy'), a)
        manifest[key + '.npy'] = describe(a)

    # Archives: keyword and positional names, stored and deflated members.
    a = arrays()
    members = {'a1.W': a['f4'], 'a1.b': a['f8'][0], 'step': a['scalar_i8'],
               'mask': a['b1'], 'big': np.zeros((50, 40), dtype='<f4')}
    members['big'][3, 7] = 2.5
    for name, save_fn in [('stored.npz', np.savez),
                          ('compressed.npz', np.savez_compressed)]:
        save_fn(os.path.join(out, name), **members)
        manifest[name] = {'members': [dict(name=k, **describe(v))
                                      for k, v in members.items()]}
    np.savez(os.path.join(out, 'positional.npz'), a['i4'], a['scalar_f4'])
    manifest['positional.npz'] = {'members': [
        dict(name='arr_0', **describe(a['i4'])),
        dict(name='arr_1', **describe(a['scalar_f4']))]}

    # Files gradc must refuse, with the words its error must contain.
    np.save(os.path.join(out, 'fortran.npy'),
            np.asfortranarray(a['f4']))
    manifest['fortran.npy'] = {'error': 'Fortran order'}
    np.save(os.path.join(out, 'object.npy'),
            np.array([1, 'a'], dtype=object), allow_pickle=True)
    manifest['object.npy'] = {'error': "unsupported dtype '|O'"}
    np.save(os.path.join(out, 'f2.npy'), np.ones(3, dtype='<f2'))
    manifest['f2.npy'] = {'error': 'float16'}
    np.save(os.path.join(out, 'complex.npy'), np.ones(3, dtype='<c8'))
    manifest['complex.npy'] = {'error': 'complex'}

    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
