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


class _Watcher:
    """An observer: while one listens, every node takes the engine's general path."""

    def __init__(self):
        self.nodes_run = 0

    def backward_node_end(self, node, grads):
        self.nodes_run += 1


def backward_grads(lib, arrays, plan, *, float32=False):
    leaves = [lib.tensor(a.astype(np.float32) if float32 else a, requires_grad=True) for a in arrays]
    arriving = []  # what reaches each leaf, before it is added into .grad: checked, cast gradients
    for i, leaf in enumerate(leaves):
        leaf.register_hook(lambda g, i=i: arriving.append((i, str(g.dtype), tuple(g.shape))))
    values = list(leaves)
    for kind, a, b in plan:
        values.append(step(lib, kind, values[a % len(values)], values[b % len(values)]))
    out = sum((v * (i + 1)).sum() for i, v in enumerate(values[len(leaves):]))
    out.backward(retain_graph=True)
    out.backward()  # accumulates a second time through the same graph
    grads = [None if leaf.grad is None else (leaf.grad.numpy().copy(), str(leaf.grad.dtype)) for leaf in leaves]
    return grads, sorted(arriving)


@pytest.mark.parametrize("float32", [False, True], ids=["float64", "float32"])
@pytest.mark.parametrize("seed", range(40))
def test_fast_and_general_engine_paths_agree(seed, float32):
    """`.backward()` with nothing listening runs most nodes through the engine's fast path (light saved
    values, shape checks skipped where an input has the output's shape); an observer sends every node
    through the general one. Both give torch's leaf gradients, dtypes included."""
    from gradscope.autograd import observers

    rng = random.Random(1000 + seed)
    shape = rng.choice([(3, 3), (2, 3), (4,)])
    arrays = [np.random.default_rng(seed * 7 + i).standard_normal(shape) for i in range(rng.randint(1, 3))]
    plan = [(rng.choice(UNARY + BINARY + OTHER), rng.randrange(10), rng.randrange(10))
            for _ in range(rng.randint(1, 10))]
    try:
        theirs = backward_grads(torch, arrays, plan, float32=float32)
    except RuntimeError:
        pytest.skip("a plan torch refuses (checked word for word by test_random_graph_matches_torch)")
    fast = backward_grads(gradscope, arrays, plan, float32=float32)
    watcher = _Watcher()
    with observers.observing(watcher):
        general = backward_grads(gradscope, arrays, plan, float32=float32)
    assert watcher.nodes_run > 0
    tolerance = dict(rtol=1e-4, atol=1e-5) if float32 else dict(rtol=1e-8, atol=1e-10)
    (fast, fast_arriving), (general, general_arriving), (theirs, theirs_arriving) = fast, general, theirs
    assert fast_arriving == general_arriving == theirs_arriving
    for mine, other, reference in zip(fast, general, theirs):
        assert (mine is None) == (other is None) == (reference is None), plan
        if mine is not None:
            np.testing.assert_array_equal(mine[0], other[0], err_msg=str(plan))
            assert mine[1] == other[1] == reference[1]
            np.testing.assert_allclose(mine[0], reference[0], err_msg=str(plan), **tolerance)


@pytest.mark.parametrize("case", ["float32 times a float64 scalar tensor", "amax keeping its only row"])
def test_fast_path_casts_a_gradient_a_rule_promoted(case):
    """Where an input has the output's shape the fast path skips the shape check, not the dtype one:
    a rule that returns float64 for a float32 input is cast back, as the general path and torch do."""
    def build(lib):
        x = lib.tensor([[1.5, -2.0, 0.5]], dtype=lib.float32, requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(str(g.dtype)))
        if case.startswith("float32"):
            y = x * lib.tensor(3.0, dtype=lib.float64)
        else:
            y = lib.amax(x, dim=0, keepdim=True) * 2.0
        y.sum().backward()
        return seen, str(x.grad.dtype), x.grad.tolist()
    assert build(gradscope) == build(torch)
