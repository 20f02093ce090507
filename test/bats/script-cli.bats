#!/usr/bin/env bats
# The generated script's own interface: arguments, --help, --dry-run, exit status, the
# UNSHARED_* overrides, one container per name, and tar rootfs.
#
# Container scripts in single quotes, bats' run variables ($stderr) and per-test state are on
# purpose:
# shellcheck disable=SC2016,SC2030,SC2031,SC2119,SC2120,SC2154

load helpers

setup_file() { setup_rootfs_template; }
setup() { setup_container; }
teardown() { teardown_container; }

# assert_dry_run_line COMMAND WORD...: --dry-run printed a line "+ COMMAND ..." with each WORD
# among its words (in any order, so that the test does not pin how commands are batched).
assert_dry_run_line() {
  local line word found
  for line in "${lines[@]}"; do
    [[ $line == "+ $1 "* ]] || continue
    found=1
    for word in "${@:2}"; do
      [[ " $line " == *" $word "* ]] || found=
    done
    [[ -z $found ]] || return 0
  done
  fail "--dry-run printed no '+ $1' line with: ${*:2}"
}

# rootfs_state: every file of the rootfs with its type, mode, owner, size and mtime.
rootfs_state() { find "$ROOTFS" -printf '%P %y %m %u %s %T@ %l\n' | sort; }

# --- Usage ---------------------------------------------------------------------------------------

@test "cli: --help, -h and help print the usage and exit 0" {
  build_ct
  local flag
  for flag in --help -h help; do
    run_ct "$flag"
    assert_success
    assert_line --index 0 "Usage: ct.sh [run] [--dry-run] [-- COMMAND [ARG...]]"
    assert_output --partial "$CT_NAME"
    assert_output --partial "UNSHARED_CGROUP_PARENT"
  done
  assert_clean
}

@test "cli: an unknown argument exits 2 with a message, and does nothing" {
  build_ct
  run_ct --bogus
  assert_failure 2
  assert_regex "$stderr" 'unknown argument: --bogus'
  assert_equal "$output" ''
  run_ct run extra
  assert_failure 2
  assert_regex "$stderr" 'unknown argument: extra'
  assert_clean
  assert [ ! -e "$ROOTFS/share" ]
}

@test "cli: an empty command after -- exits 2" {
  build_ct
  run_ct -- ''
  assert_failure 2
  assert_regex "$stderr" 'cannot be empty'
  assert_clean
}

@test "cli: bad UNSHARED_STOP_TIMEOUT and UNSHARED_CGROUP_PARENT exit 2" {
  build_ct
  UNSHARED_STOP_TIMEOUT=soon run_ct
  assert_failure 2
  assert_regex "$stderr" 'UNSHARED_STOP_TIMEOUT'
  local parent
  for parent in ../escape /absolute unshared/../x 'with space' unshared//x; do
    UNSHARED_CGROUP_PARENT=$parent run_ct
    assert_failure 2
    assert_regex "$stderr" 'UNSHARED_CGROUP_PARENT must be a relative cgroup path'
  done
  assert_clean
}

@test "cli: 'run' is the default verb" {
  spec_command /bin/echo ran
  build_ct
  run_ct run
  assert_success
  assert_output ran
  run_ct
  assert_success
  assert_output ran
}

# --- --dry-run -----------------------------------------------------------------------------------

