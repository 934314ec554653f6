#!/usr/bin/env bash
# `make demo`: the main job on the default configuration.
#  1. FuseMax vs FLAT on BERT-base attention at a 4K sequence (batch 64, 12 heads): the
#     analytical model's report for each design, then FuseMax's speedup and energy ratio
#     (the paper, MICRO'24: 6.7x and 0.79x on average over 4 models x 6 lengths;
#     experiments/fusemax/ reproduces all 72 points and explains the differences).
#  2. The softmax cascades checked numerically against the fp64 reference (a BERT-base
#     head, P = M = 1024, E = F = 64) with their pass analysis.
set -euo pipefail
build="${1:-build}"
cascade="$build/cascade"
[ -x "$cascade" ] || cascade="$build/sim/cascade"
status=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== FuseMax vs FLAT, BERT-base attention, sequence length 4096"
echo
"$cascade" run --arch fusemax --workload bert-base --cascade softmax-1pass --mapper fusemax \
  --seq 4096 --json "$tmp/fusemax.json"
echo
"$cascade" run --arch flat --workload bert-base --cascade softmax-3pass --mapper flat \
  --seq 4096 --json "$tmp/flat.json"
echo
/usr/bin/python3 - "$tmp/fusemax.json" "$tmp/flat.json" <<'EOF'
import json, sys
f, b = (json.load(open(p)) for p in sys.argv[1:3])
print(f"FuseMax vs FLAT, BERT-base 4K: speedup {b['latency_s'] / f['latency_s']:.2f}x "
      f"({b['latency_s'] * 1e3:.2f} ms -> {f['latency_s'] * 1e3:.2f} ms), "
      f"energy ratio {f['energy_j'] / b['energy_j']:.3f} ({b['energy_j']:.2f} J -> {f['energy_j']:.2f} J)")
print("  paper (FuseMax artifact, data/pregenerated/attn-*.csv, BERT 4K): speedup 7.21x, energy ratio 0.777")
print("  (energy: cascade charges both designs the same register-file energy per access;")
print("   see experiments/fusemax/README.md)")
EOF
echo

shapes="P=1024,M=1024,E=64,F=64"
for form in 3pass 2pass deferred-division 1pass; do
  file="configs/cascades/softmax-$form.yaml"
  echo "== $file"
  "$cascade" passes "$file"
  for format in fp32 bf16; do
    "$cascade" check "$file" --format "$format" --set "$shapes" || status=1
  done
  echo
done
exit $status
