#!/usr/bin/env python3
"""Speed of the cycle-level model (issue 11's benchmark cases; a benchmark, not a test).

Runs `cascade simulate` on:
  - FuseMax, BERT-base 1K (B = 64, H = 12), timing-only: every slice, and with slice scaling;
  - a GEMM of 4096 x 4096 x 64 on a 256 x 256 output-stationary array (fill and drain per
    fold, and folds overlapped), timing-only: the wavefront Array2D;
  - the per-PE Array2D on 16 x 16 (a 256 x 256 x 512 GEMM, fill/drain per fold): PE-cycles
    simulated per second (PEs x the array's cycles / the simulation's wall time);
and writes experiments/cycle/results/speed-<date>.md with the machine and date. Each
time is the simulation's own wall time as `simulate` prints it (not the process start, the
file reading or the analytical model), best of --repeat runs. Data mode's speed has its own
script, experiments/cycle/data_speed.sh.

    /usr/bin/python3 experiments/cycle/speed.py --build build [--repeat 3]
"""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

GEMM_CASCADE = """name: gemm
inputs: {A: [M, K], B: [K, N]}
shapes: {M: 64, N: 64, K: 64}
einsums: |
  C[m, n] = A[m, k] * B[k, n]
outputs: [C]
"""


def arch(side, fill_drain):
    # Bandwidth and buffer large enough that the array alone sets the time (the GEMM case
    # of tests/agreement/test_cycle_gemm.cpp).
    return f"""name: gemm-array-{side}
clock_hz: 1e9
word_bits: 16
components:
  dram: {{kind: dram, access_bits: 64, bandwidth_bytes_per_s: 1e18, energy_pj: {{read: 1, write: 1}}, area_um2: 0}}
  glb: {{kind: buffer, capacity_bytes: 1073741824, access_bits: 64, banks: 1024, row_bits: 65536, energy_pj: {{read: 1, write: 1}}, area_um2: 1}}
  rf_2d: {{kind: register_file, energy_pj: {{read: 1, write: 1}}, area_um2: 1}}
  mac_2d: {{kind: compute, energy_pj: {{mac: 1}}, area_um2: 1}}
  add_1d: {{kind: compute, energy_pj: {{add: 1}}, area_um2: 1}}
arrays:
  array_2d: {{role: matrix, rows: {side}, cols: {side}, fill_drain: {fill_drain}, register_file: rf_2d, register_file_entries: 16, pe_components: [mac_2d], ops: {{mac: {{mac: 1}}}}}}
  array_1d: {{role: vector, cols: 16, pe_components: [add_1d], ops: {{add: {{add: 1}}}}}}
"""


def mapping(side, m, n, k):
    return f"""name: gemm-os
tensors: {{A: {{home: dram}}, B: {{home: dram}}, C: {{home: dram}}}}
groups:
  - name: gemm
    dram_loops: [batch: 1, head: 1]
    einsums:
      - einsum: C
        unit: array_2d
        buffer_loops: [M: {m // side}, N: {n // side}, K: {k}]
        spatial: {{cols: [N: {side}], rows: [M: {side}]}}
"""


def workload(cascade_path, m, n, k):
    return f"""name: gemm-{m}x{n}x{k}
cascade: {cascade_path}
batch: 1
heads: 1
shapes: {{M: {m}, N: {n}, K: {k}}}
"""


def simulate(cascade, args, repeat):
    best, text = None, ""
    for _ in range(repeat):
        out = subprocess.run([cascade, "simulate", *args, "--quiet", "--timing-only"], cwd=ROOT,
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"simulate {' '.join(args)}: {out.stderr}")
        wall = float(re.search(r"simulated in ([\d.]+) s", out.stdout).group(1))
        if best is None or wall < best:
            best, text = wall, out.stdout
    cycles = float(re.search(r"^  cycles +([\d,]+)", text, re.M).group(1).replace(",", ""))
    return best, cycles


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    cascade = os.path.abspath(os.path.join(args.build, "sim", "cascade"))
    rows = []
    bert = "--arch fusemax --workload bert-base --seq 1024".split()
    wall, cycles = simulate(cascade, bert + ["--slices", "0"], args.repeat)
    rows.append(("FuseMax, BERT-base 1K (B = 64, H = 12), every slice", wall, cycles, "< 2 s", ""))
    wall, cycles = simulate(cascade, bert, args.repeat)
    rows.append(("same, slice scaling (default)", wall, cycles, "< 0.1 s", ""))
    with tempfile.TemporaryDirectory() as tmp:
        cascade_path = os.path.join(tmp, "gemm.yaml")
        with open(cascade_path, "w") as f:
            f.write(GEMM_CASCADE)

        def files(side, fill_drain, m, n, k):
            names = []
            for stem, text in (("arch", arch(side, fill_drain)), ("mapping", mapping(side, m, n, k)),
                               ("workload", workload(cascade_path, m, n, k))):
                path = os.path.join(tmp, f"{stem}-{side}-{fill_drain}-{m}.yaml")
                with open(path, "w") as f:
                    f.write(text)
                names.append(path)
            return ["--arch", names[0], "--mapper", names[1], "--workload", names[2]]

        for fill_drain in ("per_fold", "overlapped"):
            wall, cycles = simulate(cascade, files(256, fill_drain, 4096, 4096, 64), args.repeat)
            rows.append((f"GEMM 4096 x 4096 x 64 on 256 x 256, output stationary, {fill_drain}",
                         wall, cycles, "< 0.5 s", ""))
        wall, cycles = simulate(cascade, files(16, "per_fold", 256, 256, 512) + ["--per-pe"], args.repeat)
        rate = 16 * 16 * cycles / wall
        rows.append(("per-PE Array2D 16 x 16, GEMM 256 x 256 x 512, per_fold", wall, cycles,
                     ">= 5M PE-cycles/s", f"{rate / 1e6:.1f}M PE-cycles/s"))

    os.makedirs(args.out, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc)
    path = os.path.join(args.out, f"speed-{stamp:%Y-%m-%d}.md")
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open(path, "w") as f:
        f.write(f"# Cycle-level model speed\n\n- date: {stamp:%Y-%m-%d %H:%M} UTC\n"
                f"- machine: {cpu}; {os.cpu_count()} cores; load average at the end "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
                f"- command: `/usr/bin/python3 experiments/cycle/speed.py --build {args.build} "
                f"--repeat {args.repeat}` (best of {args.repeat}; the simulation's wall time "
                "as `simulate` prints it; timing-only)\n\n")
        f.write("| case | simulation | cycles | target | rate |\n|---|---|---|---|---|\n")
        for name, wall, cycles, target, rate in rows:
            shown = f"{wall:.2f} s" if wall >= 0.005 else "< 0.01 s"
            f.write(f"| {name} | {shown} | {cycles:,.0f} | {target} | {rate} |\n")
    print(open(path).read())


if __name__ == "__main__":
    main()
