#!/usr/bin/env bash
# Builds the front-end (and autodiff) fuzz target with clang-19 (libFuzzer, AddressSanitizer,
# UndefinedBehaviorSanitizer) and runs it for a bounded time over a corpus
# seeded with the course models and the test inputs. Any crash fails.
# Usage: run_fuzz.sh SOURCE_DIR BUILD_DIR SECONDS
set -euo pipefail
src=$1 build=$2 secs=${3:-60}
out=$build/fuzz
mkdir -p "$out/corpus" "$out/artifacts"
bin=$out/fuzz_frontend
sources=$(ls "$src"/support/*.cpp "$src"/frontend/*.cpp "$src"/ir/*.cpp "$src"/passes/*.cpp)
if [ ! -x "$bin" ] || [ -n "$(find "$src"/support "$src"/frontend "$src"/ir "$src"/passes "$src"/tests/fuzz \
      -newer "$bin" -type f | head -n 1)" ]; then
  echo "building $bin"
  # One object per source, two at a time, so a rebuild stays within minutes.
  printf '%s\n' $sources "$src/tests/fuzz/fuzz_frontend.cpp" |
    xargs -P 2 -I{} sh -c 'f={}; o='"$out"'/$(echo "$f" | tr / _).o;
      clang++-19 -std=c++20 -O1 -g -w -fsanitize=fuzzer-no-link,address,undefined \
        -fno-sanitize-recover=undefined -I'"$src"' -I'"$src"'/include \
        -I'"$build"'/generated -c "$f" -o "$o"'
  clang++-19 -fsanitize=fuzzer,address,undefined "$out"/*.o -lfmt -o "$bin"
fi
cp "$src"/models/*.grad "$src"/tests/bad/*.grad "$out/corpus/" 2>/dev/null || true
find "$src"/tests/golden -name '*.grad' -exec cp {} "$out/corpus/" \; 2>/dev/null || true
export ASAN_OPTIONS=detect_leaks=0
"$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$out/corpus" 2>&1 | tail -n 15
