#!/usr/bin/env bash
# The main job: builds gradc, checks a course model (the UGRNN of the
# lecture), prints its IR, and runs it forward and backward on the inputs
# shipped in examples/ (outputs, loss and every gradient) as native code, then
# times it at a realistic size (gradc bench). Then trains the README's MLP on
# Fashion-MNIST (Debian's dataset-fashion-mnist) for three epochs and
# classifies the test set with the checkpoint it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
model=models/ugrnn.grad
./build/gradc check "$model"
./build/gradc compile "$model" --emit=ir | head -n 40
./build/gradc run "$model" --inputs examples/ugrnn_inputs.npz --seed 0 --backward
# The same model at a realistic size, as native code: compile and run times.
./build/gradc bench "$model" -D B=32 -D T=50 -D K=64 -D J=128 --iters 20

# Training on real data: three epochs, a checkpoint, then the test set.
F=/usr/share/datasets/fashion-mnist
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./build/gradc train examples/fashion_mlp.grad --epochs 3 \
  --data "x=$F/train-images-idx3-ubyte.gz,y=$F/train-labels-idx1-ubyte.gz" \
  --val "x=$F/t10k-images-idx3-ubyte.gz,y=$F/t10k-labels-idx1-ubyte.gz" \
  --save "$out/mlp.safetensors" --log "$out/mlp.csv" --plot "$out/mlp.svg"
./build/gradc run examples/fashion_mlp.grad -D B=10000 --params "$out/mlp.safetensors" \
  --in "x=$F/t10k-images-idx3-ubyte.gz" --in "y=$F/t10k-labels-idx1-ubyte.gz" | grep -A1 '^acc'
