#!/usr/bin/env bats
# What the container's process sees: its namespaces, hostname, PID 1, environment, argv, workdir,
# mounts, /dev, file descriptors, network and users.
#
# Container scripts in single quotes, bats' run variables ($stderr) and per-test state are on
# purpose:
# shellcheck disable=SC2016,SC2030,SC2031,SC2119,SC2120,SC2154

load helpers

setup_file() { setup_rootfs_template; }
setup() { setup_container; }
teardown() { teardown_container; }

# bats test_tags=ci:vm
@test "uts: the container has the spec's hostname and the host keeps its own" {
  local host_before host_uts
  host_before=$(uname -n)
  host_uts=$(readlink /proc/self/ns/uts)
  update_spec 's.hostname = "bats-box.example"'
  spec_sh "uname -n; cat /proc/sys/kernel/hostname; $CT_WAIT"
  start_ready_ct
  # While the container runs: its own UTS namespace, and the host's name is untouched.
  local pid1
  pid1=$(ct_pid1)
  refute [ "$(readlink "/proc/$pid1/ns/uts")" = "$host_uts" ]
  assert_equal "$(uname -n)" "$host_before"
  assert_equal "$(</proc/sys/kernel/hostname)" "$host_before"
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_equal "$CT_STDOUT" $'bats-box.example\nbats-box.example'
  assert_equal "$(uname -n)" "$host_before"
}

@test "uts: without a hostname in the spec, the hostname is the container's name" {
  spec_command /bin/hostname
  build_ct
  run_ct
  assert_success
  assert_output "$CT_NAME"
}

@test "pid: the command is PID 1 and sees no host process" {
  # sh prints its pid, then becomes ls: /proc must hold exactly one process, ls itself, as 1.
  spec_sh 'echo $$; exec ls /proc'
  build_ct
  run_ct
  assert_success
  assert_line --index 0 1
  assert_equal "$(printf '%s\n' "${lines[@]:1}" | grep -E '^[0-9]+$')" 1
  # The bats process, which started the script, is in none of the container's /proc entries.
  refute_line "$$"
}

@test "pid: ps in the container lists only the container's processes" {
  spec_command /bin/ps -o pid,comm
  build_ct
  run_ct
  assert_success
  assert_equal "${#lines[@]}" 2
  assert_line --index 1 --regexp '^ *1 ps$'
}

# bats test_tags=ci:vm
@test "pid: from the host, the container's init is PID 1 of a new pid namespace" {
  spec_sh "$CT_WAIT"
  start_ready_ct
  local pid1
  pid1=$(ct_pid1)
  run awk '$1 == "NSpid:" { $1 = ""; print substr($0, 2) }' "/proc/$pid1/status"
  assert_output "$pid1 1"
  refute [ "$(readlink "/proc/$pid1/ns/pid")" = "$(readlink /proc/self/ns/pid)" ]
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
}

@test "env: the container's environment is exactly the spec's env plus the default PATH" {
  update_spec 's.env = {
    A: "b",
    SPACES: "a  b\tc ",
    QUOTES: `single '"'"' and double " quotes`,
    DOLLAR: "$HOME ${A} $(id) `id`",
    GLOB: "* /bin/* ?",
    NEWLINES: "line1\nline2\n",
    BACKSLASH: "back\\slash \\n \\",
    EQUALS: "x=y=z",
    EMPTY: "",
    UNICODE: "é ✓ 日本",
  }'
  # cat is exec'd directly by the script: its environ is what the script handed over.
  spec_command /bin/cat /proc/self/environ
  build_ct
  timeout "$(secs 30)" "$SCRIPT" </dev/null >"$CT_DIR/environ" || fail "the script exited $?"
  # shellcheck disable=SC1003
  printf '%s\0' "PATH=$DEFAULT_CONTAINER_PATH" 'A=b' $'SPACES=a  b\tc ' \
    "QUOTES=single ' and double \" quotes" 'DOLLAR=$HOME ${A} $(id) `id`' 'GLOB=* /bin/* ?' \
    $'NEWLINES=line1\nline2\n' 'BACKSLASH=back\slash \n \' 'EQUALS=x=y=z' 'EMPTY=' 'UNICODE=é ✓ 日本' |
    sort -z >"$CT_DIR/expected"
  sort -z "$CT_DIR/environ" >"$CT_DIR/actual"
  assert_same_bytes "$CT_DIR/expected" "$CT_DIR/actual"
}

