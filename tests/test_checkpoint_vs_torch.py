"""torch.utils.checkpoint on gradscope against PyTorch: both variants' graphs, gradients (dropout inside
included: the rerun draws the same numbers), warnings; and custom Functions' edges (one per tensor argument)."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def run(lib, variant, segment="dropout"):
    checkpoint = importlib.import_module(f"{lib.__name__}.utils.checkpoint").checkpoint
    lib.manual_seed(0)
    linear = lib.nn.Linear(3, 3)
    x = lib.randn(2, 3, requires_grad=True)
    body = {
        "dropout": lambda a: lib.nn.functional.dropout(linear(a).tanh(), 0.5),
        "two outputs": lambda a: (linear(a).sigmoid(), a * 2),
        "keyword": lambda a, scale=1.0: linear(a) * scale,
    }[segment]
    options = {} if variant is None else {"use_reentrant": variant}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if segment == "keyword" and variant is False:
            out = checkpoint(body, x, scale=3.0, **options)
        else:
            out = checkpoint(body, x, **options)
    out = out[0] + out[1] if isinstance(out, tuple) else out
    graph = (out.grad_fn.name(), [n.name() if n else None for n, _ in out.grad_fn.next_functions])
    (out * lib.arange(6.0).reshape(2, 3)).sum().backward()
    return (graph, np.round(x.grad.numpy(), 4).tolist(), np.round(linear.weight.grad.numpy(), 4).tolist(),
            [str(w.message)[:60] for w in caught if "checkpoint" in str(w.message)], lib.randn(1).item())


@pytest.mark.parametrize(("variant", "segment"), [
    *((variant, segment) for variant in (None, True, False) for segment in ("dropout", "two outputs")),
    (False, "keyword"),  # keyword arguments are for the non-reentrant variant
])
def test_checkpoint_as_torch(variant, segment):
    assert run(gradscope, variant, segment) == run(torch, variant, segment)


def test_non_reentrant_checkpoint_recomputes_what_its_nodes_saved():
    checkpoint = gradscope.utils.checkpoint.checkpoint
    reruns = []

    def segment(a):
        reruns.append(1)
        return (a * 3).tanh()

    x = gradscope.ones(2, requires_grad=True)
    y = checkpoint(segment, x, use_reentrant=False)
    assert len(reruns) == 1
    saved = y.grad_fn._saved_result  # asking for a saved value reruns the segment once
    assert len(reruns) == 2 and saved.grad_fn.name() == "TanhBackward0"
    y.sum().backward()
    assert len(reruns) == 2
    np.testing.assert_allclose(x.grad.numpy(), 3 * (1 - np.tanh(3.0) ** 2), rtol=1e-5)


def test_checkpoint_sequential_as_torch():
    seen = []
    for lib in (gradscope, torch):
        sequential = importlib.import_module(f"{lib.__name__}.utils.checkpoint").checkpoint_sequential
        lib.manual_seed(1)
        model = lib.nn.Sequential(*(lib.nn.Linear(4, 4) for _ in range(4)), lib.nn.Tanh())
        x = lib.randn(3, 4, requires_grad=True)
        out = sequential(model, 2, x, use_reentrant=False)
        out.sum().backward()
        seen.append((np.round(out.detach().numpy(), 4).tolist(), np.round(x.grad.numpy(), 4).tolist()))
    assert seen[0] == seen[1]


def test_custom_function_has_an_edge_per_tensor_argument_only():
    seen = []
    for lib in (gradscope, torch):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, k, x, flag, y):
                ctx.k = k
                return x * k + y

            @staticmethod
            def backward(ctx, g):
                return None, g * ctx.k, None, g

        x, y = lib.ones(2, requires_grad=True), lib.ones(2)
        out = Scale.apply(3.0, x, True, y)
        sizes = []
        out.grad_fn.register_hook(lambda grad_inputs, grad_outputs, sizes=sizes: sizes.append(len(grad_inputs)))
        out.sum().backward()
        seen.append(([n.name() if n else None for n, _ in out.grad_fn.next_functions], sizes, x.grad.tolist()))
    assert seen[0] == seen[1]
