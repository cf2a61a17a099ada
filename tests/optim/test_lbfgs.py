"""optim.LBFGS against PyTorch's: the same iterates on a least-squares fit and the Rosenbrock function,
history and stopping rules included, and the same argument errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(4)
A, B = RNG.standard_normal((8, 3)), RNG.standard_normal(8)


def least_squares(lib, x):
    a, b = lib.tensor(A, dtype=x.dtype), lib.tensor(B, dtype=x.dtype)
    return ((a @ x - b) ** 2).sum()


def rosenbrock(lib, x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def trajectory(lib, problem, dtype, steps, **options):
    x = lib.tensor([-1.2, 1.0, 0.5][: 3 if problem is least_squares else 2], dtype=getattr(lib, dtype),
                   requires_grad=True)
    optimizer = lib.optim.LBFGS([x], **options)
    calls = []

    def closure():
        optimizer.zero_grad()
        loss = problem(lib, x)
        loss.backward()
        calls.append(1)
        return loss

    seen = []
    for _ in range(steps):
        loss = optimizer.step(closure)
        state = optimizer.state[x]
        seen.append((float(loss), x.detach().numpy().astype(np.float64).copy(), len(calls), state["n_iter"],
                     state["func_evals"], len(state["old_dirs"])))
    return seen


@pytest.mark.parametrize("problem", [least_squares, rosenbrock], ids=["least_squares", "rosenbrock"])
@pytest.mark.parametrize("options", [{}, {"lr": 0.5, "max_iter": 5, "history_size": 3}, {"max_iter": 7, "max_eval": 4},
                                     {"tolerance_change": 1e-3}], ids=["defaults", "short", "max_eval", "tolerance"])
def test_lbfgs_iterates_as_torch_in_float64(problem, options):
    ours = trajectory(gradscope, problem, "float64", 4, **options)
    theirs = trajectory(torch, problem, "float64", 4, **options)
    for (loss, x, *counts), (loss_t, x_t, *counts_t) in zip(ours, theirs):
        assert counts == counts_t
        np.testing.assert_allclose(x, x_t, rtol=1e-9, atol=1e-9)
        assert loss == pytest.approx(loss_t, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("problem", [least_squares, rosenbrock], ids=["least_squares", "rosenbrock"])
def test_lbfgs_first_iterations_as_torch_in_float32(problem):
    """Within an iteration's float32 rounding (dot products summed in another order); over many iterations,
    as between any two float32 implementations, the iterates drift apart and stopping tests may flip."""
    ours = trajectory(gradscope, problem, "float32", 1, max_iter=5, history_size=3)
    theirs = trajectory(torch, problem, "float32", 1, max_iter=5, history_size=3)
    (_, x, *counts), (_, x_t, *counts_t) = ours[0], theirs[0]
    assert counts == counts_t
    np.testing.assert_allclose(x, x_t, rtol=1e-5, atol=1e-6)


def _backward(loss):
    loss.backward()
    return loss


@pytest.mark.parametrize("make", [
    lambda lib, p: lib.optim.LBFGS([p], lr=-1.0),
    lambda lib, p: lib.optim.LBFGS([{"params": [p]}, {"params": [lib.ones(1, requires_grad=True)]}]),
    lambda lib, p: lib.optim.LBFGS([p], line_search_fn="armijo").step(lambda: _backward((p * p).sum())),
], ids=["lr", "groups", "line search"])
def test_lbfgs_errors_as_torch(make):
    errors = []
    for lib in (gradscope, torch):
        with pytest.raises((ValueError, RuntimeError)) as caught:
            make(lib, lib.ones(2, requires_grad=True))
        errors.append((type(caught.value).__name__, str(caught.value)))
    assert errors[0] == errors[1]
