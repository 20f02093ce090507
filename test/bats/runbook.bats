#!/usr/bin/env bats
# The runbook target: its ```bash blocks, pasted in order into one root shell, build and run the
# same container as the script (hostname, PID 1, limits, the spec's user and mounts), and the
# last block leaves nothing behind.

load helpers

setup_file() { setup_rootfs_template; }

setup() {
  setup_container
  RUNBOOK=$CT_DIR/runbook.md
  BLOCKS=$CT_DIR/blocks.sh
  RUNBOOK_STATE=/var/lib/unshared/runbook/$CT_NAME
}

teardown() {
  teardown_container
  rm -rf --one-file-system -- "${RUNBOOK_STATE:?}"
  rmdir /var/lib/unshared/runbook /var/lib/unshared 2>/dev/null || true
}

# build_runbook: compiles $SPEC into $RUNBOOK and extracts its bash blocks into $BLOCKS.
build_runbook() {
  local out
  out=$(node "$UNSHARED_BIN" build "$SPEC" --target runbook -o "$RUNBOOK" 2>&1) || fail "unshared build --target runbook failed: $out"
  awk '/^```bash$/ { inside = 1; next } /^```$/ { inside = 0 } inside' "$RUNBOOK" >"$BLOCKS"
  [[ -s $BLOCKS ]] || fail "no bash blocks in the runbook"
}

# start_runbook: pastes the blocks, in order, into one root bash reading from a pipe (as a
# terminal would give them: line by line, the inner shell reads the blocks meant for it).
start_runbook() {
  cat -- "$BLOCKS" | env --default-signal=INT,QUIT bash >"$CT_DIR/stdout" 2>"$CT_DIR/stderr" &
  CT_PID=$!
}

@test "runbook: the blocks run the container: hostname, PID 1, user, env, mounts, limits; the last block cleans up" {
  update_spec 's.hostname = "from-runbook"; s.limits = { memory: "64m", cpus: 0.5, pids: 20, cpuWeight: 200 }'
  update_spec 's.env = { GREETING: "hello, world" }; s.user = "1000:1000"; s.mounts.push({ type: "tmpfs", target: "/scratch", size: "1m" })'
  spec_sh 'hostname >/share/hostname; echo $$ >/share/pid; id -u >/share/uid; echo "$GREETING" >/share/env; grep -c " /scratch tmpfs " /proc/mounts >/share/mounts; grep CapEff /proc/self/status >/share/caps; '"$CT_WAIT"
  chmod 777 "$SHARE" # the container runs as 1000
  build_runbook
  start_runbook
  wait_ready
  assert_equal "$(cat "$SHARE/hostname")" from-runbook
  assert_equal "$(cat "$SHARE/pid")" 1
  assert_equal "$(cat "$SHARE/uid")" 1000
  assert_equal "$(cat "$SHARE/env")" "hello, world"
  assert_equal "$(cat "$SHARE/mounts")" 1
  assert_equal "$(cat "$SHARE/caps")" $'CapEff:\t0000000000000000'
  # The host's view: the limits in the cgroup files, and the container's PID 1 in that cgroup.
  check_memory_max 67108864
  check_cpu_quota 50000 100000
  check_cpu_weight 200 5220
  check_cgroup_value pids pids.max 20
  assert_in_ct_cgroups "$(ct_pid1)" memory cpu pids
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_equal "$CT_STDERR" ""
  [[ $CT_STDOUT == *"the container exited with status 0"* ]] || fail "stdout: $CT_STDOUT"
  assert_clean
  [[ ! -e $RUNBOOK_STATE ]] || fail "left behind: $RUNBOOK_STATE"
}

@test "runbook: masked paths, read-only /proc/sys, no host root left after pivot_root" {
  spec_sh 'wc -c </proc/timer_list; echo 1 >/proc/sys/kernel/shmmax 2>/dev/null && echo writable || echo read-only; grep -c " / " /proc/mounts; ls /share >/dev/null && echo share'
  build_runbook
  start_runbook
  wait_ct 60
  assert_equal "$CT_STATUS" 0
  # The first line is step 1's "cgroup v1" or "cgroup v2".
  assert_equal "$(sed -n 2,5p <<<"$CT_STDOUT")" "$(printf '%s\n' 0 read-only 1 share)"
  assert_clean
  [[ ! -e $RUNBOOK_STATE ]] || fail "left behind: $RUNBOOK_STATE"
}

@test "runbook: bridge networking is refused with the reason" {
  update_spec 's.namespaces.push("net"); s.network = { mode: "bridge" }'
  run -2 node "$UNSHARED_BIN" build "$SPEC" --target runbook
  assert_output --partial "network.mode: 'bridge'"
}
