# eval of the shipped softmax cascades against PyTorch (CPU): softmax(Q^T K * scale) V
# written out in torch (1.13 has no scaled_dot_product_attention), in float64.
import numpy as np
import pytest
import torch

import cascade

P, M, E, F = 96, 200, 64, 40  # M = 3 tiles of 64 and a partial one for the 1-pass cascade


def attention_torch(q, k, v, scale):
    """q (E, P), k (E, M), v (F, M) in cascade's layout; returns (F, P)."""
    q, k, v = (torch.from_numpy(t).to(torch.float64) for t in (q, k, v))
    scores = q.T @ k * scale  # (P, M)
    return (torch.softmax(scores, dim=-1) @ v.T).T.numpy()


@pytest.fixture
def inputs():
    rng = np.random.default_rng(11)
    return {"Q": rng.standard_normal((E, P)), "K": rng.standard_normal((E, M)),
            "V": rng.standard_normal((F, M))}


@pytest.mark.parametrize("name", ["softmax-1pass", "softmax-3pass"])
@pytest.mark.parametrize("fmt, tolerance", [("fp64", 1e-12), ("fp32", 1e-5)])
def test_eval_equals_torch_softmax_attention(inputs, name, fmt, tolerance):
    out = cascade.eval(name, inputs, format=fmt)["AV"]
    want = attention_torch(inputs["Q"], inputs["K"], inputs["V"], 1 / np.sqrt(E))
    assert out.shape == want.shape == (F, P)
    err = np.max(np.abs(out - want)) / np.max(np.abs(want))
    assert err < tolerance
    # A transposed V of the same shape class (F x M read as M x F) would be an error, and
    # a scale left out is far outside the tolerance: the comparison can fail.
    wrong = attention_torch(inputs["Q"], inputs["K"], inputs["V"], 1.0)
    assert np.max(np.abs(out - wrong)) / np.max(np.abs(wrong)) > 1e-2


def test_scale_parameter_reproduces_the_papers_cascade(inputs):
    out = cascade.eval("softmax-1pass", inputs, format="fp64", settings={"scale": 1})["AV"]
    want = attention_torch(inputs["Q"], inputs["K"], inputs["V"], 1.0)
    assert np.max(np.abs(out - want)) / np.max(np.abs(want)) < 1e-12


def test_bf16_storage_is_within_a_percent_of_torch(inputs):
    out = cascade.eval("softmax-1pass", inputs, format="bf16")["AV"]
    want = attention_torch(inputs["Q"], inputs["K"], inputs["V"], 1 / np.sqrt(E))
    err = np.max(np.abs(out - want)) / np.max(np.abs(want))
    assert 1e-4 < err < 3e-2  # bf16's unit roundoff is 2^-8: visibly not fp32, still close