@test "cli: --dry-run prints the commands and changes nothing on the host" {
  update_spec 's.limits = { memory: "64m", cpus: 0.5, pids: 20 }; s.hostname = "dry-box"
    s.mounts.push({ type: "tmpfs", target: "/scratch" })'
  spec_command /bin/echo 'not run'
  build_ct
  local rootfs_before host_name
  rootfs_before=$(rootfs_state)
  host_name=$(uname -n)
  run_ct --dry-run
  assert_success
  local cg
  cg=$(ct_cgroup pids)
  assert_dry_run_line mkdir "$(ct_cgroup memory)"
  assert_dry_run_line mkdir "$cg"
  # In the foreground unshare does not fork: the script run again inside forks PID 1 and waits.
  assert_dry_run_line unshare --mount --pid --uts --ipc __container-parent
  refute_line --regexp '^\+ unshare .*--fork'
  # The container's root: an overlay of the rootfs (read-only) under its writable layer, and
  # its /dev, in one mount(8) run from an fstab next to the root (shown as comments).
  local root=$UNSHARED_STATE_DIR/$CT_NAME/root
  assert_line "+ # overlay $root overlay lowerdir=$ROOTFS,upperdir=$LAYER/upper,workdir=$LAYER/work 0 0"
  assert_line "+ # tmpfs $root/dev tmpfs nosuid,noexec,mode=755,size=64k,X-mount.mkdir 0 0"
  assert_dry_run_line mount --all --fstab "$root.fstab"
  # /proc is mounted by the one mount(8) run of the hardening, from its fstab (shown as comments).
  assert_line '+ # proc /proc proc nosuid,nodev,noexec 0 0'
  assert_dry_run_line mount --all --fstab "$root/dev/shm/unshared.fstab" --target-prefix "$root"
  assert_dry_run_line mkdir "$root/share"
  assert_dry_run_line mkdir "$root/scratch"
  # The spec's mounts are the first lines of the hardening's run.
  assert_line '+ # tmpfs /scratch tmpfs nosuid,nodev,mode=1777 0 0'
  assert_line "+ # $SHARE /share none bind 0 0"
  assert_line "+ echo dry-box > /proc/sys/kernel/hostname"
  assert_line "+ echo 20 > $cg/pids.max"
  assert_line '+ pivot_root . .'
  # The last step: the host's setpriv (via the host's loader) drops privileges, then execs.
  assert_line --regexp '^\+ exec -c .*/setpriv --bounding-set=-all,\+chown,.* --no-new-privs -- '
  assert_line --regexp " -- /bin/echo 'not run'\$"
  assert_dry_run_line rmdir "$cg"
  refute_line 'not run'
  # Nothing happened: no cgroup, no mount, no new file in the rootfs, same hostname.
  assert_clean
  assert_equal "$(rootfs_state)" "$rootfs_before"
  assert_equal "$(uname -n)" "$host_name"
}

@test "cli: --dry-run with a tar rootfs unpacks nothing" {
  tar -C "$ROOTFS" -cf "$CT_DIR/rootfs.tar" .
  update_spec 's.rootfs = { tar: args[0] }' "$CT_DIR/rootfs.tar"
  build_ct
  run_ct --dry-run
  assert_success
  assert_dry_run_line tar "$CT_DIR/rootfs.tar"
  assert [ ! -e "$UNSHARED_STATE_DIR" ]
  assert_clean
}

# --- Exit status ---------------------------------------------------------------------------------

@test "exit status: the command's status is the script's" {
  build_ct
  local code
  for code in 0 1 42 255; do
    run_ct -- /bin/sh -c "exit $code"
    assert_equal "$status" "$code"
  done
  assert_clean
}

@test "exit status: a command that is not executable exits 126" {
  spec_command /etc/passwd
  build_ct
  run_ct -126
  assert_clean
}

@test "exit status: a command killed by a signal exits 128+n (SIGTERM, no pid namespace)" {
  # Without a pid namespace the command is not an init: its own SIGTERM kills it.
  update_spec 's.namespaces = ["mount", "uts", "ipc"]'
  spec_sh 'kill -TERM $$'
  build_ct
  run_ct
  assert_failure 143
  assert_clean
}

@test "exit status: a container whose PID 1 is killed with SIGKILL exits 137" {
  spec_sh "$CT_WAIT"
  start_ready_ct
  kill -KILL "$(ct_pid1)"
  wait_ct
  assert_equal "$CT_STATUS" 137
  assert_clean
}

# --- One container per name ------------------------------------------------------------------

