#!/usr/bin/env bash
# expect.sh EXIT_CODE FRAGMENT -- command...
# Runs the command; passes when it exits with EXIT_CODE and its output (stdout+stderr)
# contains FRAGMENT (an empty FRAGMENT matches anything).
set -u
want_code="$1"; fragment="$2"; shift 3
output="$("$@" 2>&1)"; code=$?
if [ "$code" != "$want_code" ]; then
  echo "expected exit $want_code, got $code from: $*"; echo "$output"; exit 1
fi
if [ -n "$fragment" ] && ! grep -qF -- "$fragment" <<<"$output"; then
  echo "output lacks '$fragment' from: $*"; echo "$output"; exit 1
fi
echo "ok: $*"
