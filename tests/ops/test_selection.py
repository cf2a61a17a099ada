"""Which of several equal elements topk returns, and in what order (sorted or not), is PyTorch's CPU
answer; unique(sorted=False) orders as PyTorch 2.13 does on CPU, every nan its own value."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _tied_rows(rng, rows: int, n: int) -> np.ndarray:
    """Few distinct values (many ties), sometimes nans and infinities among them."""
    values = rng.integers(0, int(rng.choice([2, 3, 5, 40])), size=(rows, n)).astype(np.float64)
    if rng.random() < 0.3:
        values[rng.random(values.shape) < 0.2] = np.nan
    if rng.random() < 0.2:
        values[rng.random(values.shape) < 0.1] = -np.inf
    return values


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 16, 17, 40, 64, 65, 129, 300, 1000])
def test_topk_picks_and_orders_ties_as_torch(torch, n):
    """Small k (k·64 ≤ n) takes PyTorch's partial-sort path, the rest its nth_element path."""
    rng = np.random.default_rng(n)
    for _ in range(40):
        values = _tied_rows(rng, 3, n)
        k = int(rng.integers(0, n + 1)) if rng.random() < 0.5 else int(rng.integers(0, min(n, 3) + 1))
        largest, ordered = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
        dtype = rng.choice(["float64", "float32", "int64"])
        array = np.nan_to_num(values, posinf=9, neginf=-9).astype(dtype) if dtype == "int64" else values.astype(dtype)
        theirs = torch.topk(torch.from_numpy(array), k, largest=largest, sorted=ordered)
        ours = gradscope.topk(gradscope.from_numpy(array), k, largest=largest, sorted=ordered)
        case = f"{array.tolist()} k={k} largest={largest} sorted={ordered}"
        assert ours.indices.tolist() == theirs.indices.tolist(), case
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy(), err_msg=case)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_topk_along_any_dim_and_its_gradient(torch, dim):
    values = np.random.default_rng(7).integers(0, 3, size=(4, 5, 6)).astype(np.float64)
    x, t = gradscope.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ours, theirs = x.topk(3, dim=dim, sorted=False), t.topk(3, dim=dim, sorted=False)
    assert ours.indices.tolist() == theirs.indices.tolist()
    weights = np.arange(ours.values.numel(), dtype=np.float64).reshape(tuple(ours.values.shape))
    (ours.values * gradscope.tensor(weights)).sum().backward()
    (theirs.values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    assert ours.values.grad_fn.name() == theirs.values.grad_fn.name() == "TopkBackward0"


def test_unique_unsorted_orders_as_torch_and_keeps_nans_apart(torch):
    rng = np.random.default_rng(3)
    cases = [np.array([3, 1, 2, 3, 7, 1, 0, 5, -4, 100, 2]),
             np.array([np.nan, 1.0, np.nan, -0.0, 0.0, np.inf, -np.inf]),
             np.array([True, False, True])]
    cases += [rng.integers(0, 50, size=n).astype(dtype) for n in (0, 1, 40, 5000) for dtype in ("int64", "float32")]
    for values in cases:
        for ordered in (False, True):
            ours = gradscope.unique(gradscope.from_numpy(values), sorted=ordered, return_inverse=True,
                                    return_counts=True)
            theirs = torch.unique(torch.from_numpy(values), sorted=ordered, return_inverse=True, return_counts=True)
            for mine, reference in zip(ours, theirs, strict=True):
                np.testing.assert_array_equal(mine.numpy(), reference.numpy(), err_msg=str(values))
                assert str(mine.dtype) == str(reference.dtype)


def test_unique_along_a_dim_unsorted_as_torch(torch):
    values = np.array([[1, 2], [0, 1], [1, 2], [0, 0]])
    for dim in (0, 1):
        ours = gradscope.unique(gradscope.tensor(values), sorted=False, dim=dim, return_inverse=True,
                                return_counts=True)
        theirs = torch.unique(torch.tensor(values), sorted=False, dim=dim, return_inverse=True, return_counts=True)
        for mine, reference in zip(ours, theirs, strict=True):
            assert mine.tolist() == reference.tolist()
