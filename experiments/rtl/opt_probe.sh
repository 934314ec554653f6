#!/usr/bin/env bash
# The C++ optimisation of the Verilated tile's per-cycle code (CASCADE_VERILATOR_OPT_FAST):
# tile_2d as in hdl/, Verilated once per size and compiled with each option in OPTS, run
# alternately REPEATS times by tile_probe.cpp (plain C++, 3 eval() per cycle).
# Usage: experiments/rtl/opt_probe.sh [SIZES] [REPEATS] [OPTS]   (a benchmark, not a test)
#   e.g. experiments/rtl/opt_probe.sh "4 8 16" 5 "-O1 -Os"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sizes=${1:-4 8 16}
repeats=${2:-5}
opts=${3:--O1 -Os}
. "$here/probe_build.sh"
mkdir -p "$work/src"
cp "$hdl"/*.sv "$work/src/"
for n in $sizes; do
  for o in $opts; do probe_build "$work/src" "$n" "$o" "$work/probe_n${n}_$o"; done
done
echo "$(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
for n in $sizes; do
  for _ in $(seq "$repeats"); do
    for o in $opts; do echo "N=$n $o: $("$work/probe_n${n}_$o")"; done
  done
done
