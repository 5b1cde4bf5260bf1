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
