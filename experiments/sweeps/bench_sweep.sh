#!/usr/bin/env bash
# Sweep speed: analytical points per second of `cascade sweep`, database writes and the CSV
# included (a fresh database each run), on three generated sweeps of 8,064 points:
#   plain      no arch.* axis (seq, batch, heads, register_file_energy)
#   arch-axes  arch.* axes (array size, buffer, DRAM) crossed with the plain ones, as the
#              shipped design-space sweeps are: each edited architecture serves many points
#   arch-only  every point a different architecture (5 arch.* axes): no edit repeats, so
#              each point reads its own edited tree
#   bench_sweep.sh BUILD_DIR [OUT_FILE]   (default OUT_FILE: results/sweep-speed.txt here)
set -euo pipefail
build="$1"
here="$(cd "$(dirname "$0")" && pwd)"
out="${2:-$here/results/sweep-speed.txt}"
cascade="$build/sim/cascade"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

cat > "$work/plain.yaml" <<'Y'
name: bench-plain
base: {arch: fusemax, workload: bert-base, cascade: softmax-1pass, mapper: fusemax}
axes:
  - seq: {from: 1024, to: 131072, times: 2}          # 8 values
  - batch: {from: 1, to: 116, step: 5}              # 24
  - heads: [1, 2, 4, 8, 12, 16, 24]                 # 7
  - set.E: [64, 128, 256]                           # 3
  - register_file_energy: [all_instances, one_instance]
Y
cat > "$work/arch-axes.yaml" <<'Y'
name: bench-arch-axes
base: {arch: fusemax, workload: bert-base, cascade: softmax-1pass, mapper: fusemax}
axes:
  - arch.arrays.array_2d.rows: [64, 128, 256, 512]
    arch.arrays.array_2d.cols: [64, 128, 256, 512]
    arch.arrays.array_1d.cols: [64, 128, 256, 512]
  - arch.components.global_buffer.capacity_bytes: [4194304, 8388608, 16777216, 33554432]
  - arch.components.dram.bandwidth_gib_per_s: [200, 400, 800]
  - seq: {from: 1024, to: 65536, times: 2}          # 7
  - heads: {from: 1, to: 24, step: 1}               # 24
Y
cat > "$work/arch-only.yaml" <<'Y'
name: bench-arch-only
base: {arch: fusemax, workload: bert-base, cascade: softmax-1pass, mapper: fusemax, seq: 4096}
axes:
  - arch.arrays.array_2d.rows: {from: 64, to: 512, times: 2}                # 4
  - arch.arrays.array_2d.cols: {from: 64, to: 512, times: 2}                # 4
  - arch.arrays.array_1d.cols: {from: 128, to: 256, times: 2}               # 2
  - arch.components.global_buffer.capacity_bytes: {from: 4194304, to: 33554432, times: 2}  # 4
  - arch.components.dram.bandwidth_gib_per_s: {from: 100, to: 3200, step: 50}  # 63
Y
{
  echo "cascade sweep speed, $(date -u +%Y-%m-%d), $(uname -m), $(nproc) cores:" \
       "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "points/s = points / the sweep's own wall time (database writes and CSV included);"
  echo "fresh database each run; the machine may be shared (best of 2 runs)"
  printf '%-10s %6s %6s %5s %10s %12s %12s\n' sweep points failed jobs seconds points/s points/min
  for s in plain arch-axes arch-only; do
    for jobs in 1 2; do
      best=""
      for rep in 1 2; do
        rm -f "$work/$s.sqlite"*
        log=$("$cascade" sweep "$work/$s.yaml" --db "$work/$s.sqlite" --csv "$work/$s.csv" \
                --quiet -j "$jobs")
        secs=$(sed -n 's/.*; \([0-9.]*\) s$/\1/p' <<<"$log")
        n=$(sed -n 's/.*: \([0-9]*\) points,.*/\1/p' <<<"$log" | head -1)
        failed=$(sed -n 's/.*computed [0-9]* points* (\([0-9]*\) failed).*/\1/p' <<<"$log")
        if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
      done
      awk -v s="$s" -v n="$n" -v f="$failed" -v j="$jobs" -v t="$best" \
        'BEGIN{printf "%-10s %6d %6d %5d %10.3f %12.0f %12.0f\n", s, n, f, j, t, n/t, 60*n/t}'
    done
  done
} | tee "$out"
