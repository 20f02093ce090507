#!/usr/bin/env bats
# Whatever way the container ends (normal exit, a failure, a signal to the script), nothing of it
# is left on the host: no cgroup in any hierarchy, no mount, no namespace, no process.
#
# Container scripts in single quotes, bats' run variables ($stderr) and per-test state are on
# purpose:
# shellcheck disable=SC2016,SC2030,SC2031,SC2119,SC2120,SC2154

load helpers

setup_file() { setup_rootfs_template; }
setup() { setup_container; }
teardown() { teardown_container; }

# start_and_probe: starts the script, waits for the container, and checks that it really has
# cgroups and its own mount namespace, so that assert_gone below can fail. Sets PID1, and holds
# the container's mount namespace for assert_gone.
start_and_probe() {
  assert_clean
  start_ct "$@"
  wait_ready
  PID1=$(ct_pid1)
  hold_mnt_ns "$PID1"
  refute [ "$MNT_NS" = "$(readlink /proc/self/ns/mnt)" ]
  assert [ -d "$(ct_cgroup memory)" ]
  assert [ -d "$(ct_cgroup pids)" ]
  run host_leftovers
  assert_output --partial "cgroup: $(ct_cgroup pids)"
  # The container's mounts are in its own table, never in the host's.
  run awk '{ print $5 }' "/proc/$PID1/mountinfo"
  assert_line /
  assert_line /proc
  assert_line /dev
  run grep -F -- "$CT_DIR" /proc/self/mountinfo
  assert_failure
}

# assert_gone: the container's process, its mount namespace and all host traces are gone.
assert_gone() {
  assert proc_gone "$PID1"
  local holders
  holders=$(mnt_ns_holders)
  release_mnt_ns
  [[ -z $holders ]] || fail "$(printf 'processes still in the container'"'"'s mount namespace:\n%s\n%s' "$holders" "$(host_leftovers)")"
  assert_clean
}

@test "cleanup: after a normal exit nothing is left" {
  update_spec 's.limits = { memory: "64m", cpus: 0.5, pids: 20 }
    s.mounts.push({ type: "tmpfs", target: "/scratch" }, { type: "sysfs", target: "/sys" })'
  spec_sh "$CT_WAIT"
  build_ct
  start_and_probe
  assert [ -d "$(ct_cgroup cpu)" ]
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_gone
}

@test "cleanup: a nested cgroup parent is removed level by level" {
  CG_PARENT=$CG_PARENT/a/b
  update_spec 's.cgroupParent = args[0]' "$CG_PARENT"
  spec_sh "$CT_WAIT"
  build_ct
  start_and_probe
  assert [ -d "$(cgroup_root pids)/$CG_PARENT/$CT_NAME" ]
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_gone
}

@test "cleanup: a parent shared by two containers is removed by the last one only" {
  local first=$CT_NAME second=$CT_NAME-2 first_pid
  update_spec 's.limits = { pids: 20 }'
  spec_sh "$CT_WAIT"
  build_ct
  start_and_probe
  first_pid=$CT_PID
  # A second container, same parent, other name; it ends at once.
  update_spec 's.name = args[0]; s.hostname = "second"; s.command = ["/bin/true"]' "$second"
  node "$UNSHARED_BIN" build "$SPEC" -o "$CT_DIR/second.sh"
  run timeout "$(secs 30)" "$CT_DIR/second.sh"
  assert_success
  # Its cgroup is gone, the parent and the first container's cgroup are not.
  CT_NAME=$second
  assert [ ! -e "$(ct_cgroup pids)" ]
  CT_NAME=$first
  assert [ -d "$(ct_cgroup pids)" ]
  assert [ -d "$(ct_cgroup memory)" ]
  release_ct
  CT_PID=$first_pid
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_gone
}

@test "cleanup: after 'command not found' (127) nothing is left" {
  spec_command no-such-command
  build_ct
  assert_clean
  run_ct -127
  assert_regex "$stderr" 'no-such-command: command not found'
  assert_clean
}

@test "cleanup: after a bad bind source (125, preflight) nothing is left" {
  update_spec 's.mounts.push({ type: "bind", source: args[0], target: "/data" })' "$CT_DIR/missing"
  build_ct
  assert_clean
  run_ct
  assert_failure 125
  assert_regex "$stderr" "mounts\[1\]\.source: $CT_DIR/missing does not exist"
  assert_clean
  # Preflight failed: not even the mount point was made in the rootfs.
  assert [ ! -e "$ROOTFS/data" ]
}

@test "cleanup: a setup step failing inside the namespaces exits 125 and leaves nothing" {
  # A directory cannot be bind-mounted on a file: the mount fails after the cgroups exist.
  mkdir -- "$CT_DIR/dir"
  : >"$ROOTFS/a-file"
  update_spec 's.mounts.push({ type: "bind", source: args[0], target: "/a-file" })' "$CT_DIR/dir"
  spec_command /bin/echo should-not-run
  build_ct
  assert_clean
  run_ct
  refute_output should-not-run
  assert_clean
  # The script's own failures exit 125, not a status the container's command could have had.
  assert_failure 125
}