@test "env: a PATH in the spec replaces the default, and nothing else is added" {
  update_spec 's.env = { PATH: "/bin", ONLY: "this" }'
  spec_command /bin/cat /proc/self/environ
  build_ct
  UNSHARED_LEAK=host-value timeout "$(secs 30)" "$SCRIPT" </dev/null >"$CT_DIR/environ" || fail "the script exited $?"
  printf '%s\0' PATH=/bin ONLY=this | sort -z >"$CT_DIR/expected"
  sort -z "$CT_DIR/environ" >"$CT_DIR/actual"
  assert_same_bytes "$CT_DIR/expected" "$CT_DIR/actual"
}

# The arguments that shells and quoting get wrong.
TRICKY_ARGS=(
  'two  spaces' "single ' quote" 'double " quote' '$HOME' '${HOME}' '$(id)' '`id`' '*' '/bin/*' '?'
  $'new\nline' $'tab\there' 'back\slash' '' '-n' '--' ';' '&&' '|' '>x' '!' '~' 'é ✓' $'trailing\n'
)

@test "argv: the spec's command arrives byte for byte" {
  spec_command /bin/sh -c 'printf "%s\0" "$0" "$@" >/share/argv' "arg 0" "${TRICKY_ARGS[@]}"
  build_ct
  run_ct
  assert_success
  printf '%s\0' "arg 0" "${TRICKY_ARGS[@]}" >"$CT_DIR/expected"
  assert_same_bytes "$CT_DIR/expected" "$SHARE/argv"
}

@test "argv: a command after -- replaces the spec's and arrives byte for byte" {
  spec_command /bin/false
  build_ct
  run_ct -- /bin/sh -c 'printf "%s\0" "$0" "$@" >/share/argv' "arg 0" "${TRICKY_ARGS[@]}"
  assert_success
  printf '%s\0' "arg 0" "${TRICKY_ARGS[@]}" >"$CT_DIR/expected"
  assert_same_bytes "$CT_DIR/expected" "$SHARE/argv"
}

@test "workdir: the command starts in the spec's workdir, with odd characters" {
  mkdir -p -- "$ROOTFS/srv/my dir/it's \$x"
  update_spec 's.workdir = args[0]' "/srv/my dir/it's \$x"
  spec_command /bin/readlink /proc/self/cwd
  build_ct
  run_ct
  assert_success
  assert_output "/srv/my dir/it's \$x"
}

@test "workdir: a missing workdir is created" {
  update_spec 's.workdir = "/does/not/exist yet"'
  spec_command /bin/readlink /proc/self/cwd
  build_ct
  run_ct
  assert_success
  assert_output "/does/not/exist yet"
  # In the container's writable layer, not in the rootfs, which it shares with other containers.
  assert [ ! -e "$ROOTFS/does" ]
}

@test "mounts: a readonly bind mount refuses writes, a read-write one takes them" {
  mkdir -- "$CT_DIR/ro" "$CT_DIR/rw"
  echo original >"$CT_DIR/ro/file"
  update_spec 's.mounts.push({ type: "bind", source: args[0], target: "/ro", readonly: true },
                             { type: "bind", source: args[1], target: "/rw" })' "$CT_DIR/ro" "$CT_DIR/rw"
  spec_sh 'grep -E "^[^ ]+ /r[ow] " /proc/mounts
    echo changed >/ro/file; echo "ro=$?"
    touch /ro/new; echo "ro-new=$?"
    echo written >/rw/file; echo "rw=$?"'
  build_ct
  run_ct
  assert_success
  assert_line --regexp '^[^ ]+ /ro [^ ]+ ro,'
  assert_line --regexp '^[^ ]+ /rw [^ ]+ rw,'
  assert_line ro=1
  assert_line ro-new=1
  assert_line rw=0
  assert_regex "$stderr" 'Read-only file system'
  # The kernel refused: the host's files are as they were; the read-write write went through.
  assert_equal "$(<"$CT_DIR/ro/file")" original
  assert [ ! -e "$CT_DIR/ro/new" ]
  assert_equal "$(<"$CT_DIR/rw/file")" written
}

