#!/usr/bin/env bash
# The tile model's (batch, head) extrapolation against simulating every slice: BERT-base 1K
# on FuseMax (768 slices), the unfused kernels at 256 and FLAT at 1K give the same cycles
# both ways.
set -u
cascade="$1"
status=0
for args in "--arch fusemax --workload bert-base --seq 1024" \
            "--arch unfused --workload bert-base --cascade softmax-3pass --mapper unfused --seq 256" \
            "--arch flat --workload bert-base --cascade softmax-3pass --mapper flat --seq 1024"; do
  for buffers in 2 3; do
    extrapolated=$("$cascade" simulate $args --tile-buffers $buffers | grep "SystemC tile model" | awk '{print $4}')
    full=$("$cascade" simulate $args --tile-buffers $buffers --slices 0 | grep "SystemC tile model" | awk '{print $4}')
    if [ -z "$full" ] || [ "$extrapolated" != "$full" ]; then
      echo "FAIL ($args, $buffers buffers): extrapolated $extrapolated cycles, every slice $full"
      status=1
    else
      echo "ok ($args, $buffers buffers): $full cycles"
    fi
  done
done
exit $status
