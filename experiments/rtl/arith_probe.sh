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
n=${1:-16}
repeats=${2:-3}
. "$here/probe_build.sh"
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
probe_build "$work/fp32/src" "$n" -O1 "$work/probe_fp32"
probe_build "$work/int/src" "$n" -O1 "$work/probe_int"
echo "N=$n, $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
for _ in $(seq "$repeats"); do
  echo "fp32 PE:    $("$work/probe_fp32")"
  echo "integer PE: $("$work/probe_int")"
done
