#!/usr/bin/env bash
# The co-simulated tile's speed inside SystemC against its Verilator thread count, on a
# machine with more cores than CI's 2 (a benchmark, not a test). DIR holds rtl_tile_speed
# binaries built with -DCASCADE_RTL_THREADS=T, named rtl_tile_speed_tT (T = 1 is the
# single-threaded baseline, in the same run), and, when the machine lacks this project's
# Debian libraries, lib/ with them and their dynamic loader (experiments/rtl/pack_speed.sh
# makes such a folder). Runs every binary REPEATS times, alternating, and writes
# DIR/results.md (OUT=file to choose): best cycles/s per size and thread count.
# Usage: [OUT=file] experiments/rtl/threads_speed.sh DIR [REPEATS]
set -euo pipefail
dir=$(cd "$1" && pwd)
repeats=${2:-3}
out=${OUT:-$dir/results.md}
run() {  # binary
  if [[ -x $dir/lib/ld-linux-x86-64.so.2 ]]; then
    "$dir/lib/ld-linux-x86-64.so.2" --library-path "$dir/lib" "$1"
  else
    "$1"
  fi
}
mapfile -t bins < <(for b in "$dir"/rtl_tile_speed_t*; do [[ -x $b ]] && echo "${b##*_t} $b"; done | sort -n | cut -d' ' -f2-)
[[ ${#bins[@]} -gt 0 ]] || { echo "no rtl_tile_speed_t* in $dir" >&2; exit 2; }
runs=""
for _ in $(seq "$repeats"); do
  for b in "${bins[@]}"; do
    t=${b##*_t}
    runs+=$(run "$b" 2>/dev/null | grep '^sc ' | sed "s/^sc /threads=$t /" || true)$'\n'
  done
done
best() {  # best cycles/s at threads T, size N
  { grep "^threads=$1 N=$2 " <<<"$runs" || true; } | sed 's/.*cycles_per_s=//' | sort -n | tail -1
}
{
  echo "# Co-simulated systolic tile inside SystemC: speed by Verilator threads"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(nproc) cores; load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- binaries: experiments/rtl/tile_speed.cpp built with -DCASCADE_RTL_THREADS=T (threads of the 16 x 16 tile only; 4 x 4 and 8 x 8 stay single-threaded), best of $repeats runs each, alternating"
  echo "- workload: five GEMMs of N x N x 2000 (bf16 operands, fp32 accumulation) per size, back to back, output stationary"
  echo
  echo "| threads | N=16 cycles/s | vs 1 thread | N=8 cycles/s | N=4 cycles/s |"
  echo "|---|---|---|---|---|"
  base=$(best 1 16)
  for b in "${bins[@]}"; do
    t=${b##*_t}
    s=$(best "$t" 16)
    ratio=$([[ -n $s && -n $base ]] && awk -v a="$s" -v b="$base" 'BEGIN { printf "%.2f", a / b }' || echo "-")
    echo "| $t | ${s:--} | $ratio | $(best "$t" 8) | $(best "$t" 4) |"
  done
  echo
  echo "Every run:"
  echo
  echo '```'
  grep -v '^$' <<<"$runs"
  echo '```'
} >"$out"
cat "$out"
