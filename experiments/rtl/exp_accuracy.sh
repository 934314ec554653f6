#!/usr/bin/env bash
# The accuracy of the fast exp (pe_2d_fastexp, `--exp fast`) next to the hardware exp
# (pe_2d, `--exp hardware`) and std::exp (`--exp exact`):
#  1. max relative error vs std::exp over every fp32 argument with a normal fp32 result
#     (build/experiments/rtl/exp_accuracy; STRIDE > 1 samples every STRIDE-th pattern);
#  2. the attention output's error vs the fp64 reference: `cascade check` on the shipped
#     softmax cascades, bf16 and fp32 storage (default accumulation: fp32), each exp mode.
# Usage: experiments/rtl/exp_accuracy.sh [BUILD_DIR [STRIDE]] > results.md
# (needs the targets cascade and exp_accuracy)
set -euo pipefail
build=${1:-build}
stride=${2:-1}
cascade=$build/sim/cascade
cascades="softmax-1pass softmax-2pass softmax-3pass softmax-deferred-division softmax-causal softmax-1pass-causal"

echo "# Fast exp vs hardware exp: accuracy"
echo
echo "Machine: $(uname -m), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD)."
echo "Command: \`experiments/rtl/exp_accuracy.sh $build $stride\`."
echo
echo "## 1. exp alone: relative error vs std::exp"
echo
echo "Every fp32 x (bit-pattern stride $stride) with exp(x) a normal fp32 value, x in [-87.34, 88.72]."
echo "The fp32 rows are the RTL's results bit for bit (tests/hdl/test_pe_2d, test_pe_2d_fastexp)."
echo
start=$(date +%s)
"$build/experiments/rtl/exp_accuracy" "$stride"
echo
echo "($(( $(date +%s) - start )) s.)"
echo
echo "## 2. attention output vs the fp64 reference (\`cascade check\`)"
echo
echo "Default shapes and seed of \`cascade check\`; inputs N(0,1). rel err = max|err| / max|ref|; rms err ="
echo "rms(err) / rms(ref);"
echo "result: check's statistical tolerance (rounding-noise runs of the same exp mode)."
echo
echo "| cascade | storage | exp | output | max abs err | rel err | rms err | result |"
echo "|---|---|---|---|---|---|---|---|"
for c in $cascades; do
  for fmt in bf16 fp32; do
    for exp in exact hardware fast; do
      out=$("$cascade" check "configs/cascades/$c.yaml" --format "$fmt" --exp "$exp" 2>&1) || true
      # the output rows: name, max|err|, max|ref|, rel err, tol, rms err, tol, bias, tol, result
      awk -v c="$c" -v f="$fmt" -v e="$exp" '
        /^  output / { table = 1; next }
        table && /^  time:/ { table = 0 }
        table && NF >= 10 { print "| " c " | " f " | " e " | " $1 " | " $2 " | " $4 " | " $7 " | " $NF " |" }
      ' <<<"$out"
    done
  done
done
