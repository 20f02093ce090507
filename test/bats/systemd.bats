#!/usr/bin/env bats
# The systemd target: the unit passes `systemd-analyze verify` (no warnings either) with the
# script it runs in place. (Starting it needs systemd as PID 1, which this test does not assume.)

load helpers

setup_file() { setup_rootfs_template; }

setup() {
  setup_container
  command -v systemd-analyze >/dev/null || skip "needs systemd-analyze (apt-get install systemd)"
  UNIT=$CT_DIR/$CT_NAME.service
}
teardown() { teardown_container; }

# verify_unit: systemd-analyze verify accepts $UNIT and prints nothing (unknown keys or bad
# values are only warnings, with status 0).
verify_unit() {
  run --separate-stderr systemd-analyze verify "$UNIT"
  assert_success
  [[ -z $stderr ]] || fail "systemd-analyze verify warns: $stderr"
}

@test "systemd: the unit runs the installed script and verifies, for each restart policy" {
  build_ct
  for policy in no on-failure always; do
    update_spec 's.restart = args[0]' "$policy"
    run node "$UNSHARED_BIN" build "$SPEC" --target systemd --script-path "$SCRIPT" -o "$UNIT"
    assert_success
    assert_equal "$(grep -c "^ExecStart=$SCRIPT run\$" "$UNIT")" 1
    assert_equal "$(grep -c "^Restart=$policy\$" "$UNIT")" 1
    assert_equal "$(grep -c '^TimeoutStopSec=20$' "$UNIT")" 1
    verify_unit
  done
}

@test "systemd: bridge networking waits for the network; verify catches a unit whose script is missing" {
  build_ct
  update_spec 's.namespaces.push("net"); s.network = { mode: "bridge" }'
  run node "$UNSHARED_BIN" build "$SPEC" --target systemd --script-path "$SCRIPT" -o "$UNIT"
  assert_success
  assert_equal "$(grep -c '^After=network-online.target$' "$UNIT")" 1
  verify_unit
  # The control: the same check fails when ExecStart names no executable.
  run node "$UNSHARED_BIN" build "$SPEC" --target systemd --script-path "$CT_DIR/missing.sh" -o "$UNIT"
  assert_success
  run systemd-analyze verify "$UNIT"
  assert_failure
}

@test "systemd: a script path systemd would reinterpret is refused" {
  run -2 node "$UNSHARED_BIN" build "$SPEC" --target systemd --script-path '/opt/my script.sh'
  assert_output --partial '--script-path'
  run -2 node "$UNSHARED_BIN" build "$SPEC" --target systemd --script-path 'relative.sh'
  run -2 node "$UNSHARED_BIN" build "$SPEC" --target oci --script-path /opt/x.sh
  assert_output --partial "only for '--target systemd'"
}
