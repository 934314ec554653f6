#!/usr/bin/env python3
"""Reference implementations of every attention variant of the project's VARIANTS.md.

Layout here is torch's: q [..., P, E], k [..., M, E], v [..., M, F], out [..., P, F]
(leading dims are (batch, head)). Golden vectors transpose to cascade's layout
(q [E][P], out [F][P]); see make_golden.py.

Three kinds of implementation per variant:
  * naive   -- the formula of VARIANTS.md written with whole matrices, in fp64 (the
               reference) or fp32/bf16 (for timing). Runs anywhere (CPU torch 1.13 too).
  * blocked -- the same algorithm as the GPU kernel, in plain torch ops (CPU-testable
               mirror of the Triton kernels).
  * GPU     -- SDPA backends (FLASH_ATTENTION, CUDNN_ATTENTION, EFFICIENT_ATTENTION,
               MATH), Triton kernels written here (linear attention, lightning
               attention) and FlexAttention with a neighborhood block mask. Present only
               when CUDA, torch >= 2.5 and Triton are; `available_kernels()` says which.

Every function returns a tensor; no function prints.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as torch_f

# --------------------------------------------------------------------------- capability

HAS_CUDA = torch.cuda.is_available()
HAS_SDPA = hasattr(torch_f, "scaled_dot_product_attention")

try:  # torch >= 2.3
    from torch.nn.attention import SDPBackend, sdpa_kernel  # type: ignore

    HAS_SDPA_KERNEL = True
except Exception:  # pragma: no cover - old torch
    SDPBackend = None
    sdpa_kernel = None
    HAS_SDPA_KERNEL = False

try:  # torch >= 2.3
    from torch.nn.attention.bias import causal_lower_right  # type: ignore

    HAS_CAUSAL_BIAS = True
except Exception:
    causal_lower_right = None
    HAS_CAUSAL_BIAS = False

try:  # torch >= 2.5
    from torch.nn.attention.flex_attention import (  # type: ignore
        create_block_mask,
        flex_attention,
    )

    HAS_FLEX = True
except Exception:
    create_block_mask = None
    flex_attention = None
    HAS_FLEX = False

try:
    import triton  # type: ignore
    import triton.language as tl  # type: ignore

    HAS_TRITON = True
except Exception:
    triton = None
    tl = None
    HAS_TRITON = False

SDPA_BACKEND_NAMES = ["FLASH_ATTENTION", "CUDNN_ATTENTION", "EFFICIENT_ATTENTION", "MATH"]


def available_kernels() -> Dict[str, bool]:
    """Which GPU kernel families can run in this process."""
    return {
        "sdpa": HAS_CUDA and HAS_SDPA and HAS_SDPA_KERNEL,
        "triton": HAS_CUDA and HAS_TRITON,
        "flex": HAS_CUDA and HAS_FLEX and HAS_TRITON,
    }


# --------------------------------------------------------------------------- softmax


def default_scale(e: int) -> float:
    return 1.0 / math.sqrt(e)


def causal_keep_bottom_right(p_len: int, m_len: int, device=None) -> torch.Tensor:
    """Bool [P, M], True where key m is visible to query p: m <= p + M - P
    (FlashAttention's bottom-right alignment, VARIANTS.md)."""
    p = torch.arange(p_len, device=device).unsqueeze(1)
    m = torch.arange(m_len, device=device).unsqueeze(0)
    return m <= p + (m_len - p_len)


def masked_softmax_attention(q, k, v, scale: float, keep: Optional[torch.Tensor],
                             dtype=torch.float64) -> torch.Tensor:
    """softmax(scale q k^T, masked) v in `dtype`. A query row with no visible key
    outputs 0 (FlashAttention's convention, VARIANTS.md)."""
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    row_max = scores.amax(dim=-1, keepdim=True)
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    sn = torch.exp(scores - row_max)  # exp(-inf) = 0 for masked entries
    sd = sn.sum(dim=-1, keepdim=True)
    snv = torch.matmul(sn, v)
    out = snv / torch.where(sd > 0, sd, torch.ones_like(sd))
    return torch.where(sd > 0, out, torch.zeros_like(out))


def softmax_naive(q, k, v, scale: Optional[float] = None, causal: bool = False,
                  dtype=torch.float64) -> torch.Tensor:
    """3-pass softmax attention of VARIANTS.md (division after AV), computed in `dtype`."""
    if scale is None:
        scale = default_scale(q.shape[-1])
    keep = causal_keep_bottom_right(q.shape[-2], k.shape[-2], q.device) if causal else None
    return masked_softmax_attention(q, k, v, scale, keep, dtype)


def masked_softmax_lowp(q, k, v, scale: float, keep: Optional[torch.Tensor]):
    """The textbook PyTorch attention in the input's format: scores by a matmul in the
    input format (fp32 accumulation on tensor cores), softmax in fp32, probabilities
    rounded to the input format, matmul with V. Materializes the P x M scores (timing
    baseline)."""
    scores = torch.matmul(q, k.transpose(-1, -2))
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    probs = torch.softmax(scores.float() * scale, dim=-1)
    probs = torch.nan_to_num(probs, nan=0.0).to(q.dtype)  # fully masked rows -> 0
    return torch.matmul(probs, v)


def softmax_naive_lowp(q, k, v, scale: Optional[float] = None, causal: bool = False):
    """masked_softmax_lowp with bottom-right causal masking."""
    if scale is None:
        scale = default_scale(q.shape[-1])
    keep = causal_keep_bottom_right(q.shape[-2], k.shape[-2], q.device) if causal else None
    return masked_softmax_lowp(q, k, v, scale, keep)


def _sdpa_backend(name: str):
    return getattr(SDPBackend, name)


def softmax_sdpa(q, k, v, scale: Optional[float], causal: bool, backend: str):
    """torch SDPA restricted to one backend. Returns (out, causal_mode).

    SDPA's `is_causal=True` is TOP-LEFT aligned (key m masked when m > p); VARIANTS.md
    (and FlashAttention) use BOTTOM-RIGHT alignment (m > p + M - P). The two agree only
    when P == M. For P != M we pass `causal_lower_right(P, M)` (a CausalBias that the
    flash and efficient kernels run natively) and, if the backend refuses it, an explicit
    bool mask. causal_mode records which one ran."""
    if not (HAS_SDPA and HAS_SDPA_KERNEL):
        raise RuntimeError("torch has no scaled_dot_product_attention/sdpa_kernel")
    if scale is None:
        scale = default_scale(q.shape[-1])
    p_len, m_len = q.shape[-2], k.shape[-2]
    with sdpa_kernel([_sdpa_backend(backend)]):
        if not causal:
            return torch_f.scaled_dot_product_attention(q, k, v, scale=scale), "none"
        if p_len == m_len:
            return (torch_f.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale),
                    "is_causal(P==M)")
        errors = []
        if HAS_CAUSAL_BIAS:
            try:
                bias = causal_lower_right(p_len, m_len)
                return (torch_f.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale),
                        "causal_lower_right")
            except Exception as exc:  # backend refused the CausalBias
                errors.append(f"causal_lower_right: {exc}")
        try:
            keep = causal_keep_bottom_right(p_len, m_len, q.device)
            return (torch_f.scaled_dot_product_attention(q, k, v, attn_mask=keep, scale=scale),
                    "bool_mask")
        except Exception as exc:
            errors.append(f"bool_mask: {exc}")
        raise RuntimeError("; ".join(errors))


# --------------------------------------------------------------------------- linear


def feature_map(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if name == "elu1":
        return lambda x: torch_f.elu(x) + 1.0
    if name == "identity":
        return lambda x: x
    if name == "relu":
        return torch.relu
    raise ValueError(f"unknown feature map '{name}' (elu1, identity, relu)")


FEATURE_MAPS = ["elu1", "identity", "relu"]
LINEAR_EPS = 1e-6


def linear_naive(q, k, v, causal: bool = False, fmap: str = "elu1", eps: float = LINEAR_EPS,
                 dtype=torch.float64) -> torch.Tensor:
    """Linear attention (Katharopoulos et al. 2020), VARIANTS.md, computed in `dtype`.
    Causal uses inclusive prefixes m <= p and needs P == M."""
    phi = feature_map(fmap)
    pq, pk, v = phi(q.to(dtype)), phi(k.to(dtype)), v.to(dtype)
    if not causal:
        kv = torch.matmul(pk.transpose(-1, -2), v)  # [E, F]
        z = pk.sum(dim=-2)  # [E]
        num = torch.matmul(pq, kv)
        den = (pq * z.unsqueeze(-2)).sum(dim=-1, keepdim=True) + eps
        return num / den
    if q.shape[-2] != k.shape[-2]:
        raise ValueError("causal linear attention needs P == M")
    a = torch.matmul(pq, pk.transpose(-1, -2))
    keep = causal_keep_bottom_right(q.shape[-2], k.shape[-2], q.device)
    a = a * keep.to(dtype)
    return torch.matmul(a, v) / (a.sum(dim=-1, keepdim=True) + eps)


def linear_recurrent(q, k, v, fmap: str = "elu1", eps: float = LINEAR_EPS, dtype=torch.float64):
    """Causal linear attention as the RNN of VARIANTS.md (S += k v^T, z += k per step).
    O(P E F) memory-light; slow in Python -- for tests only."""
    phi = feature_map(fmap)
    pq, pk, v = phi(q.to(dtype)), phi(k.to(dtype)), v.to(dtype)
    lead = q.shape[:-2]
    s = torch.zeros(*lead, q.shape[-1], v.shape[-1], dtype=dtype, device=q.device)
    z = torch.zeros(*lead, q.shape[-1], dtype=dtype, device=q.device)
    outs = []
    for t in range(q.shape[-2]):
        s = s + pk[..., t, :, None] * v[..., t, None, :]
        z = z + pk[..., t, :]
        num = (pq[..., t, :, None] * s).sum(dim=-2)
        den = (pq[..., t, :] * z).sum(dim=-1, keepdim=True) + eps
        outs.append(num / den)
    return torch.stack(outs, dim=-2)


def linear_chunked(q, k, v, causal: bool, fmap: str = "elu1", eps: float = LINEAR_EPS,
                   chunk: int = 64, dtype=torch.float32):
    """The algorithm of the Triton linear-attention kernels, in torch ops (CPU-testable):
    non-causal = two sweeps (state over M, then readout over P); causal = one sweep of
    chunks, intra-chunk masked product + inter-chunk state S (fp32), z."""
    phi = feature_map(fmap)
    pq, pk, v = phi(q.to(dtype)), phi(k.to(dtype)), v.to(dtype)
    lead = q.shape[:-2]
    e_dim, f_dim = q.shape[-1], v.shape[-1]
    s = torch.zeros(*lead, e_dim, f_dim, dtype=dtype, device=q.device)
    z = torch.zeros(*lead, e_dim, dtype=dtype, device=q.device)
    p_len, m_len = q.shape[-2], k.shape[-2]
    out = torch.empty(*lead, p_len, f_dim, dtype=dtype, device=q.device)
    if not causal:
        for m0 in range(0, m_len, chunk):
            kc, vc = pk[..., m0:m0 + chunk, :], v[..., m0:m0 + chunk, :]
            s = s + torch.matmul(kc.transpose(-1, -2), vc)
            z = z + kc.sum(dim=-2)
        for p0 in range(0, p_len, chunk):
            qc = pq[..., p0:p0 + chunk, :]
            den = (qc * z.unsqueeze(-2)).sum(-1, keepdim=True) + eps
            out[..., p0:p0 + chunk, :] = torch.matmul(qc, s) / den
        return out
    if p_len != m_len:
        raise ValueError("causal linear attention needs P == M")
    for t0 in range(0, p_len, chunk):
        qc, kc, vc = pq[..., t0:t0 + chunk, :], pk[..., t0:t0 + chunk, :], v[..., t0:t0 + chunk, :]
        c = qc.shape[-2]
        a = torch.matmul(qc, kc.transpose(-1, -2)) * torch.tril(torch.ones(c, c, dtype=dtype,
                                                                           device=q.device))
        num = torch.matmul(a, vc) + torch.matmul(qc, s)
        den = a.sum(-1, keepdim=True) + (qc * z.unsqueeze(-2)).sum(-1, keepdim=True) + eps
        out[..., t0:t0 + c, :] = num / den
        s = s + torch.matmul(kc.transpose(-1, -2), vc)
        z = z + kc.sum(dim=-2)
    return out


# --------------------------------------------------------------------------- lightning


def alibi_slopes(n_heads: int) -> List[float]:
    """ALiBi slopes (Press et al.), as VARIANTS.md states them."""

    def power_of_two(n: int) -> List[float]:
        return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]

    if n_heads & (n_heads - 1) == 0:
        return power_of_two(n_heads)
    c = 2 ** int(math.floor(math.log2(n_heads)))
    return power_of_two(c) + power_of_two(2 * c)[0::2][: n_heads - c]


