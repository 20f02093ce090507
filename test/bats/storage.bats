#!/usr/bin/env bats
# The container's filesystem: the rootfs as a read-only lower layer under the container's own
# writable (upper) layer on the host, kept after the container exits until rm; commit of that
# layer as an OCI layer tar; readonlyRootfs, volatile, named volumes and bind flags. The
# assertions read the kernel's view: the container's mountinfo, and the upper dir on the host.
#
# Container scripts in single quotes, bats' run variables ($stderr) and per-test state are on
# purpose:
# shellcheck disable=SC2016,SC2030,SC2031,SC2119,SC2120,SC2154

load helpers

setup_file() { setup_rootfs_template; }

setup() {
  setup_container
  # These tests look at the kept layer: not the helpers' autoRemove.
  update_spec 's.autoRemove = false'
}

teardown() { teardown_container; }

# tree_sum DIR: one checksum over every path, type, mode, owner, size, mtime, link target and
# file content under DIR.
tree_sum() {
  (
    cd -- "$1"
    find . -printf '%P %y %m %u:%g %s %T@ %l\n' | LC_ALL=C sort
    find . -type f -exec sha256sum -- {} + | LC_ALL=C sort
  ) | sha256sum
}

# root_line PID: the container's / in its own mount table (/proc/PID/mountinfo).
root_line() { awk '$5 == "/"' "/proc/$1/mountinfo"; }

# only_layer_left: cgroups, mounts and state are gone; the writable layer is all that is left.
only_layer_left() {
  run host_leftovers
  assert_output "layer: $LAYER"
}

@test "storage: writes land in the upper dir only; the rootfs's bytes are unchanged; rm removes the layer" {
  local before
  before=$(tree_sum "$ROOTFS")
  spec_sh 'echo new >/etc/new-file; echo changed >>/etc/passwd; mkdir -p /srv/made; rm /etc/group
    '"$CT_WAIT"
  start_ready_ct
  # The kernel's view: the container's / is an overlay, the rootfs its lower dir, the upper and
  # work dirs in the layer on the host.
  run root_line "$(ct_pid1)"
  assert_output --regexp " / [^ ]+ - overlay overlay rw,lowerdir=$ROOTFS,upperdir=$LAYER/upper,workdir=$LAYER/work(,|\$)"
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_equal "$(<"$LAYER/upper/etc/new-file")" new
  assert_equal "$(tail -n 1 "$LAYER/upper/etc/passwd")" changed
  assert [ -d "$LAYER/upper/srv/made" ]
  # The deletion is an overlay whiteout: a character device 0:0.
  assert_equal "$(stat -c '%F %t:%T' "$LAYER/upper/etc/group")" 'character special file 0:0'
  # The rootfs, the lower layer, is exactly as it was.
  assert_equal "$(tree_sum "$ROOTFS")" "$before"
  assert [ -f "$ROOTFS/etc/group" ]
  # Cgroups, mounts and state went with the container; the layer stays for commit, until rm.
  only_layer_left
  run "$SCRIPT" status
  assert_failure 3
  assert_line --regexp '^status +stopped$'
  assert_line --regexp "^layer +$LAYER\$"
  run "$SCRIPT" rm
  assert_success
  assert [ ! -e "$LAYER" ]
  assert_clean
}

@test "storage: run again on an exited container's name is refused, naming rm; after rm it runs" {
  spec_command /bin/true
  build_ct
  run_ct
  assert_success
  assert [ -d "$LAYER/upper" ]
  run_ct
  assert_failure 125
  assert_regex "$stderr" "container $CT_NAME has exited and its writable layer is kept in $LAYER: .* rm"
  # The refusal changed nothing: the layer is there, nothing else.
  only_layer_left
  run "$SCRIPT" rm
  assert_success
  run_ct
  assert_success
  run "$SCRIPT" rm
  assert_clean
}

