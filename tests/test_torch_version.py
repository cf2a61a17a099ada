"""`torch.__version__` under the alias, and TorchVersion's comparisons against PyTorch's own class."""

from __future__ import annotations

import operator
import subprocess
import sys

import pytest

import gradscope
from gradscope.torch_version import TorchVersion

VERSIONS = ["2.13.0+gradscope.0.1.0", "2.13.0+cpu", "2.13.0", "1.9.1", "2.0"]
OTHERS = ["2.0", "2.9", "2.13", "2.13.0", "2.13.1", "3", "1.13.1+cu117", "2.13.0+cpu", (2, 0), (2, 13), (2, 14),
          (3,)]


@pytest.mark.parametrize("version", VERSIONS)
def test_comparisons_are_pytorchs(version):
    torch = pytest.importorskip("torch")
    ours, theirs = TorchVersion(version), torch.torch_version.TorchVersion(version)
    for other in OTHERS:
        for compare in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
            assert compare(ours, other) == compare(theirs, other), (version, compare.__name__, other)
    assert str(ours) == version and ours.split("+")[0] == theirs.split("+")[0]


def test_a_script_sees_the_pytorch_api_version_with_gradscopes_own_as_local_label():
    script = ("from gradscope.trace.torch_alias import install\ninstall()\nimport torch, torch.nn, gradscope\n"
              "v = torch.__version__\n"
              "print(v, v >= '2.0', v >= '2.9', v < (3,), torch.nn is gradscope.nn, torch.ones is gradscope.ones)\n"
              "torch.patched = 7\nprint(gradscope.patched, 'ones' in dir(torch))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == [f"2.13.0+gradscope.{gradscope.__version__}", "True", "True", "True", "True", "True", "7", "True"]


def test_gradscope_keeps_its_own_version():
    assert gradscope.__version__ == "0.1.0" or not gradscope.__version__.startswith("2.13")
