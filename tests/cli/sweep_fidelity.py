#!/usr/bin/env python3
"""`fidelity: cycle` and `mapper: search` points of a sweep against the commands that run one
point: a cycle row equals `cascade simulate --timing-only` of the same point (the cycle model's
cycles, latency and energy; it ran in a forked child of the sweep), an analytical row equals
`cascade run --csv`, for the fusemax mapper and the search. The cycle rows must differ from the
analytical ones (a sweep that ignored `fidelity` fails) yet agree within the 2 % the cycle
model is held to (for the fusemax mapper). Two threads forking children give the same CSV bytes as one.

    sweep_fidelity.py CASCADE WORK_DIR
"""
import csv
import json
import os
import shutil
import subprocess
import sys

cascade, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
POINT = ["--arch", "fusemax", "--workload", "bert-base", "--seq", "1024"]
sweep = os.path.join(work, "fidelity.yaml")
with open(sweep, "w") as f:
    f.write("name: fidelity\n"
            "base: {arch: fusemax, workload: bert-base, seq: 1024}\n"
            "axes:\n"
            "  - mapper: [fusemax, search]\n"
            "  - fidelity: [analytical, cycle]\n")


def run(*args):
    p = subprocess.run([cascade, *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"cascade {' '.join(args)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


for jobs in ("1", "2"):
    run("sweep", sweep, "--db", f"{work}/j{jobs}.sqlite", "--csv", f"{work}/j{jobs}.csv",
        "-j", jobs, "--quiet")
with open(f"{work}/j1.csv", "rb") as a, open(f"{work}/j2.csv", "rb") as b:
    check(a.read() == b.read(), "the CSV with 2 threads equals the one with 1, byte for byte")
again = run("sweep", sweep, "--db", f"{work}/j1.sqlite", "--csv", f"{work}/again.csv")
check("computed 0 points" in again, "a rerun reuses the cycle points from the database")

by_point = {(r["mapper"], r["fidelity"]): r for r in rows(f"{work}/j1.csv")}
check(len(by_point) == 4 and all(r["status"] == "ok" for r in by_point.values()),
      f"four successful points ({[(k, r['status'], r['error']) for k, r in by_point.items()]})")

for mapper in ("fusemax", "search"):
    # Analytical: the same summary columns as `cascade run --csv`.
    run("run", *POINT, "--mapper", mapper, "--csv", f"{work}/run-{mapper}.csv")
    expected = rows(f"{work}/run-{mapper}.csv")[0]
    got = by_point[(mapper, "analytical")]
    diff = [c for c in expected if got.get(c) != expected[c]]
    check(not diff, f"{mapper} analytical row equals `run --csv` (differs in {diff})")
    # Cycle: the cycle model's figures, as `cascade simulate --timing-only` reports them.
    run("simulate", *POINT, "--mapper", mapper, "--timing-only", "--quiet",
        "--json", f"{work}/simulate-{mapper}.json")
    with open(f"{work}/simulate-{mapper}.json") as f:
        sim = json.load(f)
    cyc = by_point[(mapper, "cycle")]
    for column in ("cycles", "latency_s", "energy_j", "dram_bytes"):
        check(float(cyc[column]) == sim[column],
              f"{mapper} cycle row's {column} {cyc[column]} equals simulate's {sim[column]}")
    check(cyc["mapping"] == sim["mapping"] and cyc["area_mm2"] == got["area_mm2"],
          f"{mapper} cycle row: the simulated mapping, the same area")
    analytical = float(got["cycles"])
    check(float(cyc["cycles"]) != analytical,
          f"{mapper} cycle row's cycles ({cyc['cycles']}) are the cycle model's, not the "
          f"analytical {got['cycles']}")
    check(analytical == sim["simulation"]["analytical_cycles"],
          f"{mapper}: simulate's analytical cycles equal the analytical row's")
    # The 2 % the cycle model is held to covers the hand mappers (tests/agreement); the
    # search's mappings are reported, not held to it (+2.8 % here on 2026-12-02).
    difference = 100 * (float(cyc["cycles"]) / analytical - 1)
    if mapper == "fusemax":
        check(abs(difference) < 2, f"{mapper}: cycle and analytical rows within 2 % "
              f"({difference:+.3f} %)")
    else:
        print(f"note: {mapper}: the cycle row is {difference:+.3f} % off the analytical row")

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
