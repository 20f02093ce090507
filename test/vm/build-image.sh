#!/usr/bin/env bash
# Builds the base of the test VM from Debian packages, once per set of inputs:
#   - the kernel: Debian's linux-image-amd64 (its vmlinuz, and the few modules the suite loads)
#   - a debootstrap'd minbase userland of the host's release, plus the packages below,
#     trimmed of docs, locales and apt's caches, as an uncompressed newc cpio archive.
# The project (dist/, node_modules/, tests, generated scripts), node and the test rootfs are not
# part of it: run.sh appends them as further cpio archives on every run (the kernel unpacks
# concatenated archives in order), so changing them never rebuilds this.
#
# Usage: test/vm/build-image.sh      prints the directory holding vmlinuz, base.cpio, release
# The directory is .cache/vm/base-HASH, HASH covering this file and the kernel package's version;
# VM_REBUILD=1 builds again anyway. Downloaded .debs are kept in .cache/vm/debs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${VM_CACHE:-$root/.cache/vm}

# The guest's packages, on top of minbase (which has bash, coreutils, util-linux, mount, tar,
# grep, sed, findutils, gzip): what a generated script and the suite run.
# The rest is what test/bats uses when present (the Makefile's DEBIAN_PACKAGES), and GNU
# parallel for bats --jobs.
GUEST_PACKAGES=(iproute2 procps kmod busybox-static xz-utils zstd bzip2 libstdc++6
  nftables iptables curl runc systemd gcc libc6-dev attr jq parallel bash-builtins strace)
# Kernel modules copied in (with their dependencies); init.sh loads them. virtio_console is
# the port that node-shim.sh talks to the host's node through.
GUEST_MODULES=(overlay veth bridge brd loop virtio_pci virtio_console dummy tun)
# Whole directories of modules, which the kernel loads on demand (nft and iptables rules).
GUEST_MODULE_DIRS=(kernel/net/netfilter kernel/net/ipv4/netfilter kernel/net/ipv6/netfilter kernel/net/bridge)

