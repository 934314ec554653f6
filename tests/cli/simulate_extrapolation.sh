#!/usr/bin/env bash
# The cycle model's (batch, head) extrapolation against simulating every slice: within
# 0.5 % on FuseMax (BERT-base 1K, 768 slices), the unfused kernels (256) and FLAT (1K).
# Not exact: bank-conflict timing carries from slice to slice, so the steady state drifts.
set -u
cascade="$1"
status=0
cycles() { "$cascade" simulate "$@" --quiet | awk '/^  cycles/ {gsub(",", "", $2); print $2}'; }
for args in "--arch fusemax --workload bert-base --seq 1024" \
            "--arch unfused --workload bert-base --cascade softmax-3pass --mapper unfused --seq 256" \
            "--arch flat --workload bert-base --cascade softmax-3pass --mapper flat --seq 1024"; do
  extrapolated=$(cycles $args)
  full=$(cycles $args --slices 0)
  if [ -z "$full" ] || [ -z "$extrapolated" ] || \
     ! awk -v a="$extrapolated" -v b="$full" 'BEGIN { d = a / b - 1; exit !(d < 0.005 && d > -0.005) }'; then
    echo "FAIL ($args): extrapolated $extrapolated cycles, every slice $full"
    status=1
  else
    echo "ok ($args): extrapolated $extrapolated, every slice $full"
  fi
done
exit $status
