#!/usr/bin/env bats
# The day-2 verbs on real containers: start (detached), exec, stop, kill, status, ps, logs,
# stats, rm; rm after the script was SIGKILLed at each step; many containers at once.
#
# The SIGKILL tests use the script's UNSHARED_DEBUG_PAUSE hook: at the named step the script
# stops itself with SIGSTOP; the test waits until the kernel shows it stopped (state T in
# /proc/PID/stat), checks that the step's effects are there, and SIGKILLs it.

load helpers

setup_file() { setup_rootfs_template; }

setup() {
  setup_container
  # A cgroup parent of these tests' own, under a name that says whose it is.
  CG_PARENT=unshared-lifecycle-$$-$RANDOM
  CLEANUP_CGROUP_PARENTS=("$CG_PARENT")
  update_spec 's.cgroupParent = args[0]' "$CG_PARENT"
  # A container that prints to stdout and stderr, then idles: sh ignores SIGTERM as PID 1.
  spec_sh 'echo "hello from $(hostname)"; echo "to stderr" >&2; while :; do sleep 1; done'
}

teardown() { teardown_container; }

# script_stopped PID: the kernel shows PID stopped (SIGSTOP).
script_stopped() {
  local stat
  read -r stat <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat%% *} == T ]]
}

# ct_procs: the host pids in the container's pids cgroup.
ct_procs() { cat -- "$(ct_cgroup pids)/cgroup.procs" 2>/dev/null || true; }

# json_get JSON PATH: a value of a JSON document, e.g. json_get "$output" memory.currentBytes.
json_get() {
  node -e 'let v = JSON.parse(process.argv[1]); for (const k of process.argv[2].split(".")) v = v[k]; console.log(v);' "$1" "$2"
}

