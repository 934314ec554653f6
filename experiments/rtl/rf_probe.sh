#!/usr/bin/env bash
# What the PEs' register files (hdl/pe_2d.sv, 16 entries since 2026-12-07) cost the
# Verilated tile: the tile as in hdl/ against the same tile at an earlier revision (default
# d840f2f, the last without them), both Verilated at N, compiled as the build compiles them
# (per-cycle code -O1, the rest -O0, 200,000-statement files) and run alternately REPEATS
# times by tile_probe.cpp (five N x N x 2000 GEMMs; the register file idles, as in the
# co-simulated GEMM runs).
# Usage: experiments/rtl/rf_probe.sh [N] [REPEATS] [REVISION]   (a benchmark, not a test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-16}
repeats=${2:-3}
rev=${3:-d840f2f}
. "$here/probe_build.sh"
mkdir -p "$work/now/src" "$work/before/src"
cp "$hdl"/*.sv "$work/now/src/"
git -C "$hdl/.." archive "$rev" hdl | tar -x -C "$work/before" --strip-components=1
mv "$work/before"/*.sv "$work/before/src/"
probe_build "$work/now/src" "$n" -O1 "$work/probe_now"
probe_build "$work/before/src" "$n" -O1 "$work/probe_before"
echo "N=$n, $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
for _ in $(seq "$repeats"); do
  echo "with register files ($(git -C "$hdl" rev-parse --short HEAD)): $("$work/probe_now")"
  echo "without ($rev):                 $("$work/probe_before")"
done
