#!/usr/bin/env bash
# Prints which cgroup hierarchy this host runs, for the test summaries: "cgroup v2" (one
# cgroup2 tree at /sys/fs/cgroup), "cgroup v1 (hybrid)" (v1 controllers, and a cgroup2 tree with
# no controllers at /sys/fs/cgroup/unified, as systemd mounts it) or "cgroup v1".
set -euo pipefail
if [[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
  echo "cgroup v2"
elif [[ $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
  echo "cgroup v1 (hybrid)"
else
  echo "cgroup v1"
fi
