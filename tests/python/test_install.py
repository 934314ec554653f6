# The module installs (cmake --install --component python) into a prefix and imports from
# there in a fresh interpreter, with no build tree on its path.
import os
import pathlib
import subprocess
import sys

import pytest


def test_install_into_a_prefix_and_import(tmp_path):
    build = os.environ.get("CASCADE_BUILD_DIR")
    if not build:
        pytest.skip("CASCADE_BUILD_DIR not set (run through ctest)")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--component", "python", "--prefix", str(prefix)],
                   check=True, stdout=subprocess.DEVNULL)
    modules = list(prefix.glob("lib/python3*/*-packages/cascade*.so"))
    assert len(modules) == 1, list(prefix.rglob("*"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(modules[0].parent)
    code = ("import cascade, sys; print(cascade.__file__); "
            "print(cascade.passes('softmax-3pass')['passes'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.split()
    assert pathlib.Path(out[0]).resolve() == modules[0].resolve()
    assert out[1] == "3"
