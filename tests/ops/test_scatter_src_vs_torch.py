"""scatter, scatter_add and scatter_reduce (and their in-place forms) with a src larger than the index, against
torch: the forward reads src's leading corner, the node keeps src whole, and the backward does what PyTorch's
does: an index-shaped gradient for src fails the engine's shape check ("invalid gradient"), while amax, amin and
prod broadcast src against the index (spreading the gradient over all of src, or raising a broadcast error).
An empty index is accepted whatever its dtype and shape, as PyTorch checks none of it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")

_OPS = ["scatter", "scatter_", "scatter_add", "scatter_add_", "sum", "mean", "prod", "amax", "amin"]


def _outcome(call):
    try:
        return call()
    except (RuntimeError, IndexError, ValueError) as error:
        return f"{type(error).__name__}: {error}"


def _apply(lib, op, x, dim, index, src, include_self):
    if op in ("scatter", "scatter_add"):
        return getattr(lib, op)(x, dim, index, src)
    if op in ("scatter_", "scatter_add_"):
        return getattr(x.clone(), op)(dim, index, src)
    return x.scatter_reduce(dim, index, src, op, include_self=include_self)


@st.composite
def _cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = [draw(st.integers(1, 4)) for _ in range(ndim)]
    dim = draw(st.integers(0, ndim - 1))
    index_shape = [draw(st.integers(1, n)) for n in shape]
    # src no smaller than the index, larger in some dims (by one or two) or not at all
    src_shape = [n + draw(st.sampled_from([0, 0, 1, 2])) for n in index_shape]
    op = draw(st.sampled_from(_OPS))
    grads = draw(st.sampled_from([(True, True), (True, False), (False, True)]))
    return (op, shape, dim, index_shape, src_shape, grads, draw(st.booleans()), draw(st.booleans()),
            draw(st.integers(0, 2**16)))


def _run(lib, case):
    op, shape, dim, index_shape, src_shape, (x_grad, src_grad), include_self, create_graph, seed = case
    rng = np.random.default_rng(seed)
    # distinct positions along dim (a plain scatter with repeats writes in no defined order)
    order = np.argsort(rng.random(index_shape[:dim] + [shape[dim]] + index_shape[dim + 1:]), axis=dim)
    index = lib.tensor(np.take(order, np.arange(index_shape[dim]), axis=dim).astype(np.int64))
    x = lib.tensor(rng.normal(size=shape), requires_grad=x_grad)
    src = lib.tensor(rng.normal(size=src_shape), requires_grad=src_grad)
    result = _apply(lib, op, x, dim, index, src, include_self)
    saved = tuple(result.grad_fn._saved_src.shape) if op in _OPS[4:] else ()
    weights = lib.tensor(rng.normal(size=shape))
    wrt = [t for t in (x, src) if t.requires_grad]
    grads = _outcome(lambda: lib.autograd.grad((result * weights).sum(), wrt, create_graph=create_graph))
    if not isinstance(grads, str):
        grads = [g.detach().numpy() for g in grads]
    return result.detach().numpy(), result.grad_fn.name(), saved, grads


@settings(deadline=None, max_examples=200)
@given(case=_cases())
def test_larger_src_forward_and_backward_match_torch(case):
    ours, theirs = _run(gradscope, case), _run(torch, case)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    assert ours[1:3] == theirs[1:3]
    if isinstance(theirs[3], str) or isinstance(ours[3], str):
        assert ours[3] == theirs[3]
    else:
        for a, b in zip(ours[3], theirs[3], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_errors_torch_raises_in_backward():
    x = gradscope.zeros(4, requires_grad=True)
    src = gradscope.ones(4, requires_grad=True)
    index = gradscope.tensor([1, 2])
    with pytest.raises(RuntimeError, match=r"^Function ScatterBackward0 returned an invalid gradient at index 1 - "
                       r"got \[2\] but expected shape compatible with \[4\]$"):
        x.scatter(0, index, src).sum().backward()
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(4\) must match the size of tensor b \(2\) at "
                       r"non-singleton dimension 0$"):
        x.scatter_reduce(0, index, src.detach(), "amax").sum().backward()  # src's gradient is computed all the same


@pytest.mark.parametrize("index", [[], [[]], [[[]]]], ids=["1-D", "2-D", "3-D"])
@pytest.mark.parametrize("op", ["scatter", "value", "scatter_add", "sum", "amax", "prod", "legacy", "gather"])
def test_an_empty_index_of_any_dtype_and_shape(op, index):
    def run(lib):
        x = lib.arange(6.0, dtype=lib.float64).reshape(3, 2).requires_grad_()
        src = lib.ones(1, 2, dtype=lib.float64, requires_grad=True)
        empty = lib.tensor(index)  # a float tensor, as torch.tensor([]) is
        calls = {"scatter": lambda: x.scatter(0, empty, src), "value": lambda: x.scatter(0, empty, 2.0),
                 "scatter_add": lambda: x.scatter_add(0, empty, src), "gather": lambda: x.gather(0, empty),
                 "sum": lambda: x.scatter_reduce(0, empty, src, "sum"),
                 "amax": lambda: x.scatter_reduce(0, empty, src, "amax"),
                 "prod": lambda: x.scatter_reduce(0, empty, src, "prod"),
                 "legacy": lambda: x.scatter(0, empty, src, reduce="add")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy form's deprecation (each library warns once)
            result = calls[op]()
        grads = _outcome(lambda: lib.autograd.grad(result.sum(), (x, src), allow_unused=True))
        if not isinstance(grads, str):
            grads = [None if g is None else g.numpy().tolist() for g in grads]
        return result.detach().numpy().tolist(), result.grad_fn.name(), grads

    assert run(gradscope) == run(torch)
