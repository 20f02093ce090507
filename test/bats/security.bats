#!/usr/bin/env bats
# The container cannot do what it must not: real containers, checked through the kernel's view.

load helpers

setup_file() { setup_rootfs_template; }
setup() { setup_container; }
teardown() { teardown_container; }

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
