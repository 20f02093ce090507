#!/usr/bin/env bats
# The start path without a process per step: bash's loadable builtins (mkdir, rmdir, ln, rm)
# where the host has them, the external commands where it has not (UNSHARED_BASH_LOADABLES=none
# plays such a host), and the same container either way. strace shows which programs ran.
#
# Container scripts in single quotes, bats' run variables and per-test state are on purpose:
# shellcheck disable=SC2016,SC2030,SC2031,SC2154

load helpers

setup_file() { setup_rootfs_template; }
setup() {
  setup_container
  command -v strace >/dev/null || skip "needs strace"
  # The bench's container: pid, mount, uts, ipc and net namespaces and three limits.
  update_spec 's.namespaces = ["pid", "mount", "uts", "ipc", "net"]
    s.limits = { memory: "64m", cpus: 1, pids: 64 }'
  # What the container sees of its /dev and its loopback: the same on both paths.
  spec_sh 'ls -A /dev; stat -c "%n %F %t:%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty
    for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done
    grep -E " /dev(/pts|/shm|/mqueue)? " /proc/mounts | cut -d" " -f2,3; ip link show lo | head -n 1 | cut -d" " -f2,3'
  build_ct
}
teardown() { teardown_container; }

# The loadables the script finds for the bash that runs it (see find_builtins).
host_loadables() {
  local bash_path prefix dir
  bash_path=$(type -P bash)
  prefix=${bash_path%/bin/*}
  for dir in "${prefix:-/usr}/lib/bash" "${prefix:-/usr}/lib64/bash"; do
    if [[ -f $dir/mkdir ]]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# traced_ct FILE [ENV...]: runs the script under strace -f, its output in $output; FILE lists
# the programs it executed (the basenames of successful execve calls), one a line.
traced_ct() {
  local file=$1
  shift
  run --separate-stderr env "$@" timeout -k 10 "$(secs 60)" \
    strace -f -qq -e trace=execve,clone,clone3,fork,vfork -o "$CT_DIR/strace" "$SCRIPT" </dev/null
  sed -nE 's/^[0-9]+ +execve\("([^"]*)".* = 0$/\1/p' "$CT_DIR/strace" | sed 's#.*/##' >"$file"
}

# execs FILE NAME: how many times FILE lists NAME.
execs() { grep -cx -- "$2" "$1" || true; }

# script_forks: how many processes the script's own process (the first in the trace) started.
script_forks() {
  awk 'NR == 1 { pid = $1 } $1 == pid && $2 ~ /^(clone|clone3|fork|vfork)\(/ { n++ } END { print n + 0 }' "$CT_DIR/strace"
}

@test "builtins: with bash's loadables, the start path runs no mkdir, rmdir, ln, cp or rm" {
  host_loadables >/dev/null || skip "needs bash's loadable builtins (Debian: bash-builtins)"
  traced_ct "$CT_DIR/execs"
  assert_success
  local name
  for name in mkdir rmdir ln cp rm touch; do
    assert_equal "$name: $(execs "$CT_DIR/execs" "$name")" "$name: 0"
  done
  # The root and /dev in one mount(8) run, the spec's bind mount of /share and the hardening
  # (/proc, devices, devpts, masks) in another: two.
  assert_equal "$(execs "$CT_DIR/execs" mount)" 2
  assert_equal "$(grep -c -- '"--all", "--fstab"' "$CT_DIR/strace")" 2
  # The script itself forks once: the subshell that joins the cgroups and becomes unshare (the
  # start pipe is a FIFO made by the loadable mkfifo, not a <(:) process).
  assert_equal "script forks: $(script_forks)" "script forks: 1"
  # The container got its /dev and its loopback all the same.
  assert_line '/dev/null character special file 1:3'
  assert_line 'ptmx -> pts/ptmx'
  assert_line --regexp '^lo: <LOOPBACK,UP,'
  assert_clean
}

@test "builtins: UNSHARED_BASH_LOADABLES=none falls back to the commands, with the same container" {
  traced_ct "$CT_DIR/execs-none" UNSHARED_BASH_LOADABLES=none
  assert_success
  local without=$output
  # The fallback ran the external commands: mkdir for the cgroups, state and layer, ln for
  # ptmx, rm for the state and layer, rmdir for the cgroups.
  local name
  for name in mkdir ln rm rmdir; do
    [[ $(execs "$CT_DIR/execs-none" "$name") -ge 1 ]] || fail "no $name process with UNSHARED_BASH_LOADABLES=none"
  done
  assert_clean
  assert_line 'fd -> /proc/self/fd'
  assert_line '/dev/tty character special file 5:0'
  assert_line '/dev/mqueue mqueue'
  assert_line --regexp '^lo: <LOOPBACK,UP,'
  # With the loadables (where the host has them), the container sees exactly the same.
  if host_loadables >/dev/null; then
    traced_ct "$CT_DIR/execs"
    assert_success
    assert_equal "$output" "$without"
    assert_equal "$(execs "$CT_DIR/execs" mkdir)" 0
    assert_clean
  fi
}

@test "builtins: rm does not cross a mount below the writable layer, with or without loadables" {
  update_spec 's.autoRemove = false'
  build_ct
  local loadables
  for loadables in '' none; do
    run_ct
    assert_success
    # A host mount inside the kept layer: rm must leave the mounted file system's files alone.
    mkdir -- "$LAYER/upper/mnt"
    mount -t tmpfs -o size=64k tmpfs "$LAYER/upper/mnt"
    echo keep >"$LAYER/upper/mnt/file"
    UNSHARED_BASH_LOADABLES=$loadables run --separate-stderr "$SCRIPT" rm </dev/null
    assert_equal "$(<"$LAYER/upper/mnt/file")" keep
    umount -- "$LAYER/upper/mnt"
    # The rest of the layer went (rm(1) skips only the mount point).
    [[ ! -e $LAYER/upper/etc ]] || fail "the layer was not removed (loadables: ${loadables:-found})"
    rm -rf -- "$LAYER"
    "$SCRIPT" rm
  done
  assert_clean
}

@test "builtins: UNSHARED_BASH_LOADABLES takes only 'none' (exit 2, nothing made)" {
  UNSHARED_BASH_LOADABLES=/tmp run_ct -2
  assert_regex "$stderr" "UNSHARED_BASH_LOADABLES must be empty or 'none', not '/tmp'"
  assert_clean
}
