#!/usr/bin/env bash
# `cascade simulate --fidelity rtl` (the 2D array's GEMMs on the Verilated tile, in every
# dataflow, and its programs on resident tiles; the 1D array's softmax commands on the
# Verilated 1D unit; inside the SystemC model) against `--per-pe` (the same runs on the per-PE C++ model and the lane model):
# the same total cycles and the same time per unit and cause, to the cycle; the RTL ran
# GEMMs; data mode's output equals the functional executor's, with the GEMM runs' values
# computed by the arrays (by the Verilated tile in rtl) in both.
# Usage: [RTL_PE=default|fastexp|user] [EXP=hardware] [WS=1] [PROGRAMS=1] rtl_vs_per_pe.sh CASCADE SIMULATE_ARGS...
# (WS=1: the mapping has weight- or input-stationary GEMMs, which must have run on the tile)
# (PROGRAMS=1: per-PE mode ran Einsums as programs on resident tiles; so must the RTL)
# (EXP=hardware: the arguments run the hardware exp, so the 1D unit computes values)
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
if ! grep -qE '^  rtl +[1-9][0-9]* GEMM runs of the 2D array' <<<"$rtl"; then
  echo "no GEMM ran on the Verilated tile"
  exit 1
fi
if [[ "${WS:-}" == 1 ]] && ! grep -qE '^  rtl +.*output-, [1-9][0-9]* weight- or input-stationary' <<<"$rtl"; then
  echo "no weight- or input-stationary GEMM ran on the Verilated tile"
  exit 1
fi
if [[ "${PROGRAMS:-}" == 1 ]]; then
  # the 2D array's resident-tile Einsums ran on the Verilated tile, as many as per-PE ran
  programs=$(grep -oE '^  per-PE +[0-9,]+ runs of the 2D array as programs' <<<"$per_pe" | grep -oE '[0-9,]+' || true)
  if [[ -z "$programs" ]] || ! grep -qE "^  rtl +$programs programs of the 2D array" <<<"$rtl"; then
    echo "the tile programs did not all run on the Verilated tile (per-PE: '${programs}')"
    exit 1
  fi
  grep -E '^  rtl +[0-9,]+ programs of the 2D array' <<<"$rtl"
fi
# Every tested cascade has 1D commands (1-pass: max-exp, rescale, divide; linear: divide).
if ! grep -qE '^  rtl +[1-9][0-9]* runs of the 1D array.s softmax commands' <<<"$rtl"; then
  echo "no command ran on the Verilated 1D unit"
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
# With the hardware exp the 1D unit's values came from its lanes, the Verilated ones in rtl.
if [[ "${EXP:-}" == hardware ]]; then
  lane_runs() { grep -E '^    1D unit +[1-9][0-9,]* of [0-9,]+ runs' <<<"$1" || true; }
  if [[ -z "$(lane_runs "$rtl")" || "$(lane_runs "$rtl")" != "$(lane_runs "$per_pe")" ]]; then
    echo "the 1D unit did not compute the same runs' values: per-PE '$(lane_runs "$per_pe")', rtl '$(lane_runs "$rtl")'"
    exit 1
  fi
  lane_runs "$rtl"
fi
echo "ok: --fidelity rtl (PE ${RTL_PE:-default}) equals --per-pe cycle for cycle"
