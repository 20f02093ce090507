#!/usr/bin/env bats
# Networking: bridge mode, published ports, NAT, address allocation and cleanup, with real
# network namespaces. Traffic goes only to loopback and to addresses inside namespaces these
# tests create; every bridge, veth, namespace and firewall rule made here is deleted again, even
# when a test fails. Bridges are named us-b<number>, subnets are in 10.213.0.0/16 and
# 10.214.0.0/16, nftables tables unshared-ubats-*.

load helpers

setup_file() {
  setup_rootfs_template
}

setup() {
  requires root ip
  command -v nft >/dev/null || skip "needs nft (nftables)"
  setup_container
  NET_ID=$((RANDOM % 250 + 1))
  BRIDGE=us-b$$$NET_ID
  BRIDGE=${BRIDGE:0:15}
  SUBNET_PREFIX=10.213.$NET_ID
  SUBNET=$SUBNET_PREFIX.0/24
  CT_PIDS=()
  CT_NAMES=()
  TEST_NETNS=
  IP_FORWARD_BEFORE=$(</proc/sys/net/ipv4/ip_forward)
  NFT_TABLES_BEFORE=$(nft list tables)
  IPTABLES_NFT_TABLES=
  update_spec 's.namespaces = ["pid", "mount", "uts", "ipc", "net"]; s.network = { mode: "bridge", bridge: args[0], subnet: args[1] }' "$BRIDGE" "$SUBNET"
  SNAPSHOT_BEFORE=$(net_snapshot)
  KNOWN_LINKS=" $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | tr '\n' ' ') "
}

teardown() {
  local pid name
  for pid in "${CT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${CT_PIDS[@]}"; do
    wait_until 15 proc_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  teardown_container
  # Whatever a failed test left: our namespaces, veths, bridge, tables and iptables chains.
  for name in "$CT_NAME" "${CT_NAMES[@]}"; do
    ip netns delete "unshared-$name" 2>/dev/null || true
    nft delete table ip "unshared-$name" 2>/dev/null || true
  done
  if [[ -n $TEST_NETNS ]]; then
    ip netns pids "$TEST_NETNS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns delete "$TEST_NETNS" 2>/dev/null || true
  fi
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | while read -r name; do
    if [[ $name == "$BRIDGE" || ( $name == us-* && $KNOWN_LINKS != *" $name "* ) ]]; then
      ip link delete "$name" 2>/dev/null || true
    fi
  done
  if [[ -n $IPTABLES_NFT_TABLES ]]; then remove_iptables_nft_tables; fi
  echo "$IP_FORWARD_BEFORE" >/proc/sys/net/ipv4/ip_forward
}

# iptables-nft leaves the (then empty) tables it made: remove those that were not there before.
remove_iptables_nft_tables() {
  local table
  for table in nat raw; do
    if [[ $NFT_TABLES_BEFORE != *"table ip $table"* ]]; then nft delete table ip "$table" 2>/dev/null || true; fi
  done
  IPTABLES_NFT_TABLES=
}

# What the tests must leave exactly as it was: links, network namespaces, the nftables ruleset,
# and the leases of the test's bridge.
net_snapshot() {
  echo "links:"
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
  echo "netns:"
  ip netns list | awk '{ print $1 }' | sort
  echo "nft:"
  nft list ruleset
  echo "leases:"
  if [[ -d $UNSHARED_STATE_DIR/networks ]]; then find "$UNSHARED_STATE_DIR/networks" -type f ! -name lock -printf '%f\n' -exec cat {} \;; fi
  echo "state:"
  if [[ -d $UNSHARED_STATE_DIR ]]; then find "$UNSHARED_STATE_DIR" -mindepth 1 ! -path '*/networks' ! -path '*/networks/lock'; fi
}

assert_net_clean() {
  local now
  now=$(net_snapshot)
  [[ $now == "$SNAPSHOT_BEFORE" ]] || fail "$(printf 'network state changed:\n%s' "$(diff <(echo "$SNAPSHOT_BEFORE") <(echo "$now"))")"
}

