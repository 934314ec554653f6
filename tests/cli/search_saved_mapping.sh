#!/bin/bash
# The mapping the search saves, run as a file, gives the search's latency exactly.
set -euo pipefail
cascade=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
common=(run --arch fusemax --workload bert-base --cascade softmax-1pass --seq 2048)
"$cascade" "${common[@]}" --mapper search --search-budget 3000 --save-mapping "$dir/m.yaml" \
  | grep '^  latency' > "$dir/search.txt"
"$cascade" "${common[@]}" --mapper "$dir/m.yaml" | grep '^  latency' > "$dir/file.txt"
diff "$dir/search.txt" "$dir/file.txt"
grep -q 'mapper: "search"' "$dir/m.yaml"
