#!/usr/bin/env bats
# The container cannot do what it must not: real containers, checked through the kernel's view.

load helpers

setup_file() { setup_rootfs_template; }
setup() { setup_container; }
teardown() {
  teardown_user
  teardown_container
}

# status_field NAME: the value of NAME in the container's /proc/self/status, from $output.
status_field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' <<<"$output"; }

@test "capabilities: Docker's 14 in bounding, permitted and effective; none inheritable or ambient; no_new_privs" {
  spec_sh 'cat /proc/self/status'
  build_ct
  run_ct
  assert_success
  assert_equal "$(status_field CapBnd)" 00000000a80425fb
  assert_equal "$(status_field CapPrm)" 00000000a80425fb
  assert_equal "$(status_field CapEff)" 00000000a80425fb
  assert_equal "$(status_field CapInh)" 0000000000000000
  assert_equal "$(status_field CapAmb)" 0000000000000000
  assert_equal "$(status_field NoNewPrivs)" 1
}

@test "capabilities: add and drop change the mask; noNewPrivileges: false turns it off" {
  update_spec 's.capabilities = { drop: ["ALL"], add: ["NET_ADMIN", "KILL"] }; s.noNewPrivileges = false'
  spec_sh 'cat /proc/self/status'
  build_ct
  run_ct
  assert_success
  assert_equal "$(status_field CapBnd)" 0000000000001020
  assert_equal "$(status_field CapEff)" 0000000000001020
  assert_equal "$(status_field NoNewPrivs)" 0
}

@test "user, groups and rlimits apply; a non-root user has no effective capabilities" {
  update_spec 's.user = "1000:1001"; s.groups = [5, 7]; s.rlimits = { nofile: { soft: 100, hard: 200 }, nproc: 50 }'
  spec_sh 'id -u; id -g; id -G; ulimit -Sn; ulimit -Hn; ulimit -u; grep CapEff /proc/self/status'
  build_ct
  run_ct
  assert_success
  assert_equal "$output" "$(printf '%s\n' 1000 1001 '1001 5 7' 100 200 50 $'CapEff:\t0000000000000000')"
}

@test "a setuid-root binary run by a non-root user does not raise the effective uid" {
  command -v gcc >/dev/null || skip "needs gcc"
  printf '%s\n' '#include <stdio.h>' '#include <unistd.h>' 'int main(void) { printf("%d\n", (int)geteuid()); return 0; }' >"$BATS_TEST_TMPDIR/euid.c"
  gcc -static -o "$ROOTFS/euid" "$BATS_TEST_TMPDIR/euid.c" || skip "gcc -static does not work here"
  chmod 4755 "$ROOTFS/euid"
  update_spec 's.user = "1000:1000"; s.noNewPrivileges = false'
  spec_command /euid
  build_ct
  run_ct
  assert_success
  # The control: without no_new_privs the setuid bit works, so the next run can fail.
  assert_output 0
  update_spec 's.noNewPrivileges = true'
  build_ct
  run_ct
  assert_success
  assert_output 1000
}

@test "mount and umount fail with EPERM; sysrq-trigger and /proc/sys are not writable; kcore is masked" {
  spec_sh 'mount -t tmpfs t /tmp 2>&1; echo "mount=$?"; umount /proc 2>&1; echo "umount=$?"
    (echo h >/proc/sysrq-trigger) 2>/dev/null; echo "sysrq=$?"
    (echo x >/proc/sys/kernel/hostname) 2>/dev/null; echo "sysctl=$?"
    if [ -e /proc/kcore ]; then echo "kcore=$(wc -c </proc/kcore)"; else echo kcore=0; fi'
  build_ct
  run_ct
  assert_success
  assert_line --regexp '^mount: (permission denied|.*Operation not permitted)'
  assert_line 'umount: can'"'"'t unmount /proc: Operation not permitted'
  refute_line mount=0
  refute_line umount=0
  refute_line sysrq=0
  refute_line sysctl=0
  assert_line kcore=0
  # The masks and read-only binds the kernel sees, in the container's mount table.
  spec_sh 'cat /proc/self/mountinfo'
  build_ct
  run_ct
  assert_success
  assert_line --regexp '^[0-9]+ [0-9]+ [0-9:]+ /sys /proc/sys ro,'
  assert_line --regexp ' /proc/keys [a-z]+,'
}

