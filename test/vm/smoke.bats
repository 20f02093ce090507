#!/usr/bin/env bats
# The VM lane's own check (test/vm/run.sh runs it with the suite): the guest is a pure cgroup v2
# host, and a generated script runs a container there, with its limits written in the v2 files
# and its cgroup removed afterwards. Runs only inside the VM (UNSHARED_TEST_VM=1).

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
load "$ROOT/node_modules/bats-support/load"
load "$ROOT/node_modules/bats-assert/load"
bats_require_minimum_version 1.5.0

CGROUP=/sys/fs/cgroup
BUSYBOX_ROOTFS=/var/lib/unshared/busybox

setup_file() {
  if [[ ${UNSHARED_TEST_VM-} != 1 ]]; then
    skip "runs in the cgroup v2 VM only: test/vm/run.sh"
  fi
  # A spec of our own with every v2 limit the compiler knows, compiled in the guest by the
  # current sources (dist/), and the busybox rootfs run.sh puts at /var/lib/unshared/busybox.
  cat >"$BATS_FILE_TMPDIR/vm-smoke.json" <<EOF
{
  "name": "vm-smoke",
  "rootfs": { "dir": "$BUSYBOX_ROOTFS" },
  "hostname": "vm-smoke-host",
  "command": ["/bin/sh"],
  "env": { "PATH": "/usr/sbin:/usr/bin:/sbin:/bin" },
  "namespaces": ["pid", "mount", "uts", "ipc"],
  "limits": {
    "memory": "64m", "memoryHigh": "48m", "cpus": 0.5, "cpuWeight": 200, "pids": 16,
    "io": [{ "device": "${UNSHARED_VM_IO_DEVICE:-1:0}", "readBps": "1m", "writeIops": 100 }]
  },
  "mounts": [{ "type": "tmpfs", "target": "/tmp" }, { "type": "bind", "source": "$BATS_FILE_TMPDIR/share", "target": "/share" }],
  "cgroupParent": "unshared-vm/smoke"
}
EOF
  mkdir -p "$BATS_FILE_TMPDIR/share"
  node "$ROOT/dist/src/cli/bin.js" build "$BATS_FILE_TMPDIR/vm-smoke.json" -o "$BATS_FILE_TMPDIR/vm-smoke.sh"
}

# A script a failed test left running, and its cgroups.
teardown() {
  if [[ -n ${pid-} ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  fi
  local d
  for d in "$CGROUP/unshared" "$CGROUP/unshared-vm"; do
    [[ -d $d ]] || continue
    find "$d" -depth -type d | while read -r d; do
      [[ ! -f $d/cgroup.kill ]] || echo 1 >"$d/cgroup.kill"
      rmdir "$d" 2>/dev/null || { sleep 1; rmdir "$d"; }
    done
  done
}

# wait_for FILE: waits up to 60 s (TCG is slow) for FILE to exist.
wait_for() {
  local i
  for ((i = 0; i < 600; i++)); do
    [[ -e $1 ]] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# bats test_tags=ci:vm
@test "vm: /sys/fs/cgroup is a pure cgroup v2 hierarchy" {
  run stat -fc %T "$CGROUP"
  assert_output cgroup2fs
  # No v1 hierarchy anywhere (cgroup_no_v1=all).
  run awk '$3 == "cgroup" { print }' /proc/self/mounts
  assert_output ''
}

# bats test_tags=ci:vm
@test "vm: the root offers and enables memory cpu pids io" {
  local c
  for c in memory cpu pids io; do
    grep -qw "$c" "$CGROUP/cgroup.controllers" || fail "cgroup.controllers lacks $c: $(<"$CGROUP/cgroup.controllers")"
    grep -qw "$c" "$CGROUP/cgroup.subtree_control" || fail "cgroup.subtree_control lacks $c: $(<"$CGROUP/cgroup.subtree_control")"
  done
}

# bats test_tags=ci:vm
@test "vm: the kernel modules the scripts need are loaded" {
  local m
  for m in overlay veth bridge; do
    [[ -d /sys/module/$m ]] || fail "module $m is not loaded"
  done
  [[ -b /dev/ram0 ]] || fail "no /dev/ram0 (brd) for io.max"
}

@test "generated/build-container.sh runs a container in its v2 cgroup, passes its status, removes the cgroup" {
  run --separate-stderr "$ROOT/generated/build-container.sh" -- /bin/sh -c 'hostname; cat /proc/self/cgroup; exit 3'
  [[ $status -eq 3 ]] || fail "exit status $status, expected 3; stderr: $stderr"
  assert_line --index 0 scratch-container
  assert_line --index 1 '0::/unshared/scratch-container'
  [[ ! -e $CGROUP/unshared ]] || fail "$CGROUP/unshared is still there: $(find "$CGROUP/unshared")"
}

@test "a compiled spec sets every v2 limit file, delegates the controllers, and leaves nothing" {
  local dir=$CGROUP/unshared-vm/smoke/vm-smoke share=$BATS_FILE_TMPDIR/share out=$BATS_TEST_TMPDIR/out rc=0
  rm -f "$share/ready" "$share/go"
  mkfifo "$share/go"
  "$BATS_FILE_TMPDIR/vm-smoke.sh" -- /bin/sh -c 'hostname; : >/share/ready; read -r _ </share/go' \
    >"$out" 2>"$out.err" </dev/null &
  pid=$!
  wait_for "$share/ready" || fail "the container did not start: $(<"$out.err")"
  run cat "$dir/memory.max" "$dir/memory.high" "$dir/cpu.max" "$dir/cpu.weight" "$dir/pids.max" "$dir/io.max"
  assert_output "$(printf '%s\n' 67108864 50331648 '50000 100000' 200 16 \
    "${UNSHARED_VM_IO_DEVICE:-1:0} rbps=1048576 wbps=max riops=max wiops=100")"
  run cat "$CGROUP/unshared-vm/cgroup.subtree_control" "$CGROUP/unshared-vm/smoke/cgroup.subtree_control"
  assert_output $'cpu io memory pids\ncpu io memory pids'
  [[ -n $(<"$dir/cgroup.procs") ]] || fail "$dir/cgroup.procs is empty"
  echo go >"$share/go"
  wait "$pid" || rc=$?
  pid=''
  [[ $rc -eq 0 ]] || fail "exit status $rc; stderr: $(<"$out.err")"
  assert_equal "$(head -n 1 "$out")" vm-smoke-host
  [[ ! -e $CGROUP/unshared-vm ]] || fail "$CGROUP/unshared-vm is still there: $(find "$CGROUP/unshared-vm")"
}

@test "pids.max stops a fork bomb inside the container" {
  # 16 processes at most: the rest cannot fork.
  run "$BATS_FILE_TMPDIR/vm-smoke.sh" -- /bin/sh -c \
    'n=0; for i in $(seq 30); do sleep 5 & n=$((n + 1)); done 2>/dev/null; wait; echo started $n'
  refute_output --partial 'started 30'
  [[ ! -e $CGROUP/unshared-vm ]] || fail "$CGROUP/unshared-vm is still there"
}
