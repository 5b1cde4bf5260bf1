# Helpers every benchmark script uses. Sourced by Benchmarks/run.

# compare NAME LABEL COMMAND [LABEL COMMAND]...
# Times whole commands with hyperfine (no shell in between), ours first, then the peers,
# and prints median, spread and each one's ratio to ours.
compare() {
  local name=$1; shift
  local args=()
  while [ $# -ge 2 ]; do
    args+=(--command-name "$1" "$2")
    shift 2
  done
  local prepare=()
  # PREPARE: a command run before every timed run (not timed), e.g. to empty an output folder.
  [ -n "${PREPARE:-}" ] && prepare=(--prepare "$PREPARE")
  hyperfine --shell=none --style=none --warmup "${WARMUP:-20}" --min-runs "${RUNS:-300}" "${prepare[@]}" \
    --export-json "$BENCHMARK_RESULTS/$name.json" "${args[@]}" >/dev/null
  python3 Benchmarks/report.py "$BENCHMARK_RESULTS/$name.json"
}

# own_disk SCRATCH
# Mounts on SCRATCH (an empty folder) a journaled ext4 of its own, in a sparse file beside it, as
# a node's /var/lib is; release_own_disk SCRATCH unmounts it and removes the file. Why: this
# machine's disk is an ext4 without a journal, where creating a file or folder first steps over
# every inode of its block group deleted in the last minutes (a lookup each, 6 minutes while the
# inode's block is not yet written back). Pod starts create a few dozen inodes each, so on that
# disk a burst cost what the machine had deleted before it (about 5 ms a pod after a previous
# run), not what the node does. A journaled ext4 (Debian's default) has no such step.
# BENCH_DISK=machine keeps SCRATCH on the machine's disk instead.
own_disk() {
  local scratch=$1
  [ "${BENCH_DISK:-own}" = machine ] && return 0
  truncate -s 8G "$scratch.disk"
  mkfs.ext4 -q -F "$scratch.disk"
  mount -o loop "$scratch.disk" "$scratch"
}
release_own_disk() {
  local scratch=$1
  if mountpoint -q "$scratch"; then umount "$scratch" || umount -l "$scratch"; fi
  rm -rf "$scratch" "$scratch.disk"
}

# remove_runtime_leftovers SCRATCH NETNS CGROUP [DAEMON_PID]
# After a benchmark that ran `swiftlet runtime` with its state under SCRATCH: stops the daemon,
# the shims that outlive it (by the PIDs they recorded), unmounts what is mounted under SCRATCH,
# removes the cgroup folder CGROUP in every hierarchy, the network namespace and SCRATCH.
remove_runtime_leftovers() {
  local scratch=$1 netns=$2 cgroup=$3 daemon=${4:-}
  set +e
  if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; fi
  for pidfile in "$scratch"/state/shims/*/shim.pid; do
    [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null
  done
  sleep 0.2
  grep " $scratch/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  for controller in /sys/fs/cgroup/*/"$cgroup" /sys/fs/cgroup/"$cgroup"; do
    [ -d "$controller" ] && find "$controller" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  ip netns del "$netns" 2>/dev/null
  # On a disk of its own (own_disk) SCRATCH is a mount point, which release_own_disk removes.
  if mountpoint -q "$scratch"; then find "$scratch" -mindepth 1 -delete 2>/dev/null; else rm -rf "$scratch"; fi
}
