#!/usr/bin/env bash
# Data mode against the functional executor through the CLI: every shipped cascade with
# every mapper on FuseMax, FLAT and unfused hardware (combinations a mapper refuses, and
# concat, which data mode does not run, are listed as skipped). Prints one line per run;
# exit 1 if any run's outputs differ from the executor's or data mode fails.
# Usage: experiments/cycle/data_agreement.sh [BUILD_DIR] [SEQ] [simulate options...]
#   e.g. experiments/cycle/data_agreement.sh build 600 --format bf16 --exp hardware
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
seq=${2:-600}
shift 2 || true
cascade=$build/sim/cascade
[[ -x $cascade ]] || { echo "missing $cascade: cmake --build $build --target cascade" >&2; exit 2; }
equal=0 differ=0 skipped=0
for file in "$here"/../../configs/cascades/*.yaml; do
  name=$(basename "$file" .yaml)
  for mapper in fusemax flat unfused generic; do
    for arch in fusemax flat unfused; do
      out=$("$cascade" simulate --arch "$arch" --workload bert-base --cascade "$name" --mapper "$mapper" \
            --seq "$seq" --data --quiet "$@" 2>&1)
      rc=$?
      if [[ $rc -eq 0 ]] && grep -q "equals the functional executor's bit for bit" <<<"$out"; then
        echo "equal   $arch $name $mapper"; equal=$((equal + 1))
      elif grep -q "differs from the functional executor" <<<"$out"; then
        echo "DIFFERS $arch $name $mapper"; grep "differs from" <<<"$out"; differ=$((differ + 1))
      elif grep -q "data mode" <<<"$out" && ! grep -q "does not run concat" <<<"$out"; then
        echo "FAILED  $arch $name $mapper: $(grep -m1 -i error <<<"$out" | cut -c1-160)"; differ=$((differ + 1))
      else  # the mapper refuses the cascade or the hardware
        echo "skipped $arch $name $mapper: $(grep -m1 -i error <<<"$out" | cut -c1-120)"; skipped=$((skipped + 1))
      fi
    done
  done
done
echo "equal $equal, differ or failed $differ, skipped $skipped (seq $seq; $*)"
[[ $differ -eq 0 ]]
