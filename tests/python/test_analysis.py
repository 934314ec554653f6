# passes and ops against values known independently: FuseMax's pass counts (MICRO'24,
# Sec. 3) and closed-form operator counts.
import math

import pytest

import cascade


@pytest.mark.parametrize("name, passes", [("softmax-3pass", 3), ("softmax-2pass", 2),
                                          ("softmax-deferred-division", 2),
                                          ("softmax-1pass", 1)])
def test_passes_of_the_shipped_cascades_are_the_papers(name, passes):
    report = cascade.passes(name)
    assert report["passes"] == passes
    assert report["ranks"]["M"]["passes"] == passes
    # Every pass after the first has a cause that names the Einsum that must wait.
    assert len(report["ranks"]["M"]["causes"]) == passes - 1


def test_three_pass_causes_are_gm_then_sd():
    causes = cascade.passes("softmax-3pass")["ranks"]["M"]["causes"]
    assert [(c["pass"], c["reducer"]) for c in causes] == [(2, "GM"), (3, "SD")]


def test_a_user_variant_makes_one_pass(sigmoid_file):
    assert cascade.passes(str(sigmoid_file))["passes"] == 1


def test_ops_of_the_one_pass_cascade_follow_the_closed_form():
    # M not a multiple of M0: the last tile is partial, M1 = ceil(M / M0).
    P, M, E, F, M0 = 100, 300, 64, 48, 64
    M1 = math.ceil(M / M0)
    r = cascade.ops("softmax-1pass", {"P": P, "M": M, "E": E, "F": F, "M0": M0})
    e = r["einsums"]
    assert e["BQK"]["ops"]["mac"] == P * M * E
    assert e["BQK"]["ops"]["mul"] == P * M  # the scale, once per finished score
    assert e["SLNV"]["ops"]["mac"] == P * M * F
    assert e["SLN"]["ops"]["exp"] == P * M
    assert e["PRM"]["ops"]["exp"] == P * M1
    assert e["AV"]["ops"]["div"] == P * F
    assert r["total"]["mac"] == P * M * (E + F)
    assert r["total"]["exp"] == P * M + P * M1


def test_ops_of_a_user_variant(sigmoid_file):
    P, M, E, F = 96, 200, 32, 16
    r = cascade.ops(str(sigmoid_file), {"P": P, "M": M, "E": E, "F": F})
    assert r["total"]["mac"] == P * M * (E + F)
    assert r["einsums"]["S"]["points"] == P * M * E
    assert r["einsums"]["S"]["ops"]["mul"] == P * M  # scale
    assert r["einsums"]["S"]["ops"]["add"] == P * M  # bias
    assert r["einsums"]["A"]["ops"]["sigmoid"] == P * M