# net_ct NAME JS [ARG...]: a script for a container NAME on the test's bridge, from the test's
# spec changed by JS (as update_spec); the script is $CT_DIR/NAME.sh.
net_ct() {
  local name=$1 js=$2
  shift 2
  node -e '
    const fs = require("fs");
    const [file, out, name, js, ...args] = process.argv.slice(1);
    const s = JSON.parse(fs.readFileSync(file, "utf8"));
    s.name = name;
    new Function("s", "args", js)(s, args);
    fs.writeFileSync(out, JSON.stringify(s, null, 2) + "\n");
  ' -- "$SPEC" "$CT_DIR/$name.json" "$name" "$js" "$@"
  node "$UNSHARED_BIN" build "$CT_DIR/$name.json" -o "$CT_DIR/$name.sh" || fail "build of $name failed"
  CT_NAMES+=("$name")
}

# start_net_ct NAME: runs $CT_DIR/NAME.sh in the background (output in $CT_DIR/NAME.out/.err).
start_net_ct() {
  env --default-signal=INT,QUIT "$CT_DIR/$1.sh" </dev/null >"$CT_DIR/$1.out" 2>"$CT_DIR/$1.err" 3>&- &
  CT_PIDS+=($!)
}

# A container command: sh as PID 1 that ends on SIGTERM, after running SETUP.
waiting_sh() { printf '%s; : >/share/ready.$(hostname); trap "exit 0" TERM; while :; do sleep 1 & wait; done' "$1"; }

ready() { [[ -e $SHARE/ready.$1 ]]; }

wait_ready_ct() {
  wait_until "${2:-20}" ready "$1" || fail "container $1 not ready; stderr: $(cat "$CT_DIR/$1.err" 2>/dev/null)"
}

stop_all() {
  local pid
  for pid in "${CT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${CT_PIDS[@]}"; do
    wait_until 20 proc_gone "$pid" || fail "script $pid did not stop"
    wait "$pid" 2>/dev/null || true
  done
  CT_PIDS=()
}

# bats test_tags=ci:vm
@test "two containers on one bridge reach each other by address and by name" {
  mkdir -p "$SHARE/www"
  echo "hello from web" >"$SHARE/www/index.html"
  net_ct "$CT_NAME-web" 's.network.ip = args[0]; s.command = ["/bin/sh", "-c", args[1]]' \
    "$SUBNET_PREFIX.10" "$(waiting_sh 'httpd -p 80 -h /share/www')"
  net_ct "$CT_NAME-cli" 's.network.hosts = { web: args[0] }; s.command = ["/bin/sh", "-c", args[1]]' \
    "$SUBNET_PREFIX.10" "ping -c 1 -W $(secs 5) web && timeout $(secs 10) wget -q -O- http://web/ && cat /etc/hosts"
  start_net_ct "$CT_NAME-web"
  wait_ready_ct "$CT_NAME-web"
  run --separate-stderr timeout "$(secs 30)" "$CT_DIR/$CT_NAME-cli.sh" </dev/null
  assert_success
  assert_output --partial "1 packets received"
  assert_output --partial "hello from web"
  assert_output --partial "$SUBNET_PREFIX.10 web"
  assert_output --regexp "$SUBNET_PREFIX\.2 $CT_NAME-cli"
  stop_all
  assert_net_clean
}

