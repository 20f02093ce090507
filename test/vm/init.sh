#!/bin/bash
# /init of the cgroup v2 test VM (test/vm/run.sh boots it). It runs as PID 1 from the initramfs,
# sets up a pure cgroup v2 host, runs the bats suite with TAP output on the second serial port
# (/dev/ttyS1, read by the host), and powers the VM off.
#
# Stage 1 (no argument): the initramfs root ("rootfs") cannot be pivot_root()ed away from, and
# the generated scripts pivot_root into the container's rootfs from a mount namespace that
# inherits this root. So / is bind-mounted onto itself and moved over /, as switch_root does,
# without deleting anything: every process from stage 2 on has a real mount as its root.
#
# Stage 2: mounts, cgroup v2 with memory cpu pids io enabled at the root, kernel modules, the
# suite. What to run comes from /vm/job.env, written by run.sh into the per-run overlay archive.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'vm-init: %s\n' "$*" >/dev/console 2>/dev/null || printf 'vm-init: %s\n' "$*" >&2; }

power_off() {
  sync
  # -no-reboot on the qemu command line makes a reboot end qemu; poweroff (ACPI) does too.
  busybox poweroff -f 2>/dev/null
  echo o >/proc/sysrq-trigger 2>/dev/null
  sleep 5
  echo b >/proc/sysrq-trigger 2>/dev/null
  sleep 30
}

if [[ ${1-} != stage2 ]]; then
  mount -t proc proc /proc || log "stage 1: could not mount /proc"
  mkdir -p /.root
  if mount --bind / /.root; then
    umount /proc
    cd /.root || exit 1
    mount --move . / || log "stage 1: mount --move failed"
    exec chroot . /init stage2
  fi
  log "stage 1: could not re-root; pivot_root will fail in containers"
  umount /proc 2>/dev/null
  exec /init stage2
fi

# --- Stage 2 ---------------------------------------------------------------------------------

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev shm /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
# /tmp stays a directory of / (the initramfs' tmpfs, in RAM anyway), as on a Debian host: a
# tmpfs mounted over it would hide a project checked out under /tmp, and its nosuid would make
# setuid bits in the tests' rootfs copies (BATS_TEST_TMPDIR) count for nothing.
mkdir -p /tmp && chmod 1777 /tmp
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr

# The TAP channel. Everything else (kernel messages, stderr) goes to the console, ttyS0.
exec 3>/dev/ttyS1 || { log "no /dev/ttyS1"; power_off; }
stty -F /dev/ttyS1 raw -echo 115200 2>/dev/null
tap() { printf '%s\n' "$@" >&3; }
bail() {
  log "$*"
  tap "Bail out! $*" "# vm-status 1"
  exec 3>&-
  power_off
}

tap "# vm-boot-seconds $(cut -d' ' -f1 /proc/uptime)"

# A pure cgroup v2 host: one hierarchy at /sys/fs/cgroup (the kernel runs with
# cgroup_no_v1=all, so no v1 hierarchy can hold a controller).
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup ||
  bail "could not mount cgroup2 at /sys/fs/cgroup"
controllers=$(</sys/fs/cgroup/cgroup.controllers)
for c in memory cpu pids io; do
  [[ " $controllers " == *" $c "* ]] || bail "the cgroup v2 root lacks the $c controller (has: $controllers)"
done
printf '%s' '+memory +cpu +pids +io' >/sys/fs/cgroup/cgroup.subtree_control ||
  bail "could not enable memory cpu pids io in /sys/fs/cgroup/cgroup.subtree_control"
# As on a systemd host, no test process lives in the root cgroup: init and the suite run in
# init.scope, a leaf (cgroup v2 forbids processes in a cgroup that has controllers enabled for
# its children, the root excepted).
{ mkdir -p /sys/fs/cgroup/init.scope && printf '%s' $$ >/sys/fs/cgroup/init.scope/cgroup.procs; } ||
  bail "could not move init into /sys/fs/cgroup/init.scope"

kernel=$(uname -r)
modules=(overlay veth bridge brd loop virtio_pci virtio_console)
for m in "${modules[@]}"; do
  case $m in
    # /dev/ram0 (1:0): a block device for io.max limits.
    brd) modprobe brd rd_nr=1 rd_size=16384 || log "modprobe brd failed" ;;
    *) modprobe "$m" || log "modprobe $m failed" ;;
  esac
done

hostname vm
ip link set lo up 2>/dev/null

# The virtio-serial port to the host's node (node-shim.sh). Without it the shim runs the
# guest's own node.
mkdir -p /run/node-proxy
for port in /sys/class/virtio-ports/*; do
  [[ -f $port/name && $(<"$port/name") == org.unshared.node ]] || continue
  for _ in {1..50}; do [[ -c /dev/${port##*/} ]] && break; sleep 0.1; done
  ln -sf "/dev/${port##*/}" /run/node-proxy/port
done
[[ -e /run/node-proxy/port ]] || log "no virtio port to the host's node: node runs in the guest (slow)"

# What run.sh asked for.
[[ -r /vm/job.env ]] || bail "/vm/job.env is missing from the initramfs"
# shellcheck source=/dev/null
source /vm/job.env # PROJECT_DIR, BATS_ARGS=(...), JOB_ENV=(NAME=VALUE ...)

# GNU parallel (bats --jobs) would print its citation notice once.
mkdir -p /root/.parallel && : >/root/.parallel/will-cite
export HOME=/root LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root SHELL=/bin/bash
export TMPDIR=/tmp
export UNSHARED_TEST_VM=1 UNSHARED_VM_IO_DEVICE=1:0 UNSHARED_VM_PROJECT=$PROJECT_DIR
for assignment in "${JOB_ENV[@]}"; do export "${assignment?}"; done

tap "# vm-kernel $kernel" \
  "# vm-cgroup $(stat -fc %T /sys/fs/cgroup) $(</sys/fs/cgroup/cgroup.subtree_control)" \
  "# vm-cpus $(nproc)" \
  "# vm-node $(if [[ -e /run/node-proxy/port ]]; then echo host; else echo guest; fi)"

cd "$PROJECT_DIR" || bail "no project at $PROJECT_DIR"
start=$(cut -d' ' -f1 /proc/uptime)
log "running: bats ${BATS_ARGS[*]}"
node_modules/bats/bin/bats --formatter tap --timing --print-output-on-failure "${BATS_ARGS[@]}" \
  </dev/null >&3 2>/dev/console
status=$?
end=$(cut -d' ' -f1 /proc/uptime)
# Leftovers of the suite are a finding too: a container cgroup the scripts did not remove.
leftover=$(find /sys/fs/cgroup -mindepth 1 -type d ! -path /sys/fs/cgroup/init.scope -printf '%P ' 2>/dev/null)
[[ -z $leftover ]] || tap "# vm-leftover-cgroups $leftover"
tap "# vm-suite-seconds $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" "# vm-status $status"
exec 3>&-
power_off
