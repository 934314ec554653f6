#!/usr/bin/env bash
# `cascade simulate --per-pe --data`: the 2D array computes the GEMM-shaped runs' values PE
# by PE from the data's operands (at least one run), and the output still equals the
# functional executor's bit for bit.
# Usage: per_pe_data.sh CASCADE SIMULATE_ARGS...
set -euo pipefail
cascade=$1
shift
out=$("$cascade" simulate "$@" --per-pe --quiet --data)
grep -E '^    2D array ' <<<"$out" || { echo "no GEMM run computed on the array:"; echo "$out"; exit 1; }
grep -qE '^    2D array +[1-9][0-9,]* of [0-9,]+ GEMM-shaped runs' <<<"$out" || { echo "$out"; exit 1; }
if grep -q 'differs from the functional executor' <<<"$out" ||
   ! grep -q "equals the functional executor's bit for bit" <<<"$out"; then
  echo "data mode: output differs"; echo "$out"; exit 1
fi
echo "ok: $*"
