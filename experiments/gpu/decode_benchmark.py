#!/usr/bin/env python3
"""Decode attention on the GPU: one query per query head against a KV cache, grouped-query
heads (query head h reads KV head h // G), checked against an fp64 naive reference, timed
for batch {1, 4, 16, 64} x KV {4K, 16K, 64K, 256K, 1M} in bf16, plus golden vectors for
configs/cascades/decode-gqa-split.yaml.

Kernels (torch layout q [B, H, 1, E], k [B, HK, M, E], v [B, HK, M, F]):
  sdpa:<BACKEND>   torch SDPA restricted to one backend (FLASH_ATTENTION, CUDNN_ATTENTION,
                   EFFICIENT_ATTENTION, MATH), GQA through enable_gqa=True; a backend that
                   refuses enable_gqa is run on K/V expanded with repeat_interleave(G) made
                   OUTSIDE the timed call (the row's `gqa` column says which; the bytes
                   column then still counts the un-expanded cache, so its bandwidth is not
                   comparable). FLASH_ATTENTION is FlashAttention-2 as vendored in PyTorch;
                   for one query its heuristic splits the keys (FlashDecoding): the kernel
                   names seen by the profiler are recorded per row (`kernels`).
  flex             FlexAttention (torch.compile'd, enable_gqa=True), if time is left.
  split_kv         (CPU self-test only) the split form of the cascade in torch ops: per split
                   max, sum and numerator, then the log-sum-exp merge.

Per row: latency (CUDA events, median of >= 5 calls and >= 0.2 s after a warm-up),
  flop = 2*B*H*M*(E+F)        (QK and AV; exp not counted)
  bytes = 2*B*HK*M*E*2 (K and V, E = F here) + B*H*(E+F)*2 (q, out), bf16
achieved TB/s = bytes / latency, and its fraction of the measured device-to-device copy
bandwidth (read + write bytes / time of a 4 GiB copy). Shapes whose q, k, v exceed
CAP_BYTES are skipped and say so. Workload: Llama 3 8B attention (Llama 3 Herd of Models,
Dubey et al. 2024, Table 3: 32 heads, 8 key/value heads, model dim 4096 -> head dim 128).

Writes <out>/<gpu>-decode.csv and .json (machine, versions, date, ceilings, checks, rows)
and, with --golden DIR, DIR/manifest.json + DIR/decode_*.npy in cascade's layout
(q [E][H], k [E][M][HK], v [F][M][HK], out/ref [F][H]; one batch element).
Without CUDA (Debian's torch 1.13) the GPU kernels are skipped cleanly: the CPU self-test
runs, golden vectors use a CPU fallback marked "device": "cpu" (the C++ test rejects them).

Usage: decode_benchmark.py [--out DIR] [--golden DIR] [--budget-s S] [--selftest-only]
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import platform
import sys
import time
import traceback

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as ref  # noqa: E402
from benchmark import copy_bandwidth, machine_info, safe_name, sync, time_call  # noqa: E402

WORKLOAD = {"name": "llama3-8b", "H": 32, "HK": 8, "E": 128, "F": 128}
BATCHES = [1, 4, 16, 64]
LENGTHS = [4096, 16384, 65536, 262144, 1048576]
CAP_BYTES = 100e9   # q + k + v + out in bf16; the H200 has 141 GB (139 GiB usable)
BACKENDS = ["FLASH_ATTENTION", "CUDNN_ATTENTION", "EFFICIENT_ATTENTION", "MATH"]
MATH_CAP_BYTES = 24e9   # MATH materializes the scores and (without GQA support) copies K/V
CSV_FIELDS = ["workload", "B", "H", "HK", "G", "E", "F", "M", "kernel", "gqa", "status",
              "median_ms", "min_ms", "max_ms", "reps", "flop", "flop_formula", "tflops",
              "bytes", "bytes_formula", "TB_per_s", "fraction_of_copy_bw", "kernels", "note"]
GOLDEN_TOLERANCE = {"bf16": 4 * 2.0 ** -8, "fp16": 4 * 2.0 ** -10, "fp32": 1e-5}
FORMATS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def log(*a):
    print(*a, flush=True)


# ------------------------------------------------------------------------- the math


def decode_naive(q, k, v, scale=None, dtype=torch.float64):
    """out[b, h] = softmax(scale * q[b, h] . k[b, h // G]) v[b, h // G]: every key at once."""
    g = q.shape[1] // k.shape[1]
    scale = ref.default_scale(q.shape[-1]) if scale is None else scale
    qd, kd, vd = q.to(dtype), k.to(dtype), v.to(dtype)
    kd, vd = kd.repeat_interleave(g, dim=1), vd.repeat_interleave(g, dim=1)
    s = torch.matmul(qd, kd.transpose(-1, -2)) * scale
    return torch.matmul(torch.softmax(s, dim=-1), vd)


def decode_split_kv(q, k, v, splits, scale=None, dtype=torch.float64):
    """FlashDecoding's form (the cascade's merge): per split max, sum of exp, numerator;
    then the max over splits, each split rescaled by exp(max_s - max), summed, divided."""
    g = q.shape[1] // k.shape[1]
    scale = ref.default_scale(q.shape[-1]) if scale is None else scale
    m_len = k.shape[2]
    size = math.ceil(m_len / splits)
    kd = k.to(dtype).repeat_interleave(g, dim=1)
    vd = v.to(dtype).repeat_interleave(g, dim=1)
    qd = q.to(dtype)
    maxes, sums, nums = [], [], []
    for start in range(0, m_len, size):
        s = torch.matmul(qd, kd[:, :, start:start + size].transpose(-1, -2)) * scale
        mx = s.amax(dim=-1, keepdim=True)
        w = torch.exp(s - mx)
        maxes.append(mx)
        sums.append(w.sum(dim=-1, keepdim=True))
        nums.append(torch.matmul(w, vd[:, :, start:start + size]))
    gm = torch.stack(maxes).amax(dim=0)
    num = sum(n * torch.exp(mx - gm) for n, mx in zip(nums, maxes))
    den = sum(d * torch.exp(mx - gm) for d, mx in zip(sums, maxes))
    return num / den


def sdpa_decode(q, k, v, backend, scale=None):
    """(out, gqa mode): SDPA on one backend with enable_gqa, else on repeated K/V."""
    scale = ref.default_scale(q.shape[-1]) if scale is None else scale
    g = q.shape[1] // k.shape[1]
    with ref.sdpa_kernel([getattr(ref.SDPBackend, backend)]):
        try:
            return (torch.nn.functional.scaled_dot_product_attention(
                q, k, v, scale=scale, enable_gqa=g > 1), "enable_gqa" if g > 1 else "mha")
        except Exception:
            if g == 1:
                raise
        kr, vr = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        return torch.nn.functional.scaled_dot_product_attention(q, kr, vr, scale=scale), \
            "repeat_interleave"


def kernel_callable(kernel, q, k, v):
    """A zero-argument callable for timing plus its gqa mode (K/V expanded beforehand if
    the backend needs it, so the timed call is the attention only)."""
    if kernel == "flex":
        flex = ref.compiled_flex()
        scale = ref.default_scale(q.shape[-1])
        return (lambda: flex(q, k, v, scale=scale, enable_gqa=True)), "enable_gqa"
    backend = kernel.split(":", 1)[1]
    _, mode = sdpa_decode(q, k, v, backend)
    if mode == "repeat_interleave":
        g = q.shape[1] // k.shape[1]
        kr, vr = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        return (lambda: sdpa_decode(q, kr, vr, backend)[0]), mode
    return (lambda: sdpa_decode(q, k, v, backend)[0]), mode


def run_kernel(kernel, q, k, v):
    fn, mode = kernel_callable(kernel, q, k, v)
    return fn(), mode


def kernels_available():
    out = []
    if ref.HAS_CUDA and ref.HAS_SDPA and ref.HAS_SDPA_KERNEL:
        out += [f"sdpa:{b}" for b in BACKENDS]
    if ref.HAS_CUDA and ref.HAS_FLEX:
        out.append("flex")
    return out


def random_qkv(b, h, hk, m, e, f, dtype, device, gen=None):
    if gen is None:  # timing: normal_ in the format itself (no fp32 temporaries of 64 GB)
        return tuple(torch.empty(*s, device=device, dtype=dtype).normal_()
                     for s in [(b, h, 1, e), (b, hk, m, e), (b, hk, m, f)])
    q = torch.randn(b, h, 1, e, generator=gen, device=device, dtype=torch.float32).to(dtype)
    k = torch.randn(b, hk, m, e, generator=gen, device=device, dtype=torch.float32).to(dtype)
    v = torch.randn(b, hk, m, f, generator=gen, device=device, dtype=torch.float32).to(dtype)
    return q, k, v


# ------------------------------------------------------------------------- checks


def selftest(device="cpu"):
    """The split form and the naive form agree in fp64 (several split counts, GQA groups,
    a partial last split); on a GPU the same on the device. Returns a list of results."""
    results = []
    gen = torch.Generator(device=device).manual_seed(7)
    for (b, h, hk, m, e, f, splits) in [(2, 8, 2, 1000, 32, 32, 4), (1, 6, 3, 777, 16, 24, 5),
                                         (3, 4, 4, 300, 16, 16, 1), (1, 4, 1, 97, 8, 8, 97)]:
        q, k, v = random_qkv(b, h, hk, m, e, f, torch.float64, device, gen)
        d = (decode_split_kv(q, k, v, splits) - decode_naive(q, k, v)).abs().max().item()
        results.append({"shape": [b, h, hk, m, e, f], "splits": splits, "max_abs": d,
                        "passed": d < 1e-12})
    # GQA: query head h must read KV head h // G (a permuted mapping must differ).
    q, k, v = random_qkv(1, 8, 2, 64, 8, 8, torch.float64, device, gen)
    wrong = decode_naive(q, k.flip(1), v.flip(1))
    results.append({"check": "head mapping matters", "passed":
                    (wrong - decode_naive(q, k, v)).abs().max().item() > 1e-3})
    return results


def gpu_checks(deadline):
    """Every kernel vs the fp64 naive reference on the GPU, bf16 / fp16 / fp32, at lengths
    that are not multiples of 64 (a long one so that the split-KV path runs)."""
    checks = []
    for (m, b) in [(1000, 2), (50001, 2)]:
        for fmt in ["bf16", "fp16", "fp32"]:
            dtype = FORMATS[fmt]
            gen = torch.Generator(device="cuda").manual_seed(m + len(fmt))
            q, k, v = random_qkv(b, WORKLOAD["H"], WORKLOAD["HK"], m, WORKLOAD["E"],
                                 WORKLOAD["F"], dtype, "cuda", gen)
            want = decode_naive(q, k, v)
            for kernel in kernels_available():
                if kernel == "flex" and (fmt != "bf16" or m != 1000):
                    continue  # compiles per shape and format: one check
                if time.time() > deadline:
                    return checks
                row = {"kernel": kernel, "format": fmt, "B": b, "M": m}
                try:
                    out, mode = run_kernel(kernel, q, k, v)
                    row.update(ref.error_stats(out, want), gqa=mode)
                    row["passed"] = ref.passes(row, dtype)
                except Exception as exc:
                    row.update(passed=False, error=f"{type(exc).__name__}: {str(exc)[:300]}")
                checks.append(row)
                log(f"check {kernel:28s} {fmt} M={m}: {row.get('rel_l2', row.get('error'))}")
            del q, k, v, want
            torch.cuda.empty_cache()
    return checks


# ------------------------------------------------------------------------- timing


def profiled_kernel_names(fn):
    try:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            sync()
        names = sorted({e.key for e in prof.key_averages()
                        if getattr(e, "device_type", None) is not None
                        and "CUDA" in str(e.device_type)})
        return ";".join(n[:80] for n in names)[:600]
    except Exception as exc:
        return f"profiler failed: {type(exc).__name__}"


def measure(kernel, b, m, passed_bf16, deadline, copy_tbps):
    w = WORKLOAD
    h, hk, e, f = w["H"], w["HK"], w["E"], w["F"]
    flop = 2 * b * h * m * (e + f)
    nbytes = 2 * b * hk * m * e * 2 + b * h * (e + f) * 2
    row = {"workload": w["name"], "B": b, "H": h, "HK": hk, "G": h // hk, "E": e, "F": f,
           "M": m, "kernel": kernel, "flop": flop, "flop_formula": "2*B*H*M*(E+F)",
           "bytes": nbytes, "bytes_formula": "2*B*HK*M*E*2 + B*H*(E+F)*2 (bf16)"}
    if not passed_bf16:
        return dict(row, status="skipped", note="its bf16 check failed or did not run")
    if nbytes > CAP_BYTES:
        return dict(row, status="skipped", note=f"q,k,v,out {nbytes / 1e9:.0f} GB > cap "
                    f"{CAP_BYTES / 1e9:.0f} GB (H200: 141 GB)")
    if kernel == "sdpa:MATH" and 4 * nbytes + 4 * b * h * m > MATH_CAP_BYTES:
        return dict(row, status="skipped", note="MATH: expanded K/V and scores over its cap")
    if time.time() > deadline:
        return dict(row, status="skipped", note="time budget exhausted")
    try:
        q, k, v = random_qkv(b, h, hk, m, e, f, torch.bfloat16, "cuda")
        fn, mode = kernel_callable(kernel, q, k, v)
        t = time_call(fn)
        row.update(t, gqa=mode, status="ok")
        row["tflops"] = flop / (t["median_ms"] * 1e-3) / 1e12
        row["TB_per_s"] = nbytes / (t["median_ms"] * 1e-3) / 1e12
        row["fraction_of_copy_bw"] = row["TB_per_s"] / copy_tbps if copy_tbps else None
        row["kernels"] = profiled_kernel_names(fn)
        if mode == "repeat_interleave":
            row["note"] = "K/V expanded G-fold before the call: reads G x the bytes column"
        del q, k, v, fn
    except Exception as exc:
        row.update(status="failed", note=f"{type(exc).__name__}: {str(exc)[:300]}")
    torch.cuda.empty_cache()
    return row


# ------------------------------------------------------------------------- golden


GOLDEN_CASES = [  # M not a multiple of 64; GQA groups 4 and 3, plain MHA; E != F once
    {"name": "decode_m1000_h8_g4", "M": 1000, "H": 8, "G": 4, "E": 32, "F": 32},
    {"name": "decode_m777_h6_g3_e16_f24", "M": 777, "H": 6, "G": 3, "E": 16, "F": 24},
    {"name": "decode_m300_h4_g1", "M": 300, "H": 4, "G": 1, "E": 16, "F": 16},
]


def to_np(x, dtype):
    return np.ascontiguousarray(x.detach().to("cpu").double().numpy().astype(
        np.dtype(dtype).newbyteorder("<")))


def make_golden(out_dir, seed=20261203):
    """One batch element per case, saved in cascade's layout."""
    os.makedirs(out_dir, exist_ok=True)
    device = "cuda" if ref.HAS_CUDA else "cpu"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    manifest = {
        "format_version": 1,
        "description": ("Decode golden vectors (one query per query head, grouped-query "
                        "heads): inputs rounded to `format` (float32), the GPU kernel's "
                        "output (`out`, float32), the fp64 naive reference (`ref`, float64). "
                        "Regenerate with experiments/gpu/decode_benchmark.py --golden DIR."),
        "layout": ("q [E][H], k [E][M][HK], v [F][M][HK], out/ref [F][H], HK = H / G, query "
                   "head h reads KV head h / G. One batch element. .npy little-endian, C order."),
        "error_metrics": "rel_l2 = ||out-ref||_2/||ref||_2; max_abs_over_scale = max|out-ref|/max|ref|",
        "provenance": {
            "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "seed": seed, "script": "experiments/gpu/decode_benchmark.py",
            "python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "cuda_runtime": torch.version.cuda, "device": device,
            "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
            "tf32": "disabled"},
        "cases": []}
    if device == "cpu":
        manifest["provenance"]["warning"] = "made WITHOUT a GPU: for testing the script only"
    for ci, c in enumerate(GOLDEN_CASES):
        hk = c["H"] // c["G"]
        for fmt, dtype in FORMATS.items():
            gen = torch.Generator().manual_seed(seed * 100 + ci)
            q, k, v = (x.to(dtype) for x in random_qkv(1, c["H"], hk, c["M"], c["E"], c["F"],
                                                        torch.float32, "cpu", gen))
            qd, kd, vd = (x.to(device) for x in (q, k, v))
            want = decode_naive(qd, kd, vd)
            entry = {"name": c["name"], "variant": "decode", "format": fmt,
                     "params": dict(c, scale=ref.default_scale(c["E"])), "kernel": None,
                     "kernels_tried": []}
            candidates = kernels_available() if device == "cuda" else []
            for kernel in [x for x in candidates if x != "flex"] or ["cpu:naive_lowp"]:
                try:
                    if kernel == "cpu:naive_lowp":
                        out = decode_naive(qd, kd, vd, dtype=torch.float32).to(dtype)
                    else:
                        out, _ = run_kernel(kernel, qd, kd, vd)
                    st = ref.error_stats(out, want)
                    ok = st["finite"] and st["max_abs_over_scale"] <= GOLDEN_TOLERANCE[fmt]
                except Exception as exc:
                    entry["kernels_tried"].append({"kernel": kernel, "error": str(exc)[:200]})
                    continue
                entry["kernels_tried"].append(dict(st, kernel=kernel, within_test_tolerance=ok))
                if ok:
                    entry.update(st, kernel=kernel)
                    break
            if entry["kernel"] is not None:
                base = f"{c['name']}.{fmt}"
                files = {}
                # torch [1, H, 1, E] -> [E][H]; [1, HK, M, E] -> [E][M][HK]; out [F][H]
                arrays = {"q": (q[0, :, 0, :].t(), "<f4"), "k": (k[0].permute(2, 1, 0), "<f4"),
                          "v": (v[0].permute(2, 1, 0), "<f4"),
                          "out": (out[0, :, 0, :].t(), "<f4"),
                          "ref": (want[0, :, 0, :].t(), "<f8")}
                for key, (arr, dt) in arrays.items():
                    files[key] = f"{base}.{key}.npy"
                    np.save(os.path.join(out_dir, files[key]), to_np(arr, dt))
                entry["files"] = files
            manifest["cases"].append(entry)
            log(f"golden {c['name']} {fmt}: {entry['kernel']} "
                f"{entry.get('max_abs_over_scale', 'no kernel passed')}")
    with open(os.path.join(out_dir, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    return manifest


# ------------------------------------------------------------------------- main


def write(out_dir, info, checks, rows):
    name = safe_name(info.get("gpu") or "cpu-smoke") + "-decode"
    with open(os.path.join(out_dir, f"{name}.csv"), "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    with open(os.path.join(out_dir, f"{name}.json"), "w") as fh:
        json.dump({"machine": info, "workload": WORKLOAD, "checks": checks, "rows": rows}, fh,
                  indent=1, default=str)
        fh.write("\n")
    log(f"wrote {out_dir}/{name}.csv and .json ({len(rows)} rows)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp/cascade-gpu"))
    ap.add_argument("--golden", help="write decode golden vectors into this directory")
    ap.add_argument("--budget-s", type=float, default=None)
    ap.add_argument("--selftest-only", action="store_true")
    args = ap.parse_args(argv)
    env_deadline = os.environ.get("CASCADE_GPU_DEADLINE")
    deadline = (time.time() + args.budget_s if args.budget_s else
                float(env_deadline) if env_deadline else time.time() + 400)
    os.makedirs(args.out, exist_ok=True)
    st = selftest("cpu")
    log("selftest (CPU):", "passed" if all(r["passed"] for r in st) else f"FAILED {st}")
    if not all(r["passed"] for r in st):
        return 1
    if args.selftest_only:
        return 0
    if args.golden:
        g = make_golden(args.golden)
        if not all(c.get("kernel") for c in g["cases"]):
            log("golden: some case has no passing kernel")
    info = machine_info()
    info["script"] = "experiments/gpu/decode_benchmark.py"
    checks, rows = [], []
    if not ref.HAS_CUDA:
        log("no CUDA: GPU kernels skipped (torch", torch.__version__, "); CPU smoke only")
        info["selftest"] = st
        write(args.out, info, checks, rows)
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    info["selftest_cpu"] = st
    info["selftest_gpu"] = selftest("cuda")
    info["copy_bandwidth"] = copy_bandwidth()
    copy_tbps = info["copy_bandwidth"]["TB_per_s"]
    log(f"copy bandwidth {copy_tbps:.3f} TB/s (read + write)")
    try:
        checks = gpu_checks(deadline - 240)
    except Exception:
        log(traceback.format_exc())
    passed = {c["kernel"] for c in checks if c["format"] == "bf16" and c.get("passed")}
    for kernel in [x for x in kernels_available() if x != "flex"] + ["flex"]:
        if kernel not in kernels_available():
            continue
        for b in BATCHES:
            for m in LENGTHS:
                # FlexAttention compiles per shape: batch 1 only, after the SDPA rows, and
                # only while a minute of the budget is left
                if kernel == "flex" and (b != 1 or time.time() > deadline - 60):
                    continue
                row = measure(kernel, b, m, kernel in passed, deadline, copy_tbps)
                rows.append(row)
                log(f"{kernel:28s} B={b:3d} M={m:8d} {row['status']:8s} "
                    f"{row.get('median_ms', float('nan')):9.4f} ms "
                    f"{row.get('TB_per_s') or float('nan'):6.3f} TB/s {row.get('note', '')}")
                write(args.out, info, checks, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
