#!/usr/bin/env bash
# Every malformed cascade in tests/data/bad/ makes `cascade print` exit 2 with the
# expected file:line:col and message fragment (tests/data/bad/expected.txt).
set -u
cascade="$1"; dir="$2"
failures=0; count=0
while read -r file location fragment; do
  case "$file" in ''|'#'*) continue ;; esac
  count=$((count + 1))
  output="$("$cascade" print "$dir/$file" 2>&1)"; code=$?
  if [ "$code" != 2 ]; then
    echo "FAIL $file: exit $code, expected 2"; failures=$((failures + 1)); continue
  fi
  if ! grep -qF -- "$file:$location" <<<"$output" || ! grep -qF -- "$fragment" <<<"$output"; then
    echo "FAIL $file: expected '$file:$location' and '$fragment', got: $output"
    failures=$((failures + 1))
  fi
done < "$dir/expected.txt"
echo "$count bad cascades, $failures failures"
[ "$count" -ge 15 ] && [ "$failures" -eq 0 ]
