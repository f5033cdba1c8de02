"""Runs every derivation test in this directory (the lecture's closed-form
gradients and the special-value rules, checked against `gradc run --backward`).

    /usr/bin/python3 tests/derivations/run_all.py [PATH/TO/gradc]

Each script prints PASS/FAIL/XFAIL/XPASS lines; this driver echoes them, counts
them over all scripts, and ends with `N passed, M failed`. A script that dies
without reporting (an exception, a crash) counts as one failure. Exit status 1
if anything failed; 77 (skipped) without NumPy.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ["relu_net.py", "mlp_skip_bce.py", "lstm_cell.py", "special_values.py"]


def main():
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("numpy is missing: derivation tests skipped")
        return 77
    gradc = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.environ.get(
        "GRADC", os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "gradc"))
    if not os.access(gradc, os.X_OK):
        print(f"gradc not found at {gradc}")
        return 1
    passed = failed = xfailed = 0
    for script in SCRIPTS:
        r = subprocess.run([sys.executable, "-B", os.path.join(HERE, script), gradc],
                           capture_output=True, text=True, cwd=HERE)
        counts = {"PASS": 0, "FAIL": 0, "XFAIL": 0, "XPASS": 0}
        for line in r.stdout.splitlines():
            tag = line.split(":", 1)[0]
            if tag in counts:
                counts[tag] += 1
                print(f"{script}: {line}")
            elif line.startswith("=="):
                print(line)
        passed += counts["PASS"]
        failed += counts["FAIL"] + counts["XPASS"]
        xfailed += counts["XFAIL"]
        if r.returncode != 0 and counts["FAIL"] + counts["XPASS"] == 0:
            failed += 1
            print(f"{script}: FAIL: exited {r.returncode} without reporting a failed check")
            print(r.stderr.strip())
    if xfailed:
        print(f"{xfailed} expected failures (known gradc bugs, marked XFAIL)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
