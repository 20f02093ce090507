# shellcheck shell=bash
# Helpers for the behaviour tests: each test compiles a fresh spec into a script and runs a real
# container with it (namespaces, cgroups, pivot_root), then checks the kernel's own view of it.
# Modelled on runc's tests/integration/helpers.bash: `requires`, a fresh spec per test, random
# names, a teardown that deletes everything the test made, and polling instead of fixed sleeps.
#
# Every test runs as root and shares the machine with other test runs, so a test only ever looks
# at (and removes) its own things: its container name, its cgroup parent(s), its temporary dir.
# cgroup v1/v2 differences are all in the "cgroups" section below.
#
# Quoted container scripts ('$i' for the container's shell), and functions whose arguments are
# optional, are on purpose:
# shellcheck disable=SC2016,SC2119,SC2120

bats_require_minimum_version 1.5.0

load '../../node_modules/bats-support/load'
load '../../node_modules/bats-assert/load'

REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
# Used by the test files:
# shellcheck disable=SC2034
UNSHARED_BIN=$REPO_ROOT/dist/src/cli/bin.js
# The PATH a container gets when its spec's env has none (Docker's default).
# shellcheck disable=SC2034
DEFAULT_CONTAINER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# A container command that says it is ready, then waits until the test releases it (release_ct).
# Shell builtins only, so that it also works when the container cannot fork any more.
# shellcheck disable=SC2034
CT_WAIT=': >/share/ready; read -r _ </share/go'

# --- Requirements ------------------------------------------------------------------------------

# requires WHAT...: skips the test unless the host has each of WHAT.
requires() {
  local need
  for need; do
    case $need in
      root) ((EUID == 0)) || skip "needs root" ;;
      cgroup_v1) ! cgroup_v2 || skip "needs cgroup v1 (this host runs cgroup v2)" ;;
      cgroup_v2) cgroup_v2 || skip "needs cgroup v2 (this host runs cgroup v1)" ;;
      ip) command -v ip >/dev/null || skip "needs ip(8) from iproute2" ;;
      *) fail "BUG: unknown requirement '$need'" ;;
    esac
  done
}

# --- Polling and time limits ---------------------------------------------------------------------

# Time limits are for a host at full speed. Slower machines scale them, never the assertions:
# the cgroup v2 VM under software emulation (test/vm/run.sh) runs about 10-15x slower and sets
# UNSHARED_TEST_TIME_SCALE. Lower bounds ("stop waited at least 2 s") stay as they are.
TIME_SCALE=${UNSHARED_TEST_TIME_SCALE:-1}
[[ $TIME_SCALE =~ ^[1-9][0-9]*$ ]] || TIME_SCALE=1

# secs SECONDS: a time limit for this machine (SECONDS times the scale).
secs() { echo $(($1 * TIME_SCALE)); }

# wait_until SECONDS COMMAND...: runs COMMAND every 20 ms until it succeeds; fails after SECONDS
# (scaled).
wait_until() {
  local seconds=$(($1 * TIME_SCALE)) deadline now
  shift
  now=${EPOCHREALTIME/./}
  deadline=$((now + seconds * 1000000))
  until "$@"; do
    now=${EPOCHREALTIME/./}
    ((now < deadline)) || return 1
    sleep 0.02
  done
}

# proc_gone PID: the process has exited (gone, or a zombie waiting to be reaped). A status read
# while the process execs can come out garbled (bash reads it in pieces, and the name changes
# length): without a State line it counts as still there, and the next poll reads again.
proc_gone() {
  local key value _
  { while read -r key value _; do
    if [[ $key == State: ]]; then
      [[ $value == Z || $value == X ]]
      return
    fi
  done <"/proc/$1/status"; } 2>/dev/null || return 0
  return 1
}

# now_ms: wall-clock milliseconds.
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# start_local_node ARG...: starts `node ARG...` in the background on this machine, for a process
# the tests reach on its loopback (a test server); LOCAL_NODE_PID is node's own pid. In the
# cgroup v2 VM lane `node` forwards each call to the host's node (test/vm/node-shim.sh), whose
# 127.0.0.1 is not the guest's; UNSHARED_VM_NODE=guest makes the shim exec the guest's own copy
# of node instead. Elsewhere the variable means nothing.
start_local_node() {
  UNSHARED_VM_NODE=guest node "$@" </dev/null 3>&- &
  # shellcheck disable=SC2034 # read by the caller
  LOCAL_NODE_PID=$!
}

# --- The rootfs and the spec -------------------------------------------------------------------