@test "mounts: a tmpfs is a fresh tmpfs with the spec's size and mode" {
  update_spec 's.mounts.push({ type: "tmpfs", target: "/scratch", size: "1m", mode: "0750" })'
  spec_sh 'grep " /scratch " /proc/mounts; stat -c %a /scratch; echo x >/scratch/file
    dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null; echo "dd=$?"'
  build_ct
  run_ct
  assert_success
  assert_line --index 0 --regexp '^tmpfs /scratch tmpfs rw,nosuid,nodev(,[a-z]+)*,size=1024k,mode=750( |,)'
  assert_line --index 1 750
  # 2 MiB do not fit in 1 MiB.
  assert_line --index 2 dd=1
  # Nothing was written into the rootfs on the host.
  assert [ ! -e "$ROOTFS/scratch/file" ]
}

# bats test_tags=ci:vm
@test "rootfs: after pivot_root the container's root is the overlay of the rootfs, and the host's root is no longer mounted" {
  # The container's / is an overlay whose lower layer is the rootfs, and it is the only mount on
  # / (a chroot, or a pivot_root that kept the old root, leaves a second); no mount point of the
  # host's tree is left.
  spec_sh 'cut -d" " -f5 /proc/self/mountinfo; echo --; grep " / / " /proc/self/mountinfo'
  build_ct
  run_ct
  assert_success
  local points root_line
  points=$(sed '/^--$/q' <<<"$output")
  root_line=$(sed '1,/^--$/d' <<<"$output")
  assert_equal "$(grep -cx / <<<"$points")" 1
  refute_regex "$points" "$CT_DIR"
  assert_regex "$root_line" " - overlay overlay .*lowerdir=$ROOTFS(,|:|\$)"
}

# bats test_tags=ci:vm
@test "rootfs: a rootfs directory that is itself an overlay mount is a lower layer; writes reach only the container's layer" {
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "needs overlayfs"
  update_spec 's.autoRemove = false'
  local layers=$CT_DIR/layers
  mkdir -p -- "$layers"/{upper,work}
  mv -- "$ROOTFS" "$layers/lower"
  mkdir -- "$ROOTFS"
  mount -t overlay overlay -o "lowerdir=$layers/lower,upperdir=$layers/upper,workdir=$layers/work" "$ROOTFS"
  spec_sh 'echo written >/etc/from-container; rm /etc/hosts
    awk '"'"'$5 == "/" { for (i = 6; i < NF; i++) if ($i == "-") print $(i + 1) }'"'"' /proc/self/mountinfo'
  build_ct
  run_ct
  assert_success
  assert_output overlay
  # The write and the deletion (a whiteout: a 0:0 character device) are in the container's
  # writable layer only: neither the rootfs's own upper layer nor its lower one changed.
  assert_equal "$(<"$LAYER/upper/etc/from-container")" written
  assert [ -c "$LAYER/upper/etc/hosts" ]
  assert_equal "$(find "$layers/upper" -mindepth 1 | wc -l)" 0
  assert [ -f "$layers/lower/etc/hosts" ]
  assert [ ! -e "$layers/lower/etc/from-container" ]
  "$SCRIPT" rm
  umount -- "$ROOTFS"
  assert_clean
}

@test "mounts: sysfs is mounted read-only by default" {
  update_spec 's.mounts.push({ type: "sysfs", target: "/sys" })'
  spec_sh 'grep " /sys " /proc/mounts'
  build_ct
  run_ct
  assert_success
  assert_output --regexp '^sysfs /sys sysfs ro,'
}

