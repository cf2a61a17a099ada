"""Random compositions of ops, differentiated once and twice, against PyTorch.

Each seed builds a small random graph (elementwise ops, broadcasting reductions, transposes,
slices and cat, matmul, where, an in-place write into a clone) on both libraries from the same
float64 inputs, and compares the output and the first- and second-order gradients.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

UNARY = ("exp", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg", "square")
BINARY = ("add", "sub", "mul", "div", "maximum", "minimum")
OTHER = ("sum", "mean", "amax", "t", "slice", "matmul", "inplace", "where")


def step(lib, kind: str, x, y):
    if kind == "exp":
        return lib.exp(lib.tanh(x))  # bounded: no overflow to compare
    if kind == "neg":
        return -x
    if kind in UNARY:
        return getattr(lib, kind)(x)
    if kind == "div":
        return x / (y * y + 1)
    if kind in BINARY:
        return getattr(lib, kind)(x, y)
    if kind == "t":
        return x.t() if x.dim() == 2 else x
    if kind == "slice":
        return lib.cat([x[..., :2] * 2.0, x[..., 2:]], dim=-1) if x.shape[-1] >= 2 else x
    if kind == "matmul":
        return x @ y.t() if x.dim() == 2 and y.dim() == 2 else x * y
    if kind == "inplace":
        out = x.clone()
        out[..., 0] = y[..., 0] * 2
        return out
    if kind == "where":
        return lib.where(x > 0, x, y)
    if kind == "amax":
        return x + lib.amax(y, dim=-1, keepdim=True)
    return x + getattr(lib, kind)(y, dim=-1, keepdim=True)


def run(lib, arrays, plan):
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
    values = list(leaves)
    for kind, a, b in plan:
        values.append(step(lib, kind, values[a % len(values)], values[b % len(values)]))
    out = sum((v * (i + 1)).sum() for i, v in enumerate(values[len(leaves):]))
    first = lib.autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    penalty = sum((g * g).sum() for g in first if g is not None and g.requires_grad)
    second = lib.autograd.grad(penalty, leaves, allow_unused=True) if torch.is_tensor(penalty) or isinstance(
        penalty, gradscope.Tensor) else ()
    as_numpy = [None if g is None else g.detach().numpy() for g in (*first, *second)]
    # torch returns ZeroTensors for gradients it knows are zero: compare them as zeros
    return out.item(), [None if g is None else np.asarray(g, dtype=np.float64) for g in as_numpy]


@pytest.mark.parametrize("seed", range(60))
def test_random_graph_matches_torch(seed):
    rng = random.Random(seed)
    shape = rng.choice([(3, 3), (2, 3), (4,)])
    arrays = [np.random.default_rng(seed * 10 + i).standard_normal(shape) for i in range(rng.randint(1, 3))]
    plan = [(rng.choice(UNARY + BINARY + OTHER), rng.randrange(10), rng.randrange(10))
            for _ in range(rng.randint(1, 8))]
    try:
        theirs_out, theirs = run(torch, arrays, plan)
    except RuntimeError as error:
        if "ZeroTensor" in str(error):  # torch can't turn its ZeroTensor gradients into NumPy arrays
            pytest.skip("torch returned a ZeroTensor gradient")
        with pytest.raises(RuntimeError) as ours_error:  # a plan torch refuses: the same error, word for word
            run(gradscope, arrays, plan)
        assert str(ours_error.value) == str(error)
        return
    ours_out, ours = run(gradscope, arrays, plan)
    assert ours_out == pytest.approx(theirs_out, rel=1e-10)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert (mine is None) == (reference is None), plan
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-8, atol=1e-10, err_msg=str(plan))
