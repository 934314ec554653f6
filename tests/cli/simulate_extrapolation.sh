#!/usr/bin/env bash
# The cycle model's (batch, head) extrapolation against simulating every slice: the same
# cycles on FuseMax (BERT-base 1K, 768 slices), the unfused kernels (256) and FLAT (1K).
# (Reads that outran the writes once made it miss by 6.5 %; a drifting steady state, as
# bank conflicts can make, would fail it too.)
# Usage: simulate_extrapolation.sh CASCADE [quick]. quick (the sanitizer tree, where the
# 768-slice runs take 35 s) runs the same cases at batch 2 (24 slices,
# tests/data/workloads/bert-base-b2.yaml).
set -u
cascade="$1"
workload=bert-base
if [ -n "${2:-}" ]; then workload="$(dirname "$0")/../data/workloads/bert-base-b2.yaml"; fi
status=0
cycles() { "$cascade" simulate "$@" --quiet | awk '/^  cycles/ {gsub(",", "", $2); print $2}'; }
for args in "--arch fusemax --seq 1024" \
            "--arch unfused --cascade softmax-3pass --mapper unfused --seq 256" \
            "--arch flat --cascade softmax-3pass --mapper flat --seq 1024"; do
  extrapolated=$(cycles $args --workload "$workload")
  full=$(cycles $args --workload "$workload" --slices 0)
  if [ -z "$full" ] || [ -z "$extrapolated" ] || \
     [ "$extrapolated" != "$full" ]; then
    echo "FAIL ($args): extrapolated $extrapolated cycles, every slice $full"
    status=1
  else
    echo "ok ($args): extrapolated $extrapolated, every slice $full"
  fi
done
exit $status
