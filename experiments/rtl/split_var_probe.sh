#!/usr/bin/env bash
# What `verilator split_var` on tile_2d's west-edge array a_w is worth: the tile as in hdl/
# against the same tile with a_w left whole (every PE's logic then lands in Verilator's
# input region and is evaluated again at every eval(), not once per clock), both
# Verilated at N and compiled as the build compiles them (per-cycle code -O1, the rest
# -O0, 200,000-statement files), run alternately REPEATS times by tile_probe.cpp.
# Usage: experiments/rtl/split_var_probe.sh [N] [REPEATS]   (a benchmark, not a test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-16}
repeats=${2:-3}
. "$here/probe_build.sh"
build() {  # build NAME TILE_SOURCE
  mkdir -p "$work/$1"
  cp "$hdl"/*.sv "$work/$1/"
  cp "$2" "$work/$1/tile_2d.sv"
  probe_build "$work/$1" "$n" -O1 "$work/probe_$1"
}
sed 's|a_w \[N\]\[N+1\] /\* verilator split_var \*/;|a_w [N][N+1];|' "$hdl/tile_2d.sv" > "$work/whole.sv"
grep -q 'a_w \[N\]\[N+1\];' "$work/whole.sv" || { echo "tile_2d.sv: a_w declaration not found" >&2; exit 2; }
build split "$hdl/tile_2d.sv"
build whole "$work/whole.sv"
echo "N=$n, $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
for _ in $(seq "$repeats"); do
  echo "split_var a_w: $("$work/probe_split")"
  echo "whole a_w:     $("$work/probe_whole")"
done
