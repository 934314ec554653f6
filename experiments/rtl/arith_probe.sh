#!/usr/bin/env bash
# What the tile's fp32 arithmetic costs Verilated: the tile as in hdl/ against the same tile
# with the PE's multiplier and adder replaced by 32-bit integer ones (r = a * b, r = a + b;
# every other line of the RTL unchanged: skews, drain, exp sequencer, operand muxes), both
# Verilated at N, compiled as the build compiles them (per-cycle code -O1, the rest -O0,
# 200,000-statement files) and run alternately REPEATS times by tile_probe.cpp. The integer
# tile is a peer for scale (a Verilated integer MAC tile), not a kernel of cascade's.
# Usage: experiments/rtl/arith_probe.sh [N] [REPEATS]   (a benchmark, not a test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hdl=$here/../../hdl
n=${1:-16}
repeats=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inc=/usr/share/verilator/include
build() {  # build NAME: Verilates and compiles $work/NAME/src
  local dir=$work/$1
  mkdir -p "$dir/obj"
  (cd "$dir/src" && verilator --cc -Wno-fatal -GN="$n" fp32_pkg.sv tile_pkg.sv \
    fp32_mul.sv fp32_add.sv fp32_exp_seq.sv delay_line.sv pe_2d.sv tile_2d.sv --top-module tile_2d \
    --Mdir "$dir/gen" --output-split 200000 --output-split-cfuncs 200000)
  ls "$dir"/gen/*.cpp | xargs -P "$(nproc)" -I{} sh -c 'f={}; b=$(basename "$f" .cpp);
    case $b in *Slow*) o=-O0;; *) o=-O1;; esac;
    g++ -std=c++17 $o -I "'"$dir"'/gen" -I '"$inc"' -I '"$inc"'/vltstd -c "$f" -o "'"$dir"'/obj/$b.o"'
  for f in verilated verilated_threads; do
    g++ -std=c++17 -O1 -I $inc -I $inc/vltstd -c $inc/$f.cpp -o "$dir/obj/$f.o"
  done
  g++ -std=c++17 -O1 -DPROBE_N="$n" -I "$dir/gen" -I $inc -I $inc/vltstd -c "$here/tile_probe.cpp" \
    -o "$dir/obj/main.o"
  g++ "$dir"/obj/*.o -o "$work/probe_$1" -pthread
  echo "$1: $(size -A "$work/probe_$1" | awk '$1 == ".text" { printf "%.2f MB of machine code", $2 / 1e6 }')"
}
mkdir -p "$work/fp32/src" "$work/int/src"
cp "$hdl"/*.sv "$work/fp32/src/"
cp "$hdl"/*.sv "$work/int/src/"
# the integer tile: the bodies of fp32_mul's and fp32_add's always_comb become one line
python3 - "$work/int/src" <<'PY'
import re, sys
d = sys.argv[1]
for name, expr in (("fp32_mul", "a_i * b_i"), ("fp32_add", "a_i + b_i")):
    path = f"{d}/{name}.sv"
    text = open(path).read()
    new, count = re.subn(r"always_comb begin.*?\n  end\n", f"always_comb r_o = {expr};\n", text, flags=re.S)
    if count != 1:
        sys.exit(f"{path}: always_comb block not found")
    open(path, "w").write(new)
PY
build fp32
build int
echo "N=$n, $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
for _ in $(seq "$repeats"); do
  echo "fp32 PE:    $("$work/probe_fp32")"
  echo "integer PE: $("$work/probe_int")"
done
