#!/usr/bin/env bats
# Image sources of the rootfs: a tarball downloaded from a URL and checked against its sha256, an
# OCI image layout (index.json -> manifest -> layers, with whiteouts), explicit layers, and the
# checks that refuse hostile or damaged input, leaving nothing behind. Downloads come from a small
# HTTP server on 127.0.0.1 (http-server.cjs, a port the kernel picks), started once per file.
# Every test has its own layer cache (UNSHARED_LAYER_CACHE), removed with its temporary dir.
#
# Container scripts in single quotes, bats' run variables ($stderr) and per-test state are on
# purpose:
# shellcheck disable=SC2016,SC2030,SC2031,SC2119,SC2120,SC2154

load helpers

setup_file() {
  setup_rootfs_template
  export SERVE_DIR=$BATS_FILE_TMPDIR/serve
  mkdir -p -- "$SERVE_DIR"
  # The busybox rootfs as a gzip tarball, and its sha256.
  tar -C "$ROOTFS_TEMPLATE" -czf "$SERVE_DIR/busybox.tar.gz" .
  BUSYBOX_SHA256=$(sha256sum <"$SERVE_DIR/busybox.tar.gz")
  export BUSYBOX_SHA256=${BUSYBOX_SHA256%% *}
  # On this machine's loopback, in the VM lane too (start_local_node): the scripts download from it.
  start_local_node "$BATS_TEST_DIRNAME/http-server.cjs" "$SERVE_DIR" "$BATS_FILE_TMPDIR/port"
  export SERVER_PID=$LOCAL_NODE_PID
  wait_until 10 test -s "$BATS_FILE_TMPDIR/port" || fail "the HTTP server did not start"
  SERVER=http://127.0.0.1:$(<"$BATS_FILE_TMPDIR/port")
  export SERVER
}

