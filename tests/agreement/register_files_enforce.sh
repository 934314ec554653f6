#!/usr/bin/env bash
# `cascade simulate --register-files enforce` (sim/systemc/register_budget.h) on FuseMax's
# 1-pass mapping on the 4 x 4 test architecture at P = M = 64 (16 words per PE per BQK run,
# 16 entries): the schedule then keeps at most the 16 entries, the 2D array waits for them
# (register_files_full) and the run takes longer than unenforced; the same mapping
# interleaved per P fold (tests/data/mappings/fusemax-4x4-interleaved-64.yaml, 3 words per
# PE) never waits, so enforcing changes nothing; at P = M = 128 one BQK run needs 32 words:
# an error naming them.
# Usage: register_files_enforce.sh CASCADE ARCH_YAML INTERLEAVED_MAPPING
set -euo pipefail
cascade=$1
arch=$2
interleaved=$3
sim() { "$cascade" simulate --arch "$arch" --workload bert-base --cascade softmax-1pass --quiet "$@"; }
cycles() { grep -E '^  cycles ' <<<"$1" | tr -dc 0-9; }
report=$(sim --seq 64)
enforced=$(sim --seq 64 --register-files enforce)
grep -E '^  registers ' <<<"$enforced"
grep -qE '^  registers +array_2d holds up to 16 words per PE .*; 16 entries$' <<<"$enforced" ||
  { echo "enforced: not within the 16 entries"; exit 1; }
grep -qE '^    array_2d .* register_files_full [1-9]' <<<"$enforced" ||
  { echo "enforced: the 2D array never waited for its register files"; exit 1; }
(( $(cycles "$enforced") > $(cycles "$report") )) ||
  { echo "enforced $(cycles "$enforced") cycles, not more than unenforced $(cycles "$report")"; exit 1; }
lines() { grep -E '^  cycles |^    (array|dram)[a-z_0-9]* +busy ' <<<"$1"; }
a=$(sim --seq 64 --mapper "$interleaved")
b=$(sim --seq 64 --mapper "$interleaved" --register-files enforce)
[[ "$(lines "$a")" == "$(lines "$b")" ]] || { echo "interleaved: enforcing changed the schedule"; diff <(lines "$a") <(lines "$b"); exit 1; }
grep -qE '^  registers +array_2d holds up to 3 words per PE' <<<"$b" || { echo "interleaved: not 3 words per PE"; exit 1; }
if err=$(sim --seq 128 --register-files enforce 2>&1); then echo "P = 128: no error"; exit 1; fi
grep -q "a run of BQK keeps 32 words per PE in array_2d's register files, which have 16 entries" <<<"$err" ||
  { echo "P = 128: unexpected error: $err"; exit 1; }
echo "ok: enforced $(cycles "$enforced") cycles against $(cycles "$report"); interleaved unchanged; P = 128 refused"
