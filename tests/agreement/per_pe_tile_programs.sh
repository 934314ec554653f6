#!/usr/bin/env bash
# `cascade simulate --per-pe` runs FuseMax's LM, SLN and SLD as programs on the 2D array's
# resident tiles (sim/systemc/tile_program.h). On the 4 x 4 test architecture at P = M = 64
# (M1 tiles of M0 = 4 rows, F = 64 / 4 = 16 P folds of 4 columns per run) every such run in
# the trace lasts the tile's closed form (hdl/README.md, the tile's schedule):
#   LM, SLD (a column max / sum per fold)       F + R + C - 1 = 23 cycles
#   SLN (exp(x - m) and its narrow per fold)    F (L + 2): 160 with the hardware exp (L = 8),
#                                               96 with the fast one (L = 4)
# and without --per-pe the wavefront model's fold closed form for LM and SLD, F (1 + R - 1)
# = 64 (sim/systemc/fold_shape.h), so the programs, not the closed forms, timed them.
# Usage: per_pe_tile_programs.sh CASCADE ARCH_YAML
set -euo pipefail
cascade=$1
arch=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() {  # trace file, extra arguments
  local trace=$1
  shift
  "$cascade" simulate --arch "$arch" --workload bert-base --cascade softmax-1pass --seq 64 \
    --quiet --trace "$trace" "$@" > "$dir/out.txt"
}
# Every span of each Einsum in cycles (the trace is in microseconds, the clock from the arch).
spans() {
  /usr/bin/python3 - "$1" "$arch" <<'EOF'
import json, re, sys
trace, arch = sys.argv[1], sys.argv[2]
text = open(arch).read()
mhz = re.search(r"^clock_mhz:\s*([0-9.eE+]+)", text, re.M)
clock = float(mhz.group(1)) * 1e6 if mhz else float(re.search(r"^clock_hz:\s*([0-9.eE+]+)", text, re.M).group(1))
events = json.load(open(trace))
events = events["traceEvents"] if isinstance(events, dict) else events
cycles = {}
for e in events:
    if e.get("ph") == "X" and e["name"] in ("LM", "SLN", "SLD"):
        cycles.setdefault(e["name"], set()).add(round(e["dur"] * clock / 1e6, 6))
for name in ("LM", "SLD", "SLN"):
    print(name, " ".join(f"{c:g}" for c in sorted(cycles.get(name, []))))
EOF
}
expect() {  # what, expected spans, actual spans
  if [[ "$2" != "$3" ]]; then
    printf '%s: expected\n%s\ngot\n%s\n' "$1" "$2" "$3"
    exit 1
  fi
  printf '%s:\n%s\n' "$1" "$3"
}
run "$dir/hw.json" --per-pe --exp hardware
grep -qE '^  per-PE +480 runs of the 2D array as programs' "$dir/out.txt" || {
  echo "per-PE mode ran no tile programs"; cat "$dir/out.txt"; exit 1; }
expect "per-PE, hardware exp" $'LM 23\nSLD 23\nSLN 160' "$(spans "$dir/hw.json")"
run "$dir/fast.json" --per-pe --exp fast
expect "per-PE, fast exp" $'LM 23\nSLD 23\nSLN 96' "$(spans "$dir/fast.json")"
run "$dir/wave.json"
wave=$(spans "$dir/wave.json")
expect "wavefront, LM and SLD" $'LM 64\nSLD 64' "$(grep -E '^(LM|SLD) ' <<<"$wave")"
echo "ok: per-PE mode times LM, SLN and SLD as programs on the resident tiles"
