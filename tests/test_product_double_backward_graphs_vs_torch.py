"""Under create_graph a matrix product's backward builds PyTorch's graph: its formulas transpose with t(), so the
gradients' graphs have TBackward0 nodes where PyTorch's have (they had TransposeBackward0), node for node; the
second-order gradients agree."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _graph(fn) -> list:
    """The graph under `fn` as nested (name, children) lists, depth first in edge order."""
    if fn is None:
        return None
    return [fn.name(), [_graph(child) for child, _ in fn.next_functions]]


CALLS = {
    "linear": lambda T, x, w, b: T.nn.functional.linear(x, w, b),
    "linear_without_bias": lambda T, x, w, b: T.nn.functional.linear(x, w),
    "matmul_by_transpose": lambda T, x, w, b: x @ w.t(),
    "mm": lambda T, x, w, b: T.mm(x, w.t().contiguous()),
    "addmm": lambda T, x, w, b: T.addmm(b, x, w.t()),
    "addmm_scaled": lambda T, x, w, b: T.addmm(b, x, w.t(), beta=0.5, alpha=2.0),  # beta, alpha: MulBackward1
}


@pytest.mark.parametrize("input_requires_grad", [True, False])
@pytest.mark.parametrize("call", CALLS)
def test_gradient_graphs_are_pytorchs(call, input_requires_grad):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in ((4, 3), (2, 3), (2,))]
    results = []
    for lib in (torch, gradscope):
        x = lib.tensor(arrays[0], requires_grad=input_requires_grad)
        w, b = (lib.tensor(a, requires_grad=True) for a in arrays[1:])
        y = CALLS[call](lib, x, w, b)
        inputs = [x, w] if input_requires_grad else [w]
        grads = lib.autograd.grad((y * y).sum(), inputs, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), [w])[0]
        results.append(([_graph(g.grad_fn) for g in grads], [g.detach().numpy() for g in grads],
                        second.numpy()))
    (torch_graphs, torch_grads, torch_second), (graphs, grads, second) = results
    assert graphs == torch_graphs
    for ours, theirs in zip(grads, torch_grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(second, torch_second, rtol=1e-12, atol=1e-12)