def lightning_decay_rates(n_heads: int, layer: Optional[int] = None,
                          n_layers: Optional[int] = None) -> List[float]:
    """Per-head s_h with lambda_h = exp(-s_h). Optional TransNormerLLM layer factor."""
    s = alibi_slopes(n_heads)
    if layer is not None:
        factor = 1.0 - layer / (n_layers - 1) + 1e-5
        s = [x * factor for x in s]
    return s


def _rates_tensor(rates, n_heads_dim: int, device) -> torch.Tensor:
    r = torch.as_tensor(rates, dtype=torch.float64, device=device).reshape(-1)
    if r.numel() not in (1, n_heads_dim):
        raise ValueError(f"{r.numel()} decay rates for {n_heads_dim} heads")
    return r


def lightning_naive(q, k, v, rates, dtype=torch.float64) -> torch.Tensor:
    """O = [(Q K^T) ⊙ D] V, D[i,j] = lambda^(i-j) (j <= i) with lambda = exp(-rate).
    q [B, H, L, E]; rates: one per head (len H) or a scalar. rate 0 -> lambda = 1."""
    if q.shape[-2] != k.shape[-2]:
        raise ValueError("lightning attention needs P == M")
    n = q.shape[-2]
    heads = q.shape[-3] if q.dim() >= 3 else 1
    # the decay matrix is built in fp64 (fp32 for low-precision runs: bf16 cannot even
    # hold the integer offsets i - j > 256) and rounded to `dtype` at the end
    ddt = torch.float64 if dtype == torch.float64 else torch.float32
    r = _rates_tensor(rates, heads, q.device).to(ddt)
    i = torch.arange(n, device=q.device, dtype=ddt)
    diff = i[:, None] - i[None, :]
    keep = diff >= 0
    # D[h, i, j] = exp(-r_h (i - j)) where j <= i
    decay = (torch.exp(-r.reshape(-1, 1, 1) * diff.clamp(min=0)) * keep.to(ddt)).to(dtype)
    if q.dim() >= 3:
        decay = decay.reshape(*([1] * (q.dim() - 3)), -1, n, n)
    else:
        decay = decay[0]
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    return torch.matmul(torch.matmul(q, k.transpose(-1, -2)) * decay, v)