@test "/dev holds exactly the minimal set, and only fds 0-2 reach the command" {
  spec_sh 'ls -A /dev | tr "\n" " "; echo; ls /proc/self/fd | tr "\n" " "'
  build_ct
  run_ct 3</dev/null 4</dev/null 7</dev/null
  assert_success
  assert_line 'fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero '
  # ls itself holds one descriptor on /proc/self/fd.
  assert_line '0 1 2 3 '
}

@test "host pids, mounts and hostname are invisible or unchanged" {
  local host_hostname
  host_hostname=$(hostname)
  update_spec 's.hostname = "inside"'
  # Builtins only, so that the shell is the one process: PID 1.
  spec_command /bin/sh -c 'hostname; set -- /proc/[0-9]*; echo "$@"; grep -cF "$0" /proc/self/mountinfo || true' "$REPO_ROOT"
  build_ct
  run_ct
  assert_success
  assert_equal "${lines[0]}" inside
  assert_equal "${lines[1]}" /proc/1
  assert_equal "${lines[2]}" 0
  assert_equal "$(hostname)" "$host_hostname"
}

@test "a chroot escape (double chroot, chdir ..) does not reach the host's files" {
  command -v gcc >/dev/null || skip "needs gcc"
  local marker=$BATS_TEST_TMPDIR/host-only-$RANDOM
  echo secret >"$marker"
  cat >"$BATS_TEST_TMPDIR/escape.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
  mkdir("/tmp/jail", 0755);
  if (chroot("/tmp/jail") != 0) { perror("chroot"); }
  for (int i = 0; i < 100; i++) chdir("..");
  if (chroot(".") != 0) { perror("chroot ."); }
  int fd = open(argv[1], O_RDONLY);
  printf(fd >= 0 ? "ESCAPED\n" : "contained\n");
  return 0;
}
C
  gcc -static -o "$ROOTFS/escape" "$BATS_TEST_TMPDIR/escape.c" || skip "gcc -static does not work here"
  update_spec 's.mounts.push({ type: "tmpfs", target: "/tmp" })'
  spec_command /escape "$marker"
  build_ct
  run_ct
  assert_success
  assert_output contained
}

@test "a mount target that is a symlink to the host is refused: exit 125, nothing mounted, nothing left" {
  rm -rf -- "$ROOTFS/tmp"
  ln -s /etc "$ROOTFS/tmp"
  update_spec 's.mounts.push({ type: "tmpfs", target: "/tmp" })'
  build_ct
  run_ct
  assert_failure 125
  assert_equal "$stderr" "ct.sh: error: mounts[1].target: /tmp is a symlink in the rootfs; a mount target must be a real directory or file"
  refute grep -q ' /etc tmpfs' /proc/self/mounts
  assert_clean
}

@test "/proc as a symlink in the rootfs is refused" {
  rm -rf -- "$ROOTFS/proc"
  ln -s /proc "$ROOTFS/proc"
  build_ct
  run_ct
  assert_failure 125
  assert_equal "$stderr" "ct.sh: error: proc: /proc is a symlink in the rootfs; a mount target must be a real directory or file"
  assert_clean
}

@test "/dev as a symlink in the rootfs is refused before the root is mounted" {
  # The init mounts /dev together with the root: the host checks the rootfs's /dev first.
  rm -rf -- "$ROOTFS/dev"
  ln -s /dev "$ROOTFS/dev"
  spec_command /bin/echo should-not-run
  build_ct
  run_ct
  assert_failure 125
  refute_output should-not-run
  assert_equal "$stderr" "ct.sh: error: dev: /dev is a symlink in the rootfs; a mount target must be a real directory or file"
  assert_clean
}