teardown_file() {
  if [[ -n ${SERVER_PID-} ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}

setup() {
  setup_container
  export UNSHARED_LAYER_CACHE=$CT_DIR/layers
}

teardown() { teardown_container; }

# cache_entries: what the layer cache holds, one name a line (temporary dirs included).
cache_entries() {
  if [[ -d $UNSHARED_LAYER_CACHE ]]; then ls -A -- "$UNSHARED_LAYER_CACHE"; fi
}

# spec_url URL SHA256
spec_url() { update_spec 's.rootfs = { url: args[0], sha256: args[1] }' "$1" "$2"; }

# --- Downloads -------------------------------------------------------------------------------------

# In the cgroup v2 lane's CI subset: the server runs in the guest (start_local_node), the layer
# cache and the overlay root of an image source on v2.
# bats test_tags=ci:vm
@test "url: a tarball from 127.0.0.1 is downloaded, checked, cached, and the container runs in it" {
  spec_url "$SERVER/busybox.tar.gz" "$BUSYBOX_SHA256"
  spec_sh 'cat /etc/passwd; echo written >/new-file'
  build_ct
  local started first second
  started=$(now_ms)
  run_ct
  first=$(($(now_ms) - started))
  assert_success
  assert_line 'root:x:0:0:root:/root:/bin/sh'
  assert_regex "$stderr" "downloading $SERVER/busybox.tar.gz"
  # One entry, named by the digest: the unpacked tarball, which the container did not write.
  assert_equal "$(cache_entries)" "$BUSYBOX_SHA256"
  assert [ -x "$UNSHARED_LAYER_CACHE/$BUSYBOX_SHA256/bin/busybox" ]
  assert [ ! -e "$UNSHARED_LAYER_CACHE/$BUSYBOX_SHA256/new-file" ]
  assert_clean
  # The second start uses the cache: no download, the same container.
  started=$(now_ms)
  run_ct
  second=$(($(now_ms) - started))
  assert_success
  assert_line 'root:x:0:0:root:/root:/bin/sh'
  refute_regex "$stderr" downloading
  assert_equal "$(cache_entries)" "$BUSYBOX_SHA256"
  assert_clean
  echo "# url: first start (download + check + unpack) ${first} ms, cached start ${second} ms" >&3
}

@test "url: a digest that does not match is refused, and nothing is left behind" {
  # The right tarball, the wrong digest (as if the file on the server had been replaced).
  spec_url "$SERVER/busybox.tar.gz" "$(printf 'other' | sha256sum | cut -d' ' -f1)"
  build_ct
  run_ct -125
  assert_regex "$stderr" "rootfs.sha256: the download of $SERVER/busybox.tar.gz has sha256 $BUSYBOX_SHA256, expected"
  assert_equal "$(cache_entries)" ''
  assert_clean
}

@test "url: a tampered tarball is refused, and nothing is left behind" {
  # One byte changed in the middle of the served file; the spec has the original digest.
  cp -- "$SERVE_DIR/busybox.tar.gz" "$SERVE_DIR/tampered.tar.gz"
  printf 'X' | dd of="$SERVE_DIR/tampered.tar.gz" bs=1 seek=4096 conv=notrunc status=none
  spec_url "$SERVER/tampered.tar.gz" "$BUSYBOX_SHA256"
  build_ct
  run_ct -125
  assert_regex "$stderr" "rootfs.sha256: .* expected $BUSYBOX_SHA256: refused"
  assert_equal "$(cache_entries)" ''
  assert_clean
}

@test "url: a transfer cut half-way is refused, and nothing is left behind" {
  spec_url "$SERVER/truncate/busybox.tar.gz" "$BUSYBOX_SHA256"
  build_ct
  run_ct -125
  assert_regex "$stderr" "rootfs.url: could not download $SERVER/truncate/busybox.tar.gz"
  assert_equal "$(cache_entries)" ''
  assert_clean
}

@test "url: a script killed during the download leaves no partial file and no cache entry" {
  spec_url "$SERVER/slow/busybox.tar.gz" "$BUSYBOX_SHA256"
  build_ct
  start_ct
  # The transfer is under way (a partial download in a temporary dir of the cache)...
  wait_until 20 compgen -G "$UNSHARED_LAYER_CACHE/.tmp-*/download" >/dev/null ||
    fail "no download started: $(cat "$CT_DIR/stderr")"
  assert [ -s "$(compgen -G "$UNSHARED_LAYER_CACHE/.tmp-*/download")" ]
  # ...when the script is stopped.
  kill -TERM "$CT_PID"
  wait_ct
  assert_equal "$CT_STATUS" 143
  assert_equal "$(cache_entries)" ''
  refute_regex "$(pgrep -a curl || true)" "$SERVER"
  assert_clean
}

@test "url: two scripts unpacking the same layer at once both run, and share one cache entry" {
  local other=$CT_DIR/other.sh
  spec_url "$SERVER/busybox.tar.gz" "$BUSYBOX_SHA256"
  spec_sh 'test -x /bin/busybox'
  build_ct
  # The same spec under a second name.
  update_spec 's.name = args[0]' "$CT_NAME-2"
  node "$UNSHARED_BIN" build "$SPEC" -o "$other"
  "$other" </dev/null >"$CT_DIR/other.out" 2>&1 &
  local other_pid=$!
  run_ct
  local other_status=0
  wait "$other_pid" || other_status=$?
  assert_success
  assert_equal "$other_status" 0
  # Both looked into the cache before either had finished: both downloaded and unpacked, and
  # one of the two renames found the other's layer in place.
  assert_regex "$stderr" downloading
  assert_regex "$(<"$CT_DIR/other.out")" downloading
  assert_equal "$(cache_entries)" "$BUSYBOX_SHA256"
  assert_clean
}

@test "url: --dry-run prints the download and the overlay, and fetches and creates nothing" {
  spec_url "$SERVER/busybox.tar.gz" "$BUSYBOX_SHA256"
  build_ct
  run_ct --dry-run
  assert_success
  assert_line --regexp "^\+ curl .* --output $UNSHARED_LAYER_CACHE/\.tmp-XXXXXXXX/download $SERVER/busybox\.tar\.gz\$"
  assert_line "# the download's sha256 must be $BUSYBOX_SHA256"
  # The overlay, as a line of the fstab of the root's mount run (printed as a comment).
  assert_line --regexp "^\+ # overlay [^ ]+/root overlay lowerdir=$UNSHARED_LAYER_CACHE/$BUSYBOX_SHA256,upperdir="
  assert [ ! -e "$UNSHARED_LAYER_CACHE" ]
  assert [ ! -e "$UNSHARED_STATE_DIR" ]
  assert_clean
}

# --- Hostile tarballs -----------------------------------------------------------------------------

# hostile_tar NAME: makes $CT_DIR/NAME.tar, a tarball that must be refused, and sets it as the
# rootfs's only layer. $OUTSIDE is a directory next to the cache that no member may reach.
hostile_tar() {
  local tar=$CT_DIR/$1.tar work=$CT_DIR/work-$1
  OUTSIDE=$CT_DIR/outside
  mkdir -p -- "$work/ok" "$OUTSIDE"
  echo pwned >"$work/payload"
  case $1 in
    dotdot) tar -C "$work" -cf "$tar" -P --transform 's,^payload$,ok/../../outside/pwned,' ok payload ;;
    absolute) tar -C "$work" -cf "$tar" -P --transform "s,^payload\$,$OUTSIDE/pwned," ok payload ;;
    device) mknod "$work/ok/null" c 1 3 && tar -C "$work" -cf "$tar" ok ;;
    link-out)
      # An absolute link, then a file written through it.
      ln -s -- "$OUTSIDE" "$work/escape"
      tar -C "$work" -cf "$tar" ok escape
      tar -C "$work" -rf "$tar" --transform 's,^payload$,escape/pwned,' payload
      ;;
    relative-link)
      ln -s ../../../outside "$work/ok/up"
      tar -C "$work" -cf "$tar" ok
      ;;
    whiteout-dotdot) : >"$work/ok/.wh.." && tar -C "$work" -cf "$tar" ok ;;
    hardlink-out)
      # A hard link to a file of the host: the target is rewritten, the member names are not.
      ln -- "$work/payload" "$work/ok/link"
      tar -C "$work" -cf "$tar" -P --transform 's,^payload$,../outside/pwned,RS' payload ok
      ;;
  esac
  update_spec 's.rootfs = { layers: [{ tar: args[0] }] }' "$tar"
}

