#!/usr/bin/env bash
# `cascade simulate --fidelity rtl` (the 2D array's output-stationary GEMMs on the Verilated
# tile inside the SystemC model) against `--per-pe` (the same runs on the per-PE C++ model):
# the same total cycles and the same time per unit and cause, to the cycle; the RTL ran
# GEMMs; data mode's output equals the functional executor's, with the GEMM runs' values
# computed by the arrays (the output-stationary ones by the Verilated tile) in both.
# Usage: [RTL_PE=default|fastexp|user] rtl_vs_per_pe.sh CASCADE SIMULATE_ARGS...
# (RTL_PE: the tile's PE variant, `--rtl-pe`; default: default)
set -euo pipefail
cascade=$1
shift
per_pe=$("$cascade" simulate "$@" --per-pe --quiet --data)
rtl=$("$cascade" simulate "$@" --fidelity rtl --rtl-pe "${RTL_PE:-default}" --quiet --data)
lines() { grep -E '^  cycles |^    (array|dram)[a-z_0-9]* +busy ' <<<"$1"; }
if [[ "$(lines "$per_pe")" != "$(lines "$rtl")" ]]; then
  echo "--fidelity rtl and --per-pe differ:"
  diff <(lines "$per_pe") <(lines "$rtl") || true
  exit 1
fi
lines "$rtl"
grep -E '^  rtl ' <<<"$rtl"
if ! grep -qE '^  rtl +[1-9][0-9]* output-stationary GEMM runs' <<<"$rtl"; then
  echo "no GEMM ran on the Verilated tile"
  exit 1
fi
grep -q "equals the functional executor's bit for bit" <<<"$rtl" || { echo "data mode: output differs"; exit 1; }
# The values came from the arrays: the same GEMM runs computed PE by PE on the data in both.
array_runs() { grep -E '^    2D array +[1-9][0-9,]* of [0-9,]+ GEMM-shaped runs' <<<"$1" || true; }
if [[ -z "$(array_runs "$rtl")" || "$(array_runs "$rtl")" != "$(array_runs "$per_pe")" ]]; then
  echo "the 2D array did not compute the same GEMM runs' values: per-PE '$(array_runs "$per_pe")', rtl '$(array_runs "$rtl")'"
  exit 1
fi
array_runs "$rtl"
echo "ok: --fidelity rtl (PE ${RTL_PE:-default}) equals --per-pe cycle for cycle"
