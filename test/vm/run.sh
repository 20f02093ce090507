#!/usr/bin/env bash
# The cgroup v2 lane: boots Debian's kernel in qemu with a pure cgroup v2 hierarchy (memory cpu
# pids io enabled at the root), runs the bats suite in it, and reports each test here.
#
# Usage: test/vm/run.sh [BATS_OPTION...] [PATH...]
#   PATH: .bats files or directories inside the project; default: test/vm/smoke.bats (the lane's
#   own check) and test/bats. Arguments that are not existing paths go to bats as options,
#   e.g. test/vm/run.sh --filter 'memory' test/bats
# Needs root (it may apt-get install qemu-system-x86, debootstrap, cpio, busybox-static), a
# `make build` (dist/) and node_modules. The exit status is the suite's.
#
# Environment:
#   VM_TIMEOUT     seconds before the VM is killed (default 2700)
#   VM_MEMORY      guest RAM (default 3G)   VM_CPUS  guest CPUs (default: the host's, at most 4)
#   VM_JOBS        tests run at once (bats --jobs, default 1)
#   VM_NODE=guest  run node inside the VM (slow under TCG) instead of on the host (node-shim.sh)
#   VM_REBUILD=1   rebuild the base image even if cached
#   VM_VERBOSE=1   copy the guest's console (kernel, stderr) to stderr as it comes
#   VM_CPU_MODEL, VM_APPEND  qemu's -cpu under TCG (default max,la57=off), extra kernel arguments
# Everything lives in .cache/vm/: the base image (by hash of its inputs), .debs, node and the
# busybox rootfs as a cached archive, and the last run's logs in .cache/vm/last-run/
# (console.log: kernel and guest stderr; tap.log: the suite's TAP; qemu.log; node-proxy.log).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${VM_CACHE:-$root/.cache/vm}
timeout_s=${VM_TIMEOUT:-2700}
memory=${VM_MEMORY:-3G}
cpus=${VM_CPUS:-$(($(nproc) > 4 ? 4 : $(nproc)))}
node_mode=${VM_NODE:-host}
jobs=${VM_JOBS:-1}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "vm: VM_JOBS must be a positive number" >&2; exit 2; }
t0=$SECONDS

