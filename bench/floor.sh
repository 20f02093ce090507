#!/bin/bash
# The floor: the fewest steps a bash script can take to start the bench's container with the
# tools the generated script relies on (bash, util-linux, no compiled helper of its own). It is
# not a product, it is a lower bound: no preflight, no state, no undo log, no start pipe, no
# hostname, loopback or masked paths, and /dev as a bind of a directory prepared in the
# writable layer (one mount run; the generated script needs two, for a tmpfs /dev).
#
# Steps, each a program the kernel must start: bash (this script), unshare --fork, bash (the
# init), mount --all (overlay root, /proc, /dev and its device nodes, devpts, /dev/shm),
# pivot_root, umount -l, the host's setpriv through the host's loader (capabilities, no new
# privileges), the host's bash through the loader (closes the host's directories), /bin/true.
#
# Usage: bench/floor.sh ROOTFS DATA_DIR    (as root; bench/start.sh runs it)
set -euo pipefail
rootfs=$1 name=floor$$
layer=$2/$name root=$2/$name/root

# mkdir and rm without a process each, as the generated script does.
for builtin in mkdir rm rmdir ln; do enable -f /usr/lib/bash/"$builtin" "$builtin"; done

cleanup() {
  rm -rf -- "$layer"
  rmdir -- "${cgroups[@]}" 2>/dev/null || true
}
trap cleanup EXIT

cgroups=()
if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then
  cgroups=(/sys/fs/cgroup/unshared-bench/"$name")
  mkdir -p -- "${cgroups[0]}"
  printf '+memory +cpu +pids' >/sys/fs/cgroup/unshared-bench/cgroup.subtree_control
  printf 268435456 >"${cgroups[0]}/memory.max"
  printf '100000 100000' >"${cgroups[0]}/cpu.max"
  printf 64 >"${cgroups[0]}/pids.max"
else
  for controller in memory cpu pids; do cgroups+=(/sys/fs/cgroup/"$controller"/unshared-bench/"$name"); done
  mkdir -p -- "${cgroups[@]}"
  printf 268435456 >"${cgroups[0]}/memory.limit_in_bytes"
  printf 100000 >"${cgroups[1]}/cpu.cfs_quota_us"
  printf 64 >"${cgroups[2]}/pids.max"
fi

mkdir -p -- "$layer/upper" "$layer/work" "$root" "$layer/dev/pts" "$layer/dev/shm"
for node in null zero full random urandom tty; do : >"$layer/dev/$node"; done
ln -s /proc/self/fd "$layer/dev/fd"
{
  printf 'overlay %s overlay lowerdir=%s,upperdir=%s,workdir=%s 0 0\n' "$root" "$rootfs" "$layer/upper" "$layer/work"
  printf 'proc %s proc nosuid,nodev,noexec 0 0\n' "$root/proc"
  printf '%s %s none bind,nosuid,noexec 0 0\n' "$layer/dev" "$root/dev"
  for node in null zero full random urandom tty; do printf '/dev/%s %s none bind 0 0\n' "$node" "$root/dev/$node"; done
  printf 'devpts %s devpts newinstance,ptmxmode=0666 0 0\n' "$root/dev/pts"
  printf 'shm %s tmpfs nosuid,nodev,noexec,size=64m 0 0\n' "$root/dev/shm"
} >"$layer/fstab"

# The host's loader and library directory (bash's own, from its memory map), setpriv and bash,
# reached through directory descriptors once pivot_root has hidden the host's tree.
loader='' libdir=''
while read -r _ _ _ _ _ path; do
  case $path in
    */ld-linux*) loader=${path##*/} ;;
    */libc.so*) libdir=${path%/*} ;;
  esac
done </proc/self/maps
setpriv=$(type -P setpriv) bash=$BASH
exec 11<"$libdir" 12<"${setpriv%/*}" 13<"${bash%/*}"
via=(/proc/self/fd/11/"$loader" --inhibit-cache --library-path /proc/self/fd/11)

# The init, run by the host's bash in the new namespaces; its values come as arguments.
read -r -d '' init <<'INIT' || true
mount --all --fstab "$1/fstab"
cd "$1/root"
pivot_root . .
umount -l .
cd /
shift
exec "$@"
INIT
(
  for dir in "${cgroups[@]}"; do printf '%s' "$BASHPID" >"$dir/cgroup.procs"; done
  exec unshare --mount --pid --uts --ipc --net --fork --propagation private -- "$bash" -c "$init" init "$layer" \
    "${via[@]}" /proc/self/fd/12/"${setpriv##*/}" --bounding-set=-all,+chown,+dac_override,+fowner,+kill,+setgid,+setuid \
    --inh-caps=-all --no-new-privs -- \
    "${via[@]}" /proc/self/fd/13/"${bash##*/}" -c 'exec 11<&- 12<&- 13<&-; exec "$@"' last /bin/true
)
