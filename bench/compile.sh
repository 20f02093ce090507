#!/usr/bin/env bash
# Compile speed: a cold `unshared build` process (the bundled command, dist/cli.cjs, as
# package.json's bin runs it) against `node -e 0` (the floor for any Node CLI), and 1,000 specs
# compiled in one process through the library API.
#
# Usage: bench/compile.sh [RUNS]    (writes bench/results/compile.json)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
runs=${1:-30}
raw=$(mktemp /tmp/unshared-bench-compile.XXXXXX)
trap 'rm -f -- "$raw"' EXIT

# -N: no shell between hyperfine and node, so the shell's start is not counted.
hyperfine -N --warmup 3 --runs "$runs" --style none --export-json "$raw" \
  -n 'node -e 0' 'node -e 0' \
  -n 'unshared build (json)' 'node dist/cli.cjs build examples/build-container.json' \
  -n 'unshared build (yaml)' 'node dist/cli.cjs build examples/build-container.yaml' \
  -n 'unshared build (ts)' 'node dist/cli.cjs build examples/build-container.ts'
many=$(node bench/compile-many.mjs)

jq --argjson many "$many" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
  (.results | map({ key: .command, value: (.median * 1000) }) | from_entries) as $median
  | {
      benchmark: "cold unshared build against node -e 0; 1,000 specs through the library",
      runs: (.results[0].times | length),
      load_average: $load,
      median_ms: ($median | map_values(. * 100 | round / 100)),
      ratios: ($median | with_entries(select(.key != "node -e 0")) | map_values(. / $median["node -e 0"] * 100 | round / 100)),
      library: $many
    }' "$raw" >bench/results/compile.json

printf '\nCold start, median of %s runs (load average %s):\n\n' "$(jq .runs bench/results/compile.json)" "$(jq -r .load_average bench/results/compile.json)"
printf '  %-24s %10s %14s\n' command 'median ms' '/ node -e 0'
jq -r '.median_ms as $m | .ratios as $r | $m | keys_unsorted[] | [., ($m[.] | tostring), (if $r[.] then "\($r[.])x" else "" end)] | @tsv' bench/results/compile.json |
  while IFS=$'\t' read -r name ms ratio; do printf '  %-24s %10s %14s\n' "$name" "$ms" "$ratio"; done
jq -r '.library | "\n1,000 specs through the library API: \(.total_ms) ms (\(.per_spec_ms) ms each)\n"' bench/results/compile.json
echo "bench/results/compile.json written"
