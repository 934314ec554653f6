#!/usr/bin/env bash
# Runs every libFuzzer target of a CASCADE_FUZZ build for a bounded time on a corpus seeded
# from configs/ and tests/data (the corpus grows in BUILD/fuzz-corpus/, kept between runs).
#
#   scripts/fuzz.sh BUILD SECONDS_PER_TARGET [PARALLEL] [RESULTS_FILE]
#
# Exits 1 when a target finds a crash, a leak, undefined behaviour, a timeout (10 s per
# input) or a non-Error exception; the input that did is in BUILD/fuzz-findings/. Prints,
# and with RESULTS_FILE appends, the executions each target reached.
set -uo pipefail
build="$1"; seconds="$2"; parallel="${3:-1}"; results="${4:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
targets=(fuzz_cascade fuzz_roundtrip fuzz_arch fuzz_workload fuzz_mapping fuzz_sweep fuzz_tensor_file)

seeds() {  # the seed files of a target
  case "$1" in
    fuzz_cascade|fuzz_roundtrip)
      ls "$root"/configs/cascades/*.yaml "$root"/tests/data/bad/*.yaml \
         "$root"/tests/data/wrong/*.yaml "$root"/tests/data/bad-mapping/cascade.yaml ;;
    fuzz_arch) ls "$root"/configs/arch/*.yaml "$root"/tests/data/bad-arch/*.yaml ;;
    fuzz_workload) ls "$root"/configs/workloads/*.yaml "$root"/tests/data/bad-mapping/workload*.yaml ;;
    fuzz_mapping) ls "$root"/configs/mappings/*.yaml "$root"/tests/data/bad-mapping/*.yaml ;;
    fuzz_sweep) ls "$root"/configs/sweeps/*.yaml "$root"/tests/data/bad-sweep/*.yaml ;;
    fuzz_tensor_file) ls "$root"/tests/data/tensors/* ;;
  esac
}

run_one() {
  local t="$1" corpus="$build/fuzz-corpus/$1" findings="$build/fuzz-findings/$1"
  mkdir -p "$corpus" "$findings"
  for f in $(seeds "$t"); do cp -n "$f" "$corpus/seed-$(basename "$f")" 2>/dev/null || true; done
  local log="$build/fuzz-logs/$t.log"
  mkdir -p "$build/fuzz-logs"
  "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$findings/" \
    -dict="$root/tests/fuzz/yaml.dict" "$corpus" > "$log" 2>&1
  local code=$?
  local execs
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  echo "$t ${execs:-0} $code"
}
export -f run_one seeds
export build seconds root

start=$(date +%s)
summary=$(printf '%s\n' "${targets[@]}" | xargs -P "$parallel" -I{} bash -c 'run_one {}')
status=0
echo "fuzzing: ${seconds} s per target, ${parallel} at a time ($(($(date +%s) - start)) s in all)"
while read -r t execs code; do
  if [ "$code" != 0 ]; then
    echo "FAIL $t (exit $code): see $build/fuzz-logs/$t.log and $build/fuzz-findings/$t/"
    grep -m 20 -E "ERROR|FUZZ FINDING|runtime error|SUMMARY" "$build/fuzz-logs/$t.log"
    status=1
  else
    echo "ok   $t: $execs executions, no finding"
  fi
  if [ -n "$results" ]; then
    echo "$t,$execs,$seconds,$code" >> "$results"
  fi
done <<< "$summary"
exit $status
