#!/usr/bin/env bash
# Cold `unshared build` of two versions of the command line, and `node -e 0`, interleaved: each
# round runs every command once, in turn, so that drift or load of the machine (other work on a
# shared one) hits all alike, where hyperfine runs each command's runs in one block.
#
# Usage: bench/compile-compare.sh OTHER_CLI [ROUNDS]
#   OTHER_CLI: another version's dist/cli.cjs (a path without spaces), e.g. main's
#   (prints a table; writes nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
other=${1:?usage: bench/compile-compare.sh OTHER_CLI [ROUNDS]}
rounds=${2:-40}
[[ -f $other ]] || { echo "bench: no such file: $other" >&2; exit 2; }

names=('node -e 0')
commands=('node -e 0')
for format in json yaml ts; do
  names+=("this $format" "other $format")
  commands+=("node dist/cli.cjs build examples/build-container.$format" "node $other build examples/build-container.$format")
done

# Microseconds per run, one space-separated string per command; three unrecorded rounds first.
declare -A samples=()
for ((round = -3; round < rounds; round++)); do
  for i in "${!names[@]}"; do
    read -ra argv <<<"${commands[i]}"
    start=$EPOCHREALTIME
    "${argv[@]}" >/dev/null 2>&1 || { echo "bench: ${names[i]} failed: ${commands[i]}" >&2; exit 1; }
    end=$EPOCHREALTIME
    ((round < 0)) || samples[${names[i]}]+="$(( ${end/./} - ${start/./} )) "
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
floor=$(median "${samples['node -e 0']}")
printf '\nCold start, median of %d interleaved rounds (load average %s; other: %s):\n\n' "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)" "$other"
printf '  %-12s %10s %14s\n' command 'median ms' '/ node -e 0'
for name in "${names[@]}"; do
  m=$(median "${samples[$name]}")
  printf '  %-12s %10s %14s\n' "$name" "$(awk -v us="$m" 'BEGIN{printf "%.1f", us/1000}')" "$(awk -v a="$m" -v b="$floor" 'BEGIN{printf "%.2fx", a/b}')"
done
