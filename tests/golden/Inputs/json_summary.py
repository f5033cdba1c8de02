"""Prints `gradc check --json` output one fact per line, in a form that
FileCheck patterns can match without depending on the JSON layout or on
fields added later (DESIGN.md: "more fields may follow"). Fails on invalid
JSON or on a required field that is missing."""
import json
import sys

with open(sys.argv[1]) as f:
    d = json.load(f)

def shape(e):
    return "[" + ",".join(str(n) for n in e["shape"]) + "]"

print("model", d["model"])
for key, kind in (("inputs", "input"), ("params", "param"), ("outputs", "output")):
    for e in d[key]:
        extra = " " + e["init"] if "init" in e else ""
        print(kind, e["name"], shape(e), e["dtype"] + extra)
for e in d.get("state", []):
    print("state", e["name"], shape(e), e["dtype"])
print("loss", json.dumps(d["loss"]))
print("metrics", " ".join(d["metrics"]) if d["metrics"] else "(none)")
print("param_count", d["param_count"])
if "dims" in d:
    print("dims", " ".join(f"{k}={v}" for k, v in sorted(d["dims"].items())))