say() { printf 'vm: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# --- What to run ----------------------------------------------------------------------------

bats_args=() paths=()
for arg; do
  if [[ -e $arg ]]; then
    abs=$(realpath -- "$arg")
    [[ $abs == "$root" || $abs == "$root"/* ]] || die "$arg is outside the project ($root)"
    rel=${abs#"$root"}
    paths+=("${rel#/}")
  else
    bats_args+=("$arg")
  fi
done
if ((${#paths[@]} == 0)); then
  paths=(test/vm/smoke.bats)
  if compgen -G "$root/test/bats/*.bats" >/dev/null; then paths+=(test/bats); fi
fi

# --- Host tools -----------------------------------------------------------------------------

((EUID == 0)) || die "run as root (the image build uses debootstrap and chroot)"
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v cpio >/dev/null || missing+=(cpio)
[[ -x /bin/busybox ]] || missing+=(busybox-static)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ -f $root/dist/src/cli/bin.js ]] || die "no dist/: run 'make build' first"
[[ -x $root/node_modules/bats/bin/bats ]] || die "no node_modules/bats: run 'npm ci' first"
node=$(command -v node) || die "node is missing"
node=$(realpath -- "$node")

# --- Run directory, and nothing left running ------------------------------------------------

mkdir -p "$cache"
run=$(mktemp -d "$cache/run.XXXXXX")
# The host's side of node-shim.sh (socket, scratch copies, the project snapshot) lives at a short
# path of plain characters: paths node sees there must pass the compiler's own path checks
# (the systemd target refuses a component that starts with a dot, such as .cache).
host_dir=$(mktemp -d /tmp/unshared_vm_XXXXXX)
qemu_pid='' proxy_pid='' console_pid=''
# stop PID: TERM, then KILL after 5 s.
# shellcheck disable=SC2317 # called by the EXIT trap
stop() {
  [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in {1..50}; do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}
# forwarded_leftovers: the pids of host processes that name the node proxy's directory in their
# arguments or run in it (every forwarded node call does both: its cwd is in the snapshot or its
# scratch copy).
# shellcheck disable=SC2317 # called by the EXIT trap
forwarded_leftovers() {
  {
    pgrep -f -- "$host_dir" || true
    find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$host_dir" -o -lname "$host_dir/*" \) 2>/dev/null | cut -d/ -f3
  } | sort -un
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local status=$? q left
  trap - EXIT INT TERM HUP
  stop "$qemu_pid"
  # timeout(1) runs qemu; should timeout itself be gone, qemu's pid file still names it.
  if [[ -s $run/qemu.pid ]]; then
    q=$(<"$run/qemu.pid")
    if [[ $(cat "/proc/$q/comm" 2>/dev/null) == qemu-system-* ]]; then
      kill -KILL "$q" 2>/dev/null || true
      # Gone before the check below (its arguments name the proxy's socket).
      for _ in {1..50}; do
        [[ $(cat "/proc/$q/comm" 2>/dev/null) == qemu-system-* ]] || break
        sleep 0.1
      done
    fi
  fi
  stop "$proxy_pid"
  stop "$console_pid"
  wait 2>/dev/null || true
  # The proxy kills the node calls it forwarded when it ends; whatever still runs in, or names,
  # its directory on the host (the proxy was killed, or has a bug) is killed here and fails
  # the lane, as a leftover cgroup in the guest does.
  if [[ -n $proxy_pid ]]; then
    mapfile -t left < <(forwarded_leftovers)
    if ((${#left[@]})); then
      say "error: node calls forwarded to the host were still running after the lane: $(ps -o pid=,args= -p "${left[*]}" 2>/dev/null | tr -s ' \n' ' ')"
      kill -KILL "${left[@]}" 2>/dev/null || true
      ((status != 0)) || status=1
    fi
  fi
  rm -rf -- "$cache/last-run"
  mkdir -p "$cache/last-run"
  mv -- "$run"/*.log "$cache/last-run/" 2>/dev/null || true
  rm -rf --one-file-system -- "$run"
  rm -rf --one-file-system -- "$host_dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- The base image: kernel, Debian userland, modules (cached by the hash of its inputs) -----

t_image=$SECONDS
exec 9>"$cache/build.lock"
flock 9
base=$("$here/build-image.sh")
flock -u 9
exec 9>&-
release=$(<"$base/release")
t_image=$((SECONDS - t_image))

# --- Archives appended to it: node and the busybox rootfs (cached), the project (each run) ---

t_pack=$SECONDS
# cpio_from DIR: an archive of the paths (NUL-separated, relative to DIR) on stdin; parents
# must come before children. Owned by root, as in the guest.
cpio_from() { (cd "$1" && cpio --null -o -H newc -R 0:0 --quiet); }

# with_parents: the NUL-separated paths on stdin, and every parent directory, sorted (a
# directory before what it holds, as the kernel's unpacker needs).
with_parents() {
  local path dir
  local -A seen=()
  while IFS= read -r -d '' path; do
    seen[$path]=1
    dir=$path
    while [[ $dir == */* ]]; do
      dir=${dir%/*}
      [[ -z ${seen[$dir]-} ]] || break
      seen[$dir]=1
    done
  done
  printf '%s\0' "${!seen[@]}" | LC_ALL=C sort -z
}

# The host's node (the guest runs the same Debian release), for VM_NODE=guest and as the
# fallback of node-shim.sh, and the busybox rootfs of generated/build-container.sh and the tests
# at /var/lib/unshared/busybox.
extras_key=$(
  {
    echo "layout 2"
    stat -c '%n %s %Y' "$node" /bin/busybox
    cat "$root/scripts/make-busybox-rootfs.sh"
  } | sha256sum | cut -c1-16
)
extras=$cache/extras-$extras_key.cpio
if [[ ! -f $extras ]]; then
  stage=$run/extras
  mkdir -p "$stage/usr/local/lib/unshared-vm" "$stage/var/lib/unshared"
  cp -- "$node" "$stage/usr/local/lib/unshared-vm/node"
  "$root/scripts/make-busybox-rootfs.sh" "$stage/var/lib/unshared/busybox"
  {
    printf '%s\0' usr/local/lib/unshared-vm usr/local/lib/unshared-vm/node var/lib/unshared
    (cd "$stage" && find var/lib/unshared/busybox -print0 | LC_ALL=C sort -z)
  } | cpio_from "$stage" >"$extras.tmp"
  mv -- "$extras.tmp" "$extras"
  rm -rf -- "$stage"
  for old in "$cache"/extras-*.cpio; do [[ $old == "$extras" ]] || rm -f -- "$old"; done
fi

# The project at the same path as on the host: the working tree as git sees it (tracked, and
# untracked but not ignored), dist/ and node_modules/ (less the TypeScript compiler).
project_paths() {
  cd "$root"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
      if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi
    done
  else
    find . \( -path ./.git -o -path ./.cache -o -path ./node_modules -o -path ./dist \) -prune \
      -o ! -type d -printf '%P\0'
  fi
  find dist node_modules \( -path node_modules/@typescript -o -path node_modules/typescript -o -path node_modules/.cache \) \
    -prune -o -print0
}
if [[ -r /dev/kvm && -w /dev/kvm ]] && (exec 3<>/dev/kvm) 2>/dev/null; then
  accel=(-accel kvm -cpu host) accel_name=KVM time_scale=${VM_TIME_SCALE:-3}
else
  # No 5-level paging: one page-table level less for TCG to walk on every TLB miss.
  accel=(-accel "tcg,thread=multi" -cpu "${VM_CPU_MODEL:-max,la57=off}") accel_name=TCG
  # A behaviour test takes 10-25 times as long as on the host (more on a busy host): the
  # tests' time limits are scaled (test/bats/helpers.bash, secs), their assertions are not.
  time_scale=${VM_TIME_SCALE:-10}
fi
[[ $time_scale =~ ^[1-9][0-9]*$ ]] || die "VM_TIME_SCALE must be a positive number"
mkdir -p "$run/job/vm" "$run/job/usr/local/bin"
{
  printf 'PROJECT_DIR=%q\n' "$root"
  printf 'BATS_ARGS=('
  if ((jobs > 1)); then printf '%q ' --jobs "$jobs"; fi
  printf '%q ' "${bats_args[@]}" "${paths[@]}"
  printf ')\nJOB_ENV=('
  printf '%q ' "UNSHARED_TEST_TIME_SCALE=$time_scale"
  if [[ -n ${CI-} ]]; then printf '%q ' "CI=$CI"; fi
  printf ')\n'
} >"$run/job/vm/job.env"
install -m 755 "$here/init.sh" "$run/job/init"
install -m 755 "$here/node-shim.sh" "$run/job/usr/local/bin/node"
prefix=${root#/}
cpio_from "$run/job" < <(printf '%s\0' init vm/job.env usr/local/bin/node) >"$run/job.cpio"
project_paths | while IFS= read -r -d '' p; do printf '%s\0' "$prefix/$p"; done | with_parents | cpio_from / >"$run/project.cpio"
cat "$base/base.cpio" "$extras" "$run/job.cpio" "$run/project.cpio" >"$run/initrd"
if [[ $node_mode != guest ]]; then
  # The project as packed, for the host's node (node-proxy.mjs).
  mkdir -p "$host_dir/snapshot"
  (cd "$host_dir/snapshot" && cpio -id --quiet <"$run/project.cpio")
fi
rm -f -- "$run/job.cpio" "$run/project.cpio"
t_pack=$((SECONDS - t_pack))

# --- Boot -----------------------------------------------------------------------------------

# TCG runs slower than the hardware it pretends to be: a stable TSC clock (the HPET is a device
# that every clock read goes through) and no hardening that only costs time in a throwaway VM.
append="console=ttyS0,115200 rdinit=/init panic=-1 quiet loglevel=4"
append+=" cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
append+=" clocksource=tsc tsc=reliable mitigations=off init_on_alloc=0 audit=0 ${VM_APPEND-}"
node_dev=()
if [[ $node_mode != guest ]]; then
  sock=$host_dir/node.sock
  node_dev=(-device "virtio-serial-pci,id=vser"
    -chardev "socket,id=nodeproxy,path=$sock,server=on,wait=off"
    -device "virtserialport,bus=vser.0,chardev=nodeproxy,name=org.unshared.node")
fi
say "booting Linux $release ($accel_name, $cpus CPUs, $memory, node on the $node_mode), initrd $(du -h "$run/initrd" | cut -f1); running: ${paths[*]}"
: >"$run/tap.log"
: >"$run/console.log"
t_boot=$SECONDS
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -nodefaults -no-user-config -display none -no-reboot \
  -M pc "${accel[@]}" -smp "$cpus" -m "$memory" \
  -kernel "$base/vmlinuz" -initrd "$run/initrd" -append "$append" \
  -serial "file:$run/console.log" -serial "file:$run/tap.log" \
  "${node_dev[@]}" -pidfile "$run/qemu.pid" \
  </dev/null >"$run/qemu.log" 2>&1 &
qemu_pid=$!
if [[ $node_mode != guest ]]; then
  mkdir -p "$host_dir/proxy"
  "$node" "$here/node-proxy.mjs" "$sock" "$root" "$host_dir/proxy" "$host_dir/snapshot$root" </dev/null >"$run/node-proxy.log" 2>&1 &
  proxy_pid=$!
fi
if [[ ${VM_VERBOSE:-0} == 1 ]]; then
  tail -n +1 -f --pid="$qemu_pid" "$run/console.log" >&2 &
  console_pid=$!
fi

# --- The results, as the guest reports them -------------------------------------------------

passed=0 failed=0 skipped=0 in_failure=0
planned='' status='' cgroup='' kernel=$release boot_s='' suite_s='' guest_node='' leftover=''
while IFS= read -r line; do
  line=${line%$'\r'}
  case $line in
    '# vm-status '*) status=${line#'# vm-status '} ;;
    '# vm-kernel '*) kernel=${line#'# vm-kernel '} ;;
    '# vm-cgroup '*)
      read -r _ _ fstype controllers <<<"$line"
      case $fstype in cgroup2fs) cgroup="cgroup v2" ;; tmpfs) cgroup="cgroup v1" ;; *) cgroup="cgroup $fstype" ;; esac
      say "guest: $cgroup at /sys/fs/cgroup, root cgroup.subtree_control: ${controllers:-none}"
      ;;
    '# vm-boot-seconds '*) boot_s=${line#'# vm-boot-seconds '} ;;
    '# vm-suite-seconds '*) suite_s=${line#'# vm-suite-seconds '} ;;
    '# vm-node '*) guest_node=${line#'# vm-node '} ;;
    '# vm-cpus '*) ;;
    '# vm-leftover-cgroups '*) leftover=${line#'# vm-leftover-cgroups '} ;;
    [0-9]*..[0-9]*) planned=${line#*..} ;;
    'ok '*' # skip'*)
      skipped=$((skipped + 1)) in_failure=0
      printf '  skip  %s\n' "${line#ok * }"
      ;;
    'ok '*)
      passed=$((passed + 1)) in_failure=0
      printf '  ok    %s\n' "${line#ok * }"
      ;;
    'not ok '*)
      failed=$((failed + 1)) in_failure=1
      printf '  FAIL  %s\n' "${line#not ok * }"
      ;;
    'Bail out!'*) printf '  %s\n' "$line" ;;
    '#'*) if ((in_failure)); then printf '        %s\n' "${line#'# '}"; else printf '  %s\n' "$line"; fi ;;
    '') ;;
    *) printf '  %s\n' "$line" ;;
  esac
done < <(tail -n +1 -f --pid="$qemu_pid" "$run/tap.log")
qemu_status=0
wait "$qemu_pid" || qemu_status=$?
qemu_pid=''
t_vm=$((SECONDS - t_boot))

# --- Verdict --------------------------------------------------------------------------------

problem=''
if [[ -z $status ]]; then
  if ((qemu_status == 124 || (qemu_status == 137 && t_vm >= timeout_s))); then
    problem="the VM did not finish within ${timeout_s} s (VM_TIMEOUT)"
  elif ((qemu_status > 128)); then
    problem="qemu was killed by signal $((qemu_status - 128)) after ${t_vm} s, before the suite reported its status"
  else
    problem="the VM ended (qemu status $qemu_status) before the suite reported its status"
  fi
elif [[ -n $planned ]] && ((passed + failed + skipped != planned)); then
  problem="bats planned $planned tests, $((passed + failed + skipped)) reported"
fi
if [[ -n $problem ]]; then
  say "error: $problem; the end of the console (all of it in .cache/vm/last-run/console.log):"
  tail -n 40 "$run/console.log" | sed 's/^/  | /' >&2
  if [[ -s $run/qemu.log ]]; then sed 's/^/  qemu: /' "$run/qemu.log" >&2; fi
elif [[ $status != 0 ]] && ((failed == 0)); then
  say "the suite failed without a failing test (bats exit status $status); the end of the console:"
  tail -n 20 "$run/console.log" | sed 's/^/  | /' >&2
fi
# What the suite left in the guest's cgroup tree fails the lane: on the host the same leftovers
# are what the cleanup hook looks for.
if [[ -n $leftover ]]; then
  say "error: cgroups left behind after the suite: $leftover"
  problem=${problem:-cgroups left behind}
fi
if [[ -n $proxy_pid ]] && ! kill -0 "$proxy_pid" 2>/dev/null && grep -q 'running the guest' "$run/console.log"; then
  say "warning: the host's node-proxy ended during the run; node ran in the guest after that (node-proxy.log: $(tr '\n' ' ' <"$run/node-proxy.log"))"
fi
if [[ $node_mode != guest && $guest_node == guest ]]; then
  say "warning: the guest found no port to the host's node and ran node itself"
fi

say "timings: image ${t_image} s, pack ${t_pack} s, VM ${t_vm} s (boot to suite ${boot_s:-?} s, suite ${suite_s:-?} s), total $((SECONDS - t0)) s"
summary="$passed passed, $failed failed"
((skipped == 0)) || summary+=", $skipped skipped"
echo "vm (${cgroup:-cgroup unknown}, Linux $kernel): $summary"
[[ -z $problem ]] || exit 1
[[ $status =~ ^[0-9]+$ ]] || exit 1
if ((status == 0 && failed > 0)); then exit 1; fi
exit "$status"
