#!/bin/bash
# `node` in the test VM (installed as /usr/local/bin/node). Under TCG a node start costs the
# guest 3-30 s, and every behaviour test runs node two or three times (update_spec, build_ct),
# so each call is run by the host's node instead, through a virtio-serial port that
# test/vm/node-proxy.mjs serves. Compiling a spec does not depend on the host's cgroups, so
# nothing the lane checks is lost.
#
# Arguments that name files outside the project (a spec, an output) are sent along, the host
# runs node on copies under a scratch directory, and files that node created or changed come
# back, with the scratch prefix removed from them and from stdout and stderr. The project
# itself is at the same path on the host. UNSHARED_VM_NODE=guest (or no port) runs the guest's
# own node, /usr/local/lib/unshared-vm/node.
real=/usr/local/lib/unshared-vm/node
port=/run/node-proxy/port
if [[ ${UNSHARED_VM_NODE-} == guest || ! -c $port ]]; then exec "$real" "$@"; fi
set -uo pipefail
project=${UNSHARED_VM_PROJECT:?}
req=$(mktemp -d /run/node-proxy/req.XXXXXX) || exit 1
trap 'rm -rf -- "$req"' EXIT
mkdir -p "$req/meta"

# Paths to send: regular files named by an argument, directories (with the files directly in
# them), and the parent directory of a path that does not exist yet (an output). Symlinks,
# system files and the project stay where they are.
paths=() i=-1
: >"$req/meta/map" # "INDEX\0ABSOLUTE_PATH\0" for each argument that points at a copy on the host
for arg; do
  i=$((i + 1))
  [[ -n $arg && $arg != *$'\n'* && ($arg == */* || -e $arg) ]] || continue
  [[ $arg == /* ]] && abs=$arg || abs=$PWD/$arg
  if [[ $abs == *//* || $abs == */./* || $abs == */../* || $abs == */. || $abs == */.. ]]; then
    abs=$(realpath -sm -- "$abs" 2>/dev/null) || continue
  fi
  [[ $abs == "$project" || $abs == "$project"/* || $abs == / ]] && continue
  case $abs in /proc/* | /sys/* | /dev/* | /run/* | /usr/* | /bin/* | /sbin/* | /lib*/* | /etc/*) continue ;; esac
  if [[ -L $abs ]]; then
    continue
  elif [[ -d $abs ]]; then
    # A directory node may write into: it, and the regular files directly in it.
    paths+=("${abs#/}")
    while IFS= read -r -d '' f; do paths+=("${f#/}"); done < <(find "$abs" -mindepth 1 -maxdepth 1 -type f -print0)
  elif [[ -f $abs ]]; then
    paths+=("${abs#/}")
  elif [[ ! -e $abs && -d ${abs%/*} && -n ${abs%/*} ]]; then
    parent=${abs%/*}
    paths+=("${parent#/}")
  else
    continue
  fi
  printf '%s\0%s\0' "$i" "$abs" >>"$req/meta/map"
done
printf '%s\0' "$@" >"$req/meta/argv"
printf '%s' "$PWD" >"$req/meta/cwd"
env -0 >"$req/meta/env"
if [[ -p /dev/stdin || -f /dev/stdin ]]; then cat >"$req/meta/stdin"; fi
if ((${#paths[@]})); then
  tar -C / --no-recursion -cf "$req/meta/files.tar" -- "${paths[@]}" 2>/dev/null
fi
tar -C "$req" -cf "$req/request.tar" meta

exec {lock}>/run/node-proxy/lock
flock "$lock"
# no_proxy REASON: the host's end is gone or stuck; this and every later call run the guest's node
# (slow, but the suite goes on instead of hanging until the VM's timeout).
no_proxy() {
  echo "node (vm): $1: running the guest's node from now on" >&2
  shift
  exec {fd}>&-
  rm -f /run/node-proxy/port
  exec "$real" "$@"
}
exec {fd}<>"$port" || exec "$real" "$@"
# A port nobody listens to on the host takes writes until its buffer is full, then blocks: the
# request is written under a time limit.
{ printf '%016d' "$(stat -c %s "$req/request.tar")" && cat "$req/request.tar"; } >"$req/framed"
timeout 120 cat "$req/framed" >&"$fd" || no_proxy "could not send to the host's node-proxy in 120 s" "$@"
IFS= read -r -N 16 -t 180 length <&"$fd" || no_proxy "no answer from the host's node-proxy in 180 s" "$@"
length=$((10#$length))
head -c "$length" <&"$fd" >"$req/response.tar"
exec {fd}>&-
flock -u "$lock"
mkdir -p "$req/res"
tar -C "$req/res" -xmf "$req/response.tar" --warning=no-timestamp || {
  echo "node (vm): a bad answer from the host's node-proxy" >&2
  exit 1
}
if [[ -f $req/res/files.tar ]]; then tar -C / -xpmf "$req/res/files.tar" --warning=no-timestamp; fi
cat "$req/res/stdout"
cat "$req/res/stderr" >&2
exit "$(<"$req/res/status")"
