#!/usr/bin/env bash
# Compile speed: a cold `unshared build` process against `node -e 0` (the floor for any Node
# CLI), and 1,000 specs compiled in one process through the library API.
#
# Usage: bench/compile.sh    (writes bench/results/compile.json)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results

hyperfine --warmup 3 --runs 30 --style basic --export-json bench/results/compile-cli.json \
  -n 'node -e 0' 'node -e 0' \
  -n 'unshared build (json)' 'node dist/src/cli/bin.js build examples/build-container.json' \
  -n 'unshared build (ts)' 'node dist/src/cli/bin.js build examples/build-container.ts'

node bench/compile-many.mjs | tee bench/results/compile-many.json