@test "cli: the same container twice at once: the second exits 125, the first is unaffected" {
  spec_sh "echo first-output; $CT_WAIT; echo first-done"
  start_ready_ct
  local pid1
  pid1=$(ct_pid1)
  run_ct -- /bin/echo second-output
  assert_failure 125
  assert_regex "$stderr" "container $CT_NAME is already running"
  refute_output --partial second-output
  # The first still runs, in its cgroups, which the second did not remove.
  refute proc_gone "$pid1"
  assert [ -d "$(ct_cgroup memory)" ]
  assert [ -d "$(ct_cgroup pids)" ]
  assert_in_ct_cgroups "$pid1" memory pids
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_equal "$CT_STDOUT" $'first-output\nfirst-done'
  assert_clean
}

# --- Overrides -----------------------------------------------------------------------------------

@test "cli: UNSHARED_CGROUP_PARENT puts the cgroup under another parent" {
  export UNSHARED_CGROUP_PARENT=unshared-bats-override-$$-$RANDOM/inner
  CLEANUP_CGROUP_PARENTS+=("$UNSHARED_CGROUP_PARENT")
  update_spec 's.limits = { pids: 20 }'
  spec_sh "cat /proc/self/cgroup; $CT_WAIT"
  start_ready_ct
  local pid1 root
  pid1=$(ct_pid1)
  root=$(cgroup_root pids)
  assert [ -d "$root/$UNSHARED_CGROUP_PARENT/$CT_NAME" ]
  assert [ ! -e "$root/$CG_PARENT" ]
  assert_equal "$(<"$root/$UNSHARED_CGROUP_PARENT/$CT_NAME/pids.max")" 20
  assert_in_ct_cgroups "$pid1" memory pids
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_regex "$CT_STDOUT" "/$UNSHARED_CGROUP_PARENT/$CT_NAME"
  assert_clean
}

# --- tar rootfs ----------------------------------------------------------------------------------

# make_tar_rootfs: a gzip tarball of the rootfs with a marker file only it has.
make_tar_rootfs() {
  echo "from the tarball" >"$ROOTFS/etc/marker"
  tar -C "$ROOTFS" -czf "$CT_DIR/rootfs.tar.gz" .
  rm -- "$ROOTFS/etc/marker"
  update_spec 's.rootfs = { tar: args[0] }' "$CT_DIR/rootfs.tar.gz"
}

@test "tar rootfs: the container runs in the unpacked tarball, removed afterwards" {
  make_tar_rootfs
  spec_sh "cat /etc/marker; echo changed >/etc/marker; $CT_WAIT"
  build_ct
  # UNSHARED_STATE_DIR does not exist yet: the script makes it, and removes it again.
  assert [ ! -e "$UNSHARED_STATE_DIR" ]
  start_ct
  wait_ready
  # The write went to the container's writable layer; the unpacked tarball is its lower layer.
  assert_equal "$(<"$LAYER/upper/etc/marker")" changed
  assert_equal "$(<"$UNSHARED_STATE_DIR/$CT_NAME/rootfs/etc/marker")" "from the tarball"
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_equal "$CT_STDOUT" "from the tarball"
  assert [ ! -e "$UNSHARED_STATE_DIR" ]
  assert_clean
}

@test "tar rootfs: each run starts from the tarball, and an existing state dir stays" {
  make_tar_rootfs
  mkdir -- "$UNSHARED_STATE_DIR"
  spec_sh 'cat /etc/marker; echo changed >/etc/marker'
  build_ct
  run_ct
  assert_success
  assert_output "from the tarball"
  run_ct
  assert_success
  assert_output "from the tarball"
  assert [ -d "$UNSHARED_STATE_DIR" ]
  assert [ ! -e "$UNSHARED_STATE_DIR/$CT_NAME" ]
  assert_clean
}

@test "tar rootfs: a missing tarball exits 125 before anything is made" {
  update_spec 's.rootfs = { tar: args[0] }' "$CT_DIR/missing.tar"
  build_ct
  run_ct
  assert_failure 125
  assert_regex "$stderr" "rootfs.tar: $CT_DIR/missing.tar"
  assert [ ! -e "$UNSHARED_STATE_DIR" ]
  assert_clean
}

@test "tar rootfs: the unpack dir is removed when the container fails" {
  make_tar_rootfs
  spec_command no-such-command
  build_ct
  run_ct -127
  assert [ ! -e "$UNSHARED_STATE_DIR" ]
  assert_clean
}
