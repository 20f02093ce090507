#!/usr/bin/env bash
# Scale: N detached containers (default 50) on one bridge, each running `sleep`. Measures the
# time until all run (started in parallel), the host memory one idle container costs, what
# processes of ours stay on the host per container (no shell should), the time to remove all
# (`rm --force`, in parallel), and checks that nothing is left: cgroups, network namespaces,
# veths, the bridge, state directories.
#
# Usage: bench/scale.sh [COUNT]    (as root; writes bench/results/scale.json)
set -euo pipefail
cd "$(dirname "$0")/.."

count=${1:-50}
((count >= 1 && count <= 250)) || { echo "bench/scale.sh: COUNT must be 1-250" >&2; exit 2; }
work=$(mktemp -d /tmp/unshared-bench-scale.XXXXXX)
tag=s$$
bridge=usb$$
parent=unshared-bench-$tag
state=$work/state
names=()
for ((i = 0; i < count; i++)); do names+=("$tag-$i"); done
export UNSHARED_STATE_DIR=$state
# The containers' writable layers too (rm removes each; the folder goes with the work folder).
export UNSHARED_DATA_DIR=$work/data

# Whatever happens, every container goes, then the work folder.
cleanup() {
  local name
  for name in "${names[@]}"; do
    [[ ! -x $work/$name.sh ]] || "$work/$name.sh" rm --force >/dev/null 2>&1 || true
  done
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT

rootfs=$work/rootfs
scripts/make-busybox-rootfs.sh "$rootfs" >/dev/null

# One process compiles every spec through the library.
node --input-type=module - "$work" "$rootfs" "$bridge" "$parent" "${names[@]}" <<'JS'
import { writeFileSync } from 'node:fs';
import { compile } from './dist/src/index.js';
const [work, rootfs, bridge, cgroupParent, ...names] = process.argv.slice(2);
for (const name of names) {
  const spec = {
    name, rootfs: { dir: rootfs }, command: ['/bin/sleep', '3600'], cgroupParent,
    limits: { memory: '64m', cpus: 0.1, pids: 16 },
    network: { mode: 'bridge', bridge, subnet: '10.213.0.0/24' },
  };
  writeFileSync(`${work}/${name}.sh`, compile(spec), { mode: 0o755 });
}
JS

mem_used_kib() { awk '/^MemTotal:/ {t = $2} /^MemAvailable:/ {a = $2} END {print t - a}' /proc/meminfo; }
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

sync
mem_before=$(mem_used_kib)
start=$(now_us)
pids=()
for name in "${names[@]}"; do
  "$work/$name.sh" start >"$work/$name.out" 2>&1 &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
running=0
for name in "${names[@]}"; do
  if "$work/$name.sh" status >/dev/null 2>&1; then running=$((running + 1)); fi
done
start_ms=$((($(now_us) - start) / 1000))
((failed == 0 && running == count)) || {
  echo "bench/scale.sh: $failed starts failed, $running of $count running; first output:" >&2
  cat "$work/${names[0]}.out" >&2
  exit 1
}

# Idle: let the page cache and slab settle a moment, then measure.
sleep 2
mem_after=$(mem_used_kib)
# The host processes of the containers, outside them: everything in their cgroups is the
# container's own (sleep); its parents up to PID 1 are ours. A shell among them would cost
# memory and a process per container.
shells=0 unshares=0 pss_kib=0 cgroup_bytes=0
for name in "${names[@]}"; do
  pid=$(<"$state/$name/pid")
  ppid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")
  while ((ppid > 1)); do
    comm=$(<"/proc/$ppid/comm")
    case $comm in
      bash | sh | dash) shells=$((shells + 1)) ;;
      unshare) unshares=$((unshares + 1)) ;;
    esac
    pss_kib=$((pss_kib + $(awk '/^Pss:/ {print $2}' "/proc/$ppid/smaps_rollup")))
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$ppid/status")
  done
  for file in /sys/fs/cgroup/memory/"$parent"/"$name"/memory.usage_in_bytes /sys/fs/cgroup/"$parent"/"$name"/memory.current; do
    [[ -r $file ]] && cgroup_bytes=$((cgroup_bytes + $(<"$file")))
  done
done

start=$(now_us)
pids=()
for name in "${names[@]}"; do
  "$work/$name.sh" rm --force >"$work/$name.rm" 2>&1 &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
rm_ms=$((($(now_us) - start) / 1000))

# Nothing left: cgroups under the bench's parent, namespaces, veths, the bridge, state.
left=()
for dir in /sys/fs/cgroup/*/"$parent" /sys/fs/cgroup/"$parent"; do [[ ! -d $dir ]] || left+=("cgroup $dir"); done
for name in "${names[@]}"; do
  [[ ! -e /run/netns/unshared-$name ]] || left+=("netns unshared-$name")
  [[ ! -d $state/$name ]] || left+=("state $state/$name")
done
if ip link show "$bridge" >/dev/null 2>&1; then
  left+=("bridge $bridge with $(ip -o link show master "$bridge" | wc -l) veths")
fi
((failed == 0)) || left+=("$failed rm runs failed")

mkdir -p bench/results
jq -n --argjson count "$count" --argjson start_ms "$start_ms" --argjson rm_ms "$rm_ms" \
  --argjson mem_kib $((mem_after - mem_before)) --argjson pss_kib "$pss_kib" --argjson cgroup_bytes "$cgroup_bytes" \
  --argjson shells "$shells" --argjson unshares "$unshares" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --argjson left "$(printf '%s\n' "${left[@]}" | jq -R . | jq -s 'map(select(. != ""))')" '{
    benchmark: "detached containers running sleep on one bridge",
    containers: $count,
    load_average: $load,
    start_all_ms: $start_ms,
    remove_all_ms: $rm_ms,
    host_memory_per_container_kib: ($mem_kib / $count | round),
    host_processes_per_container: { shells: ($shells / $count), unshare: ($unshares / $count) },
    host_process_pss_per_container_kib: ($pss_kib / $count | round),
    cgroup_memory_per_container_kib: ($cgroup_bytes / 1024 / $count | round),
    left_behind: $left
  }' >bench/results/scale.json

jq -r '
  "\n\(.containers) detached containers on one bridge (load average \(.load_average)):\n",
  "  start all, until all run      \(.start_all_ms) ms",
  "  host memory per container     \(.host_memory_per_container_kib) KiB (MemAvailable before and after; other load blurs it)",
  "  in the container cgroup       \(.cgroup_memory_per_container_kib) KiB (memory usage)",
  "  our processes per container   \(.host_processes_per_container.shells) shells, \(.host_processes_per_container.unshare) unshare (\(.host_process_pss_per_container_kib) KiB PSS)",
  "  remove all (rm --force)       \(.remove_all_ms) ms",
  "  left behind                   \(if (.left_behind | length) == 0 then "nothing" else (.left_behind | join(", ")) end)\n"' bench/results/scale.json
echo "bench/results/scale.json written"
[[ ${#left[@]} -eq 0 ]]
