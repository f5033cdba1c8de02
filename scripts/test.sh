#!/usr/bin/env bash
# Sets up and runs every test: unit tests (doctest), golden and bad-input
# tests (lit + FileCheck), and the models checked against PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure
