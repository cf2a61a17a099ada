"""`torch.jit` under gradscope: scripted and traced code runs eagerly and gives PyTorch's values and gradients
(the graph is the eager one, every op a node); the compiler's decorators leave code as it is; TorchScript
archives are refused with a way forward."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _fused_gelu(lib):
    @lib.jit.script
    def gelu(x):
        return x * 0.5 * (1.0 + lib.erf(x / 1.41421))
    return gelu


class _Block:
    """A module using the compiler's decorators, as library code does. (A branch on `is_scripting()` would differ:
    inside TorchScript PyTorch takes its scripting side, gradscope, running eagerly, the other.)"""

    @staticmethod
    def make(lib):
        class Block(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(3, 2)

            @lib.jit.ignore
            def helper(self, x):
                return x * 2

            @lib.jit.unused
            def unused_path(self, x):
                raise RuntimeError("never called")

            def forward(self, x):
                return self.helper(self.fc(x))
        return Block()


@pytest.mark.parametrize("how", ["script", "trace"])
def test_scripted_and_traced_code_gives_pytorchs_values_and_gradients(how):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    results = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        block = _Block.make(lib)
        if how == "trace":
            with torch.no_grad() if lib is torch else gradscope.no_grad():
                compiled = lib.jit.trace(block, lib.tensor(x))
        else:
            compiled = lib.jit.script(block)
        leaf = lib.tensor(x, requires_grad=True)
        out = _fused_gelu(lib)(compiled(leaf))
        out.sum().backward()
        results.append((out.detach().numpy(), leaf.grad.numpy(), compiled.fc.weight.grad.numpy(),
                        sorted(compiled.state_dict())))
    for ours, theirs in zip(*results, strict=True):
        if isinstance(ours, list):
            assert ours == theirs
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_scripted_code_records_every_op_for_the_debugger():
    gelu = _fused_gelu(gradscope)
    out = gelu(gradscope.ones(2, requires_grad=True))
    names, stack = [], [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None:
            names.append(node.name())
            stack.extend(next_node for next_node, _ in node.next_functions)
    assert sorted(set(names)) == ["AddBackward0", "DivBackward0", "ErfBackward0", "MulBackward0",
                                  "torch::autograd::AccumulateGrad"]


def test_helpers_behave_as_eager_pytorch():
    jit = gradscope.jit
    assert jit.is_scripting() is False and jit.is_tracing() is False
    assert jit.annotate(list, [1]) == [1]
    assert jit.fork(lambda a, b: a + b, 2, 3).wait() == 5
    assert jit.wait(jit.fork(max, 1, 4)) == 4
    assert jit.ignore(drop=True)(len) is len
    assert not isinstance(gradscope.nn.Linear(1, 1), jit.ScriptModule)
    with jit.optimized_execution(False), jit.fuser("fuser1"):
        pass
    for name in ("script", "trace", "ignore", "unused", "export", "is_scripting", "is_tracing", "annotate", "fork",
                 "wait", "freeze", "save", "load", "Final", "ScriptModule", "Error", "interface"):
        assert hasattr(torch.jit, name), name


def test_torchscript_archives_are_refused_with_a_way_forward(tmp_path):
    with pytest.raises(RuntimeError, match="state_dict"):
        gradscope.jit.save(gradscope.nn.Linear(1, 1), tmp_path / "m.pt")
    with pytest.raises(RuntimeError, match="state_dict"):
        gradscope.jit.load(tmp_path / "m.pt")
