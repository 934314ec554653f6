#!/usr/bin/env bash
# What the tile's fp32 arithmetic costs Verilated: the tile as in hdl/ against the same tile
# with the PE's multiplier and adder replaced by 32-bit integer ones (r = a * b, r = a + b;
# PROBE_ARGS=+define+CASCADE_PE_MODULE=pe_2d for the tile of PE instances;
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
# the integer tile: the bodies of fp32_pkg's mul_round and add_round (which fp32_mul,
# fp32_add and the PE loop call) become one line
python3 - "$work/int/src" <<'PY'
import re, sys
path = f"{sys.argv[1]}/fp32_pkg.sv"
text = open(path).read()
for name, expr in (("mul_round", "a * b"), ("add_round", "a + b")):
    text, count = re.subn(rf"(function automatic logic \[31:0\] {name}\(.*?\);).*?endfunction",
                          rf"\1\n    return {expr};\n  endfunction", text, flags=re.S)
    if count != 1:
        sys.exit(f"{path}: function {name} not found")
open(path, "w").write(text)
PY
probe_build "$work/fp32/src" "$n" -O1 "$work/probe_fp32"
probe_build "$work/int/src" "$n" -O1 "$work/probe_int"
echo "N=$n, $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
for _ in $(seq "$repeats"); do
  echo "fp32 PE:    $("$work/probe_fp32")"
  echo "integer PE: $("$work/probe_int")"
done
