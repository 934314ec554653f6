#!/usr/bin/env bash
# `cascade simulate` reports the most words per PE the schedule keeps in the 2D array's
# register files (sim/systemc/register_occupancy.h). Checked on FuseMax's 1-pass mapping on
# the 4 x 4 test architecture at P = M = 64 (F = 64 / 4 = 16 words per PE per BQK or SLN
# run) against a second count from the trace: the k-th BQK's words held from its end to the
# k-th SLN's end, the k-th SLN's from there to the k-th SLN V's end (releases first at one
# instant), and the trace's counter track peaks there too. With --tiles-in-flight 1 one tile
# at a time: exactly F, within the 16 entries.
# Usage: register_occupancy.sh CASCADE ARCH_YAML
set -euo pipefail
cascade=$1
arch=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
reported() {  # simulate arguments -> "WORDS" from the registers line
  "$cascade" simulate --arch "$arch" --workload bert-base --cascade softmax-1pass --seq 64 \
    --quiet "$@" > "$dir/out.txt"
  grep -qE '^  registers +array_2d holds up to' "$dir/out.txt" || { cat "$dir/out.txt" >&2; exit 1; }
  sed -nE 's/^  registers +array_2d holds up to ([0-9,]+) words per PE.*/\1/p' "$dir/out.txt" | tr -d ,
}
one=$(reported --tiles-in-flight 1)
[[ $one == 16 ]] || { echo "one tile at a time: expected 16 words per PE, got $one"; exit 1; }
grep -q 'needs' "$dir/out.txt" && { echo "16 words reported as too many for 16 entries"; exit 1; }
got=$(reported --trace "$dir/t.json")
grep -q '16 entries: the schedule needs' "$dir/out.txt" || { echo "no capacity warning"; exit 1; }
expected=$(/usr/bin/python3 - "$dir/t.json" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))
events = events["traceEvents"] if isinstance(events, dict) else events
ends = {n: [] for n in ("BQK", "SLN", "SLNV")}
for e in sorted((e for e in events if e.get("ph") == "X"), key=lambda e: e["ts"]):
    if e["name"] in ends:
        ends[e["name"]].append(e["ts"] + e["dur"])
assert len(ends["BQK"]) == len(ends["SLN"]) == len(ends["SLNV"]) > 0, {k: len(v) for k, v in ends.items()}
deltas = []
for b, s, v in zip(ends["BQK"], ends["SLN"], ends["SLNV"]):
    deltas += [(b, 16), (s, -16), (s, 16), (v, -16)]
held = peak = 0
for _, d in sorted(deltas):
    held += d
    peak = max(peak, held)
print(peak)
PY
)
[[ $got == "$expected" ]] || { echo "reported $got words per PE, the trace gives $expected"; exit 1; }
# The trace's counter track of the held words peaks at the reported value.
counter=$(/usr/bin/python3 -c '
import json, sys
events = json.load(open(sys.argv[1]))
events = events["traceEvents"] if isinstance(events, dict) else events
print("%g" % max((e["args"]["words"] for e in events if e.get("ph") == "C" and
           e["name"] == "array_2d register-file words per PE"), default=-1))' "$dir/t.json")
[[ $counter == "$got" ]] || { echo "the trace's counter peaks at $counter, the report says $got"; exit 1; }
echo "ok: one tile at a time $one words per PE; default schedule $got (from the trace: $expected)"
