#!/usr/bin/env bash
# Builds a small root filesystem from Debian's busybox-static: /bin/busybox, a link for every
# applet, and the directories and files a container expects. Used by the demo and the tests.
#
# Usage: scripts/make-busybox-rootfs.sh DIR    (DIR must not exist, or be empty)
set -euo pipefail

dir=${1:?usage: $0 DIR}
busybox=${BUSYBOX:-/bin/busybox}
if [[ ! -x $busybox ]] || ! "$busybox" --list >/dev/null 2>&1; then
  echo "$0: $busybox is missing: apt-get install busybox-static" >&2
  exit 1
fi

mkdir -p -- "$dir"
if [[ -n $(ls -A -- "$dir") ]]; then
  echo "$0: $dir is not empty" >&2
  exit 1
fi
mkdir -p -- "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,var/tmp}
chmod 1777 "$dir/tmp" "$dir/var/tmp"
chmod 700 "$dir/root"
cp -- "$busybox" "$dir/bin/busybox"
while read -r applet; do
  [[ -e $dir/bin/$applet ]] || ln -s busybox "$dir/bin/$applet"
done < <("$busybox" --list)
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$dir/etc/passwd"
printf '%s\n' 'root:x:0:' 'tty:x:5:' 'nogroup:x:65534:' >"$dir/etc/group"
printf '%s\n' '127.0.0.1 localhost' '::1 localhost' >"$dir/etc/hosts"
