#!/usr/bin/env bash
# One GPU session for decode: CPU self-test, decode golden vectors, kernel checks and the
# decode benchmark (experiments/gpu/decode_benchmark.py) under one deadline (BUDGET_S seconds
# from now, default 420). Results in $OUT (default /tmp/cascade-gpu):
#   $OUT/golden-decode.tar.gz     manifest.json + decode_*.npy (unpack into tests/golden/decode/)
#   $OUT/<gpu-name>-decode.csv / .json   rows, machine, versions, checks
# Run from the repository root:  set -o pipefail; bash experiments/gpu/decode_run.sh 2>&1 | tee $OUT/decode-log.txt
set -o pipefail
OUT=${OUT:-/tmp/cascade-gpu}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
export CASCADE_GPU_DEADLINE=$(( $(date +%s) + ${BUDGET_S:-420} ))
echo "== $(date -u +%FT%TZ) deadline $(date -u -d @"$CASCADE_GPU_DEADLINE" +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,pstate,clocks.sm,power.draw,power.limit,memory.used,memory.total --format=csv || true
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' || true
GOLDEN_DIR=$(mktemp -d)
$PY experiments/gpu/decode_benchmark.py --out "$OUT" --golden "$GOLDEN_DIR"
rc=$?
tar czf "$OUT/golden-decode.tar.gz" -C "$GOLDEN_DIR" .   # one file: unpack into tests/golden/decode/
echo "== done $(date -u +%FT%TZ) rc=$rc"
nvidia-smi --query-gpu=name,pstate,clocks.sm,power.draw,temperature.gpu,memory.used --format=csv || true
exit $rc
