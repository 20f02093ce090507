#!/usr/bin/env bats
# Resource limits: the values in the container's cgroup files while it runs, and the kernel
# enforcing them (OOM kill, fork failures, CPU throttling), read from the cgroups' own counters.
#
# Container scripts in single quotes, bats' run variables ($stderr) and per-test state are on
# purpose:
# shellcheck disable=SC2016,SC2030,SC2031,SC2119,SC2120,SC2154

load helpers

setup_file() { setup_rootfs_template; }
setup() { setup_container; }
teardown() { teardown_container; }

# bats test_tags=ci:vm
@test "limits: the cgroup files hold the spec's values while the container runs" {
  update_spec 's.limits = { memory: "64m", memoryHigh: "48m", cpus: 0.5, cpuWeight: 50, pids: 20 }'
  spec_sh "$CT_WAIT"
  start_ready_ct
  check_memory_max 67108864
  check_memory_high 50331648
  check_cpu_quota 50000 100000
  # v1 has no weight: 50 becomes the smallest shares that crun's shares->weight conversion maps
  # back to 50: 1 + ((1287 - 2) * 9999) / 262142 = 50.01.
  check_cpu_weight 50 1287
  check_cgroup_value pids pids.max 20
  # The container's process is in those cgroups (the kernel's view from /proc/PID/cgroup).
  assert_in_ct_cgroups "$(ct_pid1)" memory cpu pids
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
}

# bats test_tags=ci:vm
@test "limits: a memory hog is OOM-killed at the memory limit" {
  update_spec 's.limits = { memory: "64m" }'
  # dd's 200 MiB buffer cannot fit in 64 MiB: the OOM killer ends dd (137), the shell goes on.
  spec_sh "dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo \"dd=\$?\" >/share/dd; $CT_WAIT"
  start_ready_ct
  # The cgroup's own counters, read from the host while the container still runs.
  wait_until 5 at_least 1 oom_kill_count || fail "oom_kill is '$(oom_kill_count)', expected at least 1"
  wait_until 5 at_least 1 memory_limit_hits || fail "the memory limit was never hit ('$(memory_limit_hits)')"
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_equal "$(<"$SHARE/dd")" dd=137
}

@test "limits: a memory hog that is the container's PID 1 is OOM-killed: exit 137" {
  update_spec 's.limits = { memory: "64m" }'
  spec_command /bin/dd if=/dev/zero of=/dev/null bs=200M count=1
  build_ct
  run_ct
  # SIGKILL from the OOM killer: 128 + 9.
  assert_failure 137
  assert_clean
}

@test "limits: the same allocation succeeds without a memory limit" {
  # The control for the OOM test: dd itself is fine, the limit is what kills it.
  spec_sh 'dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo "dd=$?"'
  build_ct
  run_ct
  assert_success
  assert_output dd=0
}

# bats test_tags=ci:vm
@test "limits: a fork loop stops at the pids limit" {
  update_spec 's.limits = { pids: 10 }'
  # A subshell forks sleeps until fork fails and it dies; the container's init goes on with
  # builtins only, so that it needs no fork itself.
  spec_sh '( i=0; while [ $i -lt 50 ]; do sleep 30 & i=$((i + 1)); done ) 2>/share/fork.err
    echo "subshell=$?"; '"$CT_WAIT"
  start_ready_ct
  wait_until 5 at_least 1 pids_max_events || fail "pids.events max is '$(pids_max_events)', expected at least 1"
  # The forks stopped at the limit: never more than 10 tasks (the subshell has gone since).
  check_cgroup_value pids pids.max 10
  local current
  current=$(cgroup_value pids pids.current)
  ((current >= 2 && current <= 10)) || fail "pids.current is $current, expected 2 to 10"
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
  assert_regex "$CT_STDOUT" '^subshell=[1-9][0-9]*$'
  assert_regex "$(<"$SHARE/fork.err")" "can't fork"
}

# bats test_tags=ci:vm
@test "limits: a busy loop is throttled by the cpu quota" {
  update_spec 's.limits = { cpus: 0.1 }'
  # About 80 ms of CPU at full speed: more than the 10 ms a 100 ms period allows.
  spec_sh 'i=0; while [ $i -lt 50000 ]; do i=$((i + 1)); done; '"$CT_WAIT"
  start_ready_ct
  wait_until 5 at_least 1 cpu_throttled_periods || fail "cpu.stat nr_throttled is '$(cpu_throttled_periods)', expected at least 1"
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
}

@test "limits: without limits the container still gets its own memory and pids cgroups" {
  spec_sh "$CT_WAIT"
  start_ready_ct
  local pid1
  pid1=$(ct_pid1)
  # memory and pids always: to measure the container and to find all of its processes.
  assert_in_ct_cgroups "$pid1" memory pids
  check_cgroup_value pids pids.max max
  # No memory limit: v2 "max"; v1 the same "unlimited" value as the hierarchy's root.
  if cgroup_v2; then
    check_cgroup_value memory memory.max max
  else
    check_cgroup_value memory memory.limit_in_bytes "$(<"$(cgroup_root memory)/memory.limit_in_bytes")"
  fi
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
}

@test "limits: more than one CPU is a quota above the period" {
  # 2.25 CPUs = 225000 us per 100000 us period (v1 takes the quota only once the period is set).
  update_spec 's.limits = { cpus: 2.25 }'
  spec_sh "$CT_WAIT"
  start_ready_ct
  check_cpu_quota 225000 100000
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
}

# bats test_tags=ci:vm
@test "limits (v2): the controllers are enabled down to the container's parent" {
  requires cgroup_v2
  update_spec 's.limits = { memory: "64m", cpus: 0.5, pids: 20 }'
  spec_sh "$CT_WAIT"
  start_ready_ct
  local controllers
  controllers=$(<"/sys/fs/cgroup/$CG_PARENT/cgroup.subtree_control")
  assert_regex " $controllers " ' memory '
  assert_regex " $controllers " ' cpu '
  assert_regex " $controllers " ' pids '
  release_ct
  wait_ct
  assert_equal "$CT_STATUS" 0
}