# assert_refused MESSAGE: the script exits 125 with MESSAGE, writes nothing outside, and leaves
# no cache entry and no temporary dir.
assert_refused() {
  build_ct
  run_ct -125
  assert_regex "$stderr" "$1"
  assert [ ! -e "$OUTSIDE/pwned" ]
  assert_equal "$(ls -A -- "$OUTSIDE")" ''
  assert_equal "$(cache_entries)" ''
  assert_clean
}

@test "hostile tarball: a '..' member is refused" {
  hostile_tar dotdot
  assert_refused "rootfs.layers\[0\]: the tarball's member \"?ok/../../outside/pwned\"? is absolute or has a '..' component"
}

@test "hostile tarball: an absolute member is refused" {
  hostile_tar absolute
  assert_refused "rootfs.layers\[0\]: the tarball's member \"?$OUTSIDE/pwned\"? is absolute"
}

@test "hostile tarball: a device node is refused" {
  hostile_tar device
  assert_refused "rootfs.layers\[0\]: the tarball holds a device node, ok/null;"
}

@test "hostile tarball: a file written through a symbolic link to the host is refused" {
  hostile_tar link-out
  assert_refused "rootfs.layers\[0\]: the tarball's member escape/pwned goes through or replaces the symbolic link escape"
}

@test "hostile tarball: a relative symbolic link out of the tree is refused" {
  hostile_tar relative-link
  assert_refused "rootfs.layers\[0\]: the symbolic link ok/up points to ../../../outside, out of the tree"
}

@test "hostile tarball: a hard link to a file out of the tree is refused" {
  hostile_tar hardlink-out
  assert_refused "rootfs.layers\\[0\\]: the hard link ok/link points to \"?../outside/pwned\"?, outside the tree"
}

@test "hostile tarball: a whiteout of '..' is refused" {
  hostile_tar whiteout-dotdot
  assert_refused "rootfs.layers\\[0\\]: the whiteout /ok/.wh.. names no file"
}

@test "hostile tarball: a tar rootfs (unpacked per run) gets the same checks" {
  hostile_tar link-out
  update_spec 's.rootfs = { tar: args[0] }' "$CT_DIR/link-out.tar"
  assert_refused "rootfs.tar: the tarball's member escape/pwned goes through"
  assert [ ! -e "$UNSHARED_STATE_DIR" ]
}

# --- OCI image layouts ----------------------------------------------------------------------------