@test "a published port answers from 127.0.0.1, the host's addresses and another container" {
  local port=$((20000 + RANDOM % 10000)) address
  mkdir -p "$SHARE/www"
  echo "published" >"$SHARE/www/index.html"
  net_ct "$CT_NAME-web" 's.network.ports = [{ host: Number(args[0]), container: 8080 }]; s.command = ["/bin/sh", "-c", args[1]]' \
    "$port" "$(waiting_sh 'httpd -p 8080 -h /share/www')"
  start_net_ct "$CT_NAME-web"
  wait_ready_ct "$CT_NAME-web"
  run curl -sS -m "$(secs 5)" "http://127.0.0.1:$port/"
  assert_output published
  run curl -sS -m "$(secs 5)" "http://$SUBNET_PREFIX.1:$port/"
  assert_output published
  for address in $(ip -4 -o addr show scope global | awk '{ sub(/\/.*/, "", $4); print $4 }'); do
    run curl -sS -m "$(secs 5)" "http://$address:$port/"
    assert_output published
  done
  # From another container on the bridge, through the gateway.
  net_ct "$CT_NAME-cli" 's.command = ["/bin/sh", "-c", args[0]]' "timeout $(secs 10) wget -q -O- http://$SUBNET_PREFIX.1:$port/"
  run --separate-stderr timeout "$(secs 30)" "$CT_DIR/$CT_NAME-cli.sh" </dev/null
  assert_success
  assert_output published
  stop_all
  assert_net_clean
}

@test "NAT: a test host in its own namespace sees the host's address, not the container's" {
  local host_end=us-th$NET_ID peer_end=us-tp$NET_ID
  TEST_NETNS=unshared-bats-th-$$-$NET_ID
  mkdir -p "$CT_DIR/th/cgi-bin"
  printf '%s\n' '#!/bin/sh' 'printf "Content-Type: text/plain\r\n\r\n%s\n" "$REMOTE_ADDR"' >"$CT_DIR/th/cgi-bin/ip"
  chmod +x "$CT_DIR/th/cgi-bin/ip"
  ip netns add "$TEST_NETNS"
  ip link add "$host_end" type veth peer name "$peer_end" netns "$TEST_NETNS"
  ip addr add "10.214.$NET_ID.1/30" dev "$host_end"
  ip link set "$host_end" up
  ip -n "$TEST_NETNS" addr add "10.214.$NET_ID.2/30" dev "$peer_end"
  ip -n "$TEST_NETNS" link set "$peer_end" up
  ip -n "$TEST_NETNS" link set lo up
  ip netns exec "$TEST_NETNS" /bin/busybox httpd -p "10.214.$NET_ID.2:8000" -h "$CT_DIR/th"
  net_ct "$CT_NAME-nat" 's.network.nat = true; s.command = ["/bin/sh", "-c", args[0]]' \
    "timeout $(secs 10) wget -q -O- http://10.214.$NET_ID.2:8000/cgi-bin/ip"
  run --separate-stderr timeout "$(secs 30)" "$CT_DIR/$CT_NAME-nat.sh" </dev/null
  assert_success
  assert_output "10.214.$NET_ID.1"
  # Without nat the same request leaves with the container's own address, which the test host
  # cannot answer: the request fails.
  net_ct "$CT_NAME-nonat" 's.command = ["/bin/sh", "-c", args[0]]' "timeout $(secs 3) wget -q -O- http://10.214.$NET_ID.2:8000/cgi-bin/ip"
  run --separate-stderr timeout "$(secs 30)" "$CT_DIR/$CT_NAME-nonat.sh" </dev/null
  assert_failure
  ip netns pids "$TEST_NETNS" | xargs -r kill
  ip link delete "$host_end"
  ip netns delete "$TEST_NETNS"
  TEST_NETNS=
  assert_net_clean
}

@test "20 containers started at once get 20 distinct addresses" {
  local i addresses
  for i in {1..20}; do
    net_ct "$CT_NAME-$i" 's.command = ["/bin/sh", "-c", args[0]]' \
      "$(waiting_sh 'ip -4 -o addr show dev eth0 | awk "{ print \$4 }" >/share/ip.$(hostname)')"
  done
  for i in {1..20}; do start_net_ct "$CT_NAME-$i"; done
  for i in {1..20}; do wait_ready_ct "$CT_NAME-$i" 60; done
  addresses=$(cat "$SHARE"/ip.* | sort)
  assert_equal "$(wc -l <<<"$addresses")" 20
  assert_equal "$(sort -u <<<"$addresses" | wc -l)" 20
  assert_equal "$(grep -c "^$SUBNET_PREFIX\.[0-9]*/24$" <<<"$addresses")" 20
  assert_equal "$(wc -l <"$UNSHARED_STATE_DIR/networks/$BRIDGE.leases")" 20
  stop_all
  assert_net_clean
}

