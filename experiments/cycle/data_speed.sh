#!/usr/bin/env bash
# Speed of `cascade simulate`'s data mode (sim/systemc/datapath*.cpp): one BERT-base head
# on FuseMax (its 1-pass cascade, the fusemax mapper, fp32) at each sequence length, the
# generic per-point datapath (CASCADE_DATA_GENERIC=1) against the fast path
# (sim/systemc/datapath_fast.h), in the same run. Each run must report its outputs equal
# to the functional executor's bit for bit. Times: the whole process (wall, and user +
# system CPU: the executor runs beside the cycle model on a second thread) and the cycle
# model's own wall time (its "operations simulated in" line: SystemC and the datapath).
# Writes experiments/cycle/results/data-speed-DATE.md.
# Usage: [PATHS="fast"] experiments/cycle/data_speed.sh [BUILD_DIR] [SEQ...]   (a benchmark,
# not a test; default sequence lengths 1024 4096; PATHS default "generic fast": the generic
# path at 4096 takes minutes, PATHS=fast leaves it out)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
shift || true
seqs=("$@")
[[ ${#seqs[@]} -gt 0 ]] || seqs=(1024 4096)
cascade=$build/sim/cascade
[[ -x $cascade ]] || { echo "missing $cascade: cmake --build $build --target cascade" >&2; exit 2; }
date=$(date -u +%Y-%m-%d)
out=$here/results/data-speed-$date.md
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rows=""
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for seq in "${seqs[@]}"; do
  declare -A wall=() cpu=() model=()
  for path in ${PATHS:-generic fast}; do
    generic=0
    [[ $path == generic ]] && generic=1
    CASCADE_DATA_GENERIC=$generic /usr/bin/time -f 'time %e %U %S' "$cascade" simulate \
      --arch fusemax --workload bert-base --seq "$seq" --data --quiet >"$log" 2>&1 || {
      cat "$log" >&2
      echo "simulate failed ($path, seq $seq)" >&2
      exit 1
    }
    grep -q "equals the functional executor's bit for bit" "$log" || {
      cat "$log" >&2
      echo "data mode's outputs differ ($path, seq $seq)" >&2
      exit 1
    }
    read -r _ w u s < <(grep '^time ' "$log")
    wall[$path]=$w
    cpu[$path]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    model[$path]=$(sed -n 's/.*operations simulated in \([0-9.]*\) s.*/\1/p' "$log")
    points=$(sed -n 's/.*slice: \([0-9,]*\) points.*/\1/p' "$log")
    echo "seq $seq $path: wall ${wall[$path]} s, cpu ${cpu[$path]} s, cycle model ${model[$path]} s" >&2
  done
  for path in generic fast; do
    [[ -n ${model[$path]:-} ]] || { model[$path]="-"; wall[$path]="-"; cpu[$path]="-"; }
  done
  ratio=$(awk -v g="${model[generic]}" -v f="${model[fast]}" \
    'BEGIN { if (g == "-" || f == "-") print "-"; else printf "%.1f", g / f }')
  rows+="| $seq | $points | ${model[generic]} | ${model[fast]} | $ratio | ${wall[generic]} / ${cpu[generic]} | ${wall[fast]} / ${cpu[fast]} |"$'\n'
  unset wall cpu model
done
{
  echo "# Data mode speed: the generic per-point datapath vs the fast path"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(lscpu | grep 'Model name' | sed 's/.*: *//'); nproc $(nproc); load average at the start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg) (a shared 2-core machine)"
  echo "- compiler: $(c++ --version | head -1); build type $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")"
  echo "- command: PATHS=\"${PATHS:-generic fast}\" experiments/cycle/data_speed.sh $build ${seqs[*]}, each run"
  echo "  \`[CASCADE_DATA_GENERIC=1] cascade simulate --arch fusemax --workload bert-base --seq N --data --quiet\`"
  echo "  (FuseMax, softmax-1pass, fusemax mapper, fp32, exact exp; data moves for the first (batch, head) slice);"
  echo "  every run's outputs equal the functional executor's bit for bit"
  echo
  echo "| P = M | Einsum points (one head) | cycle model, generic (s) | cycle model, fast (s) | generic / fast | process generic: wall / CPU (s) | process fast: wall / CPU (s) |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s' "$rows"
  echo
  echo "The cycle model's time is its wall time (SystemC and the datapath); the process also draws"
  echo "the inputs and runs the functional executor, on a second thread, for the comparison."
} >"$out"
echo "wrote $out" >&2
cat "$out"
