#!/usr/bin/env python3
"""What FuseMax's mapping keeps in the 2D PEs' register files, and what a schedule that fits
them costs (a benchmark-style experiment, not a test).

The fusemax mapper runs each 2D Einsum of an M1 tile over all P1 folds before the next
Einsum, so a PE keeps one BQK (then SLN) word per fold: P1 words, more with the units running
ahead. `cascade simulate` reports what the schedule holds (README, "Register-file
occupancy"). The variant written here moves the P1 loop out of every Einsum's buffer loops to
the innermost DRAM loop (after M1): the Einsums then run fold by fold (BQK, LM, ..., SLN V of
one P0-column fold before the next) and a PE holds one word per tile in flight. For each
sequence length it runs `cascade run` (analytical) and `cascade simulate` (cycle model) on
both mappings and writes experiments/fusemax/results/register-capacity-DATE.md.

    /usr/bin/python3 experiments/fusemax/register_capacity.py --build build [--seq 1024 16384]
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def interleaved(mapping):
    """The mapping with each Einsum's P buffer loop moved to the end of its group's DRAM loops."""
    out = json.loads(json.dumps(mapping))  # a deep copy
    out["name"] = mapping["name"] + ", interleaved per P fold"
    for group in out["groups"]:
        factors = set()
        for e in group["einsums"]:
            loops = e.get("buffer_loops", [])
            factors |= {loop["P"] for loop in loops if "P" in loop}
            e["buffer_loops"] = [loop for loop in loops if "P" not in loop]
        if len(factors) != 1:
            sys.exit(f"group {group['name']}: the Einsums' P buffer loops differ: {sorted(factors)}")
        group["dram_loops"].append({"P": factors.pop()})
    return out


def cascade(build, *args):
    r = subprocess.run([os.path.join(build, "sim", "cascade"), *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"cascade {' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def field(text, pattern):
    m = re.search(pattern, text, re.M)
    return m.group(1).replace(",", "") if m else "-"


def dram_gb(run):
    m = re.search(r"^  DRAM +([0-9.]+) ([kMGT]?B) ", run, re.M)
    scale = {"B": 1e-9, "kB": 1e-6, "MB": 1e-3, "GB": 1, "TB": 1e3}
    return f"{float(m.group(1)) * scale[m.group(2)]:.3f}" if m else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--seq", type=int, nargs="+", default=[1024, 16384, 65536])
    ap.add_argument("--out", default=os.path.join(HERE, "results", f"register-capacity-{time.strftime('%Y-%m-%d')}.md"))
    a = ap.parse_args()
    point = ["--arch", "fusemax", "--workload", "bert-base"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seq in a.seq:
            base = os.path.join(tmp, f"fusemax-{seq}.yaml")
            cascade(a.build, "run", *point, "--seq", str(seq), "--save-mapping", base)
            with open(base) as f:
                mapping = yaml.safe_load(f)
            inter = os.path.join(tmp, f"fusemax-{seq}-interleaved.yaml")
            with open(inter, "w") as f:
                yaml.safe_dump(interleaved(mapping), f, sort_keys=False)
            for name, path in (("fusemax", base), ("interleaved", inter)):
                run = cascade(a.build, "run", *point, "--seq", str(seq), "--mapper", path)
                sim = cascade(a.build, "simulate", *point, "--seq", str(seq), "--mapper", path, "--quiet")
                stalls = re.findall(r"^    (array_[0-9a-z]+|dram) +busy [0-9,]+((?: \+ [a-z_]+ [0-9,]+)*) =", sim, re.M)
                rows.append({
                    "seq": seq, "mapping": name,
                    "latency_ms": field(run, r"^  latency +([0-9.]+) ms"),
                    "energy_j": field(run, r"^  energy +([0-9.]+) J"),
                    "dram_gb": dram_gb(run),
                    "analytical": field(sim, r"^  analytical +([0-9,]+) cycles"),
                    "cycle": field(sim, r"^  cycles +([0-9,]+)"),
                    "difference": field(sim, r"^  difference +([-+0-9.]+) %"),
                    "words": field(sim, r"^  registers +array_2d holds up to ([0-9,]+) words"),
                    "entries": field(sim, r"^  registers .*\); ([0-9]+) entries"),
                    "stalls": "; ".join(f"{u}{s}" for u, s in stalls if s),
                })
    with open(a.out, "w") as f:
        f.write("# FuseMax's register-file occupancy, and a mapping that fits it\n\n")
        f.write(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        f.write(f"- machine: {platform.platform()}; {os.cpu_count()} cores\n")
        f.write(f"- command: /usr/bin/python3 experiments/fusemax/register_capacity.py --build "
                f"{os.path.basename(os.path.abspath(a.build))} --seq {' '.join(map(str, a.seq))}\n")
        f.write("- design: configs/arch/fusemax.yaml (256 x 256 2D array, rf_2d 16 entries), BERT-base "
                "(batch 64, 12 heads), softmax-1pass; `fusemax` is the mapper's mapping, `interleaved` "
                "the same with the P1 loop moved to the innermost DRAM loop\n")
        f.write("- words: the most words per PE the cycle model's schedule keeps of BQK and SLN "
                "(`cascade simulate`, tiles in flight 3)\n\n")
        f.write("| seq | mapping | words per PE (entries) | latency ms | energy J | DRAM GB | analytical cycles "
                "| cycle model | difference | the cycle model's stalls |\n")
        f.write("|---|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['seq']} | {r['mapping']} | {r['words']} ({r['entries']}) | {r['latency_ms']} | "
                    f"{r['energy_j']} | {r['dram_gb']} | {r['analytical']} | {r['cycle']} | "
                    f"{r['difference']} % | {r['stalls']} |\n")
    print(open(a.out).read())


if __name__ == "__main__":
    main()
