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
@pytest.mark.parametrize("options", [{}, {"lr": 0.1}, {"max_iter": 30, "history_size": 2},
                                     {"max_eval": 7, "tolerance_change": 1e-5}, {"lr": 3.0, "max_iter": 6}],
                         ids=["defaults", "small_lr", "short_history", "max_eval", "large_lr"])
def test_lbfgs_strong_wolfe_iterates_as_torch_in_float64(problem, options):
    """line_search_fn="strong_wolfe": the same steps, evaluations (the line search's included) and iterates. (Two
    steps: near convergence a last-bit difference in a loss can flip a line search's test, as between any two
    implementations; the line search itself is PyTorch's bit for bit, below.)"""
    ours = trajectory(gradscope, problem, "float64", 2, line_search_fn="strong_wolfe", **options)
    theirs = trajectory(torch, problem, "float64", 2, line_search_fn="strong_wolfe", **options)
    for (loss, x, *counts), (loss_t, x_t, *counts_t) in zip(ours, theirs):
        assert counts == counts_t
        np.testing.assert_allclose(x, x_t, rtol=1e-9, atol=1e-9)
        assert loss == pytest.approx(loss_t, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("problem", [least_squares, rosenbrock], ids=["least_squares", "rosenbrock"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", [{}, {"lr": 0.1}, {"max_iter": 30, "history_size": 2},
                                     {"max_eval": 7, "tolerance_change": 1e-5}, {"lr": 3.0, "max_iter": 6}],
                         ids=["defaults", "small_lr", "short_history", "max_eval", "large_lr"])
def test_strong_wolfe_line_search_is_pytorchs_bit_for_bit(monkeypatch, problem, dtype, options):
    """gradscope's line search, run on PyTorch's tensors inside PyTorch's LBFGS in place of its own, gives the same
    iterates and evaluations to the last bit, over several steps and in float32 too."""
    from torch.optim import lbfgs as torch_lbfgs

    from gradscope.optim import lbfgs as our_lbfgs

    theirs = trajectory(torch, problem, dtype, 4, line_search_fn="strong_wolfe", **options)

    def ours(objective, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
        return our_lbfgs._strong_wolfe(lambda step: objective(x, step, d), t, d, f, g, gtd, tolerance_change, c1,
                                       c2, max_ls)

    monkeypatch.setattr(torch_lbfgs, "_strong_wolfe", ours)
    swapped = trajectory(torch, problem, dtype, 4, line_search_fn="strong_wolfe", **options)
    for (loss, x, *counts), (loss_t, x_t, *counts_t) in zip(swapped, theirs):
        assert counts == counts_t
        assert loss == loss_t
        np.testing.assert_array_equal(x, x_t)


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
