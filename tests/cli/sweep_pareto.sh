#!/usr/bin/env bash
# From a sweep file to a Pareto plot in two commands (configs/sweeps/README.md), and the
# front two implementations find: `cascade sweep report` (C++) and
# experiments/sweeps/pareto.py (Python, written apart) must name the same points.
#   sweep_pareto.sh CASCADE SOURCE_DIR WORK_DIR
set -euo pipefail
cascade="$1"; src="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"; cd "$work"
"$cascade" sweep "$src/configs/sweeps/attention-families.yaml" --db families.sqlite --quiet
/usr/bin/python3 "$src/experiments/sweeps/pareto.py" families.sqlite --front-csv python-front.csv > python.txt
test -s families.png || { echo "FAIL: no plot"; exit 1; }
"$cascade" sweep report families.sqlite --csv cascade-front.csv > cascade.txt
cut -d, -f1,2 cascade-front.csv | sort > a.txt
sort python-front.csv > b.txt
if ! cmp -s a.txt b.txt; then echo "FAIL: the fronts differ"; diff a.txt b.txt; exit 1; fi
n=$(($(wc -l < a.txt) - 1))
grep -q "front over (latency, energy, area): $n of 384 points" python.txt
grep -q "front over (latency, energy, area): $n of 384 points" cascade.txt
[ "$n" -gt 1 ] && [ "$n" -lt 384 ] || { echo "FAIL: a front of $n points proves nothing"; exit 1; }
# One family at one length, as the README's plot.
/usr/bin/python3 "$src/experiments/sweeps/pareto.py" families.sqlite --where cascade=linear \
  --where seq=65536 --out linear.png > linear.txt
grep -q "of 48 points" linear.txt && test -s linear.png
echo "ok: both find the same $n-point front of 384; plots written"