@test "storage: two containers share one lower layer and do not see each other's writes" {
  local first=$CT_NAME second=$CT_NAME-b first_pid second_pid
  build_ct
  update_spec 's.name = args[0]; s.hostname = "second"' "$second"
  node "$UNSHARED_BIN" build "$SPEC" -o "$CT_DIR/second.sh"
  run "$SCRIPT" start -- /bin/sh -c 'echo a >/written-by-a; while :; do sleep 1; done'
  assert_success
  run "$CT_DIR/second.sh" start -- /bin/sh -c 'echo b >/written-by-b; while :; do sleep 1; done'
  assert_success
  wait_until 10 test -e "$LAYER/upper/written-by-a"
  wait_until 10 test -e "$UNSHARED_DATA_DIR/containers/$second/upper/written-by-b"
  first_pid=$(ct_pid1)
  CT_NAME=$second
  second_pid=$(ct_pid1)
  CT_NAME=$first
  # Same lower dir, each its own upper dir.
  run root_line "$first_pid"
  assert_output --regexp "lowerdir=$ROOTFS,upperdir=$LAYER/upper,"
  run root_line "$second_pid"
  assert_output --regexp "lowerdir=$ROOTFS,upperdir=$UNSHARED_DATA_DIR/containers/$second/upper,"
  run "$SCRIPT" exec -- /bin/ls /
  assert_success
  assert_line written-by-a
  refute_line written-by-b
  run "$CT_DIR/second.sh" exec -- /bin/ls /
  assert_success
  assert_line written-by-b
  refute_line written-by-a
  assert [ ! -e "$ROOTFS/written-by-a" ]
  assert [ ! -e "$ROOTFS/written-by-b" ]
  run "$CT_DIR/second.sh" rm --force
  assert_success
  run "$SCRIPT" rm --force
  assert_success
  assert_clean
  CT_NAME=$second
  assert_clean
}

@test "storage: a deleted lower file is hidden; commit writes whiteouts and prints the tar's digest" {
  mkdir -p -- "$ROOTFS/home/user"
  echo lower >"$ROOTFS/home/user/profile"
  # /etc/hosts: a whiteout. /home: removed and made again, an opaque dir (nothing below shows).
  spec_sh 'rm /etc/hosts; rm -r /home; mkdir /home; echo upper >/home/new
    ls /etc/hosts 2>/dev/null; echo "hosts=$?"; ls /home'
  build_ct
  run_ct
  assert_success
  assert_line hosts=1
  assert_line new
  refute_line user
  assert_equal "$(stat -c '%F %t:%T' "$LAYER/upper/etc/hosts")" 'character special file 0:0'
  assert_equal "$(getfattr --only-values -n trusted.overlay.opaque "$LAYER/upper/home")" y
  run --separate-stderr "$SCRIPT" commit "$CT_DIR/layer.tar"
  assert_success
  assert_output --regexp '^sha256:[0-9a-f]{64}$'
  assert_equal "$output" "sha256:$(sha256sum <"$CT_DIR/layer.tar" | cut -d' ' -f1)"
  run tar -tvf "$CT_DIR/layer.tar"
  assert_success
  assert_line --regexp '^-.* etc/\.wh\.hosts$'
  assert_line --regexp '^-.* home/\.wh\.\.wh\.\.opq$'
  assert_line --regexp '^-.* home/new$'
  assert_line --regexp '^d.* home/$'
  # No overlay device or xattr reaches the tar: the whiteouts are plain files.
  refute_line --regexp '^c'
  run tar -tf "$CT_DIR/layer.tar"
  refute_line --partial user/profile
  # The same layer gives the same bytes.
  run --separate-stderr "$SCRIPT" commit "$CT_DIR/again.tar"
  assert_success
  cmp -- "$CT_DIR/layer.tar" "$CT_DIR/again.tar"
  # The rootfs still has what the container deleted.
  assert [ -f "$ROOTFS/etc/hosts" ]
  assert [ -f "$ROOTFS/home/user/profile" ]
  "$SCRIPT" rm
  assert_clean
}