# From setup_file: the busybox rootfs, built once per bats run (under a lock, for --jobs);
# each test gets its own copy of it.
setup_rootfs_template() {
  [[ -f $UNSHARED_BIN ]] || {
    echo "$UNSHARED_BIN is missing: run 'make build' first" >&2
    return 1
  }
  export ROOTFS_TEMPLATE=$BATS_RUN_TMPDIR/rootfs-template
  (
    flock 9
    if [[ ! -x $ROOTFS_TEMPLATE/bin/busybox ]]; then
      rm -rf -- "$ROOTFS_TEMPLATE.new"
      "$REPO_ROOT/scripts/make-busybox-rootfs.sh" "$ROOTFS_TEMPLATE.new" >/dev/null
      mv -- "$ROOTFS_TEMPLATE.new" "$ROOTFS_TEMPLATE"
    fi
  ) 9>"$BATS_RUN_TMPDIR/rootfs-template.lock"
}

# From setup: random names, a private copy of the rootfs, a shared dir, and a minimal spec:
# busybox rootfs, pid/mount/uts/ipc namespaces, the host dir $SHARE bind-mounted at /share (with
# a FIFO /share/go that release_ct writes to), /bin/true as the command. The spec has
# autoRemove, as `docker run --rm`: a foreground run leaves nothing at all, its writable layer
# included (test/bats/storage.bats tests the kept layer). State and data dirs are the test's own.
setup_container() {
  requires root
  CT_NAME=ubats-$$-$RANDOM
  CG_PARENT=unshared-bats-$$-$RANDOM
  # Every cgroup parent this test may create: teardown removes them, assert_clean checks them.
  CLEANUP_CGROUP_PARENTS=("$CG_PARENT")
  CT_DIR=$BATS_TEST_TMPDIR
  ROOTFS=$CT_DIR/rootfs
  SHARE=$CT_DIR/share
  SPEC=$CT_DIR/spec.json
  SCRIPT=$CT_DIR/ct.sh
  CT_PID=
  CT_STATUS=
  export UNSHARED_STATE_DIR=$CT_DIR/state
  export UNSHARED_DATA_DIR=$CT_DIR/data
  # Image layers (rootfs url, oci, layers) unpack into the test's own cache.
  export UNSHARED_LAYER_CACHE=$CT_DIR/layers
  LAYER=$UNSHARED_DATA_DIR/containers/$CT_NAME
  unset UNSHARED_CGROUP_PARENT UNSHARED_STOP_TIMEOUT
  cp -a -- "$ROOTFS_TEMPLATE" "$ROOTFS"
  mkdir -- "$SHARE"
  mkfifo -- "$SHARE/go"
  # Written without node to keep setup fast: the values need no JSON escaping.
  [[ $CT_DIR != *[\"\\]* ]] || fail "BATS_TEST_TMPDIR has a quote or backslash: $CT_DIR"
  printf '%s\n' '{' \
    "  \"name\": \"$CT_NAME\"," \
    "  \"rootfs\": { \"dir\": \"$ROOTFS\" }," \
    '  "namespaces": ["pid", "mount", "uts", "ipc"],' \
    '  "command": ["/bin/true"],' \
    '  "autoRemove": true,' \
    "  \"mounts\": [{ \"type\": \"bind\", \"source\": \"$SHARE\", \"target\": \"/share\" }]," \
    "  \"cgroupParent\": \"$CG_PARENT\"," \
    '  "stopTimeout": 5' \
    '}' >"$SPEC"
}

# update_spec JS [ARG...]: runs the JavaScript JS with `s` bound to the spec and `args` to the
# ARGs (passed byte for byte), and saves the spec. E.g. update_spec 's.limits = {pids: 10}'.
update_spec() {
  node -e '
    const fs = require("fs");
    const [file, js, ...args] = process.argv.slice(1);
    const s = JSON.parse(fs.readFileSync(file, "utf8"));
    new Function("s", "args", js)(s, args);
    fs.writeFileSync(file, JSON.stringify(s, null, 2) + "\n");
  ' -- "$SPEC" "$@"
}

# spec_command ARG...: the container's command.
spec_command() { update_spec 's.command = args' "$@"; }

# spec_sh SCRIPT: the container runs /bin/sh -c SCRIPT.
spec_sh() { spec_command /bin/sh -c "$1"; }

# build_ct: compiles $SPEC into $SCRIPT.
build_ct() {
  local out
  out=$(node "$UNSHARED_BIN" build "$SPEC" -o "$SCRIPT" 2>&1) || fail "unshared build failed: $out"
  [[ -x $SCRIPT ]] || fail "unshared build did not write an executable $SCRIPT"
}

# --- Running the script ------------------------------------------------------------------------

# run_ct [-N|!] [ARG...]: runs the script in the foreground under bats' `run` (stdout in
# $output, stderr in $stderr); -N or ! check the status as with `run`. A watchdog stops the
# script (SIGTERM, which it handles) after CT_TIMEOUT seconds.
run_ct() {
  local check=()
  if [[ ${1-} =~ ^(-[0-9]+|!)$ ]]; then
    check=("$1")
    shift
  fi
  run "${check[@]}" --separate-stderr timeout -k 10 "$(secs "${CT_TIMEOUT:-30}")" "$SCRIPT" "$@" </dev/null
}

# start_ct [ARG...]: starts the script in the background; its output goes to files. SIGINT
# and SIGQUIT are reset to their defaults, which bash ignores in background jobs: the script
# then sees them as when started from a terminal.
start_ct() {
  env --default-signal=INT,QUIT "$SCRIPT" "$@" </dev/null >"$CT_DIR/stdout" 2>"$CT_DIR/stderr" 3>&- &
  CT_PID=$!
}

# wait_ct [SECONDS]: waits for the background script; sets CT_STATUS, CT_STDOUT, CT_STDERR.
wait_ct() {
  local seconds=${1:-30}
  wait_until "$seconds" proc_gone "$CT_PID" ||
    fail "$(printf 'the script (pid %s) still runs after %ss; processes:\n%s\nstderr:\n%s' \
      "$CT_PID" "$(secs "$seconds")" "$(proc_tree "$CT_PID")" "$(cat "$CT_DIR/stderr")")"
  CT_STATUS=0
  wait "$CT_PID" || CT_STATUS=$?
  CT_PID=
  CT_STDOUT=$(<"$CT_DIR/stdout")
  CT_STDERR=$(<"$CT_DIR/stderr")
}

ct_ready_or_gone() { [[ -e $SHARE/ready ]] || proc_gone "$CT_PID"; }

# proc_tree PID: PID and its descendants, with state and what they wait in (for diagnostics).
proc_tree() {
  local pid=$1 child
  ps -o pid=,stat=,wchan:24=,args= -p "$pid" 2>/dev/null
  # shellcheck disable=SC2013 # children is one line of pids
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do proc_tree "$child"; done
}

# wait_ready [SECONDS]: waits until the container's command has touched /share/ready.
wait_ready() {
  wait_until "${1:-30}" ct_ready_or_gone ||
    fail "$(printf 'the container was not ready after %ss; processes:\n%s\nstderr:\n%s' \
      "$(secs "${1:-30}")" "$(proc_tree "$CT_PID")" "$(cat "$CT_DIR/stderr")")"
  if [[ ! -e $SHARE/ready ]]; then
    wait_ct
    fail "the container ended before it was ready (status $CT_STATUS); stdout: $CT_STDOUT; stderr: $CT_STDERR"
  fi
}

# start_ready_ct: compiles $SPEC, starts the script in the background (start_ct) and waits
# until its container is ready (wait_ready).
start_ready_ct() {
  build_ct
  start_ct
  wait_ready
}

# release_ct: lets a container running $CT_WAIT go on (it reads a line from the FIFO /share/go).
release_ct() {
  timeout "$(secs 10)" bash -c 'echo go >"$1"' _ "$SHARE/go" || fail "the container did not read /share/go"
}

# ct_pid1: the host pid of the container's PID 1, found in its pids cgroup (NSpid ends in 1).
ct_pid1() {
  local procs pid key ids
  procs=$(ct_cgroup pids)/cgroup.procs
  while read -r pid; do
    while read -r key ids; do
      if [[ $key == NSpid: ]]; then
        [[ $ids == *[[:space:]]1 ]] && echo "$pid" && return 0
        break
      fi
    done 2>/dev/null <"/proc/$pid/status"
  done <"$procs"
  echo "no PID 1 of a pid namespace in $procs" >&2
  return 1
}

# --- cgroups: v1/v2 differences live here --------------------------------------------------------

cgroup_v2() { [[ -f /sys/fs/cgroup/cgroup.controllers ]]; }

# cgroup_root CONTROLLER: the mount point of the hierarchy holding CONTROLLER.
cgroup_root() {
  if cgroup_v2; then
    echo /sys/fs/cgroup
    return 0
  fi
  local _dev dir fstype options _rest
  while read -r _dev dir fstype options _rest; do
    if [[ $fstype == cgroup && ,$options, == *,"$1",* ]]; then
      echo "$dir"
      return 0
    fi
  done </proc/self/mounts
  echo "no cgroup v1 hierarchy has the $1 controller" >&2
  return 1
}

# Every cgroup hierarchy mounted on the host: v1 controllers, named v1 trees, and cgroup2.
cgroup_hierarchies() { awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts; }

# The cgroup parent the script uses: UNSHARED_CGROUP_PARENT if set, else the spec's.
ct_cgroup_parent() { echo "${UNSHARED_CGROUP_PARENT:-$CG_PARENT}"; }

# ct_cgroup CONTROLLER: the container's cgroup directory for CONTROLLER.
ct_cgroup() {
  local root
  root=$(cgroup_root "$1") || return 1
  echo "$root/$(ct_cgroup_parent)/$CT_NAME"
}

# cgroup_value CONTROLLER FILE: the content of FILE in the container's CONTROLLER cgroup.
cgroup_value() { cat -- "$(ct_cgroup "$1")/$2"; }

# check_cgroup_value CONTROLLER FILE EXPECTED
check_cgroup_value() {
  local current
  current=$(cgroup_value "$1" "$2") || fail "cannot read $(ct_cgroup "$1")/$2"
  [[ $current == "$3" ]] || fail "$(ct_cgroup "$1")/$2 is '$current', expected '$3'"
}

# cgroup_key CONTROLLER FILE KEY: the value of KEY in a flat-keyed file (memory.events...).
cgroup_key() {
  awk -v key="$3" '$1 == key { print $2; found = 1 } END { exit !found }' "$(ct_cgroup "$1")/$2"
}

check_memory_max() {
  if cgroup_v2; then check_cgroup_value memory memory.max "$1"; else check_cgroup_value memory memory.limit_in_bytes "$1"; fi
}

check_memory_high() {
  if cgroup_v2; then check_cgroup_value memory memory.high "$1"; else check_cgroup_value memory memory.soft_limit_in_bytes "$1"; fi
}

# check_cpu_quota QUOTA_US PERIOD_US
check_cpu_quota() {
  if cgroup_v2; then
    check_cgroup_value cpu cpu.max "$1 $2"
  else
    check_cgroup_value cpu cpu.cfs_quota_us "$1"
    check_cgroup_value cpu cpu.cfs_period_us "$2"
  fi
}

# check_cpu_weight WEIGHT V1_SHARES: v2 takes the weight, v1 the shares it converts to.
check_cpu_weight() {
  if cgroup_v2; then check_cgroup_value cpu cpu.weight "$1"; else check_cgroup_value cpu cpu.shares "$2"; fi
}

# Times the memory cgroup's OOM killer killed a process (v1 memory.oom_control, v2 memory.events).
oom_kill_count() {
  if cgroup_v2; then cgroup_key memory memory.events oom_kill; else cgroup_key memory memory.oom_control oom_kill; fi
}

# Times the memory limit was hit (v1 memory.failcnt, v2 memory.events max).
memory_limit_hits() {
  if cgroup_v2; then cgroup_key memory memory.events max; else cgroup_value memory memory.failcnt; fi
}

# Times a fork failed because of pids.max (pids.events, the same in v1 and v2).
pids_max_events() { cgroup_key pids pids.events max; }

# Periods in which the CPU quota throttled the cgroup (cpu.stat, the same key in v1 and v2).
cpu_throttled_periods() { cgroup_key cpu cpu.stat nr_throttled; }

# at_least N COMMAND...: COMMAND prints a number >= N.
at_least() {
  local value
  value=$("${@:2}" 2>/dev/null) || return 1
  [[ $value =~ ^[0-9]+$ ]] && ((value >= $1))
}

# assert_in_ct_cgroups PID CONTROLLER...: the kernel places PID in the container's cgroup of
# each CONTROLLER (on v2, in the container's one cgroup).
assert_in_ct_cgroups() {
  local pid=$1 want controller
  want=/$(ct_cgroup_parent)/$CT_NAME
  shift
  if cgroup_v2; then
    assert_equal "$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")" "$want"
    return
  fi
  for controller; do
    assert_equal "$(awk -F: -v c="$controller" '{ n = split($2, names, ","); for (i = 1; i <= n; i++) if (names[i] == c) print $3 }' "/proc/$pid/cgroup")" "$want"
  done
}

# assert_same_bytes EXPECTED_FILE ACTUAL_FILE: byte for byte; on a difference, shows both with
# NULs as line ends and other control characters visible.
assert_same_bytes() {
  cmp -s -- "$1" "$2" && return 0
  fail "$(printf 'the bytes differ (%s)\n-- expected --\n%s\n-- actual --\n%s' "$(cmp -- "$1" "$2" 2>&1)" \
    "$(tr '\0' '\n' <"$1" | cat -A)" "$(tr '\0' '\n' <"$2" | cat -A)")"
}

# --- Cleanliness ---------------------------------------------------------------------------------

# host_leftovers: everything of this test's containers the host can still see: cgroup
# directories of its parents in any hierarchy, mounts of its paths, its state directory, its
# writable layer, and the layers' containers/ when it is empty (the scripts remove it once
# nothing is left in it).
host_leftovers() {
  local h p
  for h in $(cgroup_hierarchies); do
    for p in "${CLEANUP_CGROUP_PARENTS[@]}"; do
      if [[ -e $h/${p%%/*} ]]; then find "$h/${p%%/*}" -type d -printf 'cgroup: %p\n'; fi
    done
  done
  grep -F -- "$CT_DIR" /proc/self/mountinfo | sed 's/^/mount: /'
  if [[ -e $UNSHARED_STATE_DIR/$CT_NAME ]]; then echo "state: $UNSHARED_STATE_DIR/$CT_NAME"; fi
  if [[ -e $UNSHARED_DATA_DIR/containers/$CT_NAME ]]; then echo "layer: $UNSHARED_DATA_DIR/containers/$CT_NAME"; fi
  if [[ -d $UNSHARED_DATA_DIR/containers && -z $(ls -A -- "$UNSHARED_DATA_DIR/containers") ]]; then
    echo "empty parent: $UNSHARED_DATA_DIR/containers"
  fi
  return 0
}

assert_clean() {
  local left
  left=$(host_leftovers)
  [[ -z $left ]] || fail "$(printf 'left behind on the host:\n%s' "$left")"
}

# hold_mnt_ns PID: keeps PID's mount namespace open (in MNT_NS_FD) and names it in MNT_NS, so
# that its inode number cannot go to a new namespace (other tests run unshare too) before
# mnt_ns_holders looks for it.
hold_mnt_ns() {
  exec {MNT_NS_FD}<"/proc/$1/ns/mnt"
  MNT_NS=$(readlink "/proc/$1/ns/mnt")
}

# mnt_ns_holders: the processes still in the namespace hold_mnt_ns holds, one "PID COMM" a line.
mnt_ns_holders() {
  local inode=${MNT_NS##*[} link pid
  inode=${inode%]}
  stat -L -c '%i %n' -- /proc/[0-9]*/ns/mnt 2>/dev/null | while read -r link pid; do
    [[ $link == "$inode" ]] || continue
    pid=${pid#/proc/}
    pid=${pid%%/*}
    echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null)"
  done
}

# release_mnt_ns: closes what hold_mnt_ns opened.
release_mnt_ns() {
  if [[ -n ${MNT_NS_FD-} ]]; then exec {MNT_NS_FD}<&-; fi
  MNT_NS_FD=
}

# --- Teardown ------------------------------------------------------------------------------------

teardown_container() {
  local h p d pid
  release_mnt_ns
  # A script still running: stop it as a user would, then for good.
  if [[ -n ${CT_PID-} ]]; then
    if ! proc_gone "$CT_PID"; then
      kill -TERM "$CT_PID" 2>/dev/null || true
      wait_until 15 proc_gone "$CT_PID" || kill -KILL "$CT_PID" 2>/dev/null || true
    fi
    wait "$CT_PID" 2>/dev/null || true
  fi
  # Our cgroups, deepest first, killing whatever is still inside.
  for h in $(cgroup_hierarchies); do
    for p in "${CLEANUP_CGROUP_PARENTS[@]}"; do
      [[ -d $h/${p%%/*} ]] || continue
      while read -r d; do
        for _ in {1..50}; do
          rmdir -- "$d" 2>/dev/null && break
          while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done 2>/dev/null <"$d/cgroup.procs"
          sleep 0.05
        done
      done < <(find "$h/${p%%/*}" -depth -type d)
    done
  done
  # Mounts of our paths on the host (there should be none), deepest first.
  grep -F -- "$CT_DIR" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r d; do
    umount -l -- "$d" 2>/dev/null || true
  done
  return 0
}
