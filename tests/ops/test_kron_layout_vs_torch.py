"""kron of inputs in any layout (permuted, strided, expanded) against torch: PyTorch views the product back, so it
raises where the product's layout (which follows the inputs') can't be viewed; otherwise values, gradients and
graph are torch's. The layout rules themselves (gradscope/_shapes.py) against torch's views and elementwise ops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope
from gradscope._shapes import elementwise_strides, view_strides

torch = pytest.importorskip("torch")


@st.composite
def _layouts(draw):
    """A tensor recipe: shape, a permutation, a step along the last dim, an expanded dim (or None)."""
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    perm = tuple(draw(st.permutations(range(ndim))))
    expanded = draw(st.one_of(st.none(), st.integers(0, ndim - 1))) if ndim else None
    return shape, perm, draw(st.integers(1, 2)), expanded


def _make(lib, recipe, requires_grad):
    shape, perm, step, expanded = recipe
    if not shape:
        return lib.tensor(1.5, dtype=lib.float64, requires_grad=requires_grad)
    leaf = lib.tensor(np.linspace(-1, 1, math.prod(shape) * step).reshape(shape[:-1] + (shape[-1] * step,)),
                      requires_grad=requires_grad)
    t = leaf[..., ::step].permute(perm)
    if expanded is not None:
        sizes = list(t.shape)
        sizes[expanded] = 3
        t = t.narrow(expanded, 0, 1).expand(sizes)
    return leaf, t


def _kron(lib, recipes, requires_grad):
    made = [_make(lib, r, requires_grad) for r in recipes]
    leaves = [m[0] if isinstance(m, tuple) else m for m in made]
    inputs = [m[1] if isinstance(m, tuple) else m for m in made]
    try:
        result = lib.kron(*inputs)
    except RuntimeError as error:
        return str(error)
    if not requires_grad:
        return result.numpy(), None, None
    grads = lib.autograd.grad((result * result).sum(), leaves)
    return result.detach().numpy(), result.grad_fn.name(), [g.numpy() for g in grads]


@settings(deadline=None, max_examples=300)
@given(recipes=st.tuples(_layouts(), _layouts()), requires_grad=st.booleans())
def test_kron_of_any_layout_matches_torch(recipes, requires_grad):
    ours, theirs = _kron(gradscope, recipes, requires_grad), _kron(torch, recipes, requires_grad)
    if isinstance(theirs, str) or isinstance(ours, str):
        assert ours == theirs
        return
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    assert ours[1] == theirs[1]
    for a, b in zip(ours[2] or [], theirs[2] or [], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_transposed_input_raises_torchs_view_error():
    with pytest.raises(RuntimeError, match=r"^view size is not compatible with input tensor's size and stride"):
        gradscope.kron(gradscope.ones(2, 3).t(), gradscope.ones(3, 2))


@settings(deadline=None, max_examples=300)
@given(recipe=_layouts(), data=st.data())
def test_view_strides_are_torchs(recipe, data):
    _, t = _make(torch, recipe, False) if recipe[0] else (None, torch.tensor(1.0))
    factors = sorted(d for d in range(1, t.numel() + 1) if t.numel() % d == 0)
    first = data.draw(st.sampled_from(factors))
    new_shape = (first, t.numel() // first) if data.draw(st.booleans()) else (1, t.numel(), 1)
    try:
        expected = t.view(new_shape).stride()
    except RuntimeError:
        expected = None
    got = view_strides(tuple(t.shape), t.stride(), new_shape)
    if expected is None or got is None:
        assert got == expected
    else:  # a size-1 dim's stride is arbitrary
        assert all(a == b or n == 1 for a, b, n in zip(got, expected, new_shape, strict=True))


@settings(deadline=None, max_examples=300)
@given(recipes=st.tuples(_layouts(), _layouts()))
def test_elementwise_strides_are_torchs(recipes):
    a, b = (_make(torch, r, False) for r in recipes)
    a, b = (t[1] if isinstance(t, tuple) else t for t in (a, b))
    try:
        product = a * b
    except RuntimeError:
        return
    got = elementwise_strides([(tuple(a.shape), a.stride()), (tuple(b.shape), b.stride())])
    assert all(x == y or n == 1 for x, y, n in zip(got, product.stride(), product.shape, strict=True))
