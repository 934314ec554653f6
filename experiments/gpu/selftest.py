#!/usr/bin/env python3
"""Self-test of reference.py that runs on CPU torch (Debian's 1.13) and on a GPU.

Checks the independent forms of each variant against each other in fp64 (naive vs
recurrent vs blocked), the NATTEN window rules against VARIANTS.md's examples, and, where
CUDA is present, every GPU kernel against the fp64 naive reference.
Exit status 0 = all passed. Usage: /usr/bin/python3 experiments/gpu/selftest.py [--cpu-only]
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

failures = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}")
    if not ok:
        failures.append(name)


def close(a, b, tol=1e-10):
    return (a - b).abs().max().item() <= tol * max(1.0, b.abs().max().item())


def main():
    g = torch.Generator().manual_seed(1)
    d64 = torch.float64

    def rnd(*shape):
        return torch.randn(*shape, generator=g, dtype=d64)

    # --- softmax: causal bottom-right, fully masked rows, FuseMax example sizes
    q, k, v = rnd(2, 3, 37, 8), rnd(2, 3, 53, 8), rnd(2, 3, 53, 5)
    out = ref.softmax_naive(q, k, v, causal=True)
    # row p sees keys 0..p+M-P: compare one row by hand
    p = 4
    s = (q[0, 0, p] @ k[0, 0, : p + 53 - 37 + 1].T) / math.sqrt(8)
    manual = torch.softmax(s, -1) @ v[0, 0, : p + 53 - 37 + 1]
    check("softmax causal bottom-right row", close(out[0, 0, p], manual))
    q2 = rnd(1, 1, 10, 4)
    out2 = ref.softmax_naive(q2, rnd(1, 1, 6, 4), rnd(1, 1, 6, 3), causal=True)
    check("softmax fully masked rows -> 0", out2[0, 0, :4].abs().max().item() == 0.0
          and out2[0, 0, 4:].abs().max().item() > 0)
    o32 = ref.softmax_naive(q, k, v, causal=False, dtype=torch.float32)
    check("softmax fp32 vs fp64", close(o32.double(), ref.softmax_naive(q, k, v), 1e-5))

    # --- linear
    for fmap in ref.FEATURE_MAPS:
        q, k, v = rnd(2, 2, 70, 6), rnd(2, 2, 70, 6), rnd(2, 2, 70, 7)
        if fmap != "elu1":  # keep denominators away from 0 for the relu/identity checks
            q, k = q.abs() + 0.1, k.abs() + 0.1
        naive_c = ref.linear_naive(q, k, v, causal=True, fmap=fmap)
        rec = ref.linear_recurrent(q, k, v, fmap=fmap)
        check(f"linear causal naive vs recurrent ({fmap})", close(naive_c, rec))
        ch = ref.linear_chunked(q, k, v, causal=True, fmap=fmap, chunk=16, dtype=d64)
        check(f"linear causal chunked vs naive ({fmap})", close(ch, naive_c))
        kk, vv = rnd(2, 2, 45, 6), rnd(2, 2, 45, 7)
        if fmap != "elu1":
            kk = kk.abs() + 0.1
        nc = ref.linear_naive(q, kk, vv, causal=False, fmap=fmap)
        chn = ref.linear_chunked(q, kk, vv, causal=False, fmap=fmap, chunk=16, dtype=d64)
        check(f"linear non-causal chunked vs naive ({fmap})", close(chn, nc))
        # non-causal == causal of the last row
        check(f"linear non-causal == causal last row ({fmap})",
              close(ref.linear_naive(q, k, v, False, fmap)[..., -1, :], naive_c[..., -1, :]))

    # --- lightning
    slopes8 = ref.alibi_slopes(8)
    check("alibi slopes H=8", all(abs(a - b) < 1e-15 for a, b in
                                  zip(slopes8, [2.0 ** -(i + 1) for i in range(8)])))
    s12 = ref.alibi_slopes(12)
    expect12 = [2.0 ** (-(h + 1)) for h in range(8)] + [2.0 ** (-0.5 * (h + 1)) for h in
                                                         range(16)][0::2][:4]
    check("alibi slopes H=12", len(s12) == 12 and all(abs(a - b) < 1e-15 for a, b in
                                                      zip(s12, expect12)))
    rates = [0.5, 1 / 64, 0.0]
    q, k, v = rnd(2, 3, 75, 6), rnd(2, 3, 75, 6), rnd(2, 3, 75, 5)
    ln = ref.lightning_naive(q, k, v, rates)
    check("lightning naive vs recurrent", close(ln, ref.lightning_recurrent(q, k, v, rates)))
    for block in (16, 32, 75, 128):
        check(f"lightning blocked B={block} vs naive",
              close(ref.lightning_blocked(q, k, v, rates, block=block, dtype=d64), ln))
    check("lightning lambda=1 == causal linear identity (no eps)",
          close(ref.lightning_naive(q, k, v, [0.0])[..., :, :],
                torch.matmul(torch.tril(q @ k.transpose(-1, -2)), v)))

    # --- neighborhood windows
    first, last = ref.natten_window_1d(7, 3, 1, False)
    check("NA L=7 k=3 starts 0,0,1,2,3,4,4", first == [0, 0, 1, 2, 3, 4, 4], str(first))
    for (L, kk_, d, c) in [(20, 5, 2, False), (21, 4, 3, False), (20, 5, 2, True), (9, 9, 1, False)]:
        first, last = ref.natten_window_1d(L, kk_, d, c)
        keep = ref.neighborhood_keep([L], [kk_], [d], [c])
        counts = keep.sum(-1).tolist()
        if not c:
            check(f"NA 1D L={L} k={kk_} d={d}: exactly k keys, own group",
                  all(n == kk_ for n in counts) and
                  all(((torch.nonzero(keep[x]).flatten() - x) % d == 0).all() for x in range(L)))
        else:
            check(f"NA 1D causal L={L} k={kk_} d={d}: keys <= query, <= k",
                  all(n <= kk_ for n in counts) and bool((torch.triu(keep, 1) == 0).all()))
    # k = L, d = 1, non-causal -> full attention
    q, k, v = rnd(1, 2, 12, 4), rnd(1, 2, 12, 4), rnd(1, 2, 12, 4)
    check("NA k=L == softmax", close(ref.neighborhood_naive(q, k, v, [12], [12], [1], [False]),
                                     ref.softmax_naive(q, k, v)))
    # 2D keep = AND of per-axis keeps (brute force)
    shape, kern, dil, cau = [5, 7], [3, 5], [1, 1], [False, True]
    keep2 = ref.neighborhood_keep(shape, kern, dil, cau)
    ky = ref.neighborhood_keep([5], [3], [1], [False])
    kx = ref.neighborhood_keep([7], [5], [1], [True])
    ok = all(keep2[y * 7 + x, yy * 7 + xx] == (ky[y, yy] & kx[x, xx])
             for y in range(5) for x in range(7) for yy in range(5) for xx in range(7))
    check("NA 2D keep = product of axes", ok)
    check("NA pair count", ref.neighborhood_pair_count(shape, kern, dil, cau) == int(keep2.sum()))
    # mask_mod (FlexAttention) agrees with the dense keep, evaluated eagerly on index grids
    for (shape, kern, dil, cau) in [([30], [5], [2], [False]), ([30], [7], [3], [True]),
                                    ([6, 9], [3, 5], [2, 1], [False, False]),
                                    ([6, 9], [3, 4], [1, 2], [True, False])]:
        mm = ref.neighborhood_mask_mod(shape, kern, dil, cau, "cpu")
        n = int(math.prod(shape))
        qi = torch.arange(n).reshape(-1, 1).expand(n, n)
        ki = torch.arange(n).reshape(1, -1).expand(n, n)
        got = mm(None, None, qi, ki)
        want = ref.neighborhood_keep(shape, kern, dil, cau)
        check(f"NA mask_mod == keep {shape} k={kern} d={dil} causal={cau}", bool((got == want).all()))

    # --- GPU kernels (if present)
    avail = ref.available_kernels()
    print("available GPU kernel families:", avail)
    if torch.cuda.is_available() and "--cpu-only" not in sys.argv:
        gpu_checks()
    print(f"{len(failures)} failed")
    return 1 if failures else 0


def gpu_checks():
    dev = "cuda"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    g = torch.Generator(device=dev).manual_seed(2)
    for dt in (torch.float32, torch.bfloat16, torch.float16):
        q = torch.randn(2, 3, 200, 32, device=dev, generator=g).to(dt)
        k = torch.randn(2, 3, 200, 32, device=dev, generator=g).to(dt)
        v = torch.randn(2, 3, 200, 32, device=dev, generator=g).to(dt)
        for causal in (False, True):
            r = ref.linear_naive(q, k, v, causal)
            st = ref.error_stats(ref.linear_triton(q, k, v, causal), r)
            check(f"linear triton causal={causal} {dt}", ref.passes(st, dt), str(st))
        rates = ref.lightning_decay_rates(3)
        r = ref.lightning_naive(q, k, v, rates)
        st = ref.error_stats(ref.lightning_triton(q, k, v, rates), r)
        check(f"lightning triton {dt}", ref.passes(st, dt), str(st))


if __name__ == "__main__":
    sys.exit(main())
