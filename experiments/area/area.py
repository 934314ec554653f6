#!/usr/bin/python3
"""`make area`: synthesizes the hdl/ kernels with yosys 0.23 (generic cells), estimates
their area in gate equivalents (GE) and um^2, and prints them next to the component
areas of an arch YAML (configs/arch/fusemax.yaml) with the ratio estimate / YAML.

Flow per kernel (hdl/synth/sv2yosys.py first rewrites the SystemVerilog into what yosys
0.23's read_verilog -sv parses; see that file for each construct):
    read_verilog -sv ...; chparam ...; synth -top TOP; stat            (generic cells)
    dfflegalize (enables -> muxes); abc -g GATES; opt_clean; stat      (gate-mapped)
The design is not flattened: each distinct (module, parameters) is synthesized once and
`stat` totals the hierarchy, so constants on instance ports (a PE's row) are not
propagated into the instance.

Area assumptions (printed with the table, see ASSUMPTIONS):
  * combinational gate = its static-CMOS transistor count / 4 GE (a NAND2 = 4 transistors
    = 1 GE), the counts being yosys 0.23's own `stat -tech cmos` table;
  * flip-flop = 5.667 GE: Nangate 45 nm Open Cell Library DFF_X1 4.522 um^2 / NAND2_X1
    0.798 um^2 (no reset; the kernels' flops have an asynchronous reset, so this is low);
  * 1 GE = 0.798 um^2 (NAND2_X1 of the Nangate/FreePDK45 library: 0.57 um x 1.4 um);
  * no wires, no placement density, no clock tree, no drive sizing: cell area only.

Usage: area.py [--yaml FILE] [--out FILE.md] [--kernels a,b] [--check] [--keep DIR]
  --check  (the ctest, label `area`): synthesize delay_line, fp32_mul and fp32_add only and
           check them against independent references (flip-flops = Width x Depth; the
           gate-mapped fp32_mul / fp32_add evaluated by yosys `eval` equal IEEE fp32
           products / sums, C's float rounding of the exact double result).
"""
import argparse
import ctypes
import os
import pathlib
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
HDL = ROOT / "hdl"
PACKAGES = ["fp32_pkg.sv", "tile_pkg.sv", "softmax_pkg.sv", "fp32_exp_pkg.sv", "pe_2d_pkg.sv"]

# abc's gate set: yosys's internal gates with one static-CMOS cell each (abc -g).
GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX,AOI3,OAI3,AOI4,OAI4"
# Transistors per gate: yosys 0.23 `stat -tech cmos` (kernel/cost.h), read back from
# yosys 0.23 on one cell of each type.
CMOS_TRANSISTORS = {"$_NOT_": 2, "$_NAND_": 4, "$_NOR_": 4, "$_AND_": 6, "$_OR_": 6,
                    "$_ANDNOT_": 6, "$_ORNOT_": 6, "$_XOR_": 12, "$_XNOR_": 12,
                    "$_MUX_": 12, "$_NMUX_": 10, "$_AOI3_": 6, "$_OAI3_": 6,
                    "$_AOI4_": 8, "$_OAI4_": 8, "$_BUF_": 4}
NAND2_UM2 = 0.798   # Nangate OCL NAND2_X1, 0.57 um x 1.4 um (LEF SIZE)
DFF_UM2 = 4.522     # Nangate OCL DFF_X1 (liberty area)
FF_GE = DFF_UM2 / NAND2_UM2

ASSUMPTIONS = f"""\
* Synthesis: yosys `synth -top TOP` (generic cells, hierarchy kept), then `dfflegalize`
  (flip-flop enables become muxes), `abc -g {GATES}`, `opt_clean`.
* GE of a combinational gate = its static-CMOS transistor count / 4 (NAND2 = 4 transistors
  = 1 GE), the counts from yosys 0.23's `stat -tech cmos` table: NOT 2, NAND/NOR 4,
  AND/OR/ANDNOT/ORNOT/AOI3/OAI3 6, AOI4/OAI4 8, XOR/XNOR/MUX 12.
* GE of a flip-flop = {FF_GE:.3f}: Nangate 45 nm Open Cell Library DFF_X1 {DFF_UM2} um^2 /
  NAND2_X1 {NAND2_UM2} um^2. The kernels' flip-flops have an asynchronous reset (a larger
  cell, DFFR), so the flip-flop share is a lower bound.
* um^2 = GE x {NAND2_UM2} (Nangate/FreePDK45 NAND2_X1, 0.57 um x 1.4 um): cell area only,
  no wiring, placement density, clock tree or drive sizing (a placed design is typically
  larger), no timing target (one fp32 multiply-add per cycle, unpipelined).
* The YAML areas are the FuseMax artifact's Accelergy 45 nm tables (Aladdin fp16 adder and
  multiplier, 16-bit max); the RTL computes in fp32 internally (bf16 storage), so a ratio
  well above 1 is expected: an fp32 multiplier array is about (24/11)^2 = 4.8x an fp16
  one's, an fp32 adder about 2x."""


