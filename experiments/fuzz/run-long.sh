#!/usr/bin/env bash
# A long fuzzing run (a night's, or what a machine can give): every target of a
# CASCADE_FUZZ build, PROCS processes per target sharing one corpus (seeded from configs/
# and tests/data as scripts/fuzz.sh seeds it), SECONDS each. Writes
# RESULTS_DIR/<date>-<host>.csv (target, processes, seconds, executions, findings) and
# a .txt with the machine.
#
#   experiments/fuzz/run-long.sh BUILD SECONDS PROCS RESULTS_DIR
set -uo pipefail
build="$1"; seconds="$2"; procs="$3"; results="$4"
root="$(cd "$(dirname "$0")/../.." && pwd)"
stamp="$(date -u +%Y-%m-%dT%H%MZ)-$(hostname -s)"
mkdir -p "$results" "$build/long-logs"
source <(sed -n '/^seeds() {/,/^}/p' "$root/scripts/fuzz.sh")
targets=(fuzz_cascade fuzz_roundtrip fuzz_arch fuzz_workload fuzz_mapping fuzz_sweep fuzz_tensor_file)
pids=()
started=$(date +%s)
for t in "${targets[@]}"; do
  corpus="$build/long-corpus/$t"; mkdir -p "$corpus" "$build/long-findings/$t"
  for f in $(seeds "$t"); do cp -n "$f" "$corpus/seed-$(basename "$f")"; done
  for p in $(seq "$procs"); do
    "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -max_len=16384 -print_final_stats=1 -artifact_prefix="$build/long-findings/$t/" \
      -dict="$root/tests/fuzz/yaml.dict" "$corpus" > "$build/long-logs/$t-$p.log" 2>&1 &
    pids+=($!)
  done
done
for pid in "${pids[@]}"; do wait "$pid"; done
elapsed=$(($(date +%s) - started))  # the wall time the targets ran (less if interrupted)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r); compiler: $(clang++-15 --version 2>/dev/null | head -1 || echo 'clang++-15 (built elsewhere)')"
  echo "run: ${#targets[@]} targets x $procs processes, $elapsed s of wall time (limit $seconds s), ASan + UBSan, corpora seeded from configs/ and tests/data"
} > "$results/$stamp.txt"
echo "target,processes,wall_seconds,executions,findings,corpus_files" > "$results/$stamp.csv"
status=0
for t in "${targets[@]}"; do
  execs=0
  for p in $(seq "$procs"); do
    e=$(awk '/stat::number_of_executed_units/ {print $2}' "$build/long-logs/$t-$p.log" | tail -1)
    execs=$((execs + ${e:-0}))
  done
  findings=$(ls "$build/long-findings/$t" | wc -l)
  [ "$findings" -eq 0 ] || status=1
  echo "$t,$procs,$elapsed,$execs,$findings,$(ls "$build/long-corpus/$t" | wc -l)" >> "$results/$stamp.csv"
done
cat "$results/$stamp.txt" "$results/$stamp.csv"
exit $status
