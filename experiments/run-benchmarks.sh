#!/usr/bin/env bash
# Runs the benchmark binaries and writes their JSON with the machine and date.
set -euo pipefail
build="${1:-build}"
out="experiments/results"
mkdir -p "$out"
stamp="$(date -u +%Y-%m-%d)"
host="$(uname -n | tr -c 'A-Za-z0-9_.-' '_')"
for bench in "$build"/experiments/bench_*; do
  [ -x "$bench" ] || continue
  name="$(basename "$bench")"
  file="$out/${name}-${host}-${stamp}.json"
  "$bench" --benchmark_out="$file" --benchmark_out_format=json --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true
  echo "wrote $file"
done
