#!/usr/bin/env bash
# `cascade simulate --per-pe --data`: the 2D array computes the GEMM-shaped runs' values PE
# by PE from the data's operands (at least one run), and the output still equals the
# functional executor's bit for bit. With --exp hardware the 1D unit's lanes compute the
# values of every run of its commands too (LANES=all: all of them, at least one).
# Usage: [LANES=all] per_pe_data.sh CASCADE SIMULATE_ARGS...
set -euo pipefail
cascade=$1
shift
out=$("$cascade" simulate "$@" --per-pe --quiet --data)
grep -E '^    2D array ' <<<"$out" || { echo "no GEMM run computed on the array:"; echo "$out"; exit 1; }
grep -qE '^    2D array +[1-9][0-9,]* of [0-9,]+ GEMM-shaped runs' <<<"$out" || { echo "$out"; exit 1; }
if [[ "${LANES:-}" == all ]]; then
  line=$(grep -E '^    1D unit ' <<<"$out" || true)
  if ! [[ "$line" =~ ^\ +1D\ unit\ +([0-9,]+)\ of\ ([0-9,]+)\ runs ]] || [[ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]] ||
     [[ "${BASH_REMATCH[1]}" == 0 ]]; then
    echo "the 1D unit's lanes did not compute every run of its commands: '$line'"; exit 1
  fi
  echo "$line"
fi
if grep -q 'differs from the functional executor' <<<"$out" ||
   ! grep -q "equals the functional executor's bit for bit" <<<"$out"; then
  echo "data mode: output differs"; echo "$out"; exit 1
fi
echo "ok: $*"
