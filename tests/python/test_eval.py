# eval and check on a user's variant (sigmoid attention, written in the test) against the
# same attention written in NumPy in float64, end to end: YAML -> parse -> eval -> compare.
import numpy as np
import pytest

import cascade
from conftest import SIGMOID_ATTENTION

# Non-square on purpose: a transposed input has the wrong shape, a wrong layout the wrong
# values.
P, M, E, F = 100, 300, 64, 48


def sigmoid_attention_numpy(q, k, v):
    """The variant in NumPy, float64: q (E, P), k (E, M), v (F, M) -> (F, P)."""
    s = (k.T @ q) / np.sqrt(q.shape[0]) - np.log(k.shape[1])  # (M, P)
    return v @ (1 / (1 + np.exp(-s)))


@pytest.fixture
def inputs():
    rng = np.random.default_rng(7)
    return {"Q": rng.standard_normal((E, P)), "K": rng.standard_normal((E, M)),
            "V": rng.standard_normal((F, M))}


def rel_error(got, want):
    return np.max(np.abs(got - want)) / np.max(np.abs(want))


@pytest.mark.parametrize("fmt, tolerance", [("fp64", 1e-13), ("fp32", 1e-5)])
def test_user_variant_end_to_end_against_numpy(sigmoid_file, inputs, fmt, tolerance):
    c = cascade.load(str(sigmoid_file))
    out = cascade.eval(c, inputs, format=fmt)
    assert set(out) == {"AV"}  # every input given: only the outputs come back
    assert out["AV"].shape == (F, P) and out["AV"].dtype == np.float64
    want = sigmoid_attention_numpy(inputs["Q"], inputs["K"], inputs["V"])
    assert rel_error(out["AV"], want) < tolerance
    if fmt == "fp32":  # the values are fp32's, not fp64's: the format is applied
        assert rel_error(out["AV"], want) > 1e-9
        assert np.array_equal(out["AV"].astype(np.float32).astype(np.float64), out["AV"])


def test_a_wrong_layout_is_caught(inputs):
    c = cascade.parse(SIGMOID_ATTENTION)
    want = sigmoid_attention_numpy(inputs["Q"], inputs["K"], inputs["V"])
    # K transposed (M x E): its shape disagrees with Q's E, or with the shapes given.
    with pytest.raises(cascade.Error, match="rank E is 64 in Q but 300 in K"):
        cascade.eval(c, {**inputs, "K": inputs["K"].T.copy()})
    with pytest.raises(cascade.Error, match=r"K has shape \(300, 64\) but K\[E, M\] is \(64, 300\)"):
        cascade.eval(c, {**inputs, "K": inputs["K"].T.copy()}, settings={"M": M, "E": E})
    # Keys reversed: same shapes, different values; the tolerance sees it.
    out = cascade.eval(c, {**inputs, "K": inputs["K"][:, ::-1]}, format="fp64")
    assert rel_error(out["AV"], want) > 1e-3


def test_float32_inputs_and_fortran_order_are_read_by_value(inputs):
    c = cascade.parse(SIGMOID_ATTENTION)
    as32 = {n: t.astype(np.float32) for n, t in inputs.items()}
    fortran = {n: np.asfortranarray(t) for n, t in as32.items()}
    a = cascade.eval(c, as32, format="fp64")["AV"]
    b = cascade.eval(c, fortran, format="fp64")["AV"]
    assert np.array_equal(a, b)
    want = sigmoid_attention_numpy(*(as32[n].astype(np.float64) for n in "QKV"))
    assert rel_error(a, want) < 1e-13


def test_inputs_not_given_are_drawn_and_returned():
    c = cascade.parse(SIGMOID_ATTENTION)
    out = cascade.eval(c, settings={"P": 8, "M": 12, "E": 4, "F": 2}, format="fp64", seed=3)
    assert set(out) == {"AV", "Q", "K", "V"}
    assert out["Q"].shape == (4, 8)
    again = cascade.eval(c, {"Q": out["Q"], "K": out["K"], "V": out["V"]}, format="fp64")
    assert np.array_equal(again["AV"], out["AV"])
    want = sigmoid_attention_numpy(out["Q"], out["K"], out["V"])
    assert rel_error(out["AV"], want) < 1e-13


def test_keep_intermediates(inputs):
    out = cascade.eval(cascade.parse(SIGMOID_ATTENTION), inputs, format="fp64",
                       keep_intermediates=True)
    assert list(out) == ["AV", "S", "A"]
    s = (inputs["K"].T @ inputs["Q"]) / 8 - np.log(M)
    assert np.max(np.abs(out["S"] - s)) < 1e-12


def test_input_errors_are_cascade_errors(inputs):
    c = cascade.parse(SIGMOID_ATTENTION)
    with pytest.raises(cascade.Error, match="'X' is not an input"):
        cascade.eval(c, {**inputs, "X": inputs["Q"]})
    with pytest.raises(cascade.Error, match="rank E is 64 in Q but 32 in K"):
        cascade.eval(c, {**inputs, "K": inputs["K"][:32]})
    with pytest.raises(cascade.Error, match="dtype complex128"):
        cascade.eval(c, {**inputs, "Q": inputs["Q"].astype(complex)})
    with pytest.raises(cascade.Error, match="fp8"):
        cascade.eval(c, inputs, format="fp8")


def test_check_against_the_users_reference(inputs):
    c = cascade.parse(SIGMOID_ATTENTION)
    want = sigmoid_attention_numpy(inputs["Q"], inputs["K"], inputs["V"])
    r = cascade.check(c, inputs, against={"AV": want}, format="bf16")
    out = r["outputs"]["AV"]
    assert r["passed"] and out["passed"] and out["tolerance_kind"] == "relative"
    # The error it reports is eval's in bf16 against the reference.
    stored = cascade.eval(c, inputs, format="bf16")["AV"]
    assert out["relative_error"] == pytest.approx(rel_error(stored, want), rel=1e-12)
    assert 1e-3 < out["relative_error"] < out["tolerance"]
    assert out["rms_error"] < out["rms_tolerance"] and abs(out["bias"]) < out["bias_tolerance"]
    # The statistical tolerance is within a few times the error: a reference 2 % off fails.
    assert out["tolerance"] < 5 * out["relative_error"]
    assert not cascade.check(c, inputs, against={"AV": want * 1.02}, format="bf16")["passed"]
    # fp32: a reference 1e-5 off fails.
    r32 = cascade.check(c, inputs, against={"AV": want}, format="fp32")
    assert r32["passed"] and r32["outputs"]["AV"]["tolerance"] < 1e-5
    assert not cascade.check(c, inputs, against={"AV": want * (1 + 1e-5)}, format="fp32")["passed"]
    assert not cascade.check(c, inputs, against={"AV": want * (1 + 1e-4)}, format="fp32")["passed"]
