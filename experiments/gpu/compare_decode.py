#!/usr/bin/python3
"""Decode: the modelled FuseMax accelerator against the measured H200 (and the H200 modelled).

Reads experiments/gpu/results/NVIDIA_H200-decode.csv (no GPU needed) and runs the analytical
model (`cascade run ... --json`) on configs/cascades/decode-gqa-split.yaml with the Llama 3 8B
decode workload (configs/workloads/llama3-8b-decode.yaml) at each measured batch x KV length:
  * fusemax: configs/arch/fusemax.yaml with a FuseMax decode mapping (decode_mapping(): the
    query heads x splits across the 256 columns of the 2D array, a tile of M0 = 256 keys down
    its rows, the running state and the merge over splits on the 1D array); the B=1, 64K
    instance is shipped as configs/mappings/fusemax-decode.yaml;
  * fusemax-generic: the same architecture with the generic mapper (a cross-check);
  * h200-model: configs/arch/h200-measured.yaml with the generic mapper;
  * the closed form KV bytes / DRAM bandwidth for both architectures.
Writes experiments/gpu/results/decode-comparison.{csv,md}; per-point workload and mapping
files under experiments/gpu/results/decode-inputs/ so that every command reruns as recorded.
Usage: /usr/bin/python3 experiments/gpu/compare_decode.py [--cascade-bin build/sim/cascade]
"""
import argparse, csv, json, math, os, subprocess, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RES = os.path.join(ROOT, "experiments/gpu/results")
INPUTS = os.path.join(RES, "decode-inputs")
WORKLOAD = "llama3-8b-decode"
H, HK, E, F = 32, 8, 128, 128          # configs/workloads/llama3-8b-decode.yaml (Llama 3 8B)
FUSEMAX_BW = 400 * 2 ** 30             # configs/arch/fusemax.yaml: 400 GiB/s HBM2
H200_BW = 4.236e12                     # configs/arch/h200-measured.yaml: measured copy 4.236 TB/s


