"""Edge cases where gradscope differed from PyTorch 2.13, each run on both libraries:

- cat with a legacy empty 1-D tensor among others: PyTorch skips it in the forward but keeps it in the graph (its
  gradient is empty, shape (0,)); gradscope dropped it (its grad stayed None).
- tensordot contracts a dim of size 1 against any size (the other side summed over it first, SumBackward1);
  gradscope refused.
- take_along_dim with a dim takes each index modulo the size (3 of 3 is 0, -4 of 3 is 2); gradscope refused those
  outside [-size, size). Without a dim, both refuse.
- linalg.pinv and pinverse of complex matrices (values and gradients); gradscope refused them with a message that
  named cdouble among the types it expected.
- batch_norm of an empty input: PyTorch returns a clone (times weight[0], plus bias[0]) and leaves the running
  statistics alone; gradscope raised IndexError for a 1-D one and wrote nan into the running statistics."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _graph(node) -> list:
    """The node names of a graph, depth first."""
    if node is None:
        return []
    return [node.name()] + [name for child, _ in node.next_functions for name in _graph(child)]


def _outcome(L, case):
    try:
        return case(L)
    except (RuntimeError, IndexError, TypeError) as error:
        return type(error).__name__, str(error)


def _same(ours, theirs) -> None:
    if isinstance(theirs, tuple) and theirs and isinstance(theirs[0], str):  # an error
        assert ours == theirs
        return
    assert type(ours) is type(theirs)
    for a, b in zip(ours, theirs, strict=True):
        if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:
            assert a == b


def _numpy(t):
    return None if t is None else t.detach().numpy()


def _cat_with_empty(L, dim=0, first=False):
    a = L.arange(6.0, dtype=L.float64).reshape(2, 3).requires_grad_()
    empty = L.ones(0, dtype=L.float64, requires_grad=True)
    y = L.cat([empty, a] if first else [a, empty], dim)
    (first_order,) = L.autograd.grad((y * y).sum(), empty, create_graph=True)
    (y * 2).sum().backward()
    return (_numpy(y), tuple(first_order.shape), tuple(empty.grad.shape), _numpy(a.grad),
            len(y.grad_fn.next_functions), _graph(y.grad_fn))


def _tensordot(shape_a, shape_b, dims):
    def case(L):
        a = L.arange(1.0, 1.0 + np.prod(shape_a), dtype=L.float64).reshape(shape_a).requires_grad_()
        b = L.arange(2.0, 2.0 + np.prod(shape_b), dtype=L.float64).reshape(shape_b).requires_grad_()
        y = L.tensordot(a, b, dims=dims)
        (y * y).sum().backward()
        return _numpy(y), _numpy(a.grad), _numpy(b.grad), _graph(y.grad_fn)
    return case


def _take_along_dim(indices, dim):
    def case(L):
        x = L.arange(24.0, dtype=L.float64).reshape(2, 3, 4).requires_grad_()
        y = L.take_along_dim(x, L.tensor(indices), dim)
        (y * y).sum().backward()
        return _numpy(y), _numpy(x.grad)
    return case


CASES = {
    "cat, empty last": lambda L: _cat_with_empty(L),
    "cat, empty first along dim 1": lambda L: _cat_with_empty(L, 1, True),
    "tensordot, b's contracted dim of size 1": _tensordot((2, 3), (1, 4), ([1], [0])),
    "tensordot, a's contracted dim of size 1": _tensordot((2, 1), (3, 2), ([1], [1])),
    "tensordot, both of size 1": _tensordot((2, 1), (1, 3), ([1], [0])),
    "tensordot, two dims": _tensordot((1, 1, 1), (2, 1, 2), ([0, 1], [2, 0])),
    "tensordot, sizes differ": _tensordot((2, 3), (4, 2), ([-1], [-2])),
    "take_along_dim, past the end": _take_along_dim([[[3]], [[7]]], 1),
    "take_along_dim, before the start": _take_along_dim([[[-4, -5, 100]]], 2),
    "take_along_dim, in range": _take_along_dim([[[0, -1]]], 2),
    "take_along_dim, flattened": _take_along_dim([30], None),
}


@pytest.mark.parametrize("case", CASES)
def test_edge_cases_match_torch(case):
    _same(_outcome(gradscope, CASES[case]), _outcome(torch, CASES[case]))


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_complex_pinv_matches_torch(shape, dtype):
    rng = np.random.default_rng(len(shape) + shape[-1])
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    weights = rng.standard_normal(shape[:-2] + shape[:-3:-1]) + 1j * rng.standard_normal(shape[:-2] + shape[:-3:-1])

    def gradients(L):
        x = L.tensor(a, dtype=getattr(L, dtype), requires_grad=True)
        inverse = L.linalg.pinv(x)
        (inverse * L.tensor(weights, dtype=x.dtype)).real.sum().backward()
        return inverse.detach().numpy(), x.grad.numpy(), L.pinverse(x).detach().numpy()

    tolerance = 1e-4 if dtype == "complex64" else 1e-10
    for ours, theirs in zip(gradients(gradscope), gradients(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)


def test_complex_hermitian_pinv_matches_torch():
    hermitian = np.array([[2, 1 - 1j], [1 + 1j, 3]])
    np.testing.assert_allclose(gradscope.linalg.pinv(gradscope.tensor(hermitian), hermitian=True).numpy(),
                               torch.linalg.pinv(torch.tensor(hermitian), hermitian=True).numpy(), atol=1e-12)


def _empty_batch_norm(L):
    x = L.ones(0, 3, requires_grad=True)
    weight, bias = L.ones(3, requires_grad=True), L.zeros(3, requires_grad=True)
    running_mean, running_var = L.zeros(3), L.ones(3)
    y = L.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training=True)
    y.sum().backward()
    return (tuple(y.shape), _graph(y.grad_fn), running_mean.tolist(), running_var.tolist(), tuple(x.grad.shape),
            weight.grad.tolist(), bias.grad.tolist())


BATCH_NORM = {
    "1-D empty, eval": lambda L: tuple(L.nn.functional.batch_norm(L.ones(0), L.zeros(0), L.ones(0)).shape),
    "1-D empty, training": lambda L: _graph(L.nn.functional.batch_norm(
        L.ones(0, requires_grad=True), None, None, training=True).grad_fn),
    "1-D": lambda L: L.nn.functional.batch_norm(L.ones(3), L.zeros(3), L.ones(3)),
    "1-D, statistics of none": lambda L: L.nn.functional.batch_norm(L.ones(3), L.zeros(0), L.ones(0)),
    "1-D empty, an empty weight": lambda L: L.nn.functional.batch_norm(L.ones(0), L.zeros(0), L.ones(0), L.ones(0)),
    "2-D empty, training": _empty_batch_norm,
    "3-D empty": lambda L: _graph(L.nn.functional.batch_norm(L.ones(0, 3, 2, requires_grad=True), None, None,
                                                             training=True).grad_fn),
    "BatchNorm1d": lambda L: tuple(L.nn.BatchNorm1d(3)(L.ones(0, 3)).shape),
}


@pytest.mark.parametrize("case", BATCH_NORM)
def test_batch_norm_of_an_empty_input(case):
    assert _outcome(gradscope, BATCH_NORM[case]) == _outcome(torch, BATCH_NORM[case])