def kernel_list():
    """Each kernel: label, top, parameters, files (packages added), YAML components
    (name, or "a-b" for a difference), note."""
    mul_add = ["fp32_mul.sv", "fp32_add.sv"]
    return [
        dict(name="fp32_mul", top="fp32_mul", params={}, files=["fp32_mul.sv"],
             yaml=["mac_2d-add_2d"], note="Aladdin fp16 multiplier (= mac_2d - add_2d); RTL: fp32 with the exp's 2^scale"),
        dict(name="fp32_add", top="fp32_add", params={}, files=["fp32_add.sv"],
             yaml=["add_2d"], note="Aladdin fp16 adder; RTL: fp32"),
        dict(name="fp32_exp_seq", top="fp32_exp_seq", params={}, files=["fp32_exp_seq.sv"],
             yaml=[], note="the YAML prices exp as 6 MACs + 1 add: no area of its own"),
        dict(name="fp32_exp_pwl_seq", top="fp32_exp_pwl_seq", params={},
             files=["fp32_exp_seq.sv", "fp32_exp_pwl_seq.sv"],
             yaml=[], note="the fast exp (--exp fast, pe_2d_fastexp): 8-segment linear 2^f, 4 cycles"),
        dict(name="fp32_div", top="fp32_div", params={}, files=["fp32_div.sv"],
             yaml=["divide_1d"], note="Accelergy divide_32b; RTL: fp32, radix-2, pipelined, 1 bit per stage"),
        dict(name="pe_2d", top="pe_2d", params={"StorageFormat": 0},
             files=mul_add + ["fp32_exp_seq.sv", "pe_2d.sv"],
             yaml=["mac_2d", "max_2d", "rf_2d"], note="fp16 MAC + 16-bit max + the 16 x 16-bit register file; RTL: fp32 mul + add + max, exp sequencer, 16 x 16-bit register file"),
        dict(name="pe_2d_rf1", top="pe_2d", params={"StorageFormat": 0, "Entries": 1},
             files=mul_add + ["fp32_exp_seq.sv", "pe_2d.sv"],
             yaml=["mac_2d", "max_2d"], note="pe_2d with a 1-entry register file: pe_2d minus this is the 15 more entries"),
        dict(name="pe_2d_fastexp", top="pe_2d_fastexp", params={"StorageFormat": 0},
             files=mul_add + ["fp32_exp_seq.sv", "fp32_exp_pwl_seq.sv", "pe_2d.sv", "pe_2d_fastexp.sv"],
             yaml=["mac_2d", "max_2d", "rf_2d"], note="as pe_2d, with the fast exp sequencer"),
        dict(name="softmax_lane", top="softmax_lane",
             params={"StorageFormat": 0, "NarrowResults": 1},
             files=mul_add + ["fp32_exp_seq.sv", "fp32_div.sv", "softmax_lane.sv"],
             yaml=["mac_1d", "max_1d", "divide_1d"], note="fp16 MAC + 16-bit max + divide_32b; RTL: fp32, no register file"),
        dict(name="delay_line", top="delay_line", params={"Width": 32, "Depth": 4},
             files=["delay_line.sv"], yaml=[], note="the tile's skew registers"),
        dict(name="tile_2d", top="tile_2d", params={"N": 4, "StorageFormat": 0},
             defines=["CASCADE_PE_MODULE=pe_2d"],  # the PEs as instances (the same logic as the loop)
             files=mul_add + ["fp32_exp_seq.sv", "pe_2d.sv", "delay_line.sv", "tile_2d.sv"],
             yaml=["16*mac_2d", "16*max_2d", "16*rf_2d"],
             note="16 PEs as above; RTL adds skew/deskew registers"),
        dict(name="bf16_mac_pe", top="bf16_mac_pe", params={},
             files=["bf16_fma.sv", "bf16_mac_pe.sv"], yaml=["mac_2d"],
             note="fp16 MAC; RTL: fused bf16 x bf16 + fp32"),
    ]


def run(cmd, log):
    with open(log, "w") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        tail = pathlib.Path(log).read_text().splitlines()[-15:]
        sys.exit(f"area: {' '.join(cmd[:2])} failed (log {log}):\n" + "\n".join(tail))


