# parse, print, the Cascade object and cascade.Error.
import pytest

import cascade
from conftest import CASCADES, SIGMOID_ATTENTION


def test_parse_gives_the_declared_cascade():
    c = cascade.parse(SIGMOID_ATTENTION)
    assert c.name == "sigmoid-attention"
    assert c.inputs == {"Q": ["E", "P"], "K": ["E", "M"], "V": ["F", "M"]}
    assert c.outputs == ["AV"]
    assert [line.split("[")[0] for line in c.einsums] == ["S", "A", "AV"]
    b = c.bindings({"M": 1024})
    assert b["shapes"] == {"E": 64, "F": 64, "M": 1024, "P": 256}
    assert b["parameters"]["bias"] == pytest.approx(-6.931471805599453, rel=1e-15)  # -log(1024)
    assert b["parameters"]["scale"] == 0.125


@pytest.mark.parametrize("name", ["softmax-1pass", "softmax-3pass", "linear-causal-chunked",
                                  "neighborhood-2d"])
def test_print_parses_back_to_the_same_cascade(name):
    c = cascade.load(name)
    text = cascade.print_cascade(c)
    assert str(c) == text
    again = cascade.parse(text)
    assert again == c
    assert cascade.print_cascade(again) == text


def test_load_by_path_and_by_name_agree():
    assert cascade.load(str(CASCADES / "softmax-2pass.yaml")) == cascade.load("softmax-2pass")


def test_bad_yaml_raises_cascade_error_with_its_location():
    assert issubclass(cascade.Error, Exception)
    bad = SIGMOID_ATTENTION.replace("sigmoid(S[m, p])", "sigmoid(S[m, q])")
    with pytest.raises(cascade.Error) as info:
        cascade.parse(bad, "my-variant.yaml")
    e = info.value
    # Line 7 is the A Einsum; the unknown index q is its 19th character plus the block
    # scalar's indentation of 2.
    assert (e.file, e.line) == ("my-variant.yaml", 7)
    assert str(e).startswith(f"my-variant.yaml:7:{e.column}: error: ")
    assert e.column == bad.splitlines()[6].index("q") + 1
    assert "q" in e.message


def test_a_file_error_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(SIGMOID_ATTENTION.replace("outputs: [AV]", "outputs: [AV]\noutput: [A]"))
    with pytest.raises(cascade.Error, match=r"broken\.yaml:10:1: error: .*output"):
        cascade.load(str(path))


def test_an_unknown_name_is_an_error():
    with pytest.raises(cascade.Error, match="no-such-cascade"):
        cascade.load("no-such-cascade")
