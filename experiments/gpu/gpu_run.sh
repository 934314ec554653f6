#!/usr/bin/env bash
# One GPU session: CPU self-test of the references, golden vectors, kernel checks and the
# benchmark, under one deadline (BUDGET_S seconds from now, default 510), so that the whole
# run stays under 9 minutes (GOLDEN=0 skips the golden vectors). Results go to $OUT
# (default /tmp/cascade-gpu):
#   $OUT/golden.tar.gz            tests/golden/ contents (unpack into tests/golden/)
#   $OUT/<gpu-name>.csv / .json   benchmark rows, machine, versions, checks
# Run from the repository root, e.g.
#   set -o pipefail; bash experiments/gpu/gpu_run.sh 2>&1 | tee $OUT/log.txt
set -o pipefail
OUT=${OUT:-/tmp/cascade-gpu}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
export CASCADE_GPU_DEADLINE=$(( $(date +%s) + ${BUDGET_S:-510} ))
echo "== $(date -u +%FT%TZ) deadline $(date -u -d @"$CASCADE_GPU_DEADLINE" +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,pstate,clocks.sm,power.draw,power.limit,memory.used --format=csv || true
$PY -c 'import torch, triton; print("torch", torch.__version__, "cuda", torch.version.cuda, "triton", triton.__version__, torch.cuda.get_device_name(0))' || true

echo "== selftest (CPU parts)"
$PY experiments/gpu/selftest.py --cpu-only | tail -3

golden_rc=0
if [ "${GOLDEN:-1}" != 0 ]; then
  echo "== golden vectors"
  GOLDEN_DIR=$(mktemp -d)
  t0=$(date +%s)
  $PY experiments/gpu/make_golden.py --out "$GOLDEN_DIR"
  golden_rc=$?
  echo "golden rc=$golden_rc in $(( $(date +%s) - t0 )) s"
  tar czf "$OUT/golden.tar.gz" -C "$GOLDEN_DIR" . && du -sb "$GOLDEN_DIR"
else
  echo "== golden vectors skipped (GOLDEN=0)"
fi

echo "== checks + benchmark"
$PY experiments/gpu/benchmark.py --out "$OUT"
bench_rc=$?
echo "== done $(date -u +%FT%TZ) golden rc=$golden_rc benchmark rc=$bench_rc"
nvidia-smi --query-gpu=name,pstate,clocks.sm,power.draw,temperature.gpu --format=csv || true
exit $(( golden_rc | bench_rc ))