def decode_mapping(B, M, h=H, e=E, f=F, cols=256, rows=256):
    """FuseMax decode mapping: cols = [H, S] (S = cols / H splits side by side, the G heads of
    a group sharing each K/V element by multicast), rows = [M0] (a tile of keys), the
    recurrence over tiles t as the DRAM loop, the running state and the merge on array_1d."""
    M0, S = rows, max(1, cols // h)
    T = math.ceil(M / (S * M0))
    c = f"[H: {h}, S: {S}]"
    two = lambda bl: ("array_2d", bl, f"{{cols: {c}, rows: [M0: {M0}]}}")
    one = lambda bl, cc=c: ("array_1d", bl, f"{{cols: {cc}, rows: []}}")
    ein = [("BQK",) + two(f"[E: {e}]"), ("LM",) + two("[]"), ("RM",) + one("[]"),
           ("SLN",) + two("[]"), ("SLD",) + two("[]"), ("SLNV",) + two(f"[F: {f}]"),
           ("PRM",) + one("[]"), ("SPD",) + one("[]"), ("RD",) + one("[]"),
           ("SPNV",) + one(f"[F: {f}]"), ("RNV",) + one(f"[F: {f}]"),
           ("GM",) + one("[]"), ("SW",) + one("[]"), ("GD",) + one("[]"),
           ("GNV",) + one(f"[F: {f}]"), ("AV",) + one(f"[F: {f}]", f"[H: {h}]")]
    in_buffer = {"RM", "RD", "RNV", "GM", "SW", "GD", "GNV"}
    out = [f'name: "fusemax decode, B={B} H={h} M={M}: S={S} splits x M0={M0} keys per step"',
           'mapper: "hand-written (experiments/gpu/compare_decode.py decode_mapping)"',
           'description: "FuseMax decode: query heads x splits across the 2D array\'s columns, a tile '
           'of keys down its rows, each split\'s online softmax state and the merge over splits on '
           'the 1D array"',
           f"shapes: {{S: {S}, M0: {M0}}}", "schedule: sequential", "notes:",
           f'  - "cols: {h} query heads x {S} splits = {h * S} of {cols}; rows: M0 = {M0} keys; one '
           f'step reads {S * M0} contiguous keys of every KV head (key (t*S + s)*M0 + m0)"',
           f'  - "DRAM loops: batch {B}, the {T} tiles t of the recurrence; the merge (GM, SW, GD, '
           'GNV, AV) runs once after the last tile"',
           "tensors:", "  Q: {home: dram, staged: true}", "  K: {home: dram, staged: true}",
           "  V: {home: dram, staged: true}"]
    for n, _, _, _ in ein:
        if n == "AV":
            out.append("  AV: {home: dram, staged: false}")
        else:
            out.append(f"  {n}: {{home: {'global_buffer' if n in in_buffer else 'register_file'}}}")
    out += ["groups:", '  - name: "decode"', f"    dram_loops: [batch: {B}, head: 1, T: {T}]",
            "    einsums:"]
    for n, u, bl, s in ein:
        out += [f"      - einsum: {n}", f"        unit: {u}", f"        buffer_loops: {bl}",
                f"        spatial: {s}"]
    return "\n".join(out) + "\n"


def workload_file(batch):
    """configs/workloads/llama3-8b-decode.yaml at `batch` (`--set` cannot change the batch)."""
    src = os.path.join(ROOT, "configs/workloads", WORKLOAD + ".yaml")
    lines = []
    for line in open(src):
        if line.startswith("batch:"):
            line = f"batch: {batch}   # the GPU row's batch (experiments/gpu/compare_decode.py)\n"
        if line.startswith("cascade:"):
            cascade = os.path.join(ROOT, "configs/cascades", line.split()[1].split("/")[-1])
            line = "cascade: " + os.path.relpath(cascade, INPUTS) + "\n"
        lines.append(line)
    path = os.path.join(INPUTS, f"{WORKLOAD}-b{batch}.yaml")
    open(path, "w").write("".join(lines))
    return path


def run_model(binary, tmp, arch, wl, M, mapper=None):
    out = os.path.join(tmp, "r.json")
    cmd = [binary, "run", "--arch", arch, "--workload", wl, "--set", f"M={M}"]
    if mapper:
        cmd += ["--mapper", mapper]
    r = subprocess.run(cmd + ["--json", out], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + "\n" + r.stderr + r.stdout)
    d = json.load(open(out))
    d["cmd"] = " ".join(os.path.relpath(c, ROOT) if os.path.isabs(c) else c for c in cmd)
    return d


def kv_bytes(B, M):
    """K and V of every KV head in bf16, plus q and out: what one decode step must move."""
    return 2 * B * HK * M * E * 2 + B * H * (E + F) * 2


def tbps(rows, key):
    v = [r["kv_bytes"] / (r[key] * 1e-3) / 1e12 for r in rows if r[key] and r["kv_bytes"] >= 1e9]
    return f"{min(v):.2f}–{max(v):.2f}" if v else "—"


def spread(rows, keep):
    v = [r["h200_model_ms"] / r["gpu_best_ms"] - 1 for r in rows if r["gpu_best_ms"] and keep(r)]
    return f"{min(v) * 100:+.1f} % to {max(v) * 100:+.1f} %" if v else "—"


def ratio_range(rows, keep):
    v = [r["gpu_best_ms"] / r["h200_model_ms"] for r in rows if r["gpu_best_ms"] and keep(r)]
    return f"{min(v):.1f}–{max(v):.1f}×" if v else "—"


def fmt_ms(x):
    return "—" if x is None else (f"{x:.4f}" if x < 0.1 else f"{x:.3f}" if x < 10 else f"{x:.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cascade-bin", default=os.path.join(ROOT, "build/sim/cascade"))
    ap.add_argument("--csv", default=os.path.join(RES, "NVIDIA_H200-decode.csv"))
    args = ap.parse_args()
    binary = os.path.abspath(args.cascade_bin)
    meas = [r for r in csv.DictReader(open(args.csv))]
    os.makedirs(INPUTS, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="cascade-decode-")
    open(os.path.join(ROOT, "configs/mappings/fusemax-decode.yaml"), "w").write(
        "# Written by experiments/gpu/compare_decode.py (decode_mapping) for Llama 3 8B decode, batch 1,\n"
        "# 64K keys; use with --arch fusemax --workload llama3-8b-decode --set M=65536\n"
        + decode_mapping(1, 65536))
    points = sorted({(int(r["B"]), int(r["M"])) for r in meas})
    rows = []
    for B, M in points:
        here = {r["kernel"]: r for r in meas if int(r["B"]) == B and int(r["M"]) == M}
        ok = {k: float(r["median_ms"]) for k, r in here.items() if r["status"] == "ok"}
        wl = workload_file(B)
        mp = os.path.join(INPUTS, f"fusemax-decode-b{B}-m{M}.yaml")
        open(mp, "w").write(decode_mapping(B, M))
        fm = run_model(binary, tmp, "fusemax", wl, M, mp)
        fg = run_model(binary, tmp, "fusemax", wl, M)
        hm = run_model(binary, tmp, "h200-measured", wl, M)
        nbytes = kv_bytes(B, M)
        # GQA-native kernels only (the others read the K/V expanded G-fold, see the CSV notes)
        native = {k: v for k, v in ok.items() if here[k].get("gqa") in ("enable_gqa",)
                  and k != "flex"}
        best = min(native.items(), key=lambda kv: kv[1]) if native else (None, None)
        row = {"B": B, "M": M, "kv_bytes": nbytes,
               "fusemax_ms": fm["latency_s"] * 1e3, "fusemax_dram_bytes": fm["dram_bytes"],
               "fusemax_bottleneck": fm.get("bottleneck"),
               "fusemax_closed_form_ms": nbytes / FUSEMAX_BW * 1e3,
               "fusemax_generic_ms": fg["latency_s"] * 1e3,
               "h200_model_ms": hm["latency_s"] * 1e3, "h200_closed_form_ms": nbytes / H200_BW * 1e3,
               "gpu_flash_ms": ok.get("sdpa:FLASH_ATTENTION"), "gpu_cudnn_ms": ok.get("sdpa:CUDNN_ATTENTION"),
               "gpu_best_kernel": best[0], "gpu_best_ms": best[1],
               "gpu_flash_kernels": here.get("sdpa:FLASH_ATTENTION", {}).get("kernels", ""),
               "gpu_status": "; ".join(f"{k}: {r['status']} {r.get('note', '')}".strip()
                                       for k, r in here.items() if r["status"] != "ok"),
               "cmd_fusemax": fm["cmd"], "cmd_fusemax_generic": fg["cmd"], "cmd_h200_model": hm["cmd"]}
        rows.append(row)
        print(f"B={B:3d} M={M:8d} fusemax {row['fusemax_ms']:.4f} ms (closed {row['fusemax_closed_form_ms']:.4f}) "
              f"h200 model {row['h200_model_ms']:.4f} gpu best {row['gpu_best_ms']}")
    with open(os.path.join(RES, "decode-comparison.csv"), "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(rows[0]))
        wr.writeheader()
        for r in rows:
            wr.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    write_md(rows)


def write_md(rows):
    md = ["# Decode: modelled FuseMax vs measured H200 (Llama 3 8B, one query per sequence)", "",
          "Written by `experiments/gpu/compare_decode.py` from `NVIDIA_H200-decode.csv` (measured "
          "2026-12-02, torch 2.11 + CUDA 13.0, driver 580.159.04) and `cascade run` on "
          "`configs/cascades/decode-gqa-split.yaml` (32 query heads, 8 KV heads, E = F = 128, bf16). "
          "Latencies in ms per decode step of one layer's attention; KV = K and V bytes "
          "2·B·8·M·128·2 (+ q, out). Closed forms: bytes / DRAM bandwidth (FuseMax 400 GiB/s, "
          "H200 measured copy 4.236 TB/s). GPU: the fastest GQA-native SDPA backend "
          "(enable_gqa; FLASH = FlashAttention-2 split-KV, i.e. FlashDecoding, for B <= 16, its "
          "non-split kernel at B = 64; CUDNN), CUDA-event median per call, launch overhead included.", "",
          "| B | KV | KV bytes | FuseMax model | FuseMax closed form | H200 model | H200 closed form "
          "| H200 FLASH | H200 cuDNN | H200 best | FuseMax / H200 best |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = (r["fusemax_ms"] / r["gpu_best_ms"]) if r["gpu_best_ms"] else None
        kv = f"{r['M'] // 1024}K" if r["M"] < 2 ** 20 else f"{r['M'] // 2 ** 20}M"
        md.append(f"| {r['B']} | {kv} | {r['kv_bytes'] / 1e9:.3g} GB | {fmt_ms(r['fusemax_ms'])} | "
                  f"{fmt_ms(r['fusemax_closed_form_ms'])} | {fmt_ms(r['h200_model_ms'])} | "
                  f"{fmt_ms(r['h200_closed_form_ms'])} | {fmt_ms(r['gpu_flash_ms'])} | "
                  f"{fmt_ms(r['gpu_cudnn_ms'])} | {fmt_ms(r['gpu_best_ms'])} | "
                  f"{'—' if ratio is None else f'{ratio:.1f}×'} |")
    skipped = [r for r in rows if r["gpu_best_ms"] is None]
    md += ["", "Rows without GPU figures: " + ("none" if not skipped else "; ".join(
        f"B={r['B']} M={r['M']}: {r['gpu_status']}" for r in skipped)), "",
           f"FuseMax rows whose model bottleneck is DRAM: {sum(r['fusemax_bottleneck'] == 'dram' for r in rows)} "
           f"of {len(rows)}; its model latency is within "
           f"{max(r['fusemax_ms'] / r['fusemax_closed_form_ms'] - 1 for r in rows) * 100:.2f} % of the "
           "closed form (pipeline fill of the first tile), so the ratio to the H200 is the ratio of "
           "the bandwidths wherever the GPU streams at its bandwidth: 4.236 TB/s / 400 GiB/s = 9.9× "
           "at the copy bandwidth; the GQA kernels read faster than a copy (which reads and writes): "
           f"cuDNN {tbps(rows, 'gpu_cudnn_ms')} TB/s, FLASH {tbps(rows, 'gpu_flash_ms')} TB/s "
           "(min–max over the rows with >= 1 GB of KV). The H200 model against the fastest GQA "
           f"kernel: {spread(rows, lambda r: r['kv_bytes'] >= 1e9)} at >= 1 GB of KV; below 0.3 GB "
           "the GPU's per-call overhead (~0.1 ms, CPU launch of the SDPA call included) dominates "
           "and the model, which has no launch cost, is optimistic: measured / model "
           f"{ratio_range(rows, lambda r: r['kv_bytes'] < 0.3e9)}. Commands for every model "
           "figure: `decode-comparison.csv` (cmd_* columns)."]
    open(os.path.join(RES, "decode-comparison.md"), "w").write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
