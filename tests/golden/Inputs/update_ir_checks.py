#!/usr/bin/env python3
"""Regenerates the CHECK lines of IR golden tests from the current compiler.

    tests/golden/Inputs/update_ir_checks.py build/gradc tests/golden/conv.grad ...

For each RUN line `%gradc compile %s --emit=ir [ARGS] | FileCheck [--check-prefix=P] %s`
it runs gradc and writes one CHECK block per prefix: a CHECK-LABEL at each
`graph`, then CHECK-NEXT for every line, numbered temporaries (%12) as FileCheck
variables and file paths in loc() as {{.*}}. Everything from the first line of
the file that starts with `# <PREFIX>` (for the file's prefixes) is replaced;
the header and the model above it are kept. Review the diff before committing:
a golden test is only as good as the reading of its output."""
import re
import shlex
import subprocess
import sys

TEMP = re.compile(r"%(\d+)\b(?![.\w])")
LOC = re.compile(r'loc\("([^"]*?)([^"/]+)":(\d+):(\d+)\)')
RUN = re.compile(r"^# RUN: %gradc compile %s --emit=ir(?P<args>[^|]*)\| FileCheck(?P<fc>[^%]*)%s\s*$")


def esc(text):
    out = text.replace("{{", "\x00").replace("[[", "\x01")
    return out.replace("\x00", "{{[{][{]}}").replace("\x01", "{{\\[\\[}}")


def ir_checks(ir, prefix):
    seen, res = set(), []
    for ln in ir.rstrip("\n").split("\n"):
        toks = sorted([(m.start(), m.end(), "T", m) for m in TEMP.finditer(ln)] +
                      [(m.start(), m.end(), "L", m) for m in LOC.finditer(ln)])
        out, pos = "", 0
        for s, e, kind, m in toks:
            if s < pos:
                continue
            out += esc(ln[pos:s])
            if kind == "T":
                n = m.group(1)
                out += f"[[T{n}]]" if n in seen else f"[[T{n}:%[0-9]+]]"
                seen.add(n)
            else:
                out += 'loc("{{.*}}' + esc(m.group(2)) + '":' + m.group(3) + ":" + m.group(4) + ")"
            pos = e
        out = (out + esc(ln[pos:])).strip()
        if ln.startswith("graph "):
            seen.clear()
            res.append(f"# {prefix}-LABEL: {out}")
        else:
            res.append(f"# {prefix}-NEXT: {out}")
    return res


def update(gradc, path):
    lines = open(path).read().split("\n")
    runs = []
    for ln in lines:
        m = RUN.match(ln)
        if m:
            fc = m.group("fc")
            pm = re.search(r"--check-prefix[= ](\S+)", fc)
            runs.append((pm.group(1) if pm else "CHECK", shlex.split(m.group("args"))))
    if not runs:
        print(f"{path}: no `compile --emit=ir | FileCheck` RUN line", file=sys.stderr)
        return False
    prefixes = tuple(f"# {p}" for p, _ in runs)
    cut = next((i for i, ln in enumerate(lines) if ln.startswith(prefixes)), len(lines))
    head = lines[:cut]
    while head and head[-1] == "":
        head.pop()
    blocks = []
    for prefix, args in runs:
        p = subprocess.run([gradc, "compile", path, "--emit=ir"] + args, capture_output=True, text=True)
        if p.returncode != 0:
            print(f"{path}: gradc failed:\n{p.stderr}", file=sys.stderr)
            return False
        blocks.append("\n".join(ir_checks(p.stdout, prefix)))
    with open(path, "w") as f:
        f.write("\n".join(head) + "\n\n" + "\n\n".join(blocks) + "\n")
    return True


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ok = all([update(sys.argv[1], p) for p in sys.argv[2:]])
    sys.exit(0 if ok else 1)