@test "storage: a container from the base and a committed layer does not see what the first deleted" {
  echo lower >"$ROOTFS/etc/motd"
  spec_sh 'rm /etc/motd; echo committed >/etc/added'
  build_ct
  run_ct
  assert_success
  run --separate-stderr "$SCRIPT" commit "$CT_DIR/layer.tar"
  assert_success
  local digest=${output#sha256:}
  "$SCRIPT" rm
  # The committed tar as a layer over the same base: its .wh.motd hides the base's file.
  update_spec 's.rootfs = { layers: [{ dir: args[0] }, { tar: args[1] }] }' "$ROOTFS" "$CT_DIR/layer.tar"
  spec_sh 'cat /etc/added; if [ -e /etc/motd ]; then echo motd-seen; else echo motd-gone; fi'
  build_ct
  run_ct
  assert_success
  assert_line committed
  assert_line motd-gone
  refute_line motd-seen
  # The layer was unpacked into the cache under the tar's digest, with the whiteout as overlay's.
  assert_equal "$(stat -c '%F %t:%T' "$UNSHARED_LAYER_CACHE/$digest/etc/motd")" 'character special file 0:0'
  # The base still has it.
  assert_equal "$(<"$ROOTFS/etc/motd")" lower
  "$SCRIPT" rm
  assert_clean
}

@test "storage: commit refuses a running container and a container without a layer" {
  spec_sh "$CT_WAIT"
  build_ct
  run --separate-stderr "$SCRIPT" commit "$CT_DIR/none.tar"
  assert_failure 125
  assert_regex "$stderr" 'has no writable layer'
  start_ct
  wait_ready
  run --separate-stderr "$SCRIPT" commit "$CT_DIR/running.tar"
  assert_failure 125
  assert_regex "$stderr" 'is running .*stop it first'
  assert [ ! -e "$CT_DIR/running.tar" ]
  run --separate-stderr "$SCRIPT" commit
  assert_failure 2
  release_ct
  wait_ct
  "$SCRIPT" rm
  assert_clean
  # No temporary directory of commit is left next to the output.
  run find "$CT_DIR" -maxdepth 1 -name '.unshared-commit.*'
  assert_output ''
}

@test "storage: readonlyRootfs makes writes fail with EROFS, and keeps no layer" {
  local before
  mkdir -- "$ROOTFS/share"
  before=$(tree_sum "$ROOTFS")
  update_spec 's.readonlyRootfs = true; s.mounts.push({ type: "tmpfs", target: "/tmp" })'
  spec_sh 'awk "\$5 == \"/\"" /proc/self/mountinfo; touch /new-file; echo "root=$?"
    echo x >/etc/passwd; echo "passwd=$?"; touch /tmp/ok; echo "tmp=$?"'
  build_ct
  run_ct
  assert_success
  # One layer: a read-only bind of the rootfs (no overlay without an upper dir).
  assert_line --regexp "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ro[, ]"
  assert_line root=1
  assert_line passwd=1
  assert_line tmp=0
  assert_regex "$stderr" 'Read-only file system'
  assert_equal "$(tree_sum "$ROOTFS")" "$before"
  assert [ ! -e "$LAYER" ]
  assert_clean
}

@test "storage: readonlyRootfs refuses a mount point the rootfs lacks, naming the field, and leaves nothing" {
  mkdir -- "$ROOTFS/share"
  update_spec 's.readonlyRootfs = true; s.mounts.push({ type: "tmpfs", target: "/not-there" })'
  spec_command /bin/echo should-not-run
  build_ct
  run_ct
  assert_failure 125
  refute_output should-not-run
  assert_regex "$stderr" 'readonlyRootfs: the rootfs has no /not-there to mount on'
  assert [ ! -e "$ROOTFS/not-there" ]
  assert_clean
}

@test "storage: readonlyRootfs refuses a rootfs without /dev, before the root is mounted" {
  rmdir -- "$ROOTFS/dev"
  update_spec 's.readonlyRootfs = true'
  spec_command /bin/echo should-not-run
  build_ct
  run_ct
  assert_failure 125
  refute_output should-not-run
  assert_regex "$stderr" 'readonlyRootfs: the rootfs has no /dev to mount on'
  assert_clean
}

@test "storage: a rootfs without /dev gets one in the container's root, the rootfs none" {
  rmdir -- "$ROOTFS/dev"
  spec_sh 'ls -A /dev | tr "\n" " "; echo; grep " /dev " /proc/mounts | cut -d" " -f2,3'
  build_ct
  run_ct
  assert_success
  assert_line 'fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero '
  assert_line '/dev tmpfs'
  # mount(8) made the mount point (X-mount.mkdir) in the writable layer, not in the rootfs.
  assert [ -d "$LAYER/upper/dev" ]
  assert [ ! -e "$ROOTFS/dev" ]
  run "$SCRIPT" rm
  assert_success
  assert_clean
}

@test "storage: volatile puts the upper layer on a tmpfs of the container: charged to it, gone with it" {
  update_spec 's.volatile = true; s.limits = { memory: "256m" }'
  spec_sh 'dd if=/dev/zero of=/big bs=1M count=16 2>/dev/null; echo v >/volatile-file; '"$CT_WAIT"
  start_ready_ct
  local pid1 shmem
  pid1=$(ct_pid1)
  run root_line "$pid1"
  assert_output --regexp "overlay overlay rw,lowerdir=$ROOTFS,upperdir=$UNSHARED_STATE_DIR/$CT_NAME/root/upper,"
  # The upper dir's pages are shared memory (tmpfs) charged to the container's memory cgroup.
  if cgroup_v2; then shmem=$(cgroup_key memory memory.stat shmem); else shmem=$(cgroup_key memory memory.stat total_shmem); fi
  ((shmem >= 16 * 1024 * 1024)) || fail "shmem of the container's memory cgroup is $shmem bytes, expected at least 16 MiB"
  # Nothing of it is on the host's disk.
  assert [ ! -e "$LAYER" ]
  run find "$CT_DIR" -name volatile-file
  assert_output ''
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_clean
}

@test "storage: a named volume is kept across rm and a second run" {
  local volume=vol-$RANDOM
  update_spec 's.mounts.push({ type: "volume", name: args[0], target: "/data" })' "$volume"
  spec_sh 'cat /data/count 2>/dev/null || echo none; echo "run-$$-$RANDOM" >/data/count; cat /data/count'
  build_ct
  run_ct
  assert_success
  assert_line --index 0 none
  local written=${lines[1]}
  assert_equal "$(<"$UNSHARED_DATA_DIR/volumes/$volume/count")" "$written"
  run "$SCRIPT" rm
  assert_success
  assert [ ! -e "$LAYER" ]
  assert_equal "$(<"$UNSHARED_DATA_DIR/volumes/$volume/count")" "$written"
  run_ct
  assert_success
  assert_line --index 0 "$written"
  "$SCRIPT" rm
  assert_clean
}

@test "storage: bind and volume flags nosuid, nodev, noexec and readonly are in the container's mountinfo" {
  mkdir -- "$CT_DIR/tools"
  printf '#!/bin/sh\necho ran\n' >"$CT_DIR/tools/hello"
  chmod 755 "$CT_DIR/tools/hello"
  update_spec 's.mounts.push({ type: "bind", source: args[0], target: "/tools", nosuid: true, nodev: true, noexec: true },
    { type: "volume", name: "flags", target: "/vol", readonly: true, nosuid: true },
    { type: "bind", source: args[0], target: "/plain" })' "$CT_DIR/tools"
  spec_sh 'awk "\$5 == \"/tools\" || \$5 == \"/vol\" || \$5 == \"/plain\" { print \$5, \$6 }" /proc/self/mountinfo
    /plain/hello; /tools/hello; echo "exec=$?"'
  build_ct
  run_ct
  assert_success
  assert_line --regexp '^/tools rw,nosuid,nodev,noexec(,|$)'
  assert_line --regexp '^/vol ro,nosuid(,|$)'
  assert_line --regexp '^/plain rw(,|$)'
  refute_line --regexp '^/plain .*(nosuid|nodev|noexec)'
  assert_line ran
  assert_line exec=126
  assert_regex "$stderr" 'Permission denied'
  "$SCRIPT" rm
  assert_clean
}