@test "cleanup: SIGTERM to the script stops a container that ignores it after the stop timeout" {
  # The override (1 s), not the spec's stopTimeout (30 s).
  update_spec 's.stopTimeout = 30'
  export UNSHARED_STOP_TIMEOUT=1
  spec_sh "trap '' TERM; $CT_WAIT"
  build_ct
  start_and_probe
  local started elapsed
  started=$(now_ms)
  kill -TERM "$CT_PID"
  wait_ct
  elapsed=$(($(now_ms) - started))
  assert_equal "$CT_STATUS" 143
  assert_regex "$CT_STDERR" 'received SIGTERM'
  # The container ignored SIGTERM: killed after 1 s, not at once, and not after 30 s.
  ((elapsed >= 1000)) || fail "stopped after ${elapsed} ms, before UNSHARED_STOP_TIMEOUT (1 s)"
  ((elapsed < 10000)) || fail "stopped after ${elapsed} ms, expected about 1 s"
  assert_gone
}

@test "cleanup: SIGTERM to the script is passed on to the container's init" {
  export UNSHARED_STOP_TIMEOUT=30
  # The init handles SIGTERM: it records it and exits, long before the stop timeout.
  spec_sh 'trap "echo got-TERM >/share/term; exit 0" TERM; : >/share/ready
    while :; do sleep 1 & wait $!; done'
  build_ct
  start_and_probe
  local started elapsed
  started=$(now_ms)
  kill -TERM "$CT_PID"
  wait_ct
  elapsed=$(($(now_ms) - started))
  assert_equal "$CT_STATUS" 143
  assert_equal "$(<"$SHARE/term")" got-TERM
  ((elapsed < 10000)) || fail "stopped after ${elapsed} ms: the container did not get SIGTERM"
  assert_gone
}

@test "cleanup: SIGHUP to the script stops the container and cleans up" {
  # The spec's stopTimeout this time (no UNSHARED_STOP_TIMEOUT): 0 kills at once.
  update_spec 's.stopTimeout = 0'
  spec_sh "$CT_WAIT"
  build_ct
  start_and_probe
  kill -HUP "$CT_PID"
  wait_ct
  assert_equal "$CT_STATUS" 129
  assert_regex "$CT_STDERR" 'received SIGHUP'
  assert_gone
}

@test "cleanup: SIGINT to the script stops the container and cleans up" {
  export UNSHARED_STOP_TIMEOUT=0
  spec_sh "$CT_WAIT"
  build_ct
  start_and_probe
  kill -INT "$CT_PID"
  wait_ct
  assert_equal "$CT_STATUS" 130
  assert_regex "$CT_STDERR" 'received SIGINT'
  assert_gone
}

@test "cleanup: when the container's init is killed, nothing is left" {
  spec_sh "$CT_WAIT"
  build_ct
  start_and_probe
  kill -KILL "$PID1"
  wait_ct
  assert_gone
}

@test "cleanup: the shared parents go once empty: containers/ always, the state root and the data dir when the run made them" {
  build_ct
  # A data dir of the user's (UNSHARED_DATA_DIR), there before the run: it stays.
  mkdir -p -- "$UNSHARED_DATA_DIR"
  refute [ -e "$UNSHARED_STATE_DIR" ]
  run_ct
  assert_success
  assert [ -d "$UNSHARED_DATA_DIR" ]
  refute [ -e "$UNSHARED_DATA_DIR/containers" ]
  refute [ -e "$UNSHARED_STATE_DIR" ]
  # One the run makes goes with it.
  rmdir -- "$UNSHARED_DATA_DIR"
  run_ct
  assert_success
  refute [ -e "$UNSHARED_DATA_DIR" ]
  # Another container's kept layer keeps containers/ (and the data dir) for it.
  mkdir -p -- "$UNSHARED_DATA_DIR/containers/other"
  run_ct
  assert_success
  assert [ -d "$UNSHARED_DATA_DIR/containers/other" ]
  rm -r -- "$UNSHARED_DATA_DIR"
  assert_clean
}

@test "cleanup: rm of a detached container removes containers/, and the default state root, once empty" {
  spec_sh "$CT_WAIT"
  build_ct
  # A state root the user names (UNSHARED_STATE_DIR) stays: rm cannot tell who made it.
  run_ct start
  assert_success
  assert [ -d "$UNSHARED_STATE_DIR/$CT_NAME" ]
  assert [ -d "$UNSHARED_DATA_DIR/containers/$CT_NAME" ]
  run_ct rm --force
  assert_success
  refute [ -e "$UNSHARED_DATA_DIR/containers" ]
  run ls -A "$UNSHARED_STATE_DIR"
  assert_success
  assert_output ""
  rmdir -- "$UNSHARED_STATE_DIR"
  # The default one (/run/unshared) is unshared's own: it goes with the last container.
  [[ ! -e /run/unshared ]] || skip "/run/unshared is in use on this host"
  unset UNSHARED_STATE_DIR
  run_ct start
  assert_success
  assert [ -d "/run/unshared/$CT_NAME" ]
  run_ct rm --force
  assert_success
  refute [ -e /run/unshared ]
  refute [ -e "$UNSHARED_DATA_DIR/containers" ]
  assert_clean
}