say() { printf 'vm-image: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# The host's release and the mirror apt already uses for it: the guest matches the host, so the
# host's node binary runs in it.
# shellcheck source=/dev/null
codename=${VM_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
[[ -n $codename ]] || die "cannot tell the host's Debian release (set VM_SUITE)"
# shellcheck disable=SC2016 # $(REPO_URI) and the like are apt's syntax, not the shell's
indextargets() { apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' 2>/dev/null; }
mirror=${VM_MIRROR:-$(indextargets |
  awk -v s="$codename" '$2 == s && $3 == "main" { print $1; exit }')}
if [[ -z $mirror ]]; then
  apt-get update -qq >&2 || true
  mirror=$(indextargets |
    awk -v s="$codename" '$2 == s && $3 == "main" { print $1; exit }')
fi
[[ -n $mirror ]] || die "no apt source for $codename main (set VM_MIRROR)"

# linux-image-amd64 depends on the current ABI's package, e.g. linux-image-6.1.0-57-amd64.
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
kpkg=$(kernel_package)
if [[ -z $kpkg ]]; then
  apt-get update -qq >&2 || die "apt-get update failed"
  kpkg=$(kernel_package)
fi
[[ -n $kpkg ]] || die "apt knows no linux-image-amd64"
kver=$(apt-cache policy "$kpkg" | awk '/Candidate:/ { print $2 }')
release=${kpkg#linux-image-}

key=$(
  {
    cat "${BASH_SOURCE[0]}"
    printf '%s\n' "$codename" "$kpkg=$kver" "${GUEST_PACKAGES[@]}" "${GUEST_MODULES[@]}" "${GUEST_MODULE_DIRS[@]}"
  } | sha256sum | cut -c1-16
)
out=$cache/base-$key
if [[ -f $out/done && ${VM_REBUILD:-0} != 1 ]]; then
  say "cached: $out"
  printf '%s\n' "$out"
  exit 0
fi

for tool in debootstrap cpio chroot dpkg-deb; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install debootstrap cpio)"
done

mkdir -p "$cache/debs"
work=$(mktemp -d "$cache/build.XXXXXX")
cleanup() {
  # debootstrap may leave /proc and /sys mounted in the target when it fails.
  local m
  for m in proc sys dev/pts dev; do umount -l "$work/root/$m" 2>/dev/null || true; done
  umount -l "$work/root" 2>/dev/null || true
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT

started=$SECONDS
# On a tmpfs, dpkg's many fsyncs cost nothing: debootstrap takes half the time.
mkdir -p "$work/root"
mount -t tmpfs -o mode=755,size=4g tmpfs "$work/root" || say "warning: no tmpfs for the build; it will be slower"
say "building the guest ($codename from $mirror, kernel $kpkg $kver) in $work"
include=$(IFS=,; echo "${GUEST_PACKAGES[*]}")
if ! debootstrap --variant=minbase --include="$include" --cache-dir="$cache/debs" \
  "$codename" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  [[ ! -f $work/root/debootstrap/debootstrap.log ]] || tail -n 30 "$work/root/debootstrap/debootstrap.log" >&2
  die "debootstrap failed"
fi
say "debootstrap: $((SECONDS - started)) s"
rg=$work/root

# The kernel, from the package apt resolves linux-image-amd64 to.
(cd "$cache/debs" && apt-get download -q "$kpkg=$kver" >/dev/null 2>"$work/download.log") || {
  cat "$work/download.log" >&2
  die "could not download $kpkg"
}
deb=$(find "$cache/debs" -maxdepth 1 -name "${kpkg}_*_amd64.deb" | sort -V | tail -n 1)
mkdir -p "$rg/tmp/kernel"
dpkg-deb -x "$deb" "$rg/tmp/kernel"
[[ -d $rg/tmp/kernel/lib/modules/$release ]] || die "$deb has no modules for $release"
# Only the modules the suite loads, and what they depend on: depmod and modprobe from the
# guest's kmod resolve that, in the guest's root.
chroot "$rg" depmod -b /tmp/kernel "$release"
mapfile -t wanted < <(
  printf '%s\n' "${GUEST_MODULES[@]}"
  for d in "${GUEST_MODULE_DIRS[@]}"; do
    find "$rg/tmp/kernel/lib/modules/$release/$d" -name '*.ko*' -printf '%f\n' | sed 's/\.ko.*//'
  done
)
mapfile -t needed < <(chroot "$rg" modprobe -d /tmp/kernel -S "$release" --show-depends -a "${wanted[@]}" |
  awk '$1 == "insmod" { print $2 }' | sort -u)
((${#needed[@]})) || die "modprobe resolved no module files for: ${GUEST_MODULES[*]}"
mkdir -p "$rg/lib/modules/$release"
cp -- "$rg/tmp/kernel/lib/modules/$release"/modules.{order,builtin,builtin.modinfo} "$rg/lib/modules/$release/"
for ko in "${needed[@]}"; do
  rel=${ko#/tmp/kernel/lib/modules/"$release"/}
  mkdir -p "$rg/lib/modules/$release/$(dirname "$rel")"
  cp -- "$rg$ko" "$rg/lib/modules/$release/$rel"
done
chroot "$rg" depmod "$release"
cp -- "$rg/tmp/kernel/boot/vmlinuz-$release" "$work/vmlinuz"
rm -rf -- "$rg/tmp/kernel"
say "kernel $release with ${#needed[@]} modules"

# Trim what a test VM never reads.
rm -rf -- "$rg"/usr/share/{doc,man,info,locale,lintian,linda,bash-completion} \
  "$rg"/var/cache/apt/* "$rg"/var/lib/apt/lists/* "$rg"/var/log/* "$rg/debootstrap"
mkdir -p "$rg"/{proc,sys,dev,run,tmp,root,vm,sys/fs/cgroup}
[[ -e $rg/dev/console ]] || mknod -m 600 "$rg/dev/console" c 5 1
[[ -e $rg/dev/null ]] || mknod -m 666 "$rg/dev/null" c 1 3
echo vm >"$rg/etc/hostname"
printf '%s\n' '127.0.0.1 localhost vm' '::1 localhost' >"$rg/etc/hosts"

(cd "$rg" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$work/base.cpio"
printf '%s\n' "$release" >"$work/release"
printf '%s %s\n' "$kpkg" "$kver" >"$work/kernel-package"
say "base image: $(du -h "$work/base.cpio" | cut -f1), built in $((SECONDS - started)) s"

rm -rf -- "$out"
mkdir -p "$out"
mv -- "$work/vmlinuz" "$work/base.cpio" "$work/release" "$work/kernel-package" "$out/"
touch "$out/done"
# Older bases are of no further use.
for old in "$cache"/base-*; do
  [[ $old == "$out" ]] || rm -rf --one-file-system -- "$old"
done
printf '%s\n' "$out"
