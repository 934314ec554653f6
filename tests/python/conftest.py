# Shared by the Python module's tests: where the sources and the CLI are (set by ctest:
# tests/python/CMakeLists.txt), and the user's variant the README walks through.
import os
import pathlib

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("CASCADE_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
CASCADES = SOURCE_DIR / "configs" / "cascades"

# Sigmoid attention (Ramapuram et al., arXiv:2409.04431), as the README's "Write your own
# variant" section writes it.
SIGMOID_ATTENTION = """\
name: sigmoid-attention
inputs: {Q: [E, P], K: [E, M], V: [F, M]}
shapes: {P: 256, M: 256, E: 64, F: 64}
parameters: {scale: 1/sqrt(E), bias: -log(M)}
einsums: |
  S[m, p]  = sum(e: Q[e, p] * K[e, m]) * scale + bias
  A[m, p]  = sigmoid(S[m, p])
  AV[f, p] = A[m, p] * V[f, m]
outputs: [AV]
"""


@pytest.fixture
def sigmoid_file(tmp_path):
    path = tmp_path / "sigmoid-attention.yaml"
    path.write_text(SIGMOID_ATTENTION)
    return path


def cli():
    """The `cascade` executable of the same build."""
    path = os.environ.get("CASCADE_CLI")
    if not path:
        pytest.skip("CASCADE_CLI not set (run through ctest)")
    return path
