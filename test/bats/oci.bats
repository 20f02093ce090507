#!/usr/bin/env bats
# The OCI target: `unshared build --target oci` writes a bundle's config.json that runc runs on
# the same busybox rootfs as the script; checked through the kernel's view like the script is.

load helpers

setup_file() { setup_rootfs_template; }

setup() {
  setup_container
  command -v runc >/dev/null || skip "needs runc (apt-get install runc)"
  BUNDLE=$CT_DIR/bundle
  RUNC_ROOT=$CT_DIR/runc-state
  mkdir -- "$BUNDLE" "$RUNC_ROOT"
}

teardown() {
  if [[ -n ${RUNC_ROOT-} ]]; then
    runc --root "$RUNC_ROOT" delete --force "$CT_NAME" >/dev/null 2>&1 || true
  fi
  teardown_container
}

# build_bundle: compiles $SPEC into $BUNDLE/config.json.
build_bundle() {
  local out
  out=$(node "$UNSHARED_BIN" build "$SPEC" --target oci -o "$BUNDLE/config.json" 2>&1) || fail "unshared build --target oci failed: $out"
}

# runc_ct SUBCOMMAND ARG...: runc with this test's own state directory.
runc_ct() { runc --root "$RUNC_ROOT" "$@"; }

@test "oci: runc runs the bundle: hostname, PID 1, the spec's user and env, limits in the cgroup files" {
  update_spec 's.hostname = "oci-box"; s.env = { GREETING: "hi there" }; s.limits = { memory: "64m", cpus: 0.5, pids: 20, cpuWeight: 200 }'
  # The container writes what it sees into /share, then waits until the test releases it.
  spec_sh 'hostname >/share/hostname; echo $$ >/share/pid; echo "$GREETING" >/share/env; '"$CT_WAIT"
  build_bundle
  runc_ct run --detach --bundle "$BUNDLE" "$CT_NAME" </dev/null >"$CT_DIR/stdout" 2>"$CT_DIR/stderr" ||
    fail "runc run failed: $(cat "$CT_DIR/stderr")"
  wait_until 30 test -e "$SHARE/ready" || fail "the container was not ready: $(cat "$CT_DIR/stderr")"
  assert_equal "$(cat "$SHARE/hostname")" oci-box
  assert_equal "$(cat "$SHARE/pid")" 1
  assert_equal "$(cat "$SHARE/env")" "hi there"
  assert_equal "$(runc_ct state "$CT_NAME" | awk -F'"' '/"status"/ { print $4 }')" running
  # runc puts the container at cgroupsPath /PARENT/NAME: where the helpers look for the script's.
  check_memory_max 67108864
  check_cpu_quota 50000 100000
  check_cpu_weight 200 5220
  check_cgroup_value pids pids.max 20
  assert_in_ct_cgroups "$(ct_pid1)" memory cpu pids
  release_ct
  wait_until 30 bash -c '[[ $(runc --root "$1" state "$2" 2>/dev/null) != *\"running\"* ]]' _ "$RUNC_ROOT" "$CT_NAME" ||
    fail "the container still runs after it was released"
  runc_ct delete "$CT_NAME"
  [[ -z $(runc_ct list -q) ]] || fail "runc still lists: $(runc_ct list)"
  # runc removes the container's cgroups; the parent directories it made are ours to remove.
  teardown_container
  assert_clean
}

@test "oci: capabilities, no_new_privs, rlimits, read-only binds, tmpfs, masked and read-only /proc paths" {
  update_spec 's.capabilities = { drop: ["ALL"], add: ["NET_ADMIN", "KILL"] }; s.rlimits = { nofile: { soft: 100, hard: 200 } }; s.mounts[0].readonly = true; s.mounts.push({ type: "tmpfs", target: "/scratch", size: "1m" })'
  spec_sh 'grep -E "^(CapBnd|CapEff|NoNewPrivs)" /proc/self/status; ulimit -Sn; ulimit -Hn; touch /share/x 2>/dev/null && echo writable || echo read-only; grep -c " /scratch tmpfs " /proc/mounts; wc -c </proc/timer_list; echo 1 2>/dev/null >/proc/sys/kernel/shmmax && echo sys-writable || echo sys-read-only'
  build_bundle
  run runc_ct run --bundle "$BUNDLE" "$CT_NAME" </dev/null
  assert_success
  assert_equal "$output" "$(printf '%s\n' $'CapEff:\t0000000000001020' $'CapBnd:\t0000000000001020' $'NoNewPrivs:\t1' 100 200 read-only 1 0 sys-read-only)"
  runc_ct delete --force "$CT_NAME" 2>/dev/null || true
  teardown_container
  assert_clean
}

@test "oci: a spec the format cannot express is refused, every reason named" {
  update_spec 's.namespaces.push("time", "net"); s.network = { mode: "bridge", ports: [{ host: 8080, container: 80 }] }'
  run -2 node "$UNSHARED_BIN" build "$SPEC" --target oci
  assert_output --partial "namespaces: 'time'"
  assert_output --partial "network.mode: 'bridge'"
}
