#!/usr/bin/env bash
# Where a cycle of the Verilated N x N loop tile goes (a benchmark tool, not a test).
# 1. perf: the loop tile built as the build builds it (-O2, one thread) plus -g, twenty
#    N x N x 2000 GEMMs (tile_probe.cpp); perf's samples by line of the generated C++,
#    grouped into the PE loop's fp32 arithmetic (the lines of mul_round / add_round and the
#    fp32_pkg helpers they call), the rest of the PE loop (decode, operands, results), and
#    the rest of the tile (the whole-array register updates, skews, drains, weight chains).
# 2. with THREADS > 1: Verilator's execution profile (--prof-exec, THREADS bands) of 10
#    cycles after the first 5,000, summarised by verilator_gantt: the mtasks per thread and
#    their rdtsc ticks per cycle (the two biggest are the bands of PEs).
# Usage: experiments/rtl/profile_probe.sh [N] [THREADS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-16}
threads=${2:-2}
. "$here/probe_build.sh"
mkdir -p "$work/src"
cp "$hdl"/*.sv "$work/src/"
echo "N=$n, $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"

PROBE_CXXFLAGS="-g -DREPS=20" PROBE_GEN="$work/gen" probe_build "$work/src" "$n" -O2 "$work/probe"
"$work/probe"
perf record -q -o "$work/perf.data" "$work/probe" > /dev/null 2>&1
perf report -i "$work/perf.data" --no-children --sort srcline --stdio 2> /dev/null > "$work/lines.txt"
/usr/bin/python3 "$here/profile_lines.py" "$work/gen" < "$work/lines.txt"

if (( threads > 1 )); then
  PROBE_ARGS="--threads $threads --prof-exec -GBands=$threads" PROBE_CXXFLAGS="-DREPS=5" \
    probe_build "$work/src" "$n" -O2 "$work/probe_threads"
  "$work/probe_threads" +verilator+prof+exec+file+"$work/prof.dat" \
    +verilator+prof+exec+start+5000 +verilator+prof+exec+window+30
  verilator_gantt --no-vcd "$work/prof.dat" | sed -n '/^Analysis/,/^Prediction/p' | sed '$d'
  # rdtsc ticks per cycle of each mtask, by thread (30 evals = 10 cycles)
  awk '/^VLPROFTHREAD/ { t = $2 }
       /MTASK_BEGIN/ { b = $3 }
       /MTASK_END/ { tick[t " " $5] += $3 - b }
       END { for (k in tick) { split(k, a, " "); printf "thread %s mtask %3d: %7.0f ticks/cycle\n", a[1], a[2], tick[k] / 10 } }' \
    "$work/prof.dat" | sort -k2,2n -k6,6nr
fi
