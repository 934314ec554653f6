#!/usr/bin/env bash
# `cascade ops`: a column for every operator counted (none under "other"), `cmp*` for the
# comparisons of `where` conditions, and --json with the same counts; values are closed
# forms at the cascades' default shapes (mappings/README.md, "Operator counts").
set -u
cascade="$1"; cascades="$2"
fail() { echo "FAIL: $*"; exit 1; }
out="$("$cascade" ops "$cascades/linear.yaml")" || fail "ops linear exited $?"
header="$(grep -m1 ' einsum ' <<<"$out")"
for col in MAC add div elu1; do grep -qw -- "$col" <<<"$header" || fail "linear: no column $col in: $header"; done
grep -q 'other' <<<"$header" && fail "linear: an 'other' column: $header"
grep -q 'cmp' <<<"$header" && fail "linear has no where, but a cmp column: $header"
out="$("$cascade" ops "$cascades/softmax-causal.yaml")" || fail "ops softmax-causal exited $?"
grep -q 'cmp\*' <<<"$out" || fail "softmax-causal: no cmp* column"
grep -q 'counted, not priced' <<<"$out" || fail "softmax-causal: cmp not said to be unpriced"
/usr/bin/python3 - "$cascade" "$cascades" <<'PY' || exit 1
import json, subprocess, sys
cascade, cascades = sys.argv[1], sys.argv[2]
def ops(name):
    return json.loads(subprocess.check_output([cascade, "ops", "--json", f"{cascades}/{name}.yaml"]))
# linear, P = M = 64, E = F = 16: elu1 on Q and K, (P + M) * E.
t = ops("linear")["total"]
assert t["ops"]["elu1"] == 128 * 16, t
assert t["cmp"] == 0, t
# softmax-causal, P = M = 64, F = 16: QK GM SN SD A test m <= p at P*M points, AV at F*P*M.
j = ops("softmax-causal")
assert j["total"]["cmp"] == 5 * 64 * 64 + 16 * 64 * 64, j["total"]
assert j["not_priced"] == ["cmp"], j
assert "cmp" not in j["total"]["ops"], j["total"]
# linear-hedgehog, D = 8, P = M = 64: max and min once per softmax input, D * (P + M).
h = ops("linear-hedgehog")
assert h["columns"] == ["mac", "add", "sub", "div", "exp", "max", "min"], h["columns"]
assert h["total"]["ops"]["min"] == 8 * 128 and h["total"]["ops"]["max"] == 8 * 128, h["total"]
phiq = [e for e in h["einsums"] if e["name"] == "PHIQ"][0]
assert phiq["points"] == 16 * 64 and phiq["ops"] == {"div": 16 * 64}, phiq  # concat: no op
PY
echo "ops columns ok"
