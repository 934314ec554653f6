#!/usr/bin/env python3
"""The cycle-level model against the analytical model on the shipped designs.

Runs `cascade simulate` on each design (FuseMax, FLAT and unfused on BERT-base; the generic
mappings of the linear, lightning and neighborhood cascades on XLM) and writes
experiments/cycle/results/agreement.{csv,md}: both models' cycles, the difference, where the
bottleneck unit's time went (busy plus every cause), and the simulator's wall time.

    /usr/bin/python3 experiments/cycle/agreement.py --build build
"""

import argparse
import csv
import datetime
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

DESIGNS = [  # (name, arguments)
    ("FuseMax, BERT-base 1K", "--arch fusemax --workload bert-base --seq 1024"),
    ("FuseMax, BERT-base 4K", "--arch fusemax --workload bert-base --seq 4096"),
    ("FuseMax, BERT-base 64K", "--arch fusemax --workload bert-base --seq 65536"),
    ("FuseMax, BERT-base 256K", "--arch fusemax --workload bert-base --seq 262144"),
    ("FLAT, BERT-base 1K", "--arch flat --workload bert-base --cascade softmax-3pass --mapper flat --seq 1024"),
    ("FLAT, BERT-base 4K", "--arch flat --workload bert-base --cascade softmax-3pass --mapper flat --seq 4096"),
    ("FLAT, BERT-base 64K", "--arch flat --workload bert-base --cascade softmax-3pass --mapper flat --seq 65536"),
    ("FLAT, BERT-base 256K", "--arch flat --workload bert-base --cascade softmax-3pass --mapper flat --seq 262144"),
    ("unfused, BERT-base 1K", "--arch unfused --workload bert-base --cascade softmax-3pass --mapper unfused --seq 1024"),
    ("unfused, BERT-base 4K", "--arch unfused --workload bert-base --cascade softmax-3pass --mapper unfused --seq 4096"),
    ("unfused, BERT-base 64K", "--arch unfused --workload bert-base --cascade softmax-3pass --mapper unfused --seq 65536"),
    ("unfused, BERT-base 256K", "--arch unfused --workload bert-base --cascade softmax-3pass --mapper unfused --seq 262144"),
    ("linear, XLM 64K", "--arch fusemax --workload xlm --cascade linear --seq 65536"),
    ("chunked causal linear, XLM 16K", "--arch fusemax --workload xlm --cascade linear-causal-chunked --seq 16384"),
    ("lightning, XLM 16K", "--arch fusemax --workload xlm --cascade lightning --seq 16384"),
    ("neighborhood 1D, XLM 16K", "--arch fusemax --workload xlm --cascade neighborhood-1d --seq 16384"),
]


def number(text):
    return float(text.replace(",", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    cascade = os.path.join(args.build, "sim", "cascade")
    rows = []
    for name, design in DESIGNS:
        out = subprocess.run([cascade, "simulate", *design.split(), "--quiet"], cwd=ROOT,
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{name}: {out.stderr}")
        text = out.stdout
        cycles = number(re.search(r"^  cycles +([\d,]+)", text, re.M).group(1))
        analytical = number(re.search(r"^  analytical +([\d,]+) cycles", text, re.M).group(1))
        bottleneck = re.search(r"^  bottleneck +(\S+)", text, re.M).group(1)
        time_line = re.search(rf"^    {bottleneck} +(busy .*) = [\d,]+$", text, re.M).group(1)
        wall = float(re.search(r"simulated in ([\d.]+) s", text).group(1))
        rows.append({
            "design": name, "arguments": design, "cycle_model": f"{cycles:.0f}",
            "analytical": f"{analytical:.0f}", "difference_percent": f"{100 * (cycles / analytical - 1):+.3f}",
            "bottleneck": bottleneck, "bottleneck_time": time_line,
            "wall_s": f"{wall:.2f}"})
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "agreement.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    machine = f"{platform.node() and 'this machine'}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    with open(os.path.join(args.out, "agreement.md"), "w") as f:
        f.write(f"Cycle-level model vs analytical model, {datetime.date.today()} ({machine}; "
                "`experiments/cycle/agreement.py`).\n\n")
        f.write("| design | cycle model | analytical | difference | the bottleneck unit's time | simulation |\n")
        f.write("|---|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['design']} | {int(float(r['cycle_model'])):,} | {int(float(r['analytical'])):,} | "
                    f"{r['difference_percent']} % | {r['bottleneck']}: {r['bottleneck_time']} | {r['wall_s']} s |\n")
    print(open(os.path.join(args.out, "agreement.md")).read())


if __name__ == "__main__":
    main()
