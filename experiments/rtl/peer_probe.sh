#!/usr/bin/env bash
# The 16 x 16 bf16 tile's speed as a ratio to its peer, in one run: issue 12 states the
# speed target (>= 200 k cycles/s) next to "a Verilated 16 x 16 integer MAC tile runs
# ~0.75 M cycles/s here", i.e. 0.27 of that tile, and this shared machine's speed varies
# by up to 3x from host to host (results-2026-12-03.md). Builds tile_2d of this revision
# (the PE loop, per-cycle code at -O2 as CASCADE_VERILATOR_OPT_FAST_ARRAY) and
# int_mac_tile.sv (a bare integer MAC tile of N x N PE instances, -O2 and -O1; and the same
# bare tile with an fp32 adder alone, and with a bf16 MAC: fp32_pkg's arithmetic, -O2) the same
# way (probe_build.sh: 200,000-statement files, initialisation at -O0), drives both with
# the same workload (N x N x 2000 GEMMs, 3 eval() per cycle, plain C++: five for the fp32
# tiles, fifty for the integer peer, about 0.1 s each) and runs them alternately REPEATS times.
# Usage: experiments/rtl/peer_probe.sh [N] [REPEATS]   (a benchmark, not a test)
#   PEER_PACK=DIR experiments/rtl/peer_probe.sh [N]: builds only, and packs the probes with
#   the shared libraries and dynamic loader they use into DIR, to run on another machine
#   with DIR/run.sh [REPEATS] (as pack_speed.sh does for the SystemC benchmark)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-16}
repeats=${2:-5}
. "$here/probe_build.sh"
mkdir -p "$work/src"
cp "$hdl"/*.sv "$here/int_mac_tile.sv" "$work/src/"
probe_build "$work/src" "$n" -O2 "$work/probe_bf16"
# the bare tile: name, Arith, per-cycle optimisation, GEMMs (the integer one 50 instead of 5:
# about as long a run as the others)
while read -r name arith o reps; do
  PROBE_TOP=int_mac_tile PROBE_FILES="fp32_pkg.sv int_mac_tile.sv" PROBE_MAIN=$here/peer_probe.cpp \
    PROBE_ARGS=-GArith=$arith PROBE_CXXFLAGS="-DREPS=$reps -DARITH=$arith" \
    probe_build "$work/src" "$n" "$o" "$work/$name"
done <<'TILES'
probe_int-O2 0 -O2 50
probe_int-O1 0 -O1 50
probe_fp32add 1 -O2 5
probe_bf16mac 2 -O2 5
TILES
probes="probe_bf16 probe_int-O2 probe_int-O1 probe_fp32add probe_bf16mac"
# The probes go into a folder with the shared libraries and loader they use (PEER_PACK, or
# a temporary one) and run from there by its run.sh, here or on another machine.
pack=${PEER_PACK:-$work/pack}
mkdir -p "$pack/lib"
for p in $probes; do
  cp "$work/$p" "$pack/"
  ldd "$work/$p" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' |
    while read -r lib; do cp -L "$lib" "$pack/lib/"; done
done
cat > "$pack/run.sh" <<RUN
#!/usr/bin/env bash
# peer_probe.sh's probes (N = $n), run alternately REPEATS times with their own libraries:
# probe_bf16 is tile_2d, probe_int-* the integer peer, probe_fp32add and probe_bf16mac the
# bare tile with the fp32 adder alone and with a bf16 MAC
set -euo pipefail
cd "\$(dirname "\$0")"
loader=\$(ls lib/ld-linux*)
echo "N=$n, \$(uname -srm), \$(nproc) cores, load \$(cut -d' ' -f1-3 /proc/loadavg), \$(date -u '+%Y-%m-%d %H:%M UTC')"
for _ in \$(seq "\${1:-5}"); do
  for p in $probes; do echo "\$p: \$("\$loader" --library-path lib "./\$p")"; done
done
RUN
chmod +x "$pack/run.sh"
[[ -n ${PEER_PACK:-} ]] || "$pack/run.sh" "$repeats"