@test "storage: a symlinked mount target pointing outside the rootfs is refused, nothing made outside" {
  mkdir -- "$CT_DIR/outside"
  ln -s -- "$CT_DIR/outside" "$ROOTFS/escape"
  update_spec 's.mounts.push({ type: "tmpfs", target: "/escape/x" })'
  spec_command /bin/echo should-not-run
  build_ct
  run_ct
  assert_failure 125
  refute_output should-not-run
  assert_regex "$stderr" 'mounts\[1\]\.target: /escape is a symlink in the rootfs'
  run ls -A "$CT_DIR/outside"
  assert_output ''
  # The setup failed before the command ran: no layer is kept either.
  assert_clean
}

@test "storage: SIGTERM stops the container and removes all but its layer; a failed start keeps none" {
  spec_sh "$CT_WAIT"
  start_ready_ct
  local pid1
  pid1=$(ct_pid1)
  hold_mnt_ns "$pid1"
  kill -TERM "$CT_PID"
  wait_ct
  assert_equal "$CT_STATUS" 143
  assert proc_gone "$pid1"
  [[ -z $(mnt_ns_holders) ]] || fail "processes are left in the container's mount namespace"
  release_mnt_ns
  only_layer_left
  "$SCRIPT" rm
  assert_clean
  # A bind source that is a directory cannot go on a file: the mount fails inside, exit 125.
  mkdir -- "$CT_DIR/dir"
  : >"$ROOTFS/a-file"
  update_spec 's.mounts.push({ type: "bind", source: args[0], target: "/a-file" })' "$CT_DIR/dir"
  build_ct
  run_ct
  assert_failure 125
  assert_clean
}
