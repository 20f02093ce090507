#!/usr/bin/env bats
# The VM lane's node proxy (node-proxy.mjs), on this host, without a VM: a small stand-in for
# qemu's end of the virtio-serial port (a unix socket server that sends one framed request, as
# node-shim.sh writes them) checks that a forwarded call answers, and that a call that never
# ends (a server) is killed with everything it started when the guest goes away or the proxy
# is stopped: nothing forwarded may outlive the lane on the host. `make test-vm` and
# `make test-vm-ci` run this file on the host before they boot the VM.

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
load "$ROOT/node_modules/bats-support/load"
load "$ROOT/node_modules/bats-assert/load"
bats_require_minimum_version 1.5.0

setup() {
  command -v node >/dev/null || skip "needs node"
  # A short directory: a unix socket's path has at most 107 bytes.
  DIR=$(mktemp -d /tmp/unshared_proxytest_XXXXXX)
  mkdir -p "$DIR/project" "$DIR/snapshot" "$DIR/scratch"
  # A word no other process on this host has in its arguments.
  MARK=unshared-proxy-test-$$-$RANDOM
  GUEST_PID='' PROXY_PID=''
  # The guest's end: listens on SOCK as qemu does, sends the framed request REQUEST once the
  # proxy connects, and writes what comes back to RESPONSE; it holds the connection until it is
  # killed (a VM that is killed closes its end the same way).
  cat >"$DIR/guest.cjs" <<'EOF'
'use strict';
const net = require('node:net');
const fs = require('node:fs');
const [sock, request, response] = process.argv.slice(2);
const body = fs.readFileSync(request);
net.createServer((conn) => {
  conn.write(String(body.length).padStart(16, '0'));
  conn.write(body);
  conn.on('data', (d) => fs.appendFileSync(response, d));
}).listen(sock);
EOF
}

teardown() {
  local pid
  for pid in $GUEST_PID $PROXY_PID; do kill -KILL "$pid" 2>/dev/null || true; done
  # Whatever a failed test left of the forwarded call.
  pkill -KILL -f -- "$MARK" 2>/dev/null || true
  rm -rf -- "$DIR"
}

# request ARG...: the request node-shim.sh would send for `node ARG...` run in / (no files).
request() {
  mkdir -p "$DIR/req/meta"
  printf '%s\0' "$@" >"$DIR/req/meta/argv"
  : >"$DIR/req/meta/map"
  printf / >"$DIR/req/meta/cwd"
  printf 'LANG=C\0' >"$DIR/req/meta/env"
  tar -C "$DIR/req" -cf "$DIR/request.tar" meta
}

# start: the proxy, then the guest's end. The proxy's first attempts find no socket yet (as when
# qemu is slow to make it) and are retried.
start() {
  node "$BATS_TEST_DIRNAME/node-proxy.mjs" "$DIR/sock" "$DIR/project" "$DIR/scratch" "$DIR/snapshot" \
    </dev/null >"$DIR/proxy.log" 2>&1 3>&- &
  PROXY_PID=$!
  node "$DIR/guest.cjs" "$DIR/sock" "$DIR/request.tar" "$DIR/response" 3>&- &
  GUEST_PID=$!
}

# wait_for SECONDS COMMAND...: COMMAND until it succeeds, at most SECONDS.
wait_for() {
  local limit=$(($1 * 10))
  shift
  for ((i = 0; i < limit; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# answered: the response is complete: 16 digits of length, then that many bytes.
answered() { (($(stat -c %s "$DIR/response") == 16 + 10#$(head -c 16 "$DIR/response"))); }
marked() { pgrep -f -- "$MARK" | wc -l; }
marked_is() { [[ $(marked) == "$1" ]]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# A forwarded call that never ends, and a process it starts in the background (its own child,
# in its process group): both name MARK in their arguments.
forever() {
  request -e "require('node:child_process').spawn('/bin/sh', ['-c', 'sleep 1000; : $MARK'], { stdio: 'ignore' }); setInterval(() => {}, 1000)" "$MARK"
}

@test "node-proxy: a forwarded call answers with its status and output" {
  request -e 'console.log(6 * 7); process.exitCode = 3'
  start
  wait_for 30 test -s "$DIR/response" || fail "no answer: $(cat "$DIR/proxy.log")"
  wait_for 10 answered || fail "a partial answer: $(stat -c %s "$DIR/response") bytes"
  mkdir "$DIR/res"
  tail -c +17 "$DIR/response" | tar -C "$DIR/res" -xf -
  assert_equal "$(cat "$DIR/res/status")" 3
  assert_equal "$(cat "$DIR/res/stdout")" 42
}

@test "node-proxy: the guest going away kills a forwarded call that never ends, and what it started" {
  forever
  start
  # The call and its background child run on this host.
  wait_for 30 marked_is 2 || fail "the forwarded call did not start ($(marked) running): $(cat "$DIR/proxy.log")"
  # The VM is killed: its end of the port closes.
  kill -KILL "$GUEST_PID"
  wait_for 10 gone "$PROXY_PID" || fail "the proxy did not end when the guest went away"
  wait "$PROXY_PID" || fail "the proxy exited with status $?"
  wait_for 5 marked_is 0 || fail "still running: $(pgrep -af -- "$MARK")"
  assert_regex "$(cat "$DIR/proxy.log")" 'the guest closed the connection: killing 1 forwarded call'
}

@test "node-proxy: TERM to the proxy kills a forwarded call that never ends, and what it started" {
  forever
  start
  wait_for 30 marked_is 2 || fail "the forwarded call did not start ($(marked) running): $(cat "$DIR/proxy.log")"
  kill -TERM "$PROXY_PID"
  local status=0
  wait "$PROXY_PID" || status=$?
  assert_equal "$status" 143
  wait_for 5 marked_is 0 || fail "still running: $(pgrep -af -- "$MARK")"
  assert_regex "$(cat "$DIR/proxy.log")" 'SIGTERM: killing 1 forwarded call'
}
