#!/usr/bin/env bash
# Instructions per analytical evaluation, this checkout against an older one, counted by
# callgrind (deterministic, unlike time on a shared machine). Usage:
#   experiments/restructure/instructions-per-evaluation.sh OLD_CHECKOUT [NEW_CHECKOUT]
# Each checkout must have build/experiments/bench_analytical built (Release). Counts the
# inclusive instructions of the functions the benchmark loop calls (the model's evaluate,
# and energy_of where energy is a separate step) divided by their call count.
set -euo pipefail
old="$1"
new="${2:-.}"
out="$(mktemp -d)"
for bench in BM_MappingEvaluation BM_ResolvedMappingEvaluation; do
  for side in old new; do
    dir="$([ "$side" = old ] && echo "$old" || echo "$new")"
    (cd "$dir" && valgrind --tool=callgrind --callgrind-out-file="$out/$side.$bench" \
      build/experiments/bench_analytical --benchmark_filter="^$bench\$" \
      --benchmark_min_time=0.2 >/dev/null 2>&1)
    callgrind_annotate --inclusive=yes --tree=caller "$out/$side.$bench" 2>/dev/null |
      awk -v side="$side" -v bench="$bench" '
        /^ *[0-9,]+ .*< .*'"$bench"'\(benchmark::State&\) \([0-9,]+x\)/ { pending = $0; next }
        pending != "" && /\* .*(AnalyticalModel::evaluate|energy_of)/ {
          n = pending; sub(/^ */, "", n); split(n, f, " "); gsub(",", "", f[1])
          c = pending; sub(/.*\(/, "", c); sub(/x\).*/, "", c); gsub(",", "", c)
          ir += f[1]; calls = c
        }
        { pending = "" }
        END { printf "%s,%s,%.0f\n", bench, side, ir / calls }'
  done
done
