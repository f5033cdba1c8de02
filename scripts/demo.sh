#!/usr/bin/env bash
# The main job: builds gradc, checks a course model (the UGRNN of the
# lecture), prints its IR, and runs it forward and backward on the inputs
# shipped in examples/ (outputs, loss and every gradient) as native code, then
# times it at a realistic size (gradc bench).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
model=models/ugrnn.grad
./build/gradc check "$model"
./build/gradc compile "$model" --emit=ir | head -n 40
./build/gradc run "$model" --inputs examples/ugrnn_inputs.npz --seed 0 --backward
# The same model at a realistic size, as native code: compile and run times.
./build/gradc bench "$model" -D B=32 -D T=50 -D K=64 -D J=128 --iters 20
