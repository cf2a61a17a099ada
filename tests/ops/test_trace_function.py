"""torch.trace(x) is the matrix trace, though gradscope.trace is also the debugger's package: whichever was
imported first, `gradscope.trace(x)`, `torch.trace(x)` under the torch alias and `gradscope.trace.Recorder`
all work."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gradscope


def _run(code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return result.stdout.split()


def test_function_before_the_package_is_imported():
    out = _run("import sys, gradscope\n"
               "x = gradscope.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)\n"
               "y = gradscope.trace(x); y.backward()\n"
               "print(y.item(), y.grad_fn.name(), x.grad.tolist() == [[1, 0], [0, 1]],\n"
               "      'gradscope.trace' in sys.modules)")
    assert out == ["5.0", "TraceBackward0", "True", "False"]


def test_package_stays_a_package_and_computes_the_trace():
    import gradscope.trace as package
    from gradscope.trace import Recorder

    assert gradscope.trace is package and package.Recorder is Recorder
    x = gradscope.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = gradscope.trace(x)
    assert y.item() == 5.0 and y.grad_fn.name() == "TraceBackward0"
    with pytest.raises(RuntimeError, match="trace: expected a matrix, but got tensor with dim 1"):
        gradscope.trace(gradscope.ones(3))


def test_under_the_torch_alias_with_the_recorder_loaded():
    """As a script run by `gradscope inspect` sees it: the child has imported the recorder, then `import torch`."""
    out = _run("from gradscope.trace.torch_alias import install\nimport gradscope.trace.recorder\ninstall()\n"
               "import torch\nfrom torch import trace\n"
               "x = torch.arange(9.0).reshape(3, 3).requires_grad_()\n"
               "y = torch.trace(x); y.backward()\n"
               "print(y.item(), y.grad_fn.name(), trace(x).item(), x.grad.diagonal().tolist(), x.trace().item())")
    assert out == ["12.0", "TraceBackward0", "12.0", "[1.0,", "1.0,", "1.0]", "12.0"]


def test_matches_torch_on_integers_and_rectangles():
    torch = pytest.importorskip("torch")
    for values in (np.arange(6).reshape(2, 3), np.arange(6.0).reshape(3, 2), np.zeros((0, 2))):
        ours, theirs = gradscope.trace(gradscope.tensor(values)), torch.trace(torch.tensor(values))
        assert ours.item() == theirs.item() and str(ours.dtype) == str(theirs.dtype)