# oci_blob FILE: copies FILE into the layout's blobs, by its sha256; prints "sha256:HEX SIZE".
oci_add_blob() {
  local hex
  hex=$(sha256sum <"$1")
  hex=${hex%% *}
  mkdir -p -- "$LAYOUT/blobs/sha256"
  cp -- "$1" "$LAYOUT/blobs/sha256/$hex"
  echo "sha256:$hex $(stat -c %s -- "$1")"
}

# make_oci_layout: $LAYOUT, an OCI image layout made by hand with tar and sha256sum: image
# 'v1' of two layers. Layer 1 is the busybox rootfs plus /etc/gone, /etc/kept and /opt/old/a;
# layer 2 deletes /etc/gone (.wh.gone), replaces /opt/old with an opaque directory holding b
# (.wh..wh..opq), and adds /etc/added. LAYER1_HEX, LAYER2_HEX: the layers' digests.
make_oci_layout() {
  LAYOUT=$CT_DIR/layout
  local l1=$CT_DIR/l1 l2=$CT_DIR/l2 d1 d2 config manifest
  mkdir -p -- "$LAYOUT"
  cp -a -- "$ROOTFS_TEMPLATE" "$l1"
  echo gone >"$l1/etc/gone"
  echo kept >"$l1/etc/kept"
  mkdir -p -- "$l1/opt/old"
  echo a >"$l1/opt/old/a"
  mkdir -p -- "$l2/etc" "$l2/opt/old"
  : >"$l2/etc/.wh.gone"
  : >"$l2/opt/old/.wh..wh..opq"
  echo b >"$l2/opt/old/b"
  echo added >"$l2/etc/added"
  tar -C "$l1" -czf "$CT_DIR/l1.tar.gz" .
  tar -C "$l2" -cf "$CT_DIR/l2.tar" .
  d1=$(oci_add_blob "$CT_DIR/l1.tar.gz")
  d2=$(oci_add_blob "$CT_DIR/l2.tar")
  LAYER1_HEX=${d1%% *}
  LAYER1_HEX=${LAYER1_HEX#sha256:}
  LAYER2_HEX=${d2%% *}
  LAYER2_HEX=${LAYER2_HEX#sha256:}
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}' >"$CT_DIR/config.json"
  config=$(oci_add_blob "$CT_DIR/config.json")
  printf '{\n  "schemaVersion": 2,\n  "mediaType": "application/vnd.oci.image.manifest.v1+json",\n  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "%s", "size": %s},\n  "layers": [\n    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "%s", "size": %s},\n    {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "%s", "size": %s}\n  ]\n}\n' \
    ${config} ${d1} ${d2} >"$CT_DIR/manifest.json"
  manifest=$(oci_add_blob "$CT_DIR/manifest.json")
  printf '{"imageLayoutVersion": "1.0.0"}' >"$LAYOUT/oci-layout"
  # Another image first, so that the ref really picks one.
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":1,"annotations":{"org.opencontainers.image.ref.name":"other"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}\n' \
    "$(printf '%064d' 0)" ${manifest} >"$LAYOUT/index.json"
  update_spec 's.rootfs = { oci: args[0], ref: "v1" }' "$LAYOUT"
}

@test "oci: a layout of two layers runs, and the whited-out files are absent" {
  make_oci_layout
  spec_sh 'for f in /etc/gone /etc/kept /etc/added /opt/old/a /opt/old/b; do if [ -e $f ]; then echo "$f: $(cat $f)"; else echo "$f: absent"; fi; done; ls -a /etc | grep -c wh || true'
  build_ct
  run_ct
  assert_success
  assert_output $'/etc/gone: absent\n/etc/kept: kept\n/etc/added: added\n/opt/old/a: absent\n/opt/old/b: b\n0'
  # The cache holds both layers; the top one has overlayfs's whiteouts, not OCI's files.
  assert_equal "$(cache_entries | sort)" "$(printf '%s\n' "$LAYER1_HEX" "$LAYER2_HEX" | sort)"
  assert_equal "$(stat -c '%F %t:%T' -- "$UNSHARED_LAYER_CACHE/$LAYER2_HEX/etc/gone")" 'character special file 0:0'
  assert_equal "$(getfattr --only-values -n trusted.overlay.opaque -- "$UNSHARED_LAYER_CACHE/$LAYER2_HEX/opt/old")" y
  assert [ ! -e "$UNSHARED_LAYER_CACHE/$LAYER2_HEX/etc/.wh.gone" ]
  assert [ ! -e "$UNSHARED_LAYER_CACHE/$LAYER2_HEX/opt/old/.wh..wh..opq" ]
  assert_clean
}

@test "oci: a corrupted layer blob is refused, and it leaves no cache entry" {
  make_oci_layout
  printf 'X' | dd of="$LAYOUT/blobs/sha256/$LAYER2_HEX" bs=1 seek=100 conv=notrunc status=none
  build_ct
  run_ct -125
  assert_regex "$stderr" "rootfs.oci: the layer blob $LAYOUT/blobs/sha256/$LAYER2_HEX has sha256 [0-9a-f]{64}, expected $LAYER2_HEX: refused"
  assert [ ! -e "$UNSHARED_LAYER_CACHE/$LAYER2_HEX" ]
  refute_regex "$(cache_entries)" '^\.tmp'
  assert_clean
}

@test "oci: a corrupted manifest is refused before any layer is read" {
  make_oci_layout
  local manifest
  manifest=$(grep -l "schemaVersion" "$LAYOUT"/blobs/sha256/*)
  sed -i 's/"schemaVersion": 2/"schemaVersion": 3/' "$manifest"
  build_ct
  run_ct -125
  assert_regex "$stderr" "rootfs.oci: the manifest of 'v1' has sha256 [0-9a-f]{64}, expected"
  assert_equal "$(cache_entries)" ''
  assert_clean
}

@test "oci: an unknown ref is refused with the names the layout has" {
  make_oci_layout
  update_spec 's.rootfs.ref = "v2"'
  build_ct
  run_ct -125
  assert_regex "$stderr" "rootfs.ref: no image named 'v2' in $LAYOUT/index.json \(names: other v1\)"
  assert_clean
}

# --- Explicit layers ------------------------------------------------------------------------------

@test "layers: an OCI layout, then a tarball with whiteouts on top, then a directory" {
  make_oci_layout
  # A layer tarball as `commit` writes one: OCI whiteouts for deletions.
  local top=$CT_DIR/top extra=$CT_DIR/extra
  mkdir -p -- "$top/etc" "$extra/srv"
  : >"$top/etc/.wh.kept"
  echo from-dir >"$extra/srv/file"
  tar -C "$top" -cf "$CT_DIR/top.tar" .
  update_spec 's.rootfs = { layers: [{ oci: args[0], ref: "v1" }, { tar: args[1] }, { dir: args[2] }] }' "$LAYOUT" "$CT_DIR/top.tar" "$extra"
  spec_sh 'for f in /etc/kept /etc/added /srv/file; do if [ -e $f ]; then cat $f; else echo "$f: absent"; fi; done'
  build_ct
  run_ct
  assert_success
  assert_output $'/etc/kept: absent\nadded\nfrom-dir'
  # The directory layer is used in place, the tarball is cached under its own digest.
  assert_equal "$(cache_entries | wc -l)" 3
  assert [ -d "$UNSHARED_LAYER_CACHE/$(sha256sum <"$CT_DIR/top.tar" | cut -d' ' -f1)" ]
  assert_clean
}

@test "layers: a detached container's root is an overlay of the cached layer in its own mount namespace; rm removes all but the cache" {
  spec_url "$SERVER/busybox.tar.gz" "$BUSYBOX_SHA256"
  spec_sh 'sleep 600'
  build_ct
  run_ct start
  assert_success
  local pid
  pid=$(<"$UNSHARED_STATE_DIR/$CT_NAME/pid")
  # The container's / is an overlay whose lower layer is the cache entry; the host has no such mount.
  run awk '$5 == "/" { print }' "/proc/$pid/mountinfo"
  assert_output --regexp " - overlay overlay .*lowerdir=$UNSHARED_LAYER_CACHE/$BUSYBOX_SHA256[,:]"
  run grep -F -- "$UNSHARED_LAYER_CACHE/$BUSYBOX_SHA256" /proc/self/mountinfo
  assert_failure
  run_ct rm --force
  assert_success
  assert_equal "$(cache_entries)" "$BUSYBOX_SHA256"
  assert_clean
}