@test "lifecycle: start detaches; exec sees the same hostname, PID 1, namespaces and cgroups" {
  update_spec 's.env = { GREETING: "hi there" }; s.workdir = "/root"'
  build_ct
  assert_clean
  export LEAKED_FROM_HOST=1
  run_ct start
  assert_success
  assert_stderr --partial "started container $CT_NAME"
  PID1=$(ct_pid1)
  # No shell process of ours stays on the host: only unshare, the container's parent, names the script.
  local pid comm
  for pid in $(grep -lF -- "$SCRIPT" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    assert_equal "$comm" unshare
  done

  run_ct status
  assert_success
  assert_line --regexp "^status +running$"
  assert_line --regexp "^pid +$PID1$"

  run_ct exec -- hostname
  assert_success
  assert_output "$CT_NAME"
  refute_output "$(hostname)"
  # PID 1 seen by exec is the container's main process.
  run_ct exec -- cat /proc/1/cmdline
  assert_success
  assert_equal "$output" "$(tr -d '\0' <"/proc/$PID1/cmdline")"
  # The same namespaces as the main process (namespace ids are the same from any namespace).
  local ns
  for ns in pid mnt uts ipc; do
    run_ct exec -- readlink /proc/self/ns/$ns
    assert_success
    assert_equal "$output" "$(readlink "/proc/$PID1/ns/$ns")"
  done
  # The same cgroups: without a cgroup namespace, /proc/self/cgroup shows host paths.
  run_ct exec -- cat /proc/self/cgroup
  assert_success
  assert_equal "$output" "$(cat "/proc/$PID1/cgroup")"
  assert_output --partial ":/$CG_PARENT/$CT_NAME"
  # The spec's env, -e on top, nothing from the host; the spec's workdir, or -w.
  run_ct exec -e EXTRA=x -e GREETING=over -- env
  assert_success
  assert_line "GREETING=over"
  assert_line "EXTRA=x"
  refute_output --partial LEAKED_FROM_HOST
  run_ct exec -- pwd
  assert_output /root
  run_ct exec -w /tmp -- pwd
  assert_output /tmp
  # The exit status propagates; a missing command is 127.
  run_ct -42 exec -- sh -c 'exit 42'
  run_ct -127 exec -- /no/such/command
  # ps lists the processes inside, PID 1 first among them.
  run_ct ps
  assert_success
  assert_line --regexp "^$PID1 +1 +/bin/sh -c "

  run_ct rm
  assert_failure 125
  assert_stderr --partial "is running"
  run_ct rm --force
  assert_success
  assert proc_gone "$PID1"
  assert_clean
  run_ct status
  assert_failure 3
  assert_line --regexp "^status +absent$"
}

@test "lifecycle: a terminal works interactively through exec" {
  command -v script >/dev/null || skip "needs script(1) from bsdutils"
  build_ct
  run_ct start
  assert_success
  # script(1) gives exec a pseudo-terminal; the shell inside reads from it and sees a tty.
  # (tty(1) cannot name it: the container has its own devpts, but stdin is a terminal.)
  run timeout "$(secs 20)" script -qec "$SCRIPT exec -- sh -c 'if [ -t 0 ] && [ -t 1 ]; then echo on a terminal; fi; read -r line; echo got \$line'" /dev/null <<<"typed"
  assert_success
  assert_output --partial "on a terminal"
  assert_output --partial "got typed"
  run_ct rm --force
  assert_success
  assert_clean
}

@test "lifecycle: stop ends an init that ignores SIGTERM after --time, and rm leaves nothing" {
  spec_sh 'trap "" TERM; echo ready; while :; do sleep 1; done'
  build_ct
  run_ct start
  assert_success
  PID1=$(ct_pid1)
  local before after
  before=$(now_ms)
  run_ct stop --time 2
  after=$(now_ms)
  assert_success
  # It waited for SIGTERM to work (it did not), then killed: 2 s, not much more.
  (( after - before >= 2000 )) || fail "stop returned after $((after - before)) ms, before the timeout"
  (( after - before < 6000 )) || fail "stop took $((after - before)) ms"
  assert proc_gone "$PID1"
  assert_equal "$(ct_procs)" ""
  run_ct status
  assert_failure 3
  assert_line --regexp "^status +stopped$"
  # A stopped container keeps its name until rm.
  run_ct start
  assert_failure 125
  assert_stderr --partial "already exists"
  run_ct rm
  assert_success
  assert_clean
  run_ct rm
  assert_success
}

@test "lifecycle: stop returns at once when the main process handles SIGTERM; kill sends a signal" {
  spec_sh 'trap "echo got HUP" HUP; trap "exit 0" TERM; echo ready; while :; do sleep 1; done'
  build_ct
  run_ct start
  assert_success
  wait_until 10 grep -q ready "$UNSHARED_STATE_DIR/$CT_NAME/log"
  run_ct kill HUP
  assert_success
  wait_until 10 grep -q "got HUP" "$UNSHARED_STATE_DIR/$CT_NAME/log"
  local before after
  before=$(now_ms)
  run_ct stop --time 20
  after=$(now_ms)
  assert_success
  (( after - before < 5000 )) || fail "stop took $((after - before)) ms for a container that exits on SIGTERM"
  run_ct rm
  assert_success
  assert_clean
}

# killed_at STEP VERB: starts the script with UNSHARED_DEBUG_PAUSE=STEP, waits until it has
# stopped itself at STEP, SIGKILLs it, then checks that rm removes everything.
killed_at() {
  local step=$1 verb=$2 procs pid
  build_ct
  assert_clean
  UNSHARED_DEBUG_PAUSE=$step start_ct "$verb"
  wait_until 15 script_stopped "$CT_PID" || fail "the script did not pause at $step: $(cat "$CT_DIR/stderr")"
  assert [ -d "$(ct_cgroup pids)" ]
  case $step in
    after-cgroup) assert [ ! -e "$UNSHARED_STATE_DIR/$CT_NAME" ] ;;
    after-mounts)
      PID1=$(ct_pid1)
      run awk '{ print $5 }' "/proc/$PID1/mountinfo"
      assert_line /proc
      assert [ ! -e "$UNSHARED_STATE_DIR/$CT_NAME/pid" ]
      ;;
    after-start) assert [ -s "$UNSHARED_STATE_DIR/$CT_NAME/pid" ] ;;
  esac
  kill -KILL "$CT_PID"
  wait_until 10 proc_gone "$CT_PID"
  wait "$CT_PID" 2>/dev/null || true
  CT_PID=
  procs=$(ct_procs)
  run_ct rm --force
  assert_success
  for pid in $procs; do
    assert proc_gone "$pid"
  done
  assert_clean
  run_ct status
  assert_failure 3
  assert_line --regexp "^status +absent$"
}

@test "lifecycle: SIGKILL right after the cgroup is made, then rm leaves nothing" {
  killed_at after-cgroup run
}

@test "lifecycle: SIGKILL after the container's mounts, then rm leaves nothing" {
  killed_at after-mounts run
}

@test "lifecycle: SIGKILL after a foreground start, then rm leaves nothing" {
  killed_at after-start run
}

@test "lifecycle: SIGKILL after a detached start's mounts, then rm leaves nothing" {
  killed_at after-mounts start
}