def lightning_recurrent(q, k, v, rates, dtype=torch.float64):
    """Decode-step form: kv = lambda kv + k v^T; o = q kv (tests only)."""
    heads = q.shape[-3] if q.dim() >= 3 else 1
    r = _rates_tensor(rates, heads, q.device).to(dtype)
    lam = torch.exp(-r).reshape(*([1] * (q.dim() - 3)), -1, 1, 1) if q.dim() >= 3 else torch.exp(-r)
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    kv = torch.zeros(*q.shape[:-2], q.shape[-1], v.shape[-1], dtype=dtype, device=q.device)
    outs = []
    for t in range(q.shape[-2]):
        kv = lam * kv + k[..., t, :, None] * v[..., t, None, :]
        outs.append((q[..., t, :, None] * kv).sum(dim=-2))
    return torch.stack(outs, dim=-2)


def lightning_blocked(q, k, v, rates, block: int = 64, dtype=torch.float32):
    """Blocked forward of VARIANTS.md (the Triton kernel's algorithm in torch ops):
    O_intra = (Q_t K_t^T ⊙ D_B) V_t; O_inter = (Q_t KV_t) ⊙ lambda^(i+1);
    KV_{t+1} = lambda^b KV_t + (K_t ⊙ lambda^(b-1-j))^T V_t (b = block length)."""
    n = q.shape[-2]
    heads = q.shape[-3] if q.dim() >= 3 else 1
    r = _rates_tensor(rates, heads, q.device).to(dtype)
    rr = r.reshape(*([1] * (q.dim() - 3)), -1, 1, 1) if q.dim() >= 3 else r.reshape(1, 1)
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    kv = torch.zeros(*q.shape[:-2], q.shape[-1], v.shape[-1], dtype=dtype, device=q.device)
    out = torch.empty(*q.shape[:-1], v.shape[-1], dtype=dtype, device=q.device)
    for t0 in range(0, n, block):
        b = min(block, n - t0)
        qc, kc, vc = q[..., t0:t0 + b, :], k[..., t0:t0 + b, :], v[..., t0:t0 + b, :]
        i = torch.arange(b, device=q.device, dtype=dtype)
        diff = i[:, None] - i[None, :]
        d_b = torch.exp(-rr * diff.clamp(min=0)) * (diff >= 0).to(dtype)
        o_intra = torch.matmul(torch.matmul(qc, kc.transpose(-1, -2)) * d_b, vc)
        o_inter = torch.matmul(qc, kv) * torch.exp(-rr * (i + 1).reshape(-1, 1))
        out[..., t0:t0 + b, :] = o_intra + o_inter
        kdec = kc * torch.exp(-rr * (b - 1 - i).reshape(-1, 1))
        kv = torch.exp(-rr * b) * kv + torch.matmul(kdec.transpose(-1, -2), vc)
    return out


# --------------------------------------------------------------------------- neighborhood


