#!/usr/bin/env bash
# Outputs: never over an input, never half-written, every write checked.
#   outputs.sh CASCADE SOURCE_DIR WORK_DIR
set -u
cascade="$1"; src="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect CODE FRAGMENT command...: exit code and a fragment of stdout+stderr.
expect() {
  local want="$1" fragment="$2"; shift 2
  local out code
  out="$("$@" 2>&1)"; code=$?
  if [ "$code" != "$want" ]; then fail "exit $code (want $want): $*"; echo "$out" | tail -5; return; fi
  if [ -n "$fragment" ] && ! grep -qF -- "$fragment" <<<"$out"; then
    fail "no '$fragment' in the output of: $*"; echo "$out" | tail -5
  fi
}
run=(run --workload bert-base --seq 1024)

# An output naming an input is refused and the input is left as it was.
cp "$src/configs/arch/fusemax.yaml" A.yaml
expect 2 "is the arch file this command reads" "$cascade" "${run[@]}" --arch A.yaml --json A.yaml
cmp -s A.yaml "$src/configs/arch/fusemax.yaml" || fail "--json A.yaml changed the architecture file"
cp "$src/configs/mappings/fusemax-bert-base-4k.yaml" M.yaml
expect 2 "is the mapping file this command reads" "$cascade" "${run[@]}" --arch fusemax \
  --mapper M.yaml --csv M.yaml
cmp -s M.yaml "$src/configs/mappings/fusemax-bert-base-4k.yaml" || fail "--csv M.yaml changed the mapping"
expect 2 "name the same file" "$cascade" "${run[@]}" --arch fusemax --json same.json --trace same.json
cp "$src/tests/data/reliability/one-point.yaml" S.yaml
expect 2 "is the sweep file this command reads" "$cascade" sweep S.yaml --db S.sqlite --csv S.yaml --quiet
cmp -s S.yaml "$src/tests/data/reliability/one-point.yaml" || fail "sweep --csv S.yaml changed the sweep file"
expect 2 "is the sweep file this command reads" "$cascade" sweep S.yaml --db S.yaml --quiet
cmp -s S.yaml "$src/tests/data/reliability/one-point.yaml" || fail "sweep --db S.yaml changed the sweep file"

# A failed run leaves no output; when one output fails, the others are not written either,
# and an existing file keeps its old contents.
expect 2 "mapper" "$cascade" "${run[@]}" --arch fusemax --mapper warp --json failed.json
[ ! -e failed.json ] || fail "a failed run left --json failed.json"
echo old > kept.json
expect 2 "cannot write --trace file" "$cascade" "${run[@]}" --arch fusemax --json kept.json \
  --csv kept.csv --trace no-such-dir/trace.json
[ "$(cat kept.json)" = old ] || fail "--json was replaced although --trace failed"
[ ! -e kept.csv ] || fail "--csv was written although --trace failed"
ls -a | grep -q '\.tmp-' && fail "temporary files left behind: $(ls -a | grep '\.tmp-')"

# Every write is checked: a full disk is exit 2 with the path and the OS error.
for option in --json --csv --trace --save-mapping; do
  expect 2 "cannot write $option file '/dev/full': No space left on device" \
    "$cascade" "${run[@]}" --arch fusemax "$option" /dev/full
done
expect 2 "cannot write --csv file '/dev/full': No space left on device" \
  "$cascade" sweep S.yaml --db full.sqlite --csv /dev/full --quiet
expect 2 "cannot write standard output" bash -c "'$cascade' print '$src/configs/cascades/softmax-1pass.yaml' > /dev/full"
# ... and a good run writes them all (the temporary file renamed into place).
expect 0 "latency" "$cascade" "${run[@]}" --arch fusemax --json good.json --csv good.csv
[ -s good.json ] && [ -s good.csv ] || fail "a good run did not write --json and --csv"
expect 0 "latency" "$cascade" "${run[@]}" --arch fusemax --json /dev/null

# A sweep CSV replaced only by a complete one: the old file survives a failed sweep.
expect 0 "wrote" "$cascade" sweep S.yaml --db S.sqlite --csv S.csv --quiet
cp S.csv S.csv.before
: > empty.sqlite
expect 2 "empty file (0 bytes)" "$cascade" sweep S.yaml --db empty.sqlite --csv S.csv --quiet
cmp -s S.csv S.csv.before || fail "a failed sweep changed the previous CSV"

# Inputs: regular files only, with a size cap.
expect 2 "it is a character device, not a regular file" "$cascade" run --arch /dev/zero --workload bert-base
expect 2 "it is a directory, not a regular file" "$cascade" run --arch "$src/configs" --workload bert-base
expect 2 "it is a directory, not a regular file" "$cascade" print "$src/configs"
mkfifo fifo.yaml
expect 2 "it is a FIFO" timeout 10 "$cascade" print fifo.yaml
truncate -s 100M huge.yaml
expect 2 "more than the 64.00 MiB an input file may have" "$cascade" print huge.yaml

echo "outputs: $failures failures"
[ "$failures" -eq 0 ]