@test "lifecycle: stats rise under memory and CPU load; logs holds the output" {
  # A small CPU quota: the busy loop below must be throttled even on a slow or busy host.
  update_spec 's.limits = { memory: "96m", cpus: 0.2, pids: 50 }'
  build_ct
  run_ct start
  assert_success
  run_ct stats --json
  assert_success
  local mem0 cpu0 mem1 cpu1 throttled1
  mem0=$(json_get "$output" memory.currentBytes)
  cpu0=$(json_get "$output" cpu.usageUsec)
  assert_equal "$(json_get "$output" memory.limitBytes)" $((96 * 1024 * 1024))
  assert_equal "$(json_get "$output" cpu.limitCpus)" 0.2
  assert_equal "$(json_get "$output" pids.limit)" 50
  # Load: 24 MiB in the container's /dev/shm (a tmpfs, charged to its memory cgroup), and a
  # busy loop for 2 s against a quota of a fifth of a CPU.
  run_ct exec -- sh -c 'head -c 25165824 /dev/zero >/dev/shm/fill; end=$(($(date +%s) + 2)); while [ "$(date +%s)" -lt "$end" ]; do :; done'
  assert_success
  run_ct stats --json
  assert_success
  mem1=$(json_get "$output" memory.currentBytes)
  cpu1=$(json_get "$output" cpu.usageUsec)
  throttled1=$(json_get "$output" cpu.throttledPeriods)
  (( mem1 >= mem0 + 20 * 1024 * 1024 )) || fail "memory went from $mem0 to $mem1 bytes"
  (( $(json_get "$output" memory.peakBytes) >= mem1 )) || fail "peak below current"
  (( cpu1 >= cpu0 + 100000 )) || fail "CPU usage went from $cpu0 to $cpu1 us"
  (( throttled1 > 0 )) || fail "a busy loop at 0.2 CPUs was never throttled"
  (( $(json_get "$output" cpu.throttledUsec) > 0 )) || fail "no throttled time"
  (( $(json_get "$output" pids.current) >= 2 )) || fail "pids.current below 2"
  run_ct stats
  assert_success
  assert_line --regexp "^memory +current [0-9.]+MiB +peak [0-9.]+MiB +limit 96\.0MiB +oom-kills 0$"
  assert_line --regexp "^cpu +usage [0-9]+\.[0-9]{3}s +throttled [0-9]+\.[0-9]{3}s in [1-9][0-9]* of [0-9]+ periods +limit 0\.20 CPUs$"
  assert_line --regexp "^pids +current [0-9]+ +limit 50$"

  run_ct logs
  assert_success
  assert_line "hello from $CT_NAME"
  assert_line "to stderr"
  # logs -f follows until the container stops.
  timeout "$(secs 20)" "$SCRIPT" logs -f >"$CT_DIR/follow" 2>&1 &
  local follower=$!
  run_ct stop --time 0
  assert_success
  wait "$follower" || fail "logs -f did not end with the container (status $?)"
  assert grep -qx "hello from $CT_NAME" "$CT_DIR/follow"
  run_ct rm
  assert_success
  assert_clean
}

@test "lifecycle: a foreground run records its state: status and exec work from elsewhere" {
  build_ct
  start_ct run
  wait_until 15 test -s "$UNSHARED_STATE_DIR/$CT_NAME/pid" || fail "no pid file: $(cat "$CT_DIR/stderr")"
  run_ct status --json
  assert_success
  assert_equal "$(json_get "$output" status)" running
  assert_equal "$(json_get "$output" mode)" foreground
  assert_equal "$(json_get "$output" pid)" "$(ct_pid1)"
  run_ct exec -- hostname
  assert_output "$CT_NAME"
  run_ct logs
  assert_failure 125
  # stop ends the container; the foreground script then cleans up by itself.
  run_ct stop --time 1
  assert_success
  wait_ct
  assert_equal "$CT_STATUS" 137
  assert_clean
}

@test "lifecycle: 20 containers with different names start in parallel, run, and are all removed" {
  local i names=() scripts=() pids=() status
  for i in $(seq 1 20); do names+=("$CT_NAME-$i"); done
  # One node process compiles the 20 specs.
  node --input-type=module -e '
    import { readFileSync, writeFileSync } from "node:fs";
    const { compile } = await import(process.argv[1]);
    const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
    for (const name of process.argv.slice(4)) {
      writeFileSync(`${process.argv[3]}/${name}.sh`, compile({ ...spec, name }), { mode: 0o755 });
    }' "$REPO_ROOT/dist/src/index.js" "$SPEC" "$CT_DIR" "${names[@]}"
  for i in "${!names[@]}"; do
    scripts+=("$CT_DIR/${names[i]}.sh")
    timeout "$(secs 60)" "${scripts[i]}" start </dev/null >"$CT_DIR/start-$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    status=0
    wait "${pids[i]}" || status=$?
    [[ $status == 0 ]] || fail "start of ${names[i]} failed ($status): $(cat "$CT_DIR/start-$i.out")"
  done
  for i in "${!names[@]}"; do
    run "${scripts[i]}" status
    assert_success
    assert_line --regexp "^status +running$"
    assert [ -d "$(cgroup_root pids)/$CG_PARENT/${names[i]}" ]
  done
  assert_equal "$(find "$(cgroup_root pids)/$CG_PARENT" -mindepth 1 -maxdepth 1 -type d | wc -l)" 20
  pids=()
  for i in "${!names[@]}"; do
    timeout "$(secs 60)" "${scripts[i]}" rm --force </dev/null >"$CT_DIR/rm-$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    status=0
    wait "${pids[i]}" || status=$?
    [[ $status == 0 ]] || fail "rm of ${names[i]} failed ($status): $(cat "$CT_DIR/rm-$i.out")"
  done
  assert_clean
  # Only the state root (UNSHARED_STATE_DIR, made by one of the starts), which every container
  # shares, stays; empty. rm cannot tell who made a root the user names.
  run ls -A "$UNSHARED_STATE_DIR"
  assert_output ""
}
