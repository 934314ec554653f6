#!/usr/bin/python3
"""Accelerator-vs-GPU comparison: the FuseMax model, the h100-like model and the measured H200.

Reads experiments/gpu/results/NVIDIA_H200.csv (no GPU needed), runs the analytical model
(`cascade run ... --json`) and writes experiments/gpu/results/comparison.{csv,md} and PNGs.
Usage: /usr/bin/python3 experiments/gpu/compare.py [--cascade-bin build/sim/cascade]
"""
import argparse, csv, json, math, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RES = os.path.join(ROOT, "experiments/gpu/results")
WORKLOADS = {"BERT-base": "bert-base", "TrXL": "trxl-wt103", "T5-small": "t5-small", "XLM": "xlm"}
GPU_PEAK_TFLOPS = 793.14      # measured bf16 matmul, NVIDIA_H200.json matmul_peak
GPU_SPEC_TFLOPS = 989.4       # H100/H200 datasheet bf16 dense (configs/arch/h100-like.yaml)
FUSEMAX_PEAK_TFLOPS = 2 * 256 * 256 * 940e6 / 1e12   # 2D array MACs x 2 x 940 MHz = 123.2


def fa_mapping(B, H, P, M, E, serialized=False):
    """FlashAttention-2-style mapping of softmax-1pass on h100-like (see the shipped example
    configs/mappings/flashattention-h100-like.yaml, written by this function for BERT-base 4K)."""
    M0 = 128 if E <= 64 else 64          # FA2 key block Bc (hdim 64: 128, hdim 128: 64)
    Br = 128                               # FA2 query block per CTA
    pc = 2048 // M0                        # query rows across the 2048 tensor-core lanes of an SM
    pb = max(1, math.ceil(P / Br))
    best = None                            # spread (batch, head, query block) over 132 SMs
    for b in range(1, min(B, 132) + 1):
        for h in range(1, min(H, 132 // b) + 1):
            p = min(pb, 132 // (b * h))
            if p < 1:
                continue
            waves = math.ceil(B / b) * math.ceil(H / h) * math.ceil(pb / p)
            key = (waves, -(b * h * p))
            if best is None or key < best[0]:
                best = (key, b, h, p)
    _, b, h, p = best
    rows = f"[batch: {b}, head: {h}, P: {p}]"
    dram = f"[batch: {math.ceil(B / b)}, head: {math.ceil(H / h)}, P: {math.ceil(pb / p)}, M1: {M // M0}]"
    sp = lambda lanes: f"[batch: {b}, head: {h}, P: {lanes * p}]"
    ein = [("BQK", "array_2d", f"[P: {Br // pc}, E: {E}]", f"{{cols: [M0: {M0}, P: {pc}], rows: {rows}}}"),
           ("LM", "array_fp32", f"[M0: {M0}]", f"{{cols: {sp(Br)}, rows: []}}"),
           ("RM", "array_fp32", "[]", f"{{cols: {sp(Br)}, rows: []}}"),
           ("SLN", "array_1d", f"[P: {Br}, M0: {M0 // 16}]",
            f"{{cols: [M0: 16, batch: {b}, head: {h}, P: {p}], rows: []}}"),
           ("SLD", "array_fp32", f"[M0: {M0}]", f"{{cols: {sp(Br)}, rows: []}}"),
           ("SLNV", "array_2d", f"[P: {Br // pc}, F: {E}]", f"{{cols: [M0: {M0}, P: {pc}], rows: {rows}}}"),
           ("PRM", "array_1d", f"[P: {Br // 16}]", f"{{cols: {sp(16)}, rows: []}}"),
           ("SPD", "array_fp32", "[]", f"{{cols: {sp(Br)}, rows: []}}"),
           ("RD", "array_fp32", "[]", f"{{cols: {sp(Br)}, rows: []}}"),
           ("SPNV", "array_fp32", f"[F: {E}]", f"{{cols: {sp(Br)}, rows: []}}"),
           ("RNV", "array_fp32", f"[F: {E}]", f"{{cols: {sp(Br)}, rows: []}}"),
           ("AV", "array_1d", f"[P: {Br // 16}, F: {E}]", f"{{cols: {sp(16)}, rows: []}}")]
    out = [f'name: "flashattention-2 style, B={B} H={H} P={P} M={M} E={E}"',
           'mapper: "hand-written (experiments/gpu/compare.py fa_mapping)"',
           'description: "FlashAttention-2 style on configs/arch/h100-like.yaml (or h200-measured.yaml): the 1-pass '
           'cascade, QK and AV (BQK, SLNV) on the tensor cores (array_2d), exp on the MUFU pipes (array_1d), max, '
           'sums and rescaling on the FP32 lanes (array_fp32)"',
           f"shapes: {{M0: {M0}}}", "schedule: sequential", "notes:",
           f'  - "one CTA per SM: a {Br}-query block walking key blocks of M0 = {M0} (FA2 Br x Bc); the 132 SMs '
           f'take batch {b} x head {h} x query blocks {p} = {b * h * p} work items per wave"',
           f'  - "tensor cores: {pc} query rows x {M0} keys per SM per step (2048 MAC lanes); MUFU: 16 lanes per '
           'SM; FP32: 128 lanes per SM; running max/sum/accumulator (registers on the GPU) in the global buffer"',
           ('  - "units: serialized -- the arrays take turns on every tile, as FA2 runs QK-MMA, softmax and PV-MMA '
            'one after another inside a warp"' if serialized else
            '  - "the arrays of the group run concurrently (perfect MMA/MUFU/FP32 overlap); FA2 serializes them '
            'within a warp, see experiments/gpu/README.md"'),
           "tensors:", "  Q: {home: dram, staged: true}", "  K: {home: dram, staged: true}",
           "  V: {home: dram, staged: true}", "  AV: {home: dram, staged: false}",
           "groups:", '  - name: "attention"', f"    dram_loops: {dram}"]
    if serialized:
        out.append("    units: serialized")
    out.append("    einsums:")
    for n, u, bl, s in ein:
        out += [f"      - einsum: {n}", f"        unit: {u}", f"        buffer_loops: {bl}", f"        spatial: {s}"]
    return "\n".join(out) + "\n"


WORKLOAD_DIR = os.path.join(RES, "workloads")


def workload_file(name, batch):
    """A copy of configs/workloads/NAME.yaml with the measured batch (`--set` cannot change it),
    kept in experiments/gpu/results/workloads/ so that fusemax_cmd reruns from the repository."""
    src = os.path.join(ROOT, "configs/workloads", name + ".yaml")
    os.makedirs(WORKLOAD_DIR, exist_ok=True)
    lines = []
    for line in open(src):
        if line.startswith("batch:"):
            line = f"batch: {batch}   # the GPU row's batch (experiments/gpu/compare.py)\n"
        if line.startswith("cascade:"):
            cascade = os.path.join(ROOT, "configs/cascades", line.split()[1].split("/")[-1])
            line = "cascade: " + os.path.relpath(cascade, WORKLOAD_DIR) + "\n"
        lines.append(line)
    path = os.path.join(WORKLOAD_DIR, f"{name}-b{batch}.yaml")
    open(path, "w").write("".join(lines))
    return path


def run_model(binary, tmp, arch, wl, seq, extra=()):
    out = os.path.join(tmp, "r.json")
    cmd = [binary, "run", "--arch", arch, "--workload", wl, "--seq", str(seq), *extra]
    r = subprocess.run(cmd + ["--json", out], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + "\n" + r.stderr + r.stdout)
    d = json.load(open(out))
    # The command as it reruns from the repository root: inputs by repository-relative path,
    # no temporary file (the --json output is left out), so a rerun gives the same bytes.
    # (None when an input lies outside the repository: such a command is not recorded.)
    outside = [c for c in cmd if os.path.isabs(c) and not c.startswith(ROOT + os.sep)]
    d["cmd"] = None if outside else " ".join(os.path.relpath(c, ROOT) if os.path.isabs(c) else c
                                             for c in cmd)
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cascade-bin", default=os.path.join(ROOT, "build/sim/cascade"))
    ap.add_argument("--csv", default=os.path.join(RES, "NVIDIA_H200.csv"))
    args = ap.parse_args()
    binary = os.path.abspath(args.cascade_bin)
    rows = [r for r in csv.DictReader(open(args.csv)) if r["status"] == "ok"]
    tmp = tempfile.mkdtemp(prefix="cascade-compare-")
    # the shipped example mapping (BERT-base 4K, batch 64)
    open(os.path.join(ROOT, "configs/mappings/flashattention-h100-like.yaml"), "w").write(
        "# Written by experiments/gpu/compare.py (fa_mapping) for BERT-base, 4K, batch 64; use with\n"
        "# --arch configs/arch/h100-like.yaml (or h200-measured.yaml) --workload bert-base --seq 4096\n"
        + fa_mapping(64, 12, 4096, 4096, 64, serialized=True))
    out = []
    variants = [("softmax", None, "softmax-1pass", [], "sdpa:"),
                ("linear", "elu1", "linear", [], "triton_linear"),
                ("lightning", None, "lightning", ["--set", "B=64"], "triton_lightning"),
                ("neighborhood", None, "neighborhood-1d", ["--set", "W=127,D=1"], "flex_neighborhood")]
    for wname, wl in WORKLOADS.items():
        for L in (1024, 4096, 16384, 65536):
            for variant, _, cascade, cset, kprefix in variants:
                cand = [r for r in rows if r["workload"] == wname and int(r["P"]) == L and r["variant"] == variant
                        and r["causal"] == ("True" if variant == "lightning" else "False")
                        and r["kernel"].startswith(kprefix)]
                if variant == "neighborhood":   # only the 1D k=127 rows
                    cand = [r for r in cand if '"k": [127]' in r["options"]]
                if not cand:
                    continue
                best = min(cand, key=lambda r: float(r["median_ms"]))
                batch = int(best["batch"])
                H, E = int(best["H"]), int(best["E"])
                wfile = workload_file(wl, batch)
                fm = run_model(binary, tmp, "fusemax", wfile, L, ["--cascade", cascade, *cset])
                assert fm["cmd"], "fusemax_cmd must name its inputs inside the repository"
                rec = dict(workload=wname, L=L, variant=variant, batch=batch, gpu_kernel=best["kernel"],
                           gpu_ms=float(best["median_ms"]), gpu_tflops=float(best["tflops"]),
                           gpu_energy_J=float(best["energy_mJ_per_call"]) / 1e3, flops=float(best["flops"]),
                           fusemax_ms=fm["latency_s"] * 1e3, fusemax_energy_J=fm["energy_j"],
                           fusemax_mapper=fm["mapper"], fusemax_cmd=fm["cmd"])
                rec["fusemax_tflops"] = rec["flops"] / (rec["fusemax_ms"] / 1e3) / 1e12
                rec["gpu_util"] = rec["gpu_tflops"] / GPU_PEAK_TFLOPS
                rec["fusemax_util"] = rec["fusemax_tflops"] / FUSEMAX_PEAK_TFLOPS
                # normalized per unit of peak throughput: latency x peak (ms*TFLOP/s = GFLOP of
                # peak-time), energy per peak TFLOP/s
                rec["gpu_ms_x_peak"] = rec["gpu_ms"] * GPU_PEAK_TFLOPS
                rec["fusemax_ms_x_peak"] = rec["fusemax_ms"] * FUSEMAX_PEAK_TFLOPS
                rec["gpu_J_per_peakTF"] = rec["gpu_energy_J"] / GPU_PEAK_TFLOPS
                rec["fusemax_J_per_peakTF"] = rec["fusemax_energy_J"] / FUSEMAX_PEAK_TFLOPS
                if variant == "softmax":
                    fa2 = [r for r in cand if r["kernel"] == "sdpa:FLASH_ATTENTION"]
                    rec["fa2_ms"] = float(fa2[0]["median_ms"]) if fa2 else float("nan")
                    mp = os.path.join(tmp, "fa.yaml")
                    open(mp, "w").write(fa_mapping(batch, H, L, L, E))
                    mps = os.path.join(tmp, "fa-serialized.yaml")
                    open(mps, "w").write(fa_mapping(batch, H, L, L, E, serialized=True))
                    for arch in ("h100-like", "h200-measured"):
                        afile = os.path.join(ROOT, f"configs/arch/{arch}.yaml")
                        d = run_model(binary, tmp, afile, wfile, L, ["--mapper", mp])
                        ds = run_model(binary, tmp, afile, wfile, L, ["--mapper", mps])
                        k = arch.replace("-", "_")
                        rec[f"{k}_overlap_ms"] = d["latency_s"] * 1e3
                        rec[f"{k}_serial_ms"] = ds["latency_s"] * 1e3
                        rec[f"{k}_energy_J"] = ds["energy_j"]
                        rec[f"{k}_bottleneck"] = d["bottleneck"]
                    rec["err_serial_vs_fa2"] = rec["h200_measured_serial_ms"] / rec["fa2_ms"] - 1
                    rec["err_spec_serial_vs_fa2"] = rec["h100_like_serial_ms"] / rec["fa2_ms"] - 1
                    rec["err_overlap_vs_best"] = rec["h200_measured_overlap_ms"] / rec["gpu_ms"] - 1
                out.append(rec)
                print(f"{wname:9s} {L:6d} {variant:12s} b={batch:2d} gpu {rec['gpu_ms']:9.3f} ms  fusemax {rec['fusemax_ms']:9.3f} ms",
                      file=sys.stderr)
    keys = []
    for r in out:
        keys += [k for k in r if k not in keys]
    with open(os.path.join(RES, "comparison.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(out)
    write_md(out)
    plot(out)


def fmt(x, n=3):
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{n}g}"


def write_md(out):
    L = []
    L.append("## Accelerator vs GPU (generated by experiments/gpu/compare.py)\n")
    L.append("Modelled FuseMax (configs/arch/fusemax.yaml, its default mapper; 256x256 MACs at 940 MHz = "
             f"{FUSEMAX_PEAK_TFLOPS:.1f} TFLOP/s peak) against the measured H200 (best kernel of the CSV; "
             f"peak = measured bf16 matmul {GPU_PEAK_TFLOPS:.0f} TFLOP/s). Both at the GPU row's batch. "
             "Utilization = useful FLOP/s (the CSV's formula) / the device's peak. Energy: FuseMax = the model's "
             "Σ actions × 45 nm table (chip only, no board); GPU = measured board energy per call (NVML, "
             "includes idle power, HBM, VRM). *ms·peak* = latency × peak TFLOP/s (lower = more work per "
             "unit of peak hardware); *J/peakTF* = energy / peak TFLOP/s.\n")
    L.append("| workload | L | variant | batch | GPU kernel | GPU ms | FuseMax ms | GPU util | FuseMax util | "
             "GPU J | FuseMax J | GPU ms·peak | FuseMax ms·peak | GPU J/peakTF | FuseMax J/peakTF |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in out:
        L.append(f"| {r['workload']} | {r['L'] // 1024}K | {r['variant']} | {r['batch']} | {r['gpu_kernel']} | "
                 f"{fmt(r['gpu_ms'])} | {fmt(r['fusemax_ms'])} | {r['gpu_util']:.1%} | {r['fusemax_util']:.1%} | "
                 f"{fmt(r['gpu_energy_J'])} | {fmt(r['fusemax_energy_J'])} | {fmt(r['gpu_ms_x_peak'])} | "
                 f"{fmt(r['fusemax_ms_x_peak'])} | {fmt(r['gpu_J_per_peakTF'])} | {fmt(r['fusemax_J_per_peakTF'])} |")
    L.append("\n### h100-like model vs measured softmax attention\n")
    L.append("`overlap` = the analytical model's latency (arrays of a group run concurrently: MMA, MUFU and FP32 "
             "fully overlapped); `serial` = the same mapping with `units: serialized` (the arrays take turns on "
             "every tile, as FlashAttention-2 runs QK-MMA, softmax and PV-MMA one after the other inside a warp). `spec` = "
             "configs/arch/h100-like.yaml (1.83 GHz, 989 TFLOP/s); `meas` = configs/arch/h200-measured.yaml "
             "(clock derated to the measured 793 TFLOP/s matmul ceiling). Error = model / measured − 1.\n")
    L.append("| workload | L | batch | FA2 ms | best ms (kernel) | spec overlap | spec serial | meas overlap | "
             "meas serial | err meas serial vs FA2 | err spec serial vs FA2 | err meas overlap vs best | "
             "model J (meas, overlap) | GPU J |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in out:
        if r["variant"] != "softmax":
            continue
        L.append(f"| {r['workload']} | {r['L'] // 1024}K | {r['batch']} | {fmt(r['fa2_ms'])} | {fmt(r['gpu_ms'])} "
                 f"({r['gpu_kernel'].replace('sdpa:', '')}) | {fmt(r['h100_like_overlap_ms'])} | "
                 f"{fmt(r['h100_like_serial_ms'])} | {fmt(r['h200_measured_overlap_ms'])} | "
                 f"{fmt(r['h200_measured_serial_ms'])} | {r['err_serial_vs_fa2']:+.1%} | "
                 f"{r['err_spec_serial_vs_fa2']:+.1%} | {r['err_overlap_vs_best']:+.1%} | "
                 f"{fmt(r['h200_measured_energy_J'])} | {fmt(r['gpu_energy_J'])} |")
    sm = [r for r in out if r["variant"] == "softmax"]
    if sm:
        e = [abs(r["err_serial_vs_fa2"]) for r in sm]
        L.append(f"\nMean |error| of the measured-ceiling serial prediction vs FA2: {sum(e) / len(e):.1%} "
                 f"(max {max(e):.1%}, {len(e)} points).\n")
    open(os.path.join(RES, "comparison.md"), "w").write("\n".join(L) + "\n")


def plot(out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sm = [r for r in out if r["variant"] == "softmax"]
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for key, m, lab in [("fa2_ms", "o", "measured FA2"), ("gpu_ms", "s", "measured best (cuDNN)")]:
        ax.scatter([r["h200_measured_serial_ms"] for r in sm], [r[key] for r in sm], marker=m, label=f"{lab} vs model serial")
    ax.scatter([r["h200_measured_overlap_ms"] for r in sm], [r["gpu_ms"] for r in sm], marker="^",
               label="measured best vs model overlap")
    lo = min(min(r["h200_measured_overlap_ms"], r["gpu_ms"]) for r in sm) / 1.5
    hi = max(max(r["h200_measured_serial_ms"], r["fa2_ms"]) for r in sm) * 1.5
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.plot([lo, hi], [lo * 1.25, hi * 1.25], "k:", lw=0.6)
    ax.plot([lo, hi], [lo / 1.25, hi / 1.25], "k:", lw=0.6, label="±25%")
    ax.set_xscale("log"); ax.set_yscale("log")
    ax.set_xlabel("h200-measured model latency (ms)"); ax.set_ylabel("measured H200 latency (ms)")
    ax.set_title("softmax attention: model vs measured (all workloads, 1K-64K)")
    ax.legend(fontsize=8)
    fig.tight_layout(); fig.savefig(os.path.join(RES, "comparison-latency.png"), dpi=120)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels = [f"{r['workload']} {r['L'] // 1024}K {r['variant'][:5]}" for r in out]
    x = range(len(out))
    ax.bar([i - 0.2 for i in x], [r["gpu_util"] for r in out], 0.4, label=f"H200 measured (of {GPU_PEAK_TFLOPS:.0f} TFLOP/s)")
    ax.bar([i + 0.2 for i in x], [r["fusemax_util"] for r in out], 0.4, label=f"FuseMax model (of {FUSEMAX_PEAK_TFLOPS:.0f} TFLOP/s)")
    ax.set_xticks(list(x)); ax.set_xticklabels(labels, rotation=90, fontsize=6)
    ax.set_ylabel("compute utilization"); ax.legend(fontsize=8)
    fig.tight_layout(); fig.savefig(os.path.join(RES, "comparison-utilization.png"), dpi=120)


if __name__ == "__main__":
    main()