@test "20 start/stop cycles with ports and NAT leave links, namespaces, ruleset and leases as before" {
  local i port=$((20000 + RANDOM % 10000))
  update_spec 's.network.ports = [{ host: Number(args[0]), container: 80 }, { host: Number(args[0]), container: 53, protocol: "udp" }]; s.network.nat = true; s.network.dns = ["10.213.0.1"]' "$port"
  spec_command /bin/sh -c 'ip -4 -o addr show dev eth0 | grep -q "inet 10.213"'
  build_ct
  for i in {1..20}; do
    run_ct
    assert_success
    assert_net_clean
  done
}

@test "cleanup after SIGINT, SIGTERM and a failing command" {
  local signal
  for signal in INT TERM; do
    net_ct "$CT_NAME-$signal" 's.network.ports = [{ host: 20999, container: 80 }]; s.command = ["/bin/sh", "-c", args[0]]' "$(waiting_sh 'true')"
    start_net_ct "$CT_NAME-$signal"
    wait_ready_ct "$CT_NAME-$signal"
    nft list table ip "unshared-$CT_NAME-$signal" >/dev/null
    kill "-$signal" "${CT_PIDS[-1]}"
    wait_until 20 proc_gone "${CT_PIDS[-1]}" || fail "the script did not stop on SIG$signal"
    CT_PIDS=()
    assert_net_clean
  done
  spec_command /bin/false
  build_ct
  run_ct 1
  assert_net_clean
}

@test "the iptables fallback publishes ports and removes exactly its own rules" {
  command -v iptables >/dev/null || skip "needs iptables"
  local port=$((20000 + RANDOM % 10000)) before
  before=$(iptables-save | grep '^-' || true)
  IPTABLES_NFT_TABLES=1
  mkdir -p "$SHARE/www"
  echo "via iptables" >"$SHARE/www/index.html"
  net_ct "$CT_NAME-ipt" 's.network.ports = [{ host: Number(args[0]), container: 80 }]; s.network.nat = true; s.command = ["/bin/sh", "-c", args[1]]' \
    "$port" "$(waiting_sh 'httpd -p 80 -h /share/www')"
  UNSHARED_FIREWALL=iptables start_net_ct "$CT_NAME-ipt"
  wait_ready_ct "$CT_NAME-ipt"
  run iptables -w -t nat -S
  assert_output --partial "unshared:$CT_NAME-ipt"
  run curl -sS -m "$(secs 5)" "http://127.0.0.1:$port/"
  assert_output "via iptables"
  stop_all
  run bash -c "iptables-save | grep -F -- 'unshared:$CT_NAME-ipt'"
  assert_failure
  assert_equal "$(iptables-save | grep '^-' || true)" "$before"
  remove_iptables_nft_tables
  assert_net_clean
}

@test "--dry-run shows every ip and firewall command and changes nothing" {
  update_spec 's.network.ports = [{ host: 8080, container: 80 }]; s.network.nat = true'
  build_ct
  run_ct --dry-run
  assert_success
  assert_output --partial "+ ip netns add unshared-$CT_NAME"
  assert_output --partial "+ ip link add us-"
  assert_output --partial "+ nft add rule ip unshared-$CT_NAME prerouting fib daddr type local tcp dport 8080 dnat to $SUBNET_PREFIX.2:80"
  assert_output --partial "+ nft delete table ip unshared-$CT_NAME"
  assert_output --partial "+ ip netns delete unshared-$CT_NAME"
  assert_net_clean
}