# (Invalid UTF-8 cannot be written in a JSON or YAML spec, and the schema refuses lone surrogates.)
@test "hostile arguments and env values arrive byte for byte" {
  local values=("it's" '"q"' '$(id)' '`id`' '${IFS}' '*' ';|&<>' $'a\nb' 'EOF' '-rf' '--help' $'\e[31m' '\' $'caf\u00e9 \U1F600' "$(printf 'x%.0s' {1..3000})")
  update_spec 's.env = { V: args[0] }' "${values[1]}"
  spec_command /bin/sh -c 'printf "%s\0" "$@" "$V"' sh "${values[@]}"
  build_ct
  run --separate-stderr bash -c '"$1" </dev/null | od -An -c' _ "$SCRIPT"
  assert_success
  assert_equal "$output" "$(printf '%s\0' "${values[@]}" "${values[1]}" | od -An -c)"
}

@test "namespaced sysctls are set inside; time offsets move the container's uptime" {
  update_spec 's.namespaces.push("net", "time"); s.sysctls = { "net.ipv4.ip_unprivileged_port_start": 99 }; s.timeOffsets = { boottime: 86400 }'
  spec_sh 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start; cut -d. -f1 /proc/uptime'
  build_ct
  run_ct
  assert_success
  assert_equal "${lines[0]}" 99
  local host_uptime
  host_uptime=$(cut -d. -f1 /proc/uptime)
  ((lines[1] >= host_uptime + 86000)) || fail "uptime inside is ${lines[1]}, host's $host_uptime"
}

# --- The user namespace ------------------------------------------------------------------------

# others_may_enter: every directory from the test's own up to the bats run's gets search
# permission for others, so that an unprivileged host id reaches the rootfs, the script and
# the shared dir (bats makes them 0700; it removes them afterwards).
others_may_enter() {
  local dir=$CT_DIR
  while [[ $dir == "$BATS_RUN_TMPDIR"* ]]; do
    chmod o+x -- "$dir"
    dir=${dir%/*}
  done
}

# status_ids PID KEY: the four ids of KEY (Uid or Gid) in /proc/PID/status, as the host sees them.
status_ids() { awk -v k="$2:" '$1 == k { print $2, $3, $4, $5 }' "/proc/$1/status"; }

@test "Under a user namespace, root in the container is an unprivileged uid on the host" {
  others_may_enter
  # Root inside is host uid 100000: the shared dir is that id's, as a bind source must be.
  chown -R 100000:100000 -- "$SHARE"
  update_spec 's.namespaces.unshift("user", "net"); s.hostname = "inside"; s.limits = { pids: 20 }'
  spec_sh 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; hostname; grep CapEff /proc/self/status
    stat -c "%u:%g" /bin/busybox; (echo x >/bin/mark) 2>/dev/null; echo "write=$?"; '"$CT_WAIT"
  start_ready_ct
  local pid1
  pid1=$(ct_pid1)
  # The host's view of the container's PID 1: uid and gid 100000, in a user namespace of its own.
  assert_equal "$(status_ids "$pid1" Uid)" '100000 100000 100000 100000'
  assert_equal "$(status_ids "$pid1" Gid)" '100000 100000 100000 100000'
  refute [ "$(readlink "/proc/$pid1/ns/user")" = "$(readlink /proc/self/ns/user)" ]
  # Its mount namespace belongs to that user namespace: the kernel let it mount /proc.
  assert_equal "$(awk '$5 == "/proc" { print $9 }' "/proc/$pid1/mountinfo" | head -1)" proc
  # The limits were written from the host, into the container's own cgroup.
  check_cgroup_value pids pids.max 20
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  local inside
  mapfile -t inside <<<"$CT_STDOUT"
  assert_equal "${inside[0]}" 0
  assert_equal "${inside[1]}" 0
  assert_equal "$(echo ${inside[2]})" '0 100000 65536'
  assert_equal "$(echo ${inside[3]})" '0 100000 65536'
  assert_equal "${inside[4]}" inside
  # Docker's 14 capabilities, which count only in the container's own namespaces.
  assert_equal "${inside[5]}" $'CapEff:\t00000000a80425fb'
  # The host's root owns the rootfs: unmapped, it shows as nobody, and root inside cannot write.
  assert_equal "${inside[6]}" 65534:65534
  refute [ "${inside[7]}" = write=0 ]
  [ ! -e "$ROOTFS/bin/mark" ]
  assert_clean
}

@test "userns: exec enters the user namespace as root of it; a custom range maps other ids" {
  others_may_enter
  chown -R 200000:300000 -- "$SHARE"
  update_spec 's.namespaces.unshift("user"); s.userns = { uidMap: [{ containerId: 0, hostId: 200000, size: 2000 }], gidMap: [{ containerId: 0, hostId: 300000, size: 2000 }] }'
  spec_sh "$CT_WAIT"
  start_ready_ct
  run "$SCRIPT" exec -- /bin/sh -c 'id -u; cat /proc/self/uid_map /proc/self/gid_map'
  assert_success
  assert_equal "$(echo $output)" '0 0 200000 2000 0 300000 2000'
  assert_equal "$(status_ids "$(ct_pid1)" Gid)" '300000 300000 300000 300000'
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_clean
}

@test "userns: network.dns and network.hosts reach a rootfs without /etc/resolv.conf; the rootfs stays unchanged" {
  others_may_enter
  rm -f -- "$ROOTFS/etc/resolv.conf"
  update_spec 's.namespaces.push("user", "net"); s.network = { dns: ["192.0.2.53"], hosts: { db: "192.0.2.10" } }'
  spec_command /bin/cat /etc/resolv.conf /etc/hosts
  build_ct
  run_ct
  assert_line 'nameserver 192.0.2.53'
  assert_line '192.0.2.10 db'
  # The mount point was made in the container's writable layer, not in the rootfs.
  [[ ! -e $ROOTFS/etc/resolv.conf ]] || fail "the run made /etc/resolv.conf in the rootfs"
  assert_clean
}

@test "userns: a container's root that cannot reach the rootfs is refused before it starts" {
  # A test directory of mode 0700 (as bats makes some): host uid 100000 cannot reach into it.
  chmod 0700 -- "$CT_DIR"
  update_spec 's.namespaces.unshift("user")'
  build_ct
  run_ct
  assert_failure 125
  assert_output ''
  assert_equal "$stderr" "ct.sh: error: userns: the container's root (host uid 100000, gid 100000) cannot reach $SCRIPT: every directory above it needs search (x) permission for others, this script read permission"
  assert_clean
}

# --- Rootless: a normal user runs the container ------------------------------------------------

# make_user: a normal user for this test only (no home), who owns a copy of the rootfs, the
# shared dir and a state dir; the script is theirs to read. teardown_user removes them.
make_user() {
  TEST_USER=ubats$$r$RANDOM
  useradd --no-create-home --shell /usr/sbin/nologin --user-group -- "$TEST_USER"
  TEST_UID=$(id -u -- "$TEST_USER")
  TEST_GID=$(id -g -- "$TEST_USER")
  others_may_enter
  mkdir -- "$CT_DIR/home"
  chown -R "$TEST_UID:$TEST_GID" -- "$ROOTFS" "$SHARE" "$CT_DIR/home"
  export UNSHARED_STATE_DIR=$CT_DIR/home/state UNSHARED_DATA_DIR=$CT_DIR/home/data
}

teardown_user() {
  [[ -n ${TEST_USER-} ]] || return 0
  local pid
  # The user's processes, by pid (a rootless container has no cgroup to kill it through).
  for pid in $(awk -v uid="$TEST_UID" '$1 == "Uid:" && $2 == uid { split(FILENAME, p, "/"); print p[3] }' /proc/[0-9]*/status 2>/dev/null); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  userdel -- "$TEST_USER" 2>/dev/null || true
  TEST_USER=
}

# user_pid1: the host pid of the test user's process that is PID 1 of its pid namespace.
user_pid1() {
  awk -v uid="$TEST_UID" '$1 == "Uid:" && $2 == uid { u = 1 } $1 == "NSpid:" && u && $NF == 1 && NF > 2 { split(FILENAME, p, "/"); print p[3]; exit }
    ENDFILE { u = 0 }' /proc/[0-9]*/status 2>/dev/null
}

# as_user COMMAND...: COMMAND as the test user, with the environment a login would give.
as_user() {
  setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --init-groups -- \
    env -i PATH=/usr/local/bin:/usr/bin:/bin UNSHARED_STATE_DIR="$UNSHARED_STATE_DIR" UNSHARED_DATA_DIR="$UNSHARED_DATA_DIR" "$@"
}

@test "rootless: a normal user runs the container, which sees itself as root while the host sees the user's uid" {
  make_user
  update_spec 's.namespaces.unshift("user", "net"); s.hostname = "rootless"'
  spec_sh 'id -u; cat /proc/self/uid_map; hostname; stat -c %u /bin/busybox; echo ok >/etc/written; cat /etc/written; '"$CT_WAIT"
  build_ct
  as_user "$SCRIPT" </dev/null >"$CT_DIR/stdout" 2>"$CT_DIR/stderr" 3>&- &
  CT_PID=$!
  wait_ready
  local pid1
  pid1=$(user_pid1)
  [[ -n $pid1 ]] || fail "no PID 1 of a pid namespace runs as uid $TEST_UID"
  assert_equal "$(status_ids "$pid1" Uid)" "$TEST_UID $TEST_UID $TEST_UID $TEST_UID"
  refute [ "$(readlink "/proc/$pid1/ns/user")" = "$(readlink /proc/self/ns/user)" ]
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  mapfile -t inside <<<"$CT_STDOUT"
  assert_equal "${inside[0]}" 0
  assert_equal "$(echo ${inside[1]})" "0 $TEST_UID 1"
  assert_equal "${inside[2]}" rootless
  # The user's files are root's inside: the root is writable, and the write went to the
  # container's own layer (an overlay mounted in the user namespace), not into the rootfs.
  assert_equal "${inside[3]}" 0
  assert_equal "${inside[4]}" ok
  [ ! -e "$ROOTFS/etc/written" ]
  [ ! -e "$UNSHARED_STATE_DIR/$CT_NAME" ]
  teardown_user
  assert_clean
}

@test "rootless: limits and other users are refused with the field, before anything is made" {
  make_user
  update_spec 's.namespaces.unshift("user"); s.limits = { memory: "64m" }'
  build_ct
  run as_user "$SCRIPT"
  assert_failure 125
  assert_output "ct.sh: error: limits: a normal user cannot write this host's cgroups, so the limits could not be applied; run as root, or remove limits"
  update_spec 'delete s.limits; s.user = "1000:1000"'
  build_ct
  run as_user "$SCRIPT"
  assert_failure 125
  assert_output --partial "ct.sh: error: user, groups: run as a normal user, the container can only be root"
  run as_user "$SCRIPT" start
  assert_failure 125
  [ ! -e "$UNSHARED_STATE_DIR" ]
  teardown_user
  assert_clean
}

# --- The cgroup namespace: the container's own cgroups, read-only ------------------------------

@test "cgroup namespace: /sys/fs/cgroup shows the container's own cgroups read-only, with and without userns" {
  others_may_enter
  chown -R 100000:100000 -- "$SHARE"
  # The pids controller's files: in its own hierarchy on v1, at the top on v2.
  local with_user pids=/sys/fs/cgroup/pids
  if cgroup_v2; then pids=/sys/fs/cgroup; fi
  for with_user in no yes; do
    update_spec 's.namespaces = ["pid", "mount", "uts", "ipc", "net", "cgroup"]; s.limits = { pids: 20 }; s.mounts.push({ type: "sysfs" })'
    if [[ $with_user == yes ]]; then update_spec 's.namespaces.unshift("user"); s.mounts = s.mounts.slice(0, 2)'; fi
    spec_command /bin/sh -c 'cat "$1/pids.max"; grep -c ":/$" /proc/self/cgroup; grep -vc ":/$" /proc/self/cgroup
      (echo 5 >"$1/pids.max") 2>&1; mkdir "$1/sub" 2>&1
      awk "\$5 ~ \"^/sys/fs/cgroup\" { print \$5, \$6 }" /proc/self/mountinfo' sh "$pids"
    build_ct
    run_ct
    assert_success
    # The root of the pids hierarchy inside is the container's cgroup, with its limit.
    assert_equal "${lines[0]}" 20
    ((lines[1] > 0)) || fail "no cgroup of the container is its namespace's root: $output"
    assert_equal "${lines[2]}" 0
    assert_line "sh: line 1: can't create $pids/pids.max: Read-only file system"
    assert_line "mkdir: can't create directory '$pids/sub': Read-only file system"
    assert_line --regexp '^/sys/fs/cgroup ro,'
    assert_line --regexp "^$pids ro,"
    refute_line --regexp '^/sys/fs/cgroup[^ ]* rw'
  done
  assert_clean
}

@test "userns: SIGTERM to the script stops the container and removes everything, the FIFO with it" {
  others_may_enter
  chown -R 100000:100000 -- "$SHARE"
  update_spec 's.namespaces.unshift("user"); s.limits = { memory: "64m" }'
  spec_sh "trap 'exit 7' TERM; $CT_WAIT & wait"
  start_ready_ct
  [ -p "$UNSHARED_STATE_DIR/$CT_NAME/userns-sync" ]
  assert_equal "$(stat -c %a:%g "$UNSHARED_STATE_DIR/$CT_NAME")" 710:100000
  kill -TERM "$CT_PID"
  wait_ct
  assert_equal "$CT_STATUS" 143
  assert_clean
}
