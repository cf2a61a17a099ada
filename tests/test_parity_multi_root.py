"""Backward from several roots at once, against PyTorch 2.13.

Each seed builds a small random graph, picks several roots among its tensors (a root may be an ancestor
of another, a leaf, two outputs of one split, or the same tensor twice) and runs every multi-root entry
point: `autograd.backward` with and without `inputs=`, `autograd.grad` to leaves and to intermediate
tensors, and `grad(create_graph=True)` differentiated again. Leaf and retained gradients, what each
tensor hook saw, and errors must all be PyTorch's.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch


def test_root_that_is_an_ancestor_of_another_root():
    """y = 2x, z = 3y: backward([y, z], [1, 1]) gives dx = 2 + 6 = 8 (it gave None: the ancestor's edges were
    counted twice, so the leaf never became ready)."""
    for lib in filter(None, (gradscope, reference_torch())):
        for order in ("yz", "zy"):
            x = lib.tensor([1.0], requires_grad=True)
            y = x * 2
            z = y * 3
            roots = (y, z) if order == "yz" else (z, y)
            lib.autograd.backward(roots, [lib.ones(1), lib.ones(1)])
            assert x.grad.tolist() == [8.0], (lib.__name__, order)
            y = x * 2
            z = y * 3
            assert lib.autograd.grad([y, z], [x], [lib.ones(1), lib.ones(1)])[0].tolist() == [2.0 + 6.0]


def test_ancestor_root_hooks_see_the_summed_gradient_once():
    seen = {}
    for lib in filter(None, (gradscope, reference_torch())):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g, calls=calls: calls.append(g.tolist()))
        y.retain_grad()
        z = (y * 3).sin()
        lib.autograd.backward([z, y], [lib.ones(2), lib.full((2,), 0.5)])
        seen[lib.__name__] = (calls, y.grad.tolist(), x.grad.tolist())
    calls, retained, leaf = seen["gradscope"]
    assert len(calls) == 1 and calls[0] == retained  # one call, with both roots' gradients summed
    if "torch" in seen:
        for mine, reference in zip(seen["gradscope"], seen["torch"], strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-6)


# ------------------------------------------------------------------------------------ random programs
OPS = ("mul", "add", "sin", "exp_tanh", "clone", "slice_cat", "split", "sum_expand", "square")


def _step(lib, kind, x, y):
    if kind == "mul":
        return x * 1.5
    if kind == "add":
        return x + y
    if kind == "sin":
        return x.sin()
    if kind == "exp_tanh":
        return x.tanh().exp()
    if kind == "clone":
        return x.clone()
    if kind == "slice_cat":
        return lib.cat([x[:1] * 2.0, x[1:]])
    if kind == "split":
        return x.split(2)  # two outputs of one node
    if kind == "sum_expand":
        return x.sum().expand(3) + y
    return x * y


def _build(lib, seed):
    rng = random.Random(seed)
    values = [lib.tensor(np.random.default_rng(seed * 3 + i).standard_normal(3), requires_grad=True)
              for i in range(2)]
    pieces = []  # outputs of splits: roots and targets, not operands (their shapes differ)
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(OPS)
        out = _step(lib, kind, values[rng.randrange(len(values))], values[rng.randrange(len(values))])
        if isinstance(out, tuple):
            values.append(lib.cat([out[0], out[1]]))
            pieces.extend(out)
        else:
            values.append(out)
    values += pieces
    roots = [rng.randrange(len(values)) for _ in range(rng.randint(2, 4))]
    targets = sorted(set(rng.randrange(len(values)) for _ in range(rng.randint(1, 3))))
    return values, roots, targets


def _grads_for(lib, values, roots, seed):
    return [lib.tensor(np.random.default_rng(1000 + seed * 7 + i).standard_normal(tuple(values[r].shape)))
            for i, r in enumerate(roots)]


def _as_list(t):
    return None if t is None else np.asarray(t.detach().numpy(), dtype=np.float64).tolist()


def _observe(lib, seed, mode):
    """Run one multi-root entry point; return what a user can observe (or the error's text)."""
    values, roots, targets = _build(lib, seed)
    seen: list = []
    for i, v in enumerate(values):
        if v.grad_fn is not None:
            v.retain_grad()
        v.register_hook(lambda g, i=i: seen.append((i, _as_list(g))))
    grads = _grads_for(lib, values, roots, seed)
    root_tensors = [values[r] for r in roots]
    try:
        if mode == "backward":
            lib.autograd.backward(root_tensors, grads)
            result = [_as_list(v.grad) for v in values]
        elif mode == "backward_inputs":
            lib.autograd.backward(root_tensors, grads, inputs=[values[t] for t in targets])
            result = [_as_list(v.grad) for v in values]
        elif mode == "grad":
            result = [_as_list(g) for g in lib.autograd.grad(root_tensors, [values[t] for t in targets], grads,
                                                              allow_unused=True)]
        else:  # second order
            first = lib.autograd.grad(root_tensors, values[:2], grads, create_graph=True, allow_unused=True)
            penalty = [(g * g).sum() for g in first if g is not None and g.requires_grad]
            second = lib.autograd.grad(penalty, values[:2], allow_unused=True) if penalty else ()
            result = [_as_list(g) for g in (*first, *second)]
    except RuntimeError as error:
        return ("error", str(error))
    return ("ok", result, sorted(seen, key=lambda item: item[0]))


def _assert_same(ours, theirs, context):
    assert ours[0] == theirs[0], (context, ours, theirs)
    if ours[0] == "error":
        assert ours[1] == theirs[1], context
        return
    for mine, reference in zip(ours[1], theirs[1], strict=True):
        assert (mine is None) == (reference is None), context
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12, err_msg=str(context))
    assert [i for i, _ in ours[2]] == [i for i, _ in theirs[2]], context  # each hook fired as often
    for (_, mine), (_, reference) in zip(ours[2], theirs[2], strict=True):
        assert (mine is None) == (reference is None), context
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12, err_msg=str(context))


@pytest.mark.parametrize("mode", ["backward", "backward_inputs", "grad", "second_order"])
@pytest.mark.parametrize("seed", range(40))
def test_random_multi_root_programs_match_torch(seed, mode):
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    theirs = _observe(torch, seed, mode)
    ours = _observe(gradscope, seed, mode)
    _assert_same(ours, theirs, (seed, mode, _build(gradscope, seed)[1:3]))