# bats test_tags=ci:vm
@test "mounts: none of the container's mounts appears in the host's mount table" {
  update_spec 's.mounts.push({ type: "tmpfs", target: "/scratch" }, { type: "sysfs", target: "/sys" })'
  spec_sh "$CT_WAIT"
  start_ready_ct
  local pid1
  pid1=$(ct_pid1)
  # The container's own table has its rootfs, /proc, /dev, /share, /scratch, /sys...
  run awk '{ print $5 }' "/proc/$pid1/mountinfo"
  assert_line /
  assert_line /proc
  assert_line /dev
  assert_line /share
  assert_line /scratch
  assert_line /sys
  # ...and the host's has nothing of it.
  run grep -F -- "$CT_DIR" /proc/self/mountinfo
  assert_failure
  refute [ "$(readlink "/proc/$pid1/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
}

@test "dev: /dev holds exactly the minimal set of devices and links" {
  spec_sh 'ls -A /dev; stat -c "%n %F %t:%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty
    for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done
    grep -E " /dev(/pts|/shm)? " /proc/mounts | cut -d" " -f2,3'
  build_ct
  run_ct
  assert_success
  assert_equal "$(printf '%s\n' "${lines[@]:0:14}" | tr '\n' ' ')" \
    'fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero '
  assert_line '/dev/null character special file 1:3'
  assert_line '/dev/zero character special file 1:5'
  assert_line '/dev/full character special file 1:7'
  assert_line '/dev/random character special file 1:8'
  assert_line '/dev/urandom character special file 1:9'
  assert_line '/dev/tty character special file 5:0'
  assert_line 'fd -> /proc/self/fd'
  assert_line 'stdin -> /proc/self/fd/0'
  assert_line 'stdout -> /proc/self/fd/1'
  assert_line 'stderr -> /proc/self/fd/2'
  assert_line 'ptmx -> pts/ptmx'
  assert_line '/dev tmpfs'
  assert_line '/dev/pts devpts'
  assert_line '/dev/shm tmpfs'
}

@test "fds: the container's process has only stdin, stdout and stderr open" {
  # The script gets two more descriptors from us; neither may reach the container.
  spec_command /bin/sleep 30
  build_ct
  export UNSHARED_STOP_TIMEOUT=0
  { start_ct; } 7>"$CT_DIR/fd7" 8<"$SPEC"
  local pid1
  wait_until 30 eval 'pid1=$(ct_pid1 2>/dev/null) && [[ $(</proc/$pid1/comm) == sleep ]]' ||
    fail "the container's sleep did not start"
  # The probe works: the script itself holds 7 and 8...
  run ls "/proc/$CT_PID/fd"
  assert_line 7
  assert_line 8
  # ...the container's process, exec'd by the script, only 0, 1 and 2.
  run ls "/proc/$pid1/fd"
  assert_equal "$(printf '%s ' "${lines[@]}")" '0 1 2 '
  # Stop it: sleep, as PID 1, does not die of SIGTERM; a stop timeout of 0 kills it at once.
  kill -TERM "$CT_PID"
  wait_ct
  assert_equal "$CT_STATUS" 143
}

@test "fds: inside, ls of /proc/self/fd shows 0 1 2 and the directory ls itself reads" {
  spec_command /bin/ls /proc/self/fd
  build_ct
  { run_ct; } 7>"$CT_DIR/fd7" 8<"$SPEC"
  assert_success
  # 3 is ls's own descriptor of /proc/self/fd; the script's 7 and 8 are not there.
  assert_equal "$(printf '%s ' "${lines[@]}")" '0 1 2 3 '
}

# bats test_tags=ci:vm
@test "net: with 'net' the container sees only lo, and it is up" {
  requires ip
  update_spec 's.namespaces.push("net"); s.mounts.push({ type: "sysfs", target: "/sys" })'
  spec_sh 'ip -o link show; ls /sys/class/net; cat /sys/class/net/lo/flags; tail -n +3 /proc/net/dev | cut -d: -f1'
  build_ct
  run_ct
  assert_success
  assert_line --index 0 --regexp '^1: lo: <LOOPBACK,UP,LOWER_UP> '
  assert_line --index 1 lo
  # IFF_UP (0x1) is set in lo's flags.
  assert [ $((lines[2] & 1)) -eq 1 ]
  assert_line --index 3 --regexp '^ *lo$'
  assert_equal "${#lines[@]}" 4
}

@test "net: the container's network namespace is not the host's" {
  requires ip
  update_spec 's.namespaces.push("net")'
  spec_sh "$CT_WAIT"
  start_ready_ct
  local pid1
  pid1=$(ct_pid1)
  refute [ "$(readlink "/proc/$pid1/ns/net")" = "$(readlink /proc/self/ns/net)" ]
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
}

@test "user: bridge networking with the user namespace is refused at build time, naming the field" {
  # The prepared network namespace of bridge mode belongs to the host's user namespace, where
  # the container's root has no rights: the compiler says so, and writes nothing.
  update_spec 's.namespaces.unshift("user", "net"); s.network = { mode: "bridge" }'
  run node "$REPO_ROOT/dist/src/cli/bin.js" build "$CT_DIR/spec.json" -o "$CT_DIR/user.sh"
  assert_equal "$status" 2
  assert_output --partial "network.mode: bridge networking with 'user' is not supported yet"
  [ ! -e "$CT_DIR/user.sh" ]
}
