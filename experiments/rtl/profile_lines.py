#!/usr/bin/env python3
"""Groups `perf report --sort srcline` output (stdin) of a Verilated loop tile_2d probe into
the PE loop's fp32 arithmetic, the rest of the PE loop, and the rest of the tile's code, by
line of the generated C++ in GEN (profile_probe.sh). Usage: profile_lines.py GEN < report"""
import glob
import re
import sys

gen = sys.argv[1]
# the PE loop: the `while` whose body calls pe_cycle, found by brace counting
loops = {}   # file -> (first, last) line of the loop
arith = {}   # file -> set of lines of the fp32 arithmetic inside the loop
names = re.compile(r"__Vfunc_(mul_round|add_round|normalize|round_pack|sig_of|exp_of|is_nan|"
                   r"is_inf|is_zero)__\d+__")
for path in glob.glob(gen + "/*.cpp"):
    lines = open(path).read().split("\n")
    for k, line in enumerate(lines):
        if line.lstrip().startswith("while (") and "pe_cycle" in "".join(lines[k:k + 3]):
            depth, end = 0, k
            for end in range(k, len(lines)):
                depth += lines[end].count("{") - lines[end].count("}")
                if depth == 0 and end > k:
                    break
            loops[path.split("/")[-1]] = (k + 1, end + 1)
            tagged, in_arith = set(), False
            for m in range(k, end + 1):
                if lines[m].strip().startswith("__V") or "vlSelf->" in lines[m]:
                    in_arith = bool(names.search(lines[m]))  # a new statement
                if in_arith:
                    tagged.add(m + 1)
            arith[path.split("/")[-1]] = tagged
            break
share = {"PE loop: fp32 multiply and add": 0.0, "PE loop: the rest": 0.0,
         "rest of the tile (outside the loop)": 0.0, "outside the tile's code": 0.0}
for line in sys.stdin:
    f = line.split()
    if len(f) != 2 or not f[0].endswith("%"):
        continue
    pct, where = float(f[0][:-1]), f[1]
    name, _, num = where.rpartition(":")
    if name.startswith("Vtile_2d___024root__DepSet") and num.isdigit():
        lo, hi = loops.get(name, (0, -1))
        if lo <= int(num) <= hi:
            key = ("PE loop: fp32 multiply and add" if int(num) in arith[name]
                   else "PE loop: the rest")
        else:
            key = "rest of the tile (outside the loop)"
    else:
        key = "outside the tile's code"
    share[key] += pct
for key, pct in share.items():
    print(f"{pct:5.1f} %  {key}")
