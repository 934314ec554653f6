#!/usr/bin/env bash
# What `verilator split_var` on tile_2d's west-edge array a_w is worth: the tile as in hdl/
# against the same tile with a_w left whole (every PE's logic then lands in Verilator's
# input region and is evaluated again at every eval(), not once per clock), both
# Verilated at N and compiled as the build compiles them (per-cycle code -O1, the rest
# -O0, 200,000-statement files), run alternately REPEATS times by tile_probe.cpp.
# Usage: experiments/rtl/split_var_probe.sh [N] [REPEATS]   (a benchmark, not a test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hdl=$here/../../hdl
n=${1:-16}
repeats=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inc=/usr/share/verilator/include
build() {  # build NAME TILE_SOURCE
  local dir=$work/$1
  mkdir -p "$dir/src" "$dir/obj"
  cp "$hdl"/*.sv "$dir/src/"
  cp "$2" "$dir/src/tile_2d.sv"
  (cd "$dir/src" && verilator --cc -Wall -GN="$n" fp32_pkg.sv tile_pkg.sv fp32_mul.sv fp32_add.sv \
    fp32_exp_seq.sv delay_line.sv pe_2d.sv tile_2d.sv --top-module tile_2d --Mdir "$dir/gen" \
    --output-split 200000 --output-split-cfuncs 200000)
  ls "$dir"/gen/*.cpp | xargs -P "$(nproc)" -I{} sh -c 'f={}; b=$(basename "$f" .cpp);
    case $b in *Slow*) o=-O0;; *) o=-O1;; esac;
    g++ -std=c++17 $o -I "'"$dir"'/gen" -I '"$inc"' -I '"$inc"'/vltstd -c "$f" -o "'"$dir"'/obj/$b.o"'
  for f in verilated verilated_threads; do
    g++ -std=c++17 -O1 -I $inc -I $inc/vltstd -c $inc/$f.cpp -o "$dir/obj/$f.o"
  done
  g++ -std=c++17 -O1 -DPROBE_N="$n" -I "$dir/gen" -I $inc -I $inc/vltstd -c "$here/tile_probe.cpp" \
    -o "$dir/obj/main.o"
  g++ "$dir"/obj/*.o -o "$work/probe_$1" -pthread
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