def natten_window_1d(length: int, kernel: int, dilation: int = 1, causal: bool = False,
                     stride: int = 1) -> Tuple[List[int], List[int]]:
    """Per query position x in [0, L): the first and last key POSITIONS of its window
    (inclusive); keys are x' with x' = first (mod d) stepping by d. Rules of VARIANTS.md
    (NATTEN): dilation groups, half-widths, borders shift inward, causal windows."""
    if kernel < 2 or kernel * dilation > length:
        raise ValueError(f"neighborhood: need 2 <= k and k*d <= L (k={kernel}, d={dilation}, "
                         f"L={length})")
    wl = kernel // 2
    wr = kernel // 2 + (kernel % 2) - 1
    first, last = [0] * length, [0] * length
    for x in range(length):
        g, i = x % dilation, x // dilation
        lg = -(-(length - g) // dilation)  # ceil
        if causal:
            leader = min((i // stride) * stride + stride - 1, lg - 1)
            lo, hi = max(leader - kernel + 1, 0), i
        else:
            leader = min((i // stride) * stride + stride // 2, lg - 1)
            c = min(max(leader, wl), lg - 1 - wr)
            lo, hi = c - wl, c + wr
        first[x], last[x] = g + dilation * lo, g + dilation * hi
    return first, last


def neighborhood_keep(shape: Sequence[int], kernel: Sequence[int], dilation: Sequence[int],
                      causal: Sequence[bool], stride: Optional[Sequence[int]] = None,
                      device=None) -> torch.Tensor:
    """Bool [N, N] (N = prod(shape), row-major flattening), True where key is a neighbor
    of query along every axis."""
    nd = len(shape)
    stride = stride or [1] * nd
    keep = None
    for a in range(nd):
        first, last = natten_window_1d(shape[a], kernel[a], dilation[a], causal[a], stride[a])
        first_t = torch.tensor(first, device=device)
        last_t = torch.tensor(last, device=device)
        x = torch.arange(shape[a], device=device)
        ka = ((x[None, :] >= first_t[:, None]) & (x[None, :] <= last_t[:, None])
              & ((x[None, :] - x[:, None]) % dilation[a] == 0))  # [Lq_a, Lk_a]
        # expand to the flattened index: axis a has stride prod(shape[a+1:])
        inner = int(math.prod(shape[a + 1:]))
        outer = int(math.prod(shape[:a]))
        ka = ka[:, None, :, None].expand(shape[a], inner, shape[a], inner)  # (qa, qi, ka, ki)
        ka = ka.reshape(1, shape[a] * inner, 1, shape[a] * inner).expand(outer, -1, outer, -1)
        ka = ka.reshape(outer * shape[a] * inner, outer * shape[a] * inner)
        keep = ka if keep is None else keep & ka
    return keep


def neighborhood_pair_count(shape, kernel, dilation, causal) -> int:
    """Number of (query, key) neighbor pairs, for flop counts (product over axes)."""
    total = 1
    for a in range(len(shape)):
        first, last = natten_window_1d(shape[a], kernel[a], dilation[a], causal[a])
        total *= sum((hi - lo) // dilation[a] + 1 for lo, hi in zip(first, last))
    return total


def neighborhood_naive(q, k, v, shape, kernel, dilation, causal, scale=None,
                       dtype=torch.float64) -> torch.Tensor:
    """Neighborhood attention by masking full attention (q/k/v flattened row-major:
    [..., prod(shape), E])."""
    if scale is None:
        scale = default_scale(q.shape[-1])
    keep = neighborhood_keep(shape, kernel, dilation, causal, device=q.device)
    return masked_softmax_attention(q, k, v, scale, keep, dtype)


def neighborhood_mask_mod(shape, kernel, dilation, causal, device):
    """FlexAttention mask_mod for neighborhood attention: per-axis window tables
    (first/last key position per query position) captured as tensors."""
    nd = len(shape)
    tables = []
    for a in range(nd):
        first, last = natten_window_1d(shape[a], kernel[a], dilation[a], causal[a])
        tables.append((torch.tensor(first, dtype=torch.int32, device=device),
                       torch.tensor(last, dtype=torch.int32, device=device)))
    lengths = [int(x) for x in shape]
    dil = [int(x) for x in dilation]

    def mask_mod(b, h, q_idx, kv_idx):
        rq, rk = q_idx, kv_idx
        ok = None
        for a in range(nd - 1, -1, -1):
            qa, ka = rq % lengths[a], rk % lengths[a]
            rq, rk = rq // lengths[a], rk // lengths[a]
            first_t, last_t = tables[a]
            cond = (ka >= first_t[qa]) & (ka <= last_t[qa]) & (ka % dil[a] == qa % dil[a])
            ok = cond if ok is None else ok & cond
        return ok

    return mask_mod


_COMPILED_FLEX = None


def compiled_flex():
    global _COMPILED_FLEX
    if _COMPILED_FLEX is None:
        try:
            import torch._dynamo as dynamo  # type: ignore

            for name in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                         "accumulated_recompile_limit"):
                if hasattr(dynamo.config, name):
                    setattr(dynamo.config, name, 512)
        except Exception:
            pass
        _COMPILED_FLEX = torch.compile(flex_attention, dynamic=False)
    return _COMPILED_FLEX


def neighborhood_block_mask(shape, kernel, dilation, causal, device="cuda"):
    """BlockMask of the neighborhood. Up to 16K tokens the mask is evaluated eagerly (no
    compile; N^2 elements); above, create_block_mask is compiled so that the N x N mask is
    never materialized."""
    n = int(math.prod(shape))
    mm = neighborhood_mask_mod(shape, kernel, dilation, causal, device)
    if n <= 16384:
        return create_block_mask(mm, None, None, n, n, device=device)
    try:
        return create_block_mask(mm, None, None, n, n, device=device, _compile=True)
    except TypeError:
        return create_block_mask(mm, None, None, n, n, device=device)


def neighborhood_flex(q, k, v, shape, kernel, dilation, causal, scale=None, block_mask=None):
    """Neighborhood attention through FlexAttention (compiled) with a block mask."""
    if not HAS_FLEX:
        raise RuntimeError("FlexAttention needs torch >= 2.5")
    if scale is None:
        scale = default_scale(q.shape[-1])
    if block_mask is None:
        block_mask = neighborhood_block_mask(shape, kernel, dilation, causal, q.device)
    return compiled_flex()(q, k, v, block_mask=block_mask, scale=scale)


# --------------------------------------------------------------------------- Triton kernels

if HAS_TRITON:

    @triton.jit
    def _phi(x, FMAP: tl.constexpr):
        if FMAP == 0:  # elu1
            y = tl.where(x > 0, x + 1.0, tl.exp(x))
        elif FMAP == 1:  # identity
            y = x
        else:  # relu
            y = tl.maximum(x, 0.0)
        return y

    @triton.jit
    def _dot(a, b, DT: tl.constexpr):
        # fp32 kernels: exact fp32 products (no tf32); bf16/fp16: operands rounded to the
        # format, fp32 accumulation (tensor cores), as production kernels do.
        if DT == 0:
            r = tl.dot(a.to(tl.float32), b.to(tl.float32), input_precision="ieee")
        elif DT == 1:
            r = tl.dot(a.to(tl.bfloat16), b.to(tl.bfloat16))
        else:
            r = tl.dot(a.to(tl.float16), b.to(tl.float16))
        return r

    @triton.jit
    def _linear_causal_kernel(Q, K, V, O, L, E, F, eps,
                              sq_bh, sq_l, sk_bh, sk_l, sv_bh, sv_l, so_bh, so_l,
                              FMAP: tl.constexpr, DT: tl.constexpr, BLOCK_C: tl.constexpr,
                              BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr):
        pid_bh = tl.program_id(0)
        pid_f = tl.program_id(1)
        # int64 base offsets: B*H*L*E exceeds 2^31 at the benchmark's sizes
        Q += pid_bh.to(tl.int64) * sq_bh
        K += pid_bh.to(tl.int64) * sk_bh
        V += pid_bh.to(tl.int64) * sv_bh
        O += pid_bh.to(tl.int64) * so_bh
        offs_c = tl.arange(0, BLOCK_C)
        offs_e = tl.arange(0, BLOCK_E)
        offs_f = pid_f * BLOCK_F + tl.arange(0, BLOCK_F)
        emask = offs_e < E
        fmask = offs_f < F
        s = tl.zeros([BLOCK_E, BLOCK_F], dtype=tl.float32)
        z = tl.zeros([BLOCK_E], dtype=tl.float32)
        tri = offs_c[:, None] >= offs_c[None, :]
        for t0 in range(0, L, BLOCK_C):
            rows = t0 + offs_c
            rmask = rows < L
            qe = rmask[:, None] & emask[None, :]
            q = tl.load(Q + rows[:, None] * sq_l + offs_e[None, :], mask=qe,
                        other=0.0).to(tl.float32)
            k = tl.load(K + rows[:, None] * sk_l + offs_e[None, :], mask=qe,
                        other=0.0).to(tl.float32)
            v = tl.load(V + rows[:, None] * sv_l + offs_f[None, :],
                        mask=rmask[:, None] & fmask[None, :], other=0.0).to(tl.float32)
            pq = tl.where(qe, _phi(q, FMAP), 0.0)
            pk = tl.where(qe, _phi(k, FMAP), 0.0)
            a = _dot(pq, tl.trans(pk), DT)
            a = tl.where(tri, a, 0.0)
            num = _dot(a, v, DT) + _dot(pq, s, DT)
            den = tl.sum(a, axis=1) + tl.sum(pq * z[None, :], axis=1) + eps
            out = num / den[:, None]
            tl.store(O + rows[:, None] * so_l + offs_f[None, :],
                     out.to(O.dtype.element_ty), mask=rmask[:, None] & fmask[None, :])
            s += _dot(tl.trans(pk), v, DT)
            z += tl.sum(pk, axis=0)

    @triton.jit
    def _linear_noncausal_kernel(Q, K, V, O, P, M, E, F, eps,
                                 sq_bh, sq_l, sk_bh, sk_l, sv_bh, sv_l, so_bh, so_l,
                                 FMAP: tl.constexpr, DT: tl.constexpr, BLOCK_C: tl.constexpr,
                                 BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr):
        pid_bh = tl.program_id(0)
        pid_f = tl.program_id(1)
        # int64 base offsets: B*H*L*E exceeds 2^31 at the benchmark's sizes
        Q += pid_bh.to(tl.int64) * sq_bh
        K += pid_bh.to(tl.int64) * sk_bh
        V += pid_bh.to(tl.int64) * sv_bh
        O += pid_bh.to(tl.int64) * so_bh
        offs_c = tl.arange(0, BLOCK_C)
        offs_e = tl.arange(0, BLOCK_E)
        offs_f = pid_f * BLOCK_F + tl.arange(0, BLOCK_F)
        emask = offs_e < E
        fmask = offs_f < F
        s = tl.zeros([BLOCK_E, BLOCK_F], dtype=tl.float32)
        z = tl.zeros([BLOCK_E], dtype=tl.float32)
        for m0 in range(0, M, BLOCK_C):
            rows = m0 + offs_c
            rmask = rows < M
            ke = rmask[:, None] & emask[None, :]
            k = tl.load(K + rows[:, None] * sk_l + offs_e[None, :], mask=ke,
                        other=0.0).to(tl.float32)
            v = tl.load(V + rows[:, None] * sv_l + offs_f[None, :],
                        mask=rmask[:, None] & fmask[None, :], other=0.0).to(tl.float32)
            pk = tl.where(ke, _phi(k, FMAP), 0.0)
            s += _dot(tl.trans(pk), v, DT)
            z += tl.sum(pk, axis=0)
        for p0 in range(0, P, BLOCK_C):
            rows = p0 + offs_c
            rmask = rows < P
            qe = rmask[:, None] & emask[None, :]
            q = tl.load(Q + rows[:, None] * sq_l + offs_e[None, :], mask=qe,
                        other=0.0).to(tl.float32)
            pq = tl.where(qe, _phi(q, FMAP), 0.0)
            num = _dot(pq, s, DT)
            den = tl.sum(pq * z[None, :], axis=1) + eps
            tl.store(O + rows[:, None] * so_l + offs_f[None, :],
                     (num / den[:, None]).to(O.dtype.element_ty),
                     mask=rmask[:, None] & fmask[None, :])

    @triton.jit
    def _lightning_kernel(Q, K, V, O, RATE, L, E, F, H,
                          sq_bh, sq_l, sk_bh, sk_l, sv_bh, sv_l, so_bh, so_l,
                          DT: tl.constexpr, BLOCK: tl.constexpr, BLOCK_E: tl.constexpr,
                          BLOCK_F: tl.constexpr):
        pid_bh = tl.program_id(0)
        pid_f = tl.program_id(1)
        # int64 base offsets: B*H*L*E exceeds 2^31 at the benchmark's sizes
        Q += pid_bh.to(tl.int64) * sq_bh
        K += pid_bh.to(tl.int64) * sk_bh
        V += pid_bh.to(tl.int64) * sv_bh
        O += pid_bh.to(tl.int64) * so_bh
        rate = tl.load(RATE + pid_bh % H)  # lambda = exp(-rate), fp32
        offs_c = tl.arange(0, BLOCK)
        offs_e = tl.arange(0, BLOCK_E)
        offs_f = pid_f * BLOCK_F + tl.arange(0, BLOCK_F)
        emask = offs_e < E
        fmask = offs_f < F
        ci = offs_c.to(tl.float32)
        diff = ci[:, None] - ci[None, :]
        d_b = tl.where(diff >= 0, tl.exp(-rate * tl.maximum(diff, 0.0)), 0.0)
        q_decay = tl.exp(-rate * (ci + 1.0))
        kv = tl.zeros([BLOCK_E, BLOCK_F], dtype=tl.float32)
        for t0 in range(0, L, BLOCK):
            rows = t0 + offs_c
            rmask = rows < L
            qe = rmask[:, None] & emask[None, :]
            q = tl.load(Q + rows[:, None] * sq_l + offs_e[None, :], mask=qe,
                        other=0.0)
            k = tl.load(K + rows[:, None] * sk_l + offs_e[None, :], mask=qe,
                        other=0.0)
            v = tl.load(V + rows[:, None] * sv_l + offs_f[None, :],
                        mask=rmask[:, None] & fmask[None, :], other=0.0)
            qk = _dot(q, tl.trans(k), DT) * d_b
            o = _dot(qk, v, DT) + _dot(q, kv, DT) * q_decay[:, None]
            tl.store(O + rows[:, None] * so_l + offs_f[None, :],
                     o.to(O.dtype.element_ty), mask=rmask[:, None] & fmask[None, :])
            b = tl.minimum(L - t0, BLOCK).to(tl.float32)
            k_decay = tl.where(rmask, tl.exp(-rate * tl.maximum(b - 1.0 - ci, 0.0)), 0.0)
            kd = k.to(tl.float32) * k_decay[:, None]
            kv = kv * tl.exp(-rate * b) + _dot(tl.trans(kd), v, DT)


_DT_CODE = {torch.float32: 0, torch.bfloat16: 1, torch.float16: 2}
_FMAP_CODE = {"elu1": 0, "identity": 1, "relu": 2}


def _pow2_at_least(x: int, lo: int = 16) -> int:
    return max(lo, 1 << (int(x) - 1).bit_length())


def _flat3(x):
    """[B, H, L, D] (or [L, D]) -> contiguous [B*H, L, D]."""
    return x.reshape(-1, x.shape[-2], x.shape[-1]).contiguous()


def _output(shape, like, poison: bool):
    """Output buffer; poisoned with NaN (checks: every element must be written) or empty
    (timing: no extra pass over memory)."""
    if poison:
        return torch.full(shape, float("nan"), dtype=like.dtype, device=like.device)
    return torch.empty(shape, dtype=like.dtype, device=like.device)


def linear_triton(q, k, v, causal: bool, fmap: str = "elu1", eps: float = LINEAR_EPS,
                  chunk: int = 64, block_f: int = 64, poison: bool = True):
    """Chunked linear attention in Triton; out in q's format, state in fp32."""
    if not HAS_TRITON:
        raise RuntimeError("Triton is not available")
    qf, kf, vf = _flat3(q), _flat3(k), _flat3(v)
    bh, p_len, e_dim = qf.shape
    m_len, f_dim = kf.shape[1], vf.shape[2]
    out = _output((bh, p_len, f_dim), q, poison)
    block_e = _pow2_at_least(e_dim)
    block_f = min(_pow2_at_least(f_dim), block_f)
    grid = (bh, triton.cdiv(f_dim, block_f))
    common = dict(FMAP=_FMAP_CODE[fmap], DT=_DT_CODE[q.dtype], BLOCK_C=chunk, BLOCK_E=block_e,
                  BLOCK_F=block_f, num_warps=8 if block_e >= 128 else 4)
    strides = (qf.stride(0), qf.stride(1), kf.stride(0), kf.stride(1), vf.stride(0),
               vf.stride(1), out.stride(0), out.stride(1))
    if causal:
        if p_len != m_len:
            raise ValueError("causal linear attention needs P == M")
        _linear_causal_kernel[grid](qf, kf, vf, out, p_len, e_dim, f_dim, eps, *strides, **common)
    else:
        _linear_noncausal_kernel[grid](qf, kf, vf, out, p_len, m_len, e_dim, f_dim, eps, *strides,
                                       **common)
    return out.reshape(*q.shape[:-1], f_dim)


def lightning_triton(q, k, v, rates, block: int = 64, block_f: int = 64, poison: bool = True):
    """Lightning attention forward in Triton (intra-block + inter-block with decay).
    q [B, H, L, E]; rates per head (lambda_h = exp(-rates[h])), a list or a float32
    tensor on q's device (no host copy per call); state in fp32."""
    if not HAS_TRITON:
        raise RuntimeError("Triton is not available")
    heads = q.shape[-3] if q.dim() >= 3 else 1
    if (torch.is_tensor(rates) and rates.dtype == torch.float32 and rates.device == q.device
            and rates.numel() == heads):
        r = rates.contiguous()
    else:
        r = _rates_tensor(rates, heads, q.device).to(torch.float32)
        if r.numel() == 1:
            r = r.expand(heads).contiguous()
    qf, kf, vf = _flat3(q), _flat3(k), _flat3(v)
    bh, n, e_dim = qf.shape
    f_dim = vf.shape[2]
    if kf.shape[1] != n:
        raise ValueError("lightning attention needs P == M")
    out = _output((bh, n, f_dim), q, poison)
    block_e = _pow2_at_least(e_dim)
    block_f = min(_pow2_at_least(f_dim), block_f)
    grid = (bh, triton.cdiv(f_dim, block_f))
    _lightning_kernel[grid](qf, kf, vf, out, r, n, e_dim, f_dim, heads,
                            qf.stride(0), qf.stride(1), kf.stride(0), kf.stride(1), vf.stride(0),
                            vf.stride(1), out.stride(0), out.stride(1),
                            DT=_DT_CODE[q.dtype], BLOCK=block, BLOCK_E=block_e, BLOCK_F=block_f,
                            num_warps=8 if block_e >= 128 else 4)
    return out.reshape(*q.shape[:-1], f_dim)


# --------------------------------------------------------------------------- error metrics


def error_stats(out: torch.Tensor, ref: torch.Tensor) -> Dict[str, float]:
    """rel_l2 = ||out - ref|| / ||ref||; max_abs_over_scale = max|out - ref| / max|ref|.
    NaN/inf anywhere gives inf (never passes)."""
    o, r = out.double(), ref.double()
    if not torch.isfinite(o).all():
        return {"rel_l2": float("inf"), "max_abs_over_scale": float("inf"), "finite": False}
    d = o - r
    scale = r.abs().max().item()
    return {
        "rel_l2": (d.norm() / r.norm().clamp_min(1e-300)).item(),
        "max_abs_over_scale": (d.abs().max().item() / max(scale, 1e-300)),
        "finite": True,
    }


# Tolerances for a GPU kernel's output against the fp64 naive reference on the same
# (format-rounded) inputs: ||out-ref||/||ref|| and max|out-ref|/max|ref|. Derivation:
# bf16 has a 2^-8 unit roundoff step (8 significand bits incl. the implicit one ->
# u = 2^-9); the output is rounded once (u) and the probabilities / intermediate
# operands once more (sqrt-sum of u-sized random errors, ~u), so a few u: 2^-6 leaves
# margin. fp16: u = 2^-11, same argument -> 2^-8. fp32 with ieee products: ~1e-6;
# 1e-4 allows tf32-free cuBLAS/cuDNN reductions of long rows.
CHECK_TOLERANCE = {
    torch.float32: {"rel_l2": 1e-4, "max_abs_over_scale": 1e-4},
    torch.bfloat16: {"rel_l2": 2.0 ** -6, "max_abs_over_scale": 2.0 ** -5},
    torch.float16: {"rel_l2": 2.0 ** -8, "max_abs_over_scale": 2.0 ** -7},
}


def passes(stats: Dict[str, float], dtype) -> bool:
    tol = CHECK_TOLERANCE[dtype]
    return (stats["finite"] and stats["rel_l2"] <= tol["rel_l2"]
            and stats["max_abs_over_scale"] <= tol["max_abs_over_scale"])
