#!/usr/bin/env python3
"""GPU benchmark of every attention variant (bf16) on the paper workloads' head shapes.

Phases, in one process, under one time budget (--budget-s, or the absolute deadline in
$CASCADE_GPU_DEADLINE, epoch seconds):
  1. machine: device, driver, versions; measured ceilings: bf16 matmul peak (8192^3
     torch.matmul on random data, median of 20) and device-to-device copy bandwidth;
  2. checks: every GPU kernel against the fp64 naive reference ON THE GPU, on fresh random
     inputs (lengths that are not multiples of 64/128, P != M where allowed), in bf16 (the
     benchmark format) and, for the cheap kernels, fp16 and fp32; tolerances are
     reference.CHECK_TOLERANCE. A kernel whose bf16 check fails is not measured (the row
     says so);
  3. measurements in priority order (softmax: all SDPA backends at all lengths for
     BERT-base first; then the other variants; then the other workloads). Latency from CUDA
     events around each call (warm-up first, median of >= 5 repeats and >= 0.2 s), achieved
     TFLOP/s with the flop formula written next to it, the fraction of the measured matmul
     peak, and energy per call (NVML's total-energy counter; else nvidia-smi power
     samples). Near the deadline no new measurement starts; skipped rows say why.
Writes <out>/<gpu-name>.csv, <out>/<gpu-name>.json (machine, versions, ceilings, checks,
rows). Without CUDA it runs a tiny CPU smoke of the same code paths (for testing only).

Usage: benchmark.py [--out DIR] [--budget-s S] [--quick]
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import traceback

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as ref  # noqa: E402

# Paper workloads (FuseMax, MICRO'24, Table of workloads): heads and head dims.
WORKLOADS = [
    {"name": "BERT-base", "H": 12, "E": 64, "F": 64},
    {"name": "TrXL", "H": 16, "E": 64, "F": 64},
    {"name": "T5-small", "H": 8, "E": 64, "F": 64},
    {"name": "XLM", "H": 16, "E": 128, "F": 128},
]
LENGTHS = [1024, 4096, 16384, 65536]
BATCH = 64
# Caps that set a reduced batch (stated per row): inputs+output bytes, materialized score
# bytes of naive/MATH kernels, and estimated time per call at an assumed rate.
CAP_IO_BYTES = 24e9
CAP_SCORE_BYTES = 24e9
CAP_CALL_S = 0.08
ASSUMED_RATE = {"quadratic": 400e12, "other": 100e12}

NA_1D = {"k": [127], "d": [1]}
NA_2D_KERNEL = [13, 13]

CSV_FIELDS = ["workload", "H", "E", "F", "variant", "kernel", "causal", "options", "P", "M",
              "batch", "batch_note", "dtype", "status", "median_ms", "min_ms", "max_ms",
              "reps", "flops", "tflops", "flop_formula", "frac_matmul_peak",
              "energy_mJ_per_call", "avg_power_W", "energy_window_s", "energy_method", "note"]


def log(*a):
    print(*a, flush=True)


# ------------------------------------------------------------------------- machine info


def nvidia_smi(fields):
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={','.join(fields)}",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=20)
        if out.returncode != 0:
            return {}
        vals = [v.strip() for v in out.stdout.strip().splitlines()[0].split(",")]
        return dict(zip(fields, vals))
    except Exception:
        return {}


def machine_info():
    info = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host_python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_runtime": torch.version.cuda,
        "triton": getattr(ref.triton, "__version__", None),
        "cudnn": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
        "flex_attention": ref.HAS_FLEX,
    }
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info.update({"gpu": p.name, "sm_count": p.multi_processor_count,
                     "memory_GiB": round(p.total_memory / 2 ** 30, 1),
                     "compute_capability": f"{p.major}.{p.minor}"})
        info["nvidia_smi"] = nvidia_smi(["name", "driver_version", "pstate", "power.limit",
                                         "clocks.max.sm", "clocks.max.mem", "temperature.gpu"])
        info["driver"] = info["nvidia_smi"].get("driver_version")
    else:
        info["gpu"] = None
        info["warning"] = "no CUDA: CPU smoke run of the script only"
    return info


# ------------------------------------------------------------------------- energy


class EnergyMeter:
    """Energy over an interval: NVML total-energy counter (mJ) if pynvml works, else
    nvidia-smi power samples (background process, ~20 ms period) integrated over time."""

    def __init__(self):
        self.method = None
        self.nvml = None
        if not torch.cuda.is_available():
            return
        try:
            import pynvml  # nvidia-ml-py

            pynvml.nvmlInit()
            h = pynvml.nvmlDeviceGetHandleByIndex(0)
            pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
            self.nvml, self.handle = pynvml, h
            self.method = "nvml_total_energy_counter"
            return
        except Exception:
            pass
        self.samples = []
        self.lock = threading.Lock()
        for field in ("power.draw.instant", "power.draw"):
            try:
                test = subprocess.run(["nvidia-smi", f"--query-gpu={field}",
                                       "--format=csv,noheader,nounits"], capture_output=True,
                                      text=True, timeout=20)
                float(test.stdout.strip().splitlines()[0])
            except Exception:
                continue
            self.proc = subprocess.Popen(["nvidia-smi", f"--query-gpu={field}",
                                          "--format=csv,noheader,nounits", "-lms", "20"],
                                         stdout=subprocess.PIPE, text=True)
            self.thread = threading.Thread(target=self._reader, daemon=True)
            self.thread.start()
            self.method = f"nvidia-smi {field} sampled every 20 ms"
            return

    def _reader(self):
        for line in self.proc.stdout:
            try:
                w = float(line.strip())
            except ValueError:
                continue
            with self.lock:
                self.samples.append((time.time(), w))

    def read_mj(self):
        return self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)

    def wait_tick(self, timeout=0.5):
        """NVML only: poll until the energy counter changes; returns (mJ, time)."""
        e0 = self.read_mj()
        t_end = time.time() + timeout
        while time.time() < t_end:
            e = self.read_mj()
            if e != e0:
                return e, time.time()
            time.sleep(0.0005)
        return e0, time.time()

    def update_period(self, seconds=1.0):
        """NVML only: median time between counter changes while idle (s)."""
        ticks = []
        e_prev = self.read_mj()
        t_end = time.time() + seconds
        while time.time() < t_end:
            e = self.read_mj()
            if e != e_prev:
                ticks.append(time.time())
                e_prev = e
            time.sleep(0.0005)
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        return statistics.median(gaps) if gaps else None

    def start(self):
        self.t0 = time.time()
        if self.nvml:
            self.e0 = self.read_mj()

    def stop(self):
        """Returns (joules, seconds) or (None, seconds)."""
        t1 = time.time()
        dt = t1 - self.t0
        if self.nvml:
            e1 = self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
            return (e1 - self.e0) / 1000.0, dt
        if self.method:
            time.sleep(0.05)
            with self.lock:
                pts = [w for (t, w) in self.samples if self.t0 <= t <= t1]
            if pts:
                return statistics.fmean(pts) * dt, dt
        return None, dt

    def close(self):
        if getattr(self, "proc", None):
            self.proc.terminate()


# ------------------------------------------------------------------------- timing


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_call(fn, meter=None, min_total_s=0.2, min_reps=5, max_reps=200):
    """Warm-up (first call may compile), then >= min_reps timed calls lasting >= min_total_s.
    Returns dict with median/min/max ms, reps and energy."""
    fn()
    sync()
    t = time.perf_counter()
    fn()
    sync()
    est = max(time.perf_counter() - t, 1e-6)
    reps = int(min(max_reps, max(min_reps, math.ceil(min_total_s / est))))
    cuda = torch.cuda.is_available()
    times = []
    if meter:
        meter.start()
    if cuda:
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
        for i in range(reps):
            starts[i].record()
            fn()
            ends[i].record()
        torch.cuda.synchronize()
        times = [s.elapsed_time(e) for s, e in zip(starts, ends)]
    else:
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1e3)
    res = {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
           "reps": reps}
    if meter and meter.method:
        res.update(measure_energy(fn, meter, res["median_ms"] * 1e-3))
    return res


def measure_energy(fn, meter, call_s, window_s=1.0, max_calls=20000):
    """Energy per call over a separate run of >= window_s seconds.
    NVML: the window starts at a counter update and ends at the first update after the
    work; the idle tail (end of work -> that update) is charged at the idle power measured
    at start-up and subtracted. The counter moves in steps (period in the JSON), so short
    windows are useless; >= 1 s keeps the step error to a few percent."""
    n = int(min(max_calls, max(3, math.ceil(window_s / max(call_s, 1e-6)))))
    if meter.nvml:
        e0, t0 = meter.wait_tick()
        for _ in range(n):
            fn()
        sync()
        t_work = time.time()
        e1, t1 = meter.wait_tick()
        joules = (e1 - e0) / 1000.0 - meter.idle_W * max(0.0, t1 - t_work)
        dt = t_work - t0
    else:
        meter.start()
        for _ in range(n):
            fn()
        sync()
        joules, dt = meter.stop()
        if joules is None:
            return {}
    return {"energy_mJ_per_call": joules * 1e3 / n, "avg_power_W": joules / dt,
            "energy_window_s": dt, "energy_calls": n}


def matmul_peak(n=8192, reps=20):
    dev = "cuda"
    a = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    for _ in range(3):
        torch.matmul(a, b)
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        torch.matmul(a, b)
        e.record()
        torch.cuda.synchronize()
        ts.append(s.elapsed_time(e))
    med = statistics.median(ts)
    return {"shape": [n, n, n], "dtype": "bf16", "median_ms": med,
            "tflops": 2 * n ** 3 / (med * 1e-3) / 1e12, "best_tflops": 2 * n ** 3 /
            (min(ts) * 1e-3) / 1e12, "reps": reps, "data": "random normal"}


def copy_bandwidth(nbytes=4 * 2 ** 30, reps=10):
    x = torch.empty(nbytes // 2, dtype=torch.bfloat16, device="cuda").normal_()
    y = torch.empty_like(x)
    y.copy_(x)
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        y.copy_(x)
        e.record()
        torch.cuda.synchronize()
        ts.append(s.elapsed_time(e))
    med = statistics.median(ts)
    del x, y
    return {"bytes_read_plus_written": 2 * nbytes, "median_ms": med,
            "TB_per_s": 2 * nbytes / (med * 1e-3) / 1e12}


# ------------------------------------------------------------------------- kernels


def na_shape(length, two_d):
    if not two_d:
        return [length]
    side = int(round(math.sqrt(length)))
    return [side, length // side]


def kernel_fn(kernel, q, k, v, causal, opts, timing=False):
    """A closure computing `kernel` on (q, k, v) [B, H, L, E] in their format. timing:
    no NaN poisoning of outputs, decay rates copied to the device once."""
    if kernel.startswith("sdpa:"):
        backend = kernel.split(":", 1)[1]
        return lambda: ref.softmax_sdpa(q, k, v, None, causal, backend)[0]
    if kernel == "naive_softmax":
        return lambda: ref.softmax_naive_lowp(q, k, v, None, causal)
    if kernel == "triton_linear":
        return lambda: ref.linear_triton(q, k, v, causal, opts.get("feature_map", "elu1"),
                                         poison=not timing)
    if kernel == "naive_linear":
        return lambda: ref.linear_naive(q, k, v, causal, opts.get("feature_map", "elu1"),
                                        dtype=q.dtype)
    if kernel == "triton_lightning":
        rates = opts["rates"]
        if timing and q.is_cuda:
            rates = torch.tensor(rates, dtype=torch.float32, device=q.device)
        return lambda: ref.lightning_triton(q, k, v, rates, block=opts.get("block", 64),
                                            poison=not timing)
    if kernel == "naive_lightning":
        return lambda: ref.lightning_naive(q, k, v, opts["rates"], dtype=q.dtype)
    if kernel == "flex_neighborhood":
        bm = ref.neighborhood_block_mask(opts["shape"], opts["k"], opts["d"], opts["causal_axes"],
                                         q.device)
        return lambda: ref.neighborhood_flex(q, k, v, opts["shape"], opts["k"], opts["d"],
                                             opts["causal_axes"], block_mask=bm)
    if kernel == "naive_neighborhood":
        keep = ref.neighborhood_keep(opts["shape"], opts["k"], opts["d"], opts["causal_axes"],
                                     device=q.device)
        scale = ref.default_scale(q.shape[-1])
        return lambda: ref.masked_softmax_lowp(q, k, v, scale, keep)
    raise ValueError(kernel)


def reference64(variant, q, k, v, causal, opts):
    q, k, v = q.double(), k.double(), v.double()
    if variant == "softmax":
        return ref.softmax_naive(q, k, v, None, causal)
    if variant == "linear":
        return ref.linear_naive(q, k, v, causal, opts.get("feature_map", "elu1"))
    if variant == "lightning":
        return ref.lightning_naive(q, k, v, opts["rates"])
    if variant == "neighborhood":
        return ref.neighborhood_naive(q, k, v, opts["shape"], opts["k"], opts["d"],
                                      opts["causal_axes"])
    raise ValueError(variant)


def variant_of(kernel):
    if kernel.startswith("sdpa:") or kernel == "naive_softmax":
        return "softmax"
    for v in ("linear", "lightning", "neighborhood"):
        if kernel.endswith(v):
            return v
    raise ValueError(kernel)


# ------------------------------------------------------------------------- flop counts


def causal_pairs(p_len, m_len):
    """Unmasked (p, m) pairs under bottom-right causal masking."""
    off = m_len - p_len
    total = 0
    # rows p with p + off + 1 keys, clipped to [0, M]
    for p in range(p_len):
        total += min(m_len, max(0, p + off + 1))
    return total


def causal_pairs_fast(p_len, m_len):
    if p_len == m_len:
        return p_len * (p_len + 1) // 2
    return causal_pairs(p_len, m_len)


def flop_count(variant, p_len, m_len, e, f, causal, opts):
    """(flops per (batch, head), formula text)."""
    if variant == "softmax":
        if causal:
            return (2 * causal_pairs_fast(p_len, m_len) * (e + f),
                    "2*pairs*(E+F), pairs = unmasked (p,m) = P(P+1)/2 for P=M (QK and AV; exp "
                    "not counted)")
        return 2 * p_len * m_len * (e + f), "2*P*M*(E+F) = 4*P*M*E for E=F (QK and AV; exp not counted)"
    if variant == "linear":
        return (4 * m_len * e * f + 2 * p_len * e * f,
                "4*M*E*F + 2*P*E*F (VARIANTS.md; same count for causal)")
    if variant == "lightning":
        b = opts.get("block", 64)
        return (4 * p_len * e * f + 2 * p_len * b * (e + f),
                f"4*P*E*F + 2*P*B*(E+F), B={b} (blocked form: inter QKV + state update + intra "
                "block products incl. masked half)")
    if variant == "neighborhood":
        pairs = ref.neighborhood_pair_count(opts["shape"], opts["k"], opts["d"],
                                            opts["causal_axes"])
        return (2 * pairs * (e + f),
                "2*pairs*(E+F), pairs = neighbor (q,k) pairs = P*prod(k) non-causal "
                "(= 4*P*k*E for E=F)")
    raise ValueError(variant)


# ------------------------------------------------------------------------- batch choice


def score_bytes_per_batch(kernel, causal, h, length):
    """Bytes of P x M temporaries a materializing kernel holds per batch element."""
    ll = h * length * length
    if kernel in ("naive_softmax", "naive_neighborhood"):
        return ll * (2 + 4 + 4 + 2)  # bf16 scores, fp32 scaled, fp32 probs, bf16 probs
    if kernel == "sdpa:MATH":
        return ll * (2 + 4 + 4 + 2)
    if kernel == "naive_linear":
        return ll * (2 + 2 + 2) if causal else 0  # A, masked A, sums
    if kernel == "naive_lightning":
        return ll * (2 + 2 + 2)  # QK^T, decay (rounded), product
    return 0


def choose_batch(kernel, variant, h, length, e, f, flops_bh, causal=False, bytes_per_el=2):
    """Largest batch <= 64 within the caps; returns (batch, note). batch 0 = infeasible."""
    notes = []
    b = BATCH
    io = h * length * (2 * e + 2 * f) * bytes_per_el
    if b * io > CAP_IO_BYTES:
        b = max(1, int(CAP_IO_BYTES // io))
        notes.append(f"memory cap {CAP_IO_BYTES / 1e9:.0f} GB on q,k,v,out")
    per_b = score_bytes_per_batch(kernel, causal, h, length)
    if per_b and b * per_b > CAP_SCORE_BYTES:
        nb = int(CAP_SCORE_BYTES // per_b)
        if nb < 1:
            return 0, f"materialized P x M temporaries need {per_b / 1e9:.0f} GB per batch element"
        b = min(b, nb)
        notes.append(f"P x M temporaries cap {CAP_SCORE_BYTES / 1e9:.0f} GB")
    rate = ASSUMED_RATE["quadratic"] if variant == "softmax" else ASSUMED_RATE["other"]
    est = b * h * flops_bh / rate
    if est > CAP_CALL_S:
        nb = max(1, int(b * CAP_CALL_S / est))
        if nb < b:
            b = nb
            notes.append(f"time cap {CAP_CALL_S * 1e3:.0f} ms/call at an assumed "
                         f"{rate / 1e12:.0f} TFLOP/s")
    note = "full batch 64" if b == BATCH else f"batch reduced to {b}: " + "; ".join(notes)
    return b, note


# ------------------------------------------------------------------------- checks


def run_checks(deadline, quick=False, dev="cuda", length=1000):
    """Every kernel vs the fp64 naive reference on the GPU. Returns (results list,
    {(kernel, causal): passed in bf16}); the gate of a kernel is the AND over its bf16
    checks, except causal checks with P != M (recorded, but the benchmark runs P == M)."""
    g = torch.Generator(device=dev).manual_seed(7)
    results, ok = [], {}

    def rnd(*shape, dtype):
        return torch.randn(*shape, device=dev, generator=g).to(dtype)

    b, h, e = 2, 4, 64
    n, n2 = length, (7 * length) // 10
    rates = ref.lightning_decay_rates(h)
    checks = []
    for backend in ref.SDPA_BACKEND_NAMES:
        checks.append(("sdpa:" + backend, False, n, n, {}))
        checks.append(("sdpa:" + backend, False, n2, n, {}))
        checks.append(("sdpa:" + backend, True, n, n, {}))
        checks.append(("sdpa:" + backend, True, n2, n, {}))  # bottom-right P != M
    checks.append(("naive_softmax", False, n, n, {}))
    checks.append(("naive_softmax", True, n, n, {}))
    checks.append(("naive_softmax", True, n2, n, {}))
    for fmap in ref.FEATURE_MAPS:
        checks.append(("triton_linear", False, n2, n, {"feature_map": fmap}))
        checks.append(("triton_linear", True, n, n, {"feature_map": fmap}))
    checks.append(("naive_linear", False, n2, n, {}))
    checks.append(("naive_linear", True, n, n, {}))
    checks.append(("triton_lightning", True, n, n, {"rates": rates, "block": 64}))
    checks.append(("naive_lightning", True, n, n, {"rates": rates}))
    side = int(math.sqrt(n))
    kk = min(127, n // 2 - 1)
    na_cases = [
        {"shape": [n], "k": [kk], "d": [1], "causal_axes": [False]},
        {"shape": [n], "k": [kk], "d": [1], "causal_axes": [True]},
        {"shape": [n], "k": [31], "d": [3], "causal_axes": [False]},
        {"shape": [side, n // side + 3], "k": [13, 13], "d": [1, 1], "causal_axes": [False, False]},
        {"shape": [side, n // side + 3], "k": [7, 9], "d": [2, 1], "causal_axes": [True, False]},
    ]
    for o in na_cases:
        checks.append(("flex_neighborhood", any(o["causal_axes"]), 0, 0, o))
    checks.append(("naive_neighborhood", False, 0, 0, na_cases[0]))

    for kernel, causal, p_len, m_len, opts in checks:
        variant = variant_of(kernel)
        if variant == "neighborhood":
            p_len = m_len = int(math.prod(opts["shape"]))
        formats = [torch.bfloat16]
        if (kernel != "flex_neighborhood" and not quick
                and opts.get("feature_map", "elu1") == "elu1"):
            formats += [torch.float16, torch.float32]
        for dt in formats:
            key = (kernel, json.dumps({k: v for k, v in opts.items() if k != "rates"},
                                      sort_keys=True), causal, dt)
            if time.time() > deadline:
                results.append({"kernel": kernel, "dtype": str(dt), "status": "skipped: time budget"})
                continue
            t0 = time.time()
            row = {"kernel": kernel, "variant": variant, "causal": causal, "P": p_len, "M": m_len,
                   "B": b, "H": h, "E": e, "F": e, "dtype": str(dt).replace("torch.", ""),
                   "options": {k: v for k, v in opts.items() if k != "rates"}}
            try:
                q = rnd(b, h, p_len, e, dtype=dt)
                k_ = rnd(b, h, m_len, e, dtype=dt)
                v = rnd(b, h, m_len, e, dtype=dt)
                if opts.get("feature_map") in ("relu", "identity"):
                    # keep linear-attention denominators away from 0 (VARIANTS.md: phi
                    # must keep them positive; identity/relu need positive-ish inputs)
                    q, k_ = (q.float().abs() + 0.1).to(dt), (k_.float().abs() + 0.1).to(dt)
                fn = kernel_fn(kernel, q, k_, v, causal, opts)
                out = fn()
                sync()
                r64 = reference64(variant, q, k_, v, causal, opts)
                st = ref.error_stats(out, r64)
                passed = ref.passes(st, dt) and out.dtype == dt
                row.update(st)
                row["status"] = "passed" if passed else "FAILED"
                row["tolerance"] = ref.CHECK_TOLERANCE[dt]
            except Exception as exc:
                passed = False
                row["status"] = f"error: {type(exc).__name__}: {str(exc)[:400]}"
            row["seconds"] = round(time.time() - t0, 2)
            results.append(row)
            if dt == torch.bfloat16 and not (causal and p_len != m_len):
                ok[(kernel, causal)] = ok.get((kernel, causal), True) and passed
            log(f"check {kernel:<26} causal={causal!s:<5} P={p_len:<5} M={m_len:<5} "
                f"{row['dtype']:<9} {json.dumps(row['options'])[:60]:<60} {row['status'][:60]} "
                f"rel_l2={row.get('rel_l2', float('nan')):.2e} "
                f"max/scale={row.get('max_abs_over_scale', float('nan')):.2e} ({row['seconds']}s)")
            torch.cuda.empty_cache()
    if dev != "cuda":
        return results, ok
    # SDPA's is_causal is top-left aligned: record how far it is from bottom-right P != M
    try:
        q = rnd(1, 2, 700, e, dtype=torch.bfloat16)
        k_ = rnd(1, 2, 1000, e, dtype=torch.bfloat16)
        v = rnd(1, 2, 1000, e, dtype=torch.bfloat16)
        with ref.sdpa_kernel([ref.SDPBackend.MATH]):
            tl_out = torch.nn.functional.scaled_dot_product_attention(q, k_, v, is_causal=True)
        st = ref.error_stats(tl_out, ref.softmax_naive(q.double(), k_.double(), v.double(),
                                                       causal=True))
        results.append({"kernel": "sdpa:MATH is_causal=True (top-left) vs bottom-right reference",
                        "P": 700, "M": 1000, "dtype": "bfloat16", **st,
                        "status": "expected to differ: SDPA's is_causal is top-left aligned"})
        log(f"note: SDPA is_causal (top-left) vs bottom-right reference, P=700 M=1000: "
            f"rel_l2={st['rel_l2']:.2e} (so P != M uses causal_lower_right)")
    except Exception as exc:
        log(f"note: top-left demonstration failed: {exc}")
    return results, ok


# ------------------------------------------------------------------------- tasks


def build_tasks(quick=False):
    """Measurement tasks in priority order."""
    tasks = []
    lengths = LENGTHS if not quick else [1024, 4096]
    fused = ["sdpa:FLASH_ATTENTION", "sdpa:CUDNN_ATTENTION", "sdpa:EFFICIENT_ATTENTION"]

    def add(w, kernel, length, causal, opts=None, prio=0):
        tasks.append({"workload": w, "kernel": kernel, "L": length, "causal": causal,
                      "opts": opts or {}, "prio": prio})

    bert, others = WORKLOADS[0], WORKLOADS[1:]
    # 1. softmax, every backend, every length, BERT-base
    for length in lengths:
        for causal in (False, True):
            for kern in fused:
                add(bert, kern, length, causal)
            if length <= 4096:
                add(bert, "sdpa:MATH", length, causal)
                add(bert, "naive_softmax", length, causal)
    # 2. other variants, BERT-base
    rates_b = ref.lightning_decay_rates(bert["H"])
    for length in lengths:
        for causal in (False, True):
            add(bert, "triton_linear", length, causal, {"feature_map": "elu1"})
        if length <= 4096:
            add(bert, "naive_linear", length, False, {"feature_map": "elu1"})
            add(bert, "naive_linear", length, True, {"feature_map": "elu1"})
        add(bert, "triton_lightning", length, True, {"rates": rates_b, "block": 64})
        if length <= 4096:
            add(bert, "naive_lightning", length, True, {"rates": rates_b})
    for length in lengths:
        add(bert, "flex_neighborhood", length, False,
            {"shape": na_shape(length, False), "k": NA_1D["k"], "d": NA_1D["d"],
             "causal_axes": [False]})
        if length in (4096, 65536):
            add(bert, "flex_neighborhood", length, False,
                {"shape": na_shape(length, True), "k": NA_2D_KERNEL, "d": [1, 1],
                 "causal_axes": [False, False]})
        if length == 4096:
            add(bert, "flex_neighborhood", length, True,
                {"shape": na_shape(length, False), "k": NA_1D["k"], "d": NA_1D["d"],
                 "causal_axes": [True]})
        if length <= 4096:
            add(bert, "naive_neighborhood", length, False,
                {"shape": na_shape(length, False), "k": NA_1D["k"], "d": NA_1D["d"],
                 "causal_axes": [False]})
    # 3. the other workloads: fused softmax (non-causal + causal), linear, lightning
    for w in others:
        rates_w = ref.lightning_decay_rates(w["H"])
        for length in lengths:
            for kern in fused:
                add(w, kern, length, False)
            add(w, "sdpa:FLASH_ATTENTION", length, True)
            add(w, "triton_linear", length, False, {"feature_map": "elu1"})
            add(w, "triton_linear", length, True, {"feature_map": "elu1"})
            add(w, "triton_lightning", length, True, {"rates": rates_w, "block": 64})
    # 4. neighborhood on XLM's head dim
    xlm = WORKLOADS[3]
    for length in (4096, 65536):
        add(xlm, "flex_neighborhood", length, False,
            {"shape": na_shape(length, False), "k": NA_1D["k"], "d": NA_1D["d"],
             "causal_axes": [False]})
    return tasks


def options_text(opts):
    o = {k: v for k, v in opts.items() if k != "rates"}
    if "rates" in opts:
        o["decay"] = "lambda_h = exp(-alibi_slope_h)"
    return json.dumps(o, sort_keys=True)


def measure_task(task, meter, check_ok, peak_tflops, dtype=torch.bfloat16, dev="cuda",
                 max_batch=None):
    w, kernel, length, causal, opts = (task["workload"], task["kernel"], task["L"],
                                       task["causal"], task["opts"])
    variant = variant_of(kernel)
    h, e, f = w["H"], w["E"], w["F"]
    flops_bh, formula = flop_count(variant, length, length, e, f, causal, opts)
    row = {"workload": w["name"], "H": h, "E": e, "F": f, "variant": variant, "kernel": kernel,
           "causal": causal, "options": options_text(opts), "P": length, "M": length,
           "dtype": "bf16", "flop_formula": formula}
    check_key_ok = check_ok.get((kernel, causal))
    if check_key_ok is False:
        row.update(status="not measured: bf16 check against fp64 failed or errored")
        return row
    if check_key_ok is None:
        row.update(status="not measured: kernel was not checked")
        return row
    b, note = choose_batch(kernel, variant, h, length, e, f, flops_bh, causal)
    if max_batch is not None and b > max_batch:
        b, note = max_batch, f"batch {max_batch} (smoke run)"
    row["batch_note"] = note
    if b == 0:
        row.update(status="skipped: " + note, batch=0)
        return row
    row["batch"] = b
    g = torch.Generator(device=dev).manual_seed(11)
    try:
        q = torch.randn(b, h, length, e, device=dev, generator=g, dtype=dtype)
        k = torch.randn(b, h, length, e, device=dev, generator=g, dtype=dtype)
        v = torch.randn(b, h, length, f, device=dev, generator=g, dtype=dtype)
        fn = kernel_fn(kernel, q, k, v, causal, opts, timing=True)
        res = time_call(fn, meter)
    except torch.cuda.OutOfMemoryError as exc:  # noqa: F841
        row.update(status=f"error: out of memory ({str(exc)[:120]})")
        return row
    except Exception as exc:
        row.update(status=f"error: {type(exc).__name__}: {str(exc)[:300]}")
        return row
    finally:
        q = k = v = fn = None
        torch.cuda.empty_cache()
    flops = flops_bh * b * h
    tflops = flops / (res["median_ms"] * 1e-3) / 1e12
    row.update(res)
    row.update(status="ok", flops=flops, tflops=tflops,
               frac_matmul_peak=(tflops / peak_tflops if peak_tflops else None),
               energy_method=meter.method if meter else None)
    return row


# ------------------------------------------------------------------------- output


def safe_name(s):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s or "cpu").strip("_")


def write_outputs(out_dir, info, rows, checks):
    os.makedirs(out_dir, exist_ok=True)
    name = safe_name(info.get("gpu") or "cpu-smoke")
    with open(os.path.join(out_dir, f"{name}.csv"), "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    with open(os.path.join(out_dir, f"{name}.json"), "w") as fh:
        json.dump({"machine": info, "checks": checks, "rows": rows}, fh, indent=1, default=str)
        fh.write("\n")
    return name


def print_summary(rows, info):
    log("")
    log(f"== {info.get('gpu')} | torch {info['torch']} | CUDA {info['cuda_runtime']} | "
        f"Triton {info['triton']} | driver {info.get('driver')}")
    if "matmul_peak" in info:
        log(f"== bf16 matmul peak {info['matmul_peak']['tflops']:.0f} TFLOP/s; copy "
            f"{info.get('copy_bandwidth', {}).get('TB_per_s', float('nan')):.2f} TB/s")
    log(f"{'workload':<10} {'kernel':<26} {'c':<2} {'L':>6} {'B':>3} {'ms':>9} {'TFLOP/s':>8} "
        f"{'peak%':>6} {'mJ':>8} status")
    for r in rows:
        if r.get("status") != "ok":
            continue
        log(f"{r['workload']:<10} {r['kernel']:<26} {'c' if r['causal'] else '-':<2} "
            f"{r['P']:>6} {r.get('batch', ''):>3} {r['median_ms']:>9.3f} {r['tflops']:>8.1f} "
            f"{100 * (r.get('frac_matmul_peak') or 0):>5.1f}% "
            f"{r.get('energy_mJ_per_call', float('nan')):>8.1f}")
    bad = [r for r in rows if r.get("status") != "ok"]
    log(f"{len(rows) - len(bad)} measured, {len(bad)} not measured")
    for r in bad:
        log(f"  not measured: {r['workload']} {r['kernel']} causal={r['causal']} L={r['P']}: "
            f"{r.get('status')}")


# ------------------------------------------------------------------------- CPU smoke


def cpu_smoke(out_dir):
    """Exercises the whole flow (task list, batch choice, flop counts, checks, timing,
    CSV/JSON) on tiny CPU problems; GPU-only kernels fail their checks cleanly and are
    reported as not measured. For testing the script only."""
    info = machine_info()
    for task in build_tasks():
        variant = variant_of(task["kernel"])
        w = task["workload"]
        fb, _ = flop_count(variant, task["L"], task["L"], w["E"], w["F"], task["causal"],
                           task["opts"])
        b, note = choose_batch(task["kernel"], variant, w["H"], task["L"], w["E"], w["F"], fb,
                               task["causal"])
        assert 0 <= b <= BATCH, (task, b)
    checks, check_ok = run_checks(time.time() + 120, quick=False, dev="cpu", length=100)
    smoke = {"name": "smoke", "H": 2, "E": 16, "F": 16}
    rows = []
    for task in build_tasks(quick=True):
        if task["workload"]["name"] != "BERT-base" or task["L"] != 1024:
            continue
        t = dict(task, workload=smoke, L=128)
        if t["kernel"] == "flex_neighborhood" or t["kernel"] == "naive_neighborhood":
            two_d = len(t["opts"]["shape"]) == 2
            t["opts"] = dict(t["opts"], shape=na_shape(128, two_d),
                             k=[3, 5] if two_d else [7])
            t["opts"]["d"] = [1] * len(t["opts"]["k"])
        if "rates" in t["opts"]:
            t["opts"] = dict(t["opts"], rates=ref.lightning_decay_rates(2))
        rows.append(measure_task(t, None, check_ok, None, dtype=torch.float32, dev="cpu",
                                 max_batch=1))
    name = write_outputs(out_dir, info, rows, checks)
    print_summary(rows, info)
    log(f"wrote {out_dir}/{name}.csv/.json")
    measured = {r["kernel"] for r in rows if r["status"] == "ok"}
    expected = {"naive_softmax", "naive_linear", "naive_lightning", "naive_neighborhood"}
    if not expected <= measured:
        log(f"CPU smoke: expected {sorted(expected)} measured, got {sorted(measured)}")
        return 1
    return 0


# ------------------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--budget-s", type=float, default=420.0,
                    help="stop starting new work after this many seconds (unless "
                         "$CASCADE_GPU_DEADLINE gives an earlier absolute deadline)")
    ap.add_argument("--quick", action="store_true", help="short lengths only, bf16 checks")
    args = ap.parse_args(argv)
    t_start = time.time()
    deadline = t_start + args.budget_s
    if os.environ.get("CASCADE_GPU_DEADLINE"):
        deadline = min(deadline, float(os.environ["CASCADE_GPU_DEADLINE"]))
    if not torch.cuda.is_available():
        return cpu_smoke(args.out)

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    info = machine_info()
    log(f"machine: {json.dumps(info)}")
    meter = EnergyMeter()
    info["energy_method"] = meter.method
    meter.idle_W = 0.0
    if meter.nvml:
        info["nvml_energy_counter_update_period_s"] = meter.update_period(1.0)
        e0, t0 = meter.wait_tick()
        time.sleep(1.0)
        e1, t1 = meter.wait_tick()
        meter.idle_W = (e1 - e0) / 1000.0 / (t1 - t0)
        info["idle_power_W"] = meter.idle_W
        log(f"energy: NVML counter period {info['nvml_energy_counter_update_period_s']} s, "
            f"idle {meter.idle_W:.1f} W")
    info["budget"] = {"deadline_utc": datetime.datetime.fromtimestamp(
        deadline, datetime.timezone.utc).isoformat(timespec="seconds")}
    rows, checks = [], []
    try:
        info["matmul_peak"] = matmul_peak()
        log(f"matmul peak: {info['matmul_peak']}")
        info["copy_bandwidth"] = copy_bandwidth()
        log(f"copy bandwidth: {info['copy_bandwidth']}")
        torch.cuda.empty_cache()
        checks, check_ok = run_checks(deadline - 60, quick=args.quick)
        write_outputs(args.out, info, rows, checks)
        peak = info["matmul_peak"]["tflops"]
        for task in build_tasks(quick=args.quick):
            left = deadline - time.time()
            need = 40 if task["kernel"] == "flex_neighborhood" else 6
            if left < need:
                w = task["workload"]
                rows.append({"workload": w["name"], "H": w["H"], "E": w["E"], "F": w["F"],
                             "variant": variant_of(task["kernel"]), "kernel": task["kernel"],
                             "causal": task["causal"], "options": options_text(task["opts"]),
                             "P": task["L"], "M": task["L"], "dtype": "bf16",
                             "status": f"skipped: time budget ({left:.0f} s left)"})
                continue
            t0 = time.time()
            row = measure_task(task, meter, check_ok, peak)
            rows.append(row)
            log(f"{row['workload']:<10} {row['kernel']:<26} causal={row['causal']!s:<5} "
                f"L={row['P']:<6} B={row.get('batch', '-')!s:<3} {row['status'][:70]:<10} "
                + (f"{row['median_ms']:.3f} ms {row['tflops']:.1f} TFLOP/s "
                   f"{row.get('energy_mJ_per_call', float('nan')):.1f} mJ"
                   if row["status"] == "ok" else "") + f" [{time.time() - t0:.1f}s]")
            if len(rows) % 10 == 0:
                write_outputs(args.out, info, rows, checks)
    except Exception:
        traceback.print_exc()
        info["fatal_error"] = traceback.format_exc()[-2000:]
    finally:
        meter.close()
        info["wall_s"] = round(time.time() - t_start, 1)
        name = write_outputs(args.out, info, rows, checks)
        print_summary(rows, info)
        log(f"wrote {args.out}/{name}.csv/.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
