"""A multi-output op's rules see None for an output that got no gradient (PyTorch's undefined gradient), and a
gradient of zeros as zeros. The engine used to hand them zeros for both, and `given()` guessed "undefined" from
all-zero values: with `s, c = torch.triangular_solve(b, a)`, `(s * 0).sum().backward()` left b.grad and a.grad
None where PyTorch gives zeros, and linalg.lu of a zero gradient failed inside its rule.

Each case weights each differentiable output by zeros, by a fixed pattern, or leaves it out of the loss, in every
combination, and compares which inputs get a gradient and its values with PyTorch's, first and second order (the
gradient of the squared first-order gradients, under create_graph). Outputs defined up to sign (singular and
eigen vectors) enter squared."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradscope
from gradscope.autograd.dispatch import apply
from gradscope.ops import normalization

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(21)
_SQUARE = _RNG.standard_normal((3, 3))
_TALL = _RNG.standard_normal((4, 3))
_UPPER = np.triu(_SQUARE) + 3 * np.eye(3)
_SPD = _SQUARE @ _SQUARE.T + 3 * np.eye(3)
_ROWS = np.vstack([np.ones(3), _RNG.standard_normal(3)])  # a constant row: std's gradient there is 0/0


def _lstsq(L, a, b):
    return L.linalg.lstsq(a, b, driver="gelsd")  # PyTorch computes residuals (differentiable) with gelsd


# name: (inputs, call, the differentiable outputs, those defined up to sign)
OPS = {
    "triangular_solve": ((_TALL[:3, :2], _UPPER), lambda L, b, a: L.triangular_solve(b, a), (0, 1), ()),
    "qr": ((_SQUARE,), lambda L, a: L.linalg.qr(a), (0, 1), ()),
    "qr wide": ((_TALL.T,), lambda L, a: L.linalg.qr(a), (0, 1), ()),
    "eigh": ((_SPD,), lambda L, a: L.linalg.eigh(a), (0, 1), (1,)),
    "eig": ((_SQUARE,), lambda L, a: L.linalg.eig(a), (0, 1), ()),
    "svd": ((_SQUARE,), lambda L, a: L.linalg.svd(a, full_matrices=False), (0, 1, 2), (0, 2)),
    "svd tall": ((_TALL,), lambda L, a: L.linalg.svd(a, full_matrices=False), (0, 1, 2), (0, 2)),
    "svd wide": ((_TALL.T,), lambda L, a: L.linalg.svd(a, full_matrices=False), (0, 1, 2), (0, 2)),
    "lu": ((_SQUARE,), lambda L, a: L.linalg.lu(a), (1, 2), ()),
    "lu tall": ((_TALL,), lambda L, a: L.linalg.lu(a), (1, 2), ()),
    "lu wide": ((_TALL.T,), lambda L, a: L.linalg.lu(a), (1, 2), ()),
    "lu_unpack": ((_SQUARE,), lambda L, a: L.lu_unpack(*L.linalg.lu_factor(a)), (1, 2), ()),
    "lu_unpack tall": ((_TALL,), lambda L, a: L.lu_unpack(*L.linalg.lu_factor(a)), (1, 2), ()),
    "lstsq": ((_TALL, _TALL[:, :2] + 1), _lstsq, (0, 1), ()),
    "slogdet": ((_SQUARE,), lambda L, a: L.linalg.slogdet(a), (0, 1), ()),
    "std_mean": ((_ROWS,), lambda L, a: L.std_mean(a, 1), (0, 1), ()),
    "var_mean": ((_ROWS,), lambda L, a: L.var_mean(a, 1), (0, 1), ()),
    "aminmax": ((_ROWS,), lambda L, a: L.aminmax(a, dim=1), (0, 1), ()),
}
_WEIGHTS = ("absent", "zeros", "pattern")
CASES = [(name, weights) for name, (_, _, outputs, _) in OPS.items()
         for weights in itertools.product(_WEIGHTS, repeat=len(outputs)) if set(weights) != {"absent"}]


def _gradients(L, name, weights, order):
    arrays, call, differentiable, signless = OPS[name]
    inputs = [L.tensor(a, dtype=L.float64, requires_grad=True) for a in arrays]
    results = call(L, *inputs)
    loss = 0
    for index, weight in zip(differentiable, weights, strict=True):
        if weight == "absent":
            continue
        out = results[index]
        if out.is_complex():  # eig: its values by their real parts, its vectors by their moduli (phase-free)
            out = out.abs() ** 2 if index == 1 else out.real
        if index in signless:
            out = out * out
        pattern = L.cos(L.arange(out.numel(), dtype=L.float64).reshape(out.shape) + 1)
        loss = loss + (out * (pattern if weight == "pattern" else 0)).sum()
    if order == 1:
        loss.backward()
    else:
        grads = L.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)
        total = sum((g * g).sum() for g in grads if g is not None)
        if not isinstance(total, L.Tensor) or not total.requires_grad:  # constant first-order gradients
            return "constant"
        total.backward()
    return [None if x.grad is None else x.grad.detach().numpy() for x in inputs]


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize(("name", "weights"), CASES, ids=[f"{n}-{'-'.join(w)}" for n, w in CASES])
def test_zero_and_absent_gradients_match_torch(name, weights, order):
    expected = _gradients(torch, name, weights, order)
    got = _gradients(gradscope, name, weights, order)
    if isinstance(expected, str) or isinstance(got, str):
        assert got == expected
        return
    assert [g is None for g in got] == [g is None for g in expected]
    for ours, theirs in zip(got, expected, strict=True):
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)


def test_triangular_solve_of_a_zero_gradient_gives_zeros():
    """The case the docstring names, spelled out."""
    for L in (gradscope, torch):
        a = L.tensor(_UPPER, requires_grad=True)
        b = L.tensor(_TALL[:3, :2], requires_grad=True)
        solution, _ = L.triangular_solve(b, a)
        (solution * 0).sum().backward()
        assert a.grad is not None and b.grad is not None
        assert not a.grad.any() and not b.grad.any()


@pytest.mark.parametrize("pieces", [
    lambda L, x: x.split(2, -1), lambda L, x: x.split([1, 0, 2], 1), lambda L, x: x.unbind(-2),
    lambda L, x: L.unsafe_split(x, 1, 0), lambda L, x: x.chunk(2, 2), lambda L, x: L.split_copy(x, 3, 2)],
    ids=["split", "split_with_sizes", "unbind", "unsafe_split", "chunk", "split_copy"])
def test_pieces_without_a_gradient_count_as_zeros(pieces):
    """split's and unbind's rules fill the pieces that got no gradient with zeros (as PyTorch's), also under
    create_graph."""
    def gradients(L):
        x = L.tensor(np.arange(24.0).reshape(2, 3, 4) / 7, requires_grad=True)
        (first,) = L.autograd.grad((pieces(L, x)[-1] ** 2).sum(), x, create_graph=True)
        (second,) = L.autograd.grad(first.sum(), x)
        return first.detach().numpy(), second.numpy()

    for ours, theirs in zip(gradients(gradscope), gradients(torch), strict=True):
        np.testing.assert_allclose(ours, theirs)


def _group_norm(L, x, weight):
    if L is torch:
        return torch.native_group_norm(x, weight, None, 2, 6, 3, 2, 1e-5)
    return apply(normalization.native_group_norm, (x, weight, None), (2, 6, 3, 2, 1e-5))


@pytest.mark.parametrize("weights", [w for w in itertools.product(_WEIGHTS, repeat=3) if set(w) != {"absent"}],
                         ids="-".join)
def test_group_norm_statistics_gradients(weights):
    """Group norm's mean and rstd are differentiable outputs. The input's gradient follows finite differences
    whichever of them are given: PyTorch 2.13's drops the mean's or rstd's term unless both are given (its own
    gradcheck fails then), a bug not copied. The weight's gradient is None without the output's, as PyTorch's."""
    x0 = _RNG.standard_normal((2, 6, 3))
    patterns = [np.cos(np.arange(n) + 1.0) for n in (36, 4, 4)]

    def loss(L, x, weight):
        outputs = _group_norm(L, x, weight)
        total = 0
        for out, mode, pattern in zip(outputs, weights, patterns, strict=True):
            if mode != "absent":
                total = total + (out * L.tensor(pattern.reshape(out.shape) * (mode == "pattern"))).sum()
        return total

    x = gradscope.tensor(x0, requires_grad=True)
    weight = gradscope.tensor(np.linspace(0.5, 1.5, 6), requires_grad=True)
    loss(gradscope, x, weight).backward()
    numeric = np.zeros_like(x0)
    for index in np.ndindex(x0.shape):
        step = np.zeros_like(x0)
        step[index] = 1e-6
        plus = loss(gradscope, gradscope.tensor(x0 + step), weight.detach()).item()
        minus = loss(gradscope, gradscope.tensor(x0 - step), weight.detach()).item()
        numeric[index] = (plus - minus) / 2e-6
    np.testing.assert_allclose(x.grad.numpy(), numeric, atol=1e-6)

    theirs = torch.tensor(np.linspace(0.5, 1.5, 6), requires_grad=True)
    loss(torch, torch.tensor(x0, requires_grad=True), theirs).backward()
    assert (weight.grad is None) == (theirs.grad is None)
    if theirs.grad is not None:
        np.testing.assert_allclose(weight.grad.numpy(), theirs.grad.numpy(), atol=1e-10)
