#!/usr/bin/env bash
# Start-to-exit of a /bin/true container with pid, mount, uts, ipc and net namespaces, memory,
# cpu and pids limits, /proc, a minimal /dev and pivot_root: the script unshared generates,
# against the raw unshare command, bubblewrap and runc with an equivalent config.json. The runs
# are interleaved (one of each per round), so that drift of the machine hits all alike.
#
# Usage: bench/start.sh [ROUNDS]    (as root; writes bench/results/start.json)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-30}
work=$(mktemp -d /tmp/unshared-bench.XXXXXX)
bench_id=bench$$
cleanup() {
  runc delete --force "$bench_id" >/dev/null 2>&1 || true
  # runc removes its container's cgroups, not the parent it created in every hierarchy.
  local dir
  for dir in /sys/fs/cgroup/*/unshared-bench /sys/fs/cgroup/unshared-bench; do
    [[ ! -d $dir ]] || rmdir "$dir" 2>/dev/null || true
  done
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT

rootfs=$work/bundle/rootfs
scripts/make-busybox-rootfs.sh "$rootfs" >/dev/null

# The generated script.
cat >"$work/spec.json" <<JSON
{
  "name": "$bench_id",
  "rootfs": { "dir": "$rootfs" },
  "command": ["/bin/true"],
  "namespaces": ["pid", "mount", "uts", "ipc", "net"],
  "limits": { "memory": "256m", "cpus": 1, "pids": 64 },
  "cgroupParent": "unshared-bench"
}
JSON
node dist/src/cli/bin.js build "$work/spec.json" -o "$work/container.sh"

# runc: its default spec has the same namespaces; add the same limits and /bin/true.
(cd "$work/bundle" && runc spec)
jq '.process.args = ["/bin/true"] | .process.terminal = false | .root.readonly = false
  | .linux.resources = { memory: { limit: 268435456 }, cpu: { quota: 100000, period: 100000 }, pids: { limit: 64 } }
  | .linux.cgroupsPath = "/unshared-bench/'"$bench_id"'"' \
  "$work/bundle/config.json" >"$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"

names=(unshared unshare bwrap runc)
commands=(
  "$work/container.sh"
  "unshare --pid --fork --mount --uts --ipc --net chroot $rootfs /bin/true"
  "bwrap --unshare-pid --unshare-uts --unshare-ipc --unshare-net --bind $rootfs / --proc /proc --dev /dev /bin/true"
  "runc run --bundle $work/bundle $bench_id"
)

declare -A samples=()
for ((round = 0; round < rounds; round++)); do
  for i in "${!names[@]}"; do
    read -ra argv <<<"${commands[i]}"
    start=$EPOCHREALTIME
    "${argv[@]}" >/dev/null 2>&1 || { echo "bench: ${names[i]} failed: ${commands[i]}" >&2; exit 1; }
    end=$EPOCHREALTIME
    samples[${names[i]}]+="$(( ${end/./} - ${start/./} )) "
  done
done

# The samples are one space-separated string of integers (microseconds).
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
declare -A med=()
for name in "${names[@]}"; do med[$name]=$(median "${samples[$name]}"); done

mkdir -p bench/results
{
  printf '{\n  "benchmark": "start-to-exit of a /bin/true container",\n  "rounds": %d,\n  "load_average": "%s",\n  "median_ms": {' \
    "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)"
  sep=''
  for name in "${names[@]}"; do printf '%s\n    "%s": %s' "$sep" "$name" "$(awk -v us="${med[$name]}" 'BEGIN{printf "%.2f", us/1000}')"; sep=','; done
  printf '\n  },\n  "ratios": {'
  sep=''
  for name in unshare bwrap runc; do
    printf '%s\n    "unshared/%s": %s' "$sep" "$name" "$(awk -v a="${med[unshared]}" -v b="${med[$name]}" 'BEGIN{printf "%.2f", a/b}')"; sep=','
  done
  printf '\n  }\n}\n'
} >bench/results/start.json

printf '\nStart-to-exit, /bin/true, median of %d interleaved rounds (load average %s):\n\n' "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-10s %10s %22s\n' runtime 'median ms' 'unshared / runtime'
for name in "${names[@]}"; do
  printf '  %-10s %10s %22s\n' "$name" "$(awk -v us="${med[$name]}" 'BEGIN{printf "%.1f", us/1000}')" \
    "$(awk -v a="${med[unshared]}" -v b="${med[$name]}" 'BEGIN{printf "%.2fx", a/b}')"
done
echo
echo "bench/results/start.json written"
