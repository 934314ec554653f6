#!/usr/bin/env bash
# What evaluating the tile's PEs in one loop (hdl/pe_array_2d.sv, the default since
# 2026-12-07) is worth against N x N pe_2d instances (+define+CASCADE_PE_MODULE=pe_2d, the
# tile before): the same RTL of this revision Verilated at N both ways, compiled as the build
# compiles them (instances: per-cycle code -O1; the loop: -O1 and -O2, the build's
# CASCADE_VERILATOR_OPT_FAST_ARRAY; the rest -O0, 200,000-statement files), run alternately
# REPEATS times by tile_probe.cpp (five N x N x 2000 GEMMs, 3 eval() per cycle).
# Usage: experiments/rtl/pe_loop_probe.sh [N] [REPEATS]   (a benchmark, not a test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-16}
repeats=${2:-3}
. "$here/probe_build.sh"
mkdir -p "$work/src"
cp "$hdl"/*.sv "$work/src/"
PROBE_ARGS=+define+CASCADE_PE_MODULE=pe_2d probe_build "$work/src" "$n" -O1 "$work/probe_instances"
probe_build "$work/src" "$n" -O1 "$work/probe_loop_o1"
probe_build "$work/src" "$n" -O2 "$work/probe_loop_o2"
echo "N=$n, $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
for _ in $(seq "$repeats"); do
  echo "pe_2d instances, -O1: $("$work/probe_instances")"
  echo "PE loop, -O1:         $("$work/probe_loop_o1")"
  echo "PE loop, -O2:         $("$work/probe_loop_o2")"
done
