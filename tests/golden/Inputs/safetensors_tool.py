#!/usr/bin/python3
"""Reads .safetensors files for the training tests, with nothing but the standard library
and numpy (the format: an 8-byte little-endian header length, a JSON header, the data).

  safetensors_tool.py same A B        every tensor of A equals B's bit for bit ("same") or
                                      the first that differs is named ("DIFFERENT name")
  safetensors_tool.py list A          name dtype shape per tensor, then the metadata keys
  safetensors_tool.py npz A OUT.npz   the tensors that are not optimizer state, as .npz
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        tensors[name] = np.frombuffer(body[b:e], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return tensors, meta


def main():
    cmd = sys.argv[1]
    if cmd == "same":
        a, _ = read(sys.argv[2])
        b, _ = read(sys.argv[3])
        if sorted(a) != sorted(b):
            print("DIFFERENT names", sorted(a), sorted(b))
            return
        for name in sorted(a):
            if a[name].tobytes() != b[name].tobytes():
                print("DIFFERENT", name)
                return
        print("same", len(a))
    elif cmd == "list":
        tensors, meta = read(sys.argv[2])
        for name in sorted(tensors):
            print(name, tensors[name].dtype, list(tensors[name].shape))
        print("metadata", " ".join(sorted(meta)))
    elif cmd == "npz":
        tensors, _ = read(sys.argv[2])
        np.savez(sys.argv[3], **{k: v for k, v in tensors.items()
                                 if not k.startswith("optimizer/")})


if __name__ == "__main__":
    main()
