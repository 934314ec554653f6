#!/usr/bin/env bash
# `make demo`: the main job on the default configuration. Until the analytical model
# lands, that is the numerical check of the softmax cascades against the fp64 reference
# (a BERT-base head, P = M = 1024, E = F = 64) and their pass analysis.
set -euo pipefail
build="${1:-build}"
cascade="$build/cascade"
shapes="P=1024,M=1024,E=64,F=64"
status=0
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
