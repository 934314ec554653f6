#!/usr/bin/env bash
# The Verilated systolic tile's speed inside SystemC (build/experiments/rtl/rtl_tile_speed:
# sim/rtl's RtlTile, five N x N x 2000 GEMMs per size) against the plain C++ testbench of
# the same RTL (test_tile_2d's Tile2d.SpeedN*, 16 in test_tile_2d_n16 when built), in the
# same run; the best of REPEATS runs of each. Writes experiments/rtl/results-DATE.md (or
# -2, -3, ... after it on the same day; OUT=file to choose).
# Usage: [OUT=file] experiments/rtl/speed.sh [BUILD_DIR] [REPEATS]   (a benchmark, not a test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
repeats=${2:-3}
sc=$build/experiments/rtl/rtl_tile_speed
plain=$build/tests/hdl/test_tile_2d
plain16=$build/tests/hdl/test_tile_2d_n16
for f in "$sc" "$plain"; do
  [[ -x $f ]] || { echo "missing $f: cmake --build $build --target rtl_tile_speed test_tile_2d" >&2; exit 2; }
done
runs=""
for _ in $(seq "$repeats"); do
  runs+=$("$sc" 2>/dev/null | grep '^sc ' || true)$'\n'
  runs+=$("$plain" --gtest_filter='Tile2d.Speed*' | grep '^plain ' || true)$'\n'
  if [[ -x $plain16 ]]; then runs+=$("$plain16" --gtest_filter='*SpeedN16' | grep '^plain ' || true)$'\n'; fi
done
best() {  # best cycles/s of KIND at size N
  { grep "^$1 N=$2 " <<<"$runs" || true; } | sed 's/.*cycles_per_s=//' | sort -n | tail -1
}
date=$(date -u +%Y-%m-%d)
out=${OUT:-$here/results-$date.md}  # never over an earlier file of the day: -2, -3, ...
if [[ -z ${OUT:-} ]]; then
  i=2
  while [[ -e $out ]]; do out=$here/results-$date-$i.md; i=$((i + 1)); done
fi
{
  echo "# Verilated systolic tile: inside SystemC vs the plain C++ testbench"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(nproc) cores; load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- compiler: $(c++ --version | head -1); Verilator $(verilator --version | cut -d' ' -f2); SystemC 2.3.4"
  echo "- command: experiments/rtl/speed.sh $(basename "$build") $repeats (best of $repeats runs each; the build folder by name)"
  echo "- build: $(grep -E '^CASCADE_(RTL_THREADS|VERILATOR_OPT_FAST|VERILATOR_OPT_FAST_ARRAY|VERILATOR_SPLIT_STATEMENTS):' "$build/CMakeCache.txt" 2>/dev/null | sed 's/:[A-Z]*=/=/' | tr '\n' ' ')(CASCADE_RTL_THREADS applies to the SystemC tiles of N >= 16)"
  echo "- workload: five GEMMs of N x N x 2000 (bf16 operands, fp32 accumulation) per size, back to back"
  echo "  - SystemC: sim/rtl's RtlTile (tile_2d --sc, --pins-bv 2), its own gated 1 ns clock, drain"
  echo "    outputs read every cycle (output-stationary drain)"
  echo "  - plain C++: tests/hdl/tile_driver.h (tile_2d --cc, 3 eval() per cycle, row-read drain)"
  echo
  echo "| N | SystemC cycles/s | plain C++ cycles/s | SystemC / plain |"
  echo "|---|---|---|---|"
  for n in 4 8 16; do
    s=$(best sc $n); p=$(best plain $n)
    [[ -z $s && -z $p ]] && continue
    ratio=$([[ -n $s && -n $p ]] && awk -v a="$s" -v b="$p" 'BEGIN { printf "%.2f", a / b }' || echo "-")
    echo "| $n | ${s:--} | ${p:--} | $ratio |"
  done
  echo
  echo "Every run:"
  echo
  echo '```'
  grep -v '^$' <<<"$runs"
  echo '```'
} >"$out"
cat "$out"