def parse_stat(text):
    """Cell counts by type of the last `stat` section (the hierarchy total if there is
    one, else the single module)."""
    sections = re.split(r"^=== (.*?) ===$", text, flags=re.M)
    body = sections[-1]
    counts = {}
    for m in re.finditer(r"^\s+(\$_[A-Z0-9_]+_)\s+(\d+)\s*$", body, flags=re.M):
        counts[m.group(1)] = int(m.group(2))   # internal gates only, not module names
    total = re.findall(r"Number of cells:\s+(\d+)", body)
    return counts, int(total[-1]) if total else 0


def is_ff(cell):
    return cell.startswith(("$_DFF", "$_SDFF", "$_DFFE", "$_ALDFF", "$_DLATCH", "$_SR"))


def synthesize(k, work, extra=""):
    """Runs one kernel; returns (generic counts, mapped counts, seconds)."""
    files = [str(work / "sv" / f) for f in PACKAGES + k["files"]]
    chparam = ""
    if k["params"]:
        sets = " ".join(f"-set {n} {v}" for n, v in k["params"].items())
        chparam = f"chparam {sets} {k['top']}; "
    generic, mapped = work / f"{k['name']}.generic.stat", work / f"{k['name']}.mapped.stat"
    defines = "".join(f"-D{d} " for d in k.get("defines", []))
    script = (f"read_verilog -sv {defines}{' '.join(files)}; {chparam}synth -top {k['top']}; "
              f"tee -q -o {generic} stat; "
              "dfflegalize -cell $_DFF_P_ 01 -cell $_DFF_PN0_ 01 -cell $_DFF_PN1_ 01; "
              f"abc -g {GATES}; opt_clean; tee -q -o {mapped} stat; {extra}")
    start = time.monotonic()
    run(["yosys", "-q", "-l", str(work / f"{k['name']}.log"), "-p", script],
        str(work / f"{k['name']}.run.log"))
    seconds = time.monotonic() - start
    g, _ = parse_stat(generic.read_text())
    m, _ = parse_stat(mapped.read_text())
    return g, m, seconds


def estimate(mapped):
    unknown = [c for c in mapped if not is_ff(c) and c not in CMOS_TRANSISTORS]
    if unknown:
        sys.exit(f"area: no GE weight for cells {unknown}")
    ffs = sum(n for c, n in mapped.items() if is_ff(c))
    comb_ge = sum(n * CMOS_TRANSISTORS[c] / 4 for c, n in mapped.items() if not is_ff(c))
    ge = comb_ge + ffs * FF_GE
    return ffs, comb_ge, ge, ge * NAND2_UM2


def yaml_area(components, spec):
    """Sum of the named components' area_um2 ("a-b": difference, "16*a": a multiple)."""
    total, parts = 0.0, []
    for term in components:
        factor, name = 1, term
        if "*" in term:
            f, name = term.split("*")
            factor = int(f)
        if "-" in name:
            a, b = name.split("-")
            value = spec[a]["area_um2"] - spec[b]["area_um2"]
        else:
            value = spec[name]["area_um2"]
        total += factor * value
        parts.append(f"{term} {factor * value:g}")
    return total, " + ".join(parts)


def translate(work, names):
    files = PACKAGES + sorted({f for k in names for f in k["files"]})
    subprocess.run(["/usr/bin/python3", str(HDL / "synth" / "sv2yosys.py"), str(work / "sv")]
                   + [str(HDL / f) for f in files], check=True)


def fmt_params(p):
    return ", ".join(f"{k}={v}" for k, v in p.items()) or "-"


