#!/usr/bin/env bash
# Action counts: the cycle model's (`simulate --json`: its compute actions from the points of
# the operations it simulated, weighted by the slices each stands for; its DRAM, buffer and
# register-file actions from the plan's traffic, counted by walking the iterations) against
# the analytical model's (`run --json`: closed forms and the reuse formula), component by
# component, action by action: equal to a relative 1e-9 (floating-point sums).
# Usage: actions_equal.sh CASCADE DESIGN_ARGS...
set -euo pipefail
cascade=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$cascade" run "$@" --json "$dir/run.json" > /dev/null
"$cascade" simulate "$@" --json "$dir/sim.json" --quiet > /dev/null
/usr/bin/python3 - "$dir/run.json" "$dir/sim.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["actions"]
sim = json.load(open(sys.argv[2]))["actions"]
bad, compared = [], 0
for comp in sorted(set(run) | set(sim)):
    for act in sorted(set(run.get(comp, {})) | set(sim.get(comp, {}))):
        a, b = run.get(comp, {}).get(act, 0.0), sim.get(comp, {}).get(act, 0.0)
        compared += 1
        if abs(a - b) > 1e-9 * max(abs(a), abs(b), 1.0):
            bad.append(f"  {comp}.{act}: analytical {a:.9g}, cycle model {b:.9g}")
if compared == 0 or bad:
    print("action counts differ:" if bad else "no action counts", *bad, sep="\n")
    sys.exit(1)
print(f"ok: {compared} action counts equal")
PY
