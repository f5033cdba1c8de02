#!/usr/bin/env bash
# Installs the Debian packages gradc needs (quiet when present), then
# configures and builds it in build/. Usage: scripts/build.sh [BUILD_TYPE]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
type=${1:-RelWithDebInfo}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null
fi
ninja -C build
