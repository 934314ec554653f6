#!/usr/bin/env bash
# The cycle model's (batch, head) extrapolation against simulating every slice: the same
# cycles on FuseMax (BERT-base 1K, 768 slices), the unfused kernels (256), FLAT (1K) and
# FLAT's materialized kernels overlapped across heads (4K, batch 2: 24 slices, in both modes).
# (Reads that outran the writes once made it miss by 6.5 %; a drifting steady state, as
# bank conflicts can make, would fail it too; the overlapped kernels' slices alternate
# between two lengths, and a window of an odd number of them missed by 5.5 %.)
# Usage: simulate_extrapolation.sh CASCADE [quick]. quick (the sanitizer tree, where the
# 768-slice runs take 35 s) runs the same cases at batch 2 (24 slices,
# tests/data/workloads/bert-base-b2.yaml).
set -u
cascade="$1"
data="$(dirname "$0")/../data"
workload=bert-base
if [ -n "${2:-}" ]; then workload="$data/workloads/bert-base-b2.yaml"; fi
status=0
cycles() { "$cascade" simulate "$@" --quiet | awk '/^  cycles/ {gsub(",", "", $2); print $2}'; }
overlapped="--arch flat --cascade softmax-3pass --seq 4096 --mapper $data/mappings/flat-materialized-b2-4k.yaml"
for args in "--arch fusemax --seq 1024" \
            "--arch unfused --cascade softmax-3pass --mapper unfused --seq 256" \
            "--arch flat --cascade softmax-3pass --mapper flat --seq 1024" \
            "$overlapped"; do
  w="$workload"
  if [ "$args" = "$overlapped" ]; then w="$data/workloads/bert-base-b2.yaml"; fi
  extrapolated=$(cycles $args --workload "$w")
  full=$(cycles $args --workload "$w" --slices 0)
  if [ -z "$full" ] || [ -z "$extrapolated" ] || \
     [ "$extrapolated" != "$full" ]; then
    echo "FAIL ($args): extrapolated $extrapolated cycles, every slice $full"
    status=1
  else
    echo "ok ($args): extrapolated $extrapolated, every slice $full"
  fi
done
exit $status