def table(results, spec, yaml_path):
    rel = os.path.relpath(yaml_path, ROOT)
    lines = [f"| kernel | parameters | generic cells | flip-flops | mapped gates | GE | est. um^2 "
             f"| {rel} components, um^2 | YAML um^2 | est./YAML | what the YAML side is |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for k, g, m, _ in results:
        ffs, _, ge, um2 = estimate(m)
        gates = sum(n for c, n in m.items() if not is_ff(c))
        if k["yaml"]:
            ya, parts = yaml_area(k["yaml"], spec)
            ratio = f"{um2 / ya:.2f}" if ya > 0 else "-"
            yaml_cols = f"{parts} | {ya:,.0f} | {ratio}"
        else:
            yaml_cols = "none | - | -"
        lines.append(f"| {k['name']} | {fmt_params(k['params'])} | {sum(g.values()):,} | {ffs:,} "
                     f"| {gates:,} | {ge:,.0f} | {um2:,.0f} | {yaml_cols} | {k['note']} |")
    return "\n".join(lines)


def timings(results):
    return "Synthesis wall time per kernel (s): " + ", ".join(
        f"{k['name']} {sec:.0f}" for k, _, _, sec in results) + "."


def cell_breakdown(results):
    lines = ["| kernel | generic cells by type (yosys `synth`) |", "|---|---|"]
    for k, g, _, _ in results:
        kinds = ", ".join(f"{c.strip('$_')} {n}" for c, n in sorted(g.items()))
        lines.append(f"| {k['name']} | {kinds} |")
    return "\n".join(lines)


def tile_extrapolation(results, spec):
    """tile_2d(N) = N^2 PEs + registers outside them, the latter in closed form from
    tile_2d.sv; checked against the synthesized N = 4 and extrapolated to N = 256."""
    by = {k["name"]: (k, m) for k, _, m, _ in results}
    if "tile_2d" not in by or "pe_2d" not in by:
        return ""
    (tk, tm), (_, pm) = by["tile_2d"], by["pe_2d"]
    n = tk["params"]["N"]
    t_ff, _, t_ge, _ = estimate(tm)
    p_ff, _, p_ge, _ = estimate(pm)

    def outside_ffs(n):
        # (no hold counter: in_ready_o is PE (0, 0)'s ready_o); skew lines: west row i 32 x i,
        # north column j (1+4+1+8+4+32 operation, entry and b, 2+16 weight load) x j, south column j
        # 32 x (N-1-j); the output-stationary drain per column: hand-over flags, shadow and
        # chain registers (N - 1 each: the last shadow and the first chain stage are never
        # read, so synthesis removes them), load and busy flags, the tap (the rows it can
        # name: ceil(log2 N) of its 7 bits) and the row counter (7); weight stationary per
        # column: the weight chain (N - 1 x 16: its last stage is never read), the shadow
        # weights (N x 16), the output flag and its row (ceil(log2 N)). The tile has no input
        # register.
        tap = min(max(1, (n - 1).bit_length()), 7)
        drain = (n - 1) * (1 + 32 + 32) + 1 + 1 + tap + 7
        weights = (n - 1) * 16 + n * 16 + 1 + tap
        return (32 + 68 + 32) * n * (n - 1) // 2 + n * (drain + weights)
    rest_ge = t_ge - n * n * p_ge
    rest_ff = t_ff - n * n * p_ff
    big = 256
    big_rest_ge = rest_ge * outside_ffs(big) / outside_ffs(n)
    big_ge = big * big * p_ge + big_rest_ge
    ya, _ = yaml_area(tk["yaml"], spec)
    ya_big = ya / (n * n) * big * big
    return "\n".join([
        f"tile_2d N = {n}: {t_ff} flip-flops = {n * n} x {p_ff} (PEs) + {rest_ff} outside the PEs; "
        f"closed form from tile_2d.sv for the latter: {outside_ffs(n)} "
        f"({'equal' if rest_ff == outside_ffs(n) else 'differs'}). Outside the PEs: "
        f"{rest_ge:,.0f} GE = {100 * rest_ge / t_ge:.1f} % of the tile.",
        f"Extrapolated to N = {big} (FuseMax's array): {big * big} PEs x {p_ge:,.0f} GE + the "
        f"outside registers scaled by the closed form ({outside_ffs(big):,} flip-flops, "
        f"{big_rest_ge:,.0f} GE, {100 * big_rest_ge / big_ge:.1f} %) = {big_ge:,.0f} GE = "
        f"{big_ge * NAND2_UM2 / 1e6:,.1f} mm^2 of cells, against the YAML's "
        f"{big * big} x ({' + '.join(t.split('*')[1] for t in tk['yaml'])}) = "
        f"{ya_big / 1e6:,.1f} mm^2 (ratio {big_ge * NAND2_UM2 / ya_big:.1f}), both with the PEs' "
        f"register files."])


def check(work):
    """The ctest: independent references for the smallest kernels."""
    ks = {k["name"]: k for k in kernel_list()}
    translate(work, [ks["delay_line"], ks["fp32_mul"], ks["fp32_add"]])
    failures = []
    for width, depth in [(32, 4), (7, 3), (5, 0)]:
        k = dict(ks["delay_line"], params={"Width": width, "Depth": depth},
                 name=f"delay_line_{width}x{depth}")
        g, m, _ = synthesize(k, work)
        ffs = sum(n for c, n in m.items() if is_ff(c))
        gffs = sum(n for c, n in g.items() if is_ff(c))
        print(f"delay_line Width={width} Depth={depth}: {ffs} flip-flops (expected {width * depth})")
        if ffs != width * depth or gffs != width * depth:
            failures.append(f"delay_line {width}x{depth}: {gffs}/{ffs} flip-flops")

    def value(bits):
        return struct.unpack("<f", struct.pack("<I", bits))[0]

    def ieee(x):   # x exact in a double, rounded once to fp32 by C; NaN canonical
        r = ctypes.c_float(x).value
        return 0x7FC00000 if r != r else struct.unpack("<I", struct.pack("<f", r))[0]

    def near(rng):   # operands at most 29 binades apart: their sum is exact in a double
        a = rng.getrandbits(32)
        e = min(254, max(1, ((a >> 23) & 0xFF) + rng.randint(-29, 29)))
        return a, (rng.getrandbits(1) << 31) | (e << 23) | rng.getrandbits(23)
    rng = random.Random(12)   # fixed seed
    mul_vectors = [(0x3FC00000, 0x40000000), (0x3F800001, 0x3F800001), (0x00000001, 0x3F000000),
                   (0x00800000, 0x3F000000), (0x7F7FFFFF, 0x40000000), (0xC0490FDB, 0x3EAAAAAB),
                   (0x00000003, 0x3F400000), (0x7F800000, 0x00000000), (0x1DCD6500, 0x2E5A3B3C)]
    mul_vectors += [(rng.getrandbits(32), rng.getrandbits(32)) for _ in range(16)]
    add_vectors = [(0x3F800000, 0x33800000), (0x3F800000, 0xBF7FFFFF), (0x7F7FFFFF, 0x73800000),
                   (0x80000000, 0x80000000), (0x00000001, 0x80000001), (0x7F800000, 0xFF800000),
                   (0x00400000, 0x00400000), (0x4B800001, 0xBF800000)]
    add_vectors += [near(rng) for _ in range(16)]
    for kernel, op, ports, vectors, ref in [
            ("fp32_mul", "x", "-set scale_i 13'd0", mul_vectors, lambda a, b: a * b),
            ("fp32_add", "+", "", add_vectors, lambda a, b: a + b)]:
        out = work / f"{kernel}.eval.txt"
        evals = "; ".join(f"tee -q -a {out} eval -set a_i 32'h{a:08X} -set b_i 32'h{b:08X} "
                          f"{ports} -show r_o" for a, b in vectors)
        g, m, _ = synthesize(ks[kernel], work, extra=evals)
        # yosys prints a value as decimal, or as 32'<binary> when its top bit is set
        got = [int(b, 2) if b else int(d) for b, d in
               re.findall(r"\\r_o = (?:32'([01]{32})|(\d+))", out.read_text())]
        for (a, b), r in zip(vectors, got):
            want = ieee(ref(value(a), value(b)))
            print(f"{kernel} netlist: {a:08X} {op} {b:08X} = {r:08X} (IEEE {want:08X}) "
                  f"{'ok' if r == want else 'MISMATCH'}")
            if r != want:
                failures.append(f"{kernel} {a:08X} {op} {b:08X}")
        if len(got) != len(vectors):
            failures.append(f"{kernel}: {len(got)} of {len(vectors)} evaluations")
        if not (g and m):
            failures.append(f"{kernel}: no cells")
    print(f"{len(failures) == 0 and 'all' or 'NOT all'} area checks passed")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--yaml", default=str(ROOT / "configs/arch/fusemax.yaml"))
    ap.add_argument("--out")
    ap.add_argument("--kernels")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--keep")
    args = ap.parse_args()
    if not shutil.which("yosys"):
        sys.exit("area: yosys not found (make deps installs Debian's yosys)")
    work = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="cascade-area-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.check:
            return check(work)
        import yaml
        spec = yaml.safe_load(pathlib.Path(args.yaml).read_text())["components"]
        kernels = kernel_list()
        if args.kernels:
            wanted = args.kernels.split(",")
            kernels = [k for k in kernels if k["name"] in wanted]
        translate(work, kernels)
        version = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip()
        results = []
        for k in kernels:
            print(f"area: synthesizing {k['name']} ({fmt_params(k['params'])})", file=sys.stderr)
            results.append((k, *synthesize(k, work)))
            if not results[-1][1] or not results[-1][2]:
                sys.exit(f"area: {k['name']} synthesized to no cells")
        report = "\n\n".join([f"{version}", table(results, spec, args.yaml),
                              tile_extrapolation(results, spec), timings(results),
                              cell_breakdown(results),
                              "Assumptions:\n" + ASSUMPTIONS])
        print(report)
        if args.out:
            tmp = pathlib.Path(args.out + ".tmp")
            tmp.write_text(report + "\n")
            tmp.replace(args.out)
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
