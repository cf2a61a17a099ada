"""nn.utils.parametrizations.orthogonal against torch: every map (matrix_exp, cayley, householder) with and without
the trivialization, on square, tall, wide and stacked weights: the weight, its gradient, the graph, the
state_dict and repr, a few SGD steps, assigning a weight (orthogonalised by QR, completed with random columns from
the same stream as torch's) and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

MAPS = [None, "matrix_exp", "cayley", "householder"]


def _chain(tensor) -> list:
    names, fn = [], tensor.grad_fn
    while fn is not None:
        names.append(fn.name())
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return names


def _linear(lib, shape, orthogonal_map, trivial):
    lib.manual_seed(0)
    m = lib.nn.Linear(shape[1], shape[0], dtype=lib.float64)
    return lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=trivial)


def _train(lib, shape, orthogonal_map, trivial):
    m = _linear(lib, shape, orthogonal_map, trivial)
    optimizer = lib.optim.SGD(m.parameters(), lr=0.1)
    x = lib.tensor(np.linspace(-1, 1, shape[1] * 2).reshape(2, shape[1]))
    weights = []
    for _ in range(3):
        optimizer.zero_grad()
        (m(x) ** 2).sum().backward()
        optimizer.step()
        weights.append(m.weight.detach().numpy())
    return (weights, m.parametrizations.weight.original.grad.numpy(), _chain(m.weight), sorted(m.state_dict()),
            repr(m))


@pytest.mark.parametrize("trivial", [True, False])
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5)])
def test_training_matches_torch(shape, orthogonal_map, trivial):
    ours, theirs = _train(gradscope, shape, orthogonal_map, trivial), _train(torch, shape, orthogonal_map, trivial)
    for a, b in zip(ours[0] + [ours[1]], theirs[0] + [theirs[1]], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    assert ours[2:] == theirs[2:]
    q = ours[0][-1]
    product = q.T @ q if shape[0] >= shape[1] else q @ q.T
    np.testing.assert_allclose(product, np.eye(min(shape)), atol=1e-12)


def _full_rank(shape, seed):
    """Matrices of full rank. Consecutive sin(n) or cos(n) values obey a linear recurrence, so a 3 × 3 block of them
    has rank 2: its QR leaves the last column's sign to rounding, which differs between CPUs and BLAS builds."""
    return np.random.default_rng(seed).standard_normal(shape)


class _Stack:
    """A module holding a stack of matrices (orthogonal takes the last two dims as the matrix)."""

    @staticmethod
    def make(lib, shape):
        class Stack(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = lib.nn.Parameter(lib.tensor(_full_rank(shape, seed=0)))

        return Stack()


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", [(2, 3, 3), (2, 4, 2), (2, 2, 4)])
def test_a_stack_of_matrices_and_an_assigned_weight_match_torch(shape, orthogonal_map):
    results = []
    for lib in (gradscope, torch):
        lib.manual_seed(1)
        m = lib.nn.utils.parametrizations.orthogonal(_Stack.make(lib, shape), orthogonal_map=orthogonal_map)
        first = m.weight.detach().numpy()
        lib.manual_seed(2)
        with lib.no_grad():
            m.weight = lib.tensor(_full_rank(shape, seed=1))
        (m.weight ** 3).sum().backward()
        results.append((first, m.weight.detach().numpy(), m.parametrizations.weight.original.grad.numpy(),
                        m.parametrizations.weight[0].base.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_an_rnn_weight_matches_torch():
    results = []
    for lib in (gradscope, torch):
        lib.manual_seed(3)
        rnn = lib.nn.utils.parametrizations.orthogonal(lib.nn.RNN(3, 4, dtype=lib.float64), "weight_hh_l0")
        out, _ = rnn(lib.tensor(np.linspace(-1, 1, 12).reshape(2, 2, 3)))
        out.sum().backward()
        results.append((rnn.weight_hh_l0.detach().numpy(), rnn.parametrizations.weight_hh_l0.original.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def _error(call) -> str:
    try:
        call()
    except (ValueError, NotImplementedError, RuntimeError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), "bias"),
    lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), "nothing"),
    lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="qr"),
    lambda lib: setattr(lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), use_trivialization=False),
                        "weight", lib.eye(3)),
    lambda lib: setattr(lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3)), "weight", lib.eye(2)),
])
def test_errors_match_torch(call):
    ours, theirs = _error(lambda: call(gradscope)), _error(lambda: call(torch))
    assert ours.replace("gradscope", "torch") == theirs
