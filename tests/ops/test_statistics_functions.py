"""kthvalue, mode, nanmedian, quantile, aminmax, cov and the counting functions against torch: the indices
PyTorch's kernels pick among ties, values and dtypes of the functions without a gradient, and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _same(ours, theirs) -> None:
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs, strict=True):
            _same(mine, reference)
        return
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def _same_error(call, torch) -> None:
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(gradscope)
    assert str(ours.value) == str(theirs.value)


def _tied(seed: int) -> np.ndarray:
    """Rows of small integers, some with nans: many ties, so the kernels' choice of index shows."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, (4, int(rng.integers(1, 40)))).astype(np.float64)
    if seed % 3 == 0:
        a[rng.random(a.shape) < 0.25] = np.nan
    if seed % 5 == 0:
        a[1] = np.nan
    return a


@pytest.mark.parametrize("seed", range(40))
def test_indices_among_ties_are_torchs(torch, seed):
    a = _tied(seed)
    for call in (lambda lib, t: t.kthvalue(1 + seed % t.shape[1], 1),
                 lambda lib, t: t.mode(1),
                 lambda lib, t: t.nanmedian(1),
                 lambda lib, t: t.median(1),
                 lambda lib, t: lib.nanmedian(t.t(), 0, keepdim=True)):
        _same(tuple(call(gradscope, gradscope.tensor(a))), tuple(call(torch, torch.tensor(a))))
    np.testing.assert_array_equal(gradscope.tensor(a).nanmedian().numpy(), torch.tensor(a).nanmedian().numpy())


@pytest.mark.parametrize("call", [
    lambda lib: lib.count_nonzero(lib.tensor([[0.0, 1.0], [2.0, 0.0]])),
    lambda lib: lib.tensor([[0, 1, 3], [2, 0, 0]]).count_nonzero(dim=(0, -1)),
    lambda lib: lib.count_nonzero(lib.tensor([[0, 1, 3], [2, 0, 0]]), 1),
    lambda lib: lib.argwhere(lib.tensor([[0.0, 1.0], [2.0, 0.0]])),
    lambda lib: lib.tensor(3.0).argwhere(),
    lambda lib: lib.histc(lib.tensor([1.0, 3.0, 3.0, 2.0, 5.0]), bins=4),
    lambda lib: lib.tensor([0.1, 0.2, 0.3, 0.4], dtype=lib.float64).histc(3, min=0.1, max=0.4),
    lambda lib: lib.histc(lib.tensor([2.0, 2.0]), bins=4),
    lambda lib: lib.bincount(lib.tensor([1, 1, 3])),
    lambda lib: lib.tensor([1, 1, 3]).bincount(minlength=6),
    lambda lib: lib.bincount(lib.tensor([1, 1, 3]), lib.tensor([0.5, 0.5, 1.0])),
    lambda lib: lib.bincount(lib.tensor([1, 0]), lib.tensor([2, 3])),
    lambda lib: lib.bincount(lib.tensor([], dtype=lib.int64)),
    lambda lib: lib.bucketize(lib.tensor([1, 5, 9]), lib.tensor([1, 3, 5, 7])),
    lambda lib: lib.bucketize(lib.tensor([[1.0, 5.0]]), lib.tensor([1.0, 3.0]), right=True, out_int32=True),
    lambda lib: lib.bucketize(3, lib.tensor([1, 3, 5, 7])),
    lambda lib: lib.isin(lib.tensor([1, 2, 3]), lib.tensor([2, 5])),
    lambda lib: lib.isin(lib.tensor([1.0, 2.0, float("nan")]), lib.tensor([2.0, float("nan")]), invert=True),
    lambda lib: lib.isin(2, lib.tensor([2, 5])),
    lambda lib: lib.unique_consecutive(lib.tensor([1, 1, 2, 2, 3, 1, 1]), return_inverse=True, return_counts=True),
    lambda lib: lib.tensor([[1, 1], [1, 1], [2, 3]]).unique_consecutive(dim=0, return_counts=True),
    lambda lib: lib.tensor([[1, 2], [1, 1], [1, 1]]).unique_consecutive(return_inverse=True, dim=1),
    lambda lib: lib.quantile(lib.tensor([[1.0, float("nan"), 2.0], [3.0, 4.0, 5.0]]), 0.5, dim=1),
    lambda lib: lib.nanquantile(lib.tensor([[float("nan")] * 3, [3.0, 4.0, float("nan")]]), 0.25, dim=1),
    lambda lib: lib.quantile(lib.tensor([0.0, 1.0, 2.0, 3.0]), lib.tensor([0.5, 1 / 6, 0.5 / 3]),
                             interpolation="nearest"),
    lambda lib: lib.cov(lib.tensor([1, 2, 4])),
    lambda lib: lib.corrcoef(lib.tensor([[1, 2, 4], [2, 2, 1]])),
    lambda lib: lib.aminmax(lib.tensor([[1, 7], [3, 2]]), dim=0),
    lambda lib: tuple(lib.histogram(lib.arange(12.0).view(3, 4), 3)),
    lambda lib: tuple(lib.histogram(lib.arange(12.0, dtype=lib.float64), lib.tensor([0.0, 5.0, 12.0],
                                                                                   dtype=lib.float64))),
    lambda lib: tuple(lib.arange(12.0).histogram(3, range=(1.0, 4.0), density=True)),
    lambda lib: tuple(lib.histogram(lib.arange(6.0), 3, weight=lib.arange(6.0))),
    lambda lib: tuple(lib.histogram(lib.tensor([2.0, 2.0]), 4)),
    lambda lib: lib.tensor([[0, 1], [2, 0]]).nonzero_static(size=4),
    lambda lib: lib.nonzero_static(lib.tensor([0.0, 1.0, 2.0]), size=1, fill_value=7),
])
def test_values_and_dtypes_match_torch(torch, call):
    _same(call(gradscope), call(torch))


@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, 3).kthvalue(4),
    lambda lib: lib.ones(2, 3).kthvalue(0, 0),
    lambda lib: lib.ones(2, 3).kthvalue(1, 2),
    lambda lib: lib.ones(2, 0).mode(),
    lambda lib: lib.tensor([1, 2, 3]).quantile(0.5),
    lambda lib: lib.ones(3).quantile(1.5),
    lambda lib: lib.ones(3).quantile(0.5, interpolation="cubic"),
    lambda lib: lib.ones(3).quantile(lib.tensor([[0.5]])),
    lambda lib: lib.ones(3).quantile(lib.tensor([0.5, 2.0])),
    lambda lib: lib.ones(3).quantile(lib.tensor([0.5], dtype=lib.float64)),
    lambda lib: lib.ones(3).nanquantile(-0.1),
    lambda lib: lib.aminmax(lib.ones(0)),
    lambda lib: lib.ones(2, 2).count_nonzero((0, 0)),
    lambda lib: lib.cov(lib.ones(2, 2, 2)),
    lambda lib: lib.cov(lib.tensor([True, False])),
    lambda lib: lib.cov(lib.ones(2, 4), fweights=lib.ones(4)),
    lambda lib: lib.cov(lib.ones(2, 4), fweights=lib.tensor([1, -2, 1, 1])),
    lambda lib: lib.cov(lib.ones(2, 4), aweights=lib.ones(3)),
    lambda lib: lib.cov(lib.ones(2, 4), aweights=lib.tensor([1, 2, 1, 1])),
    lambda lib: lib.corrcoef(lib.ones(2, 2, 2)),
    lambda lib: lib.histc(lib.tensor([1, 2]), bins=4),
    lambda lib: lib.histc(lib.ones(2), bins=0),
    lambda lib: lib.histc(lib.ones(2), bins=4, min=3, max=1),
    lambda lib: lib.bincount(lib.tensor([-1, 1])),
    lambda lib: lib.bincount(lib.tensor([[1]])),
    lambda lib: lib.bincount(lib.tensor([1.0])),
    lambda lib: lib.bucketize(lib.tensor([1.0]), lib.tensor([[1.0, 3.0]])),
])
def test_errors_match_torch(torch, call):
    _same_error(call, torch)


def test_aminmax_result_has_min_and_max():
    result = gradscope.aminmax(gradscope.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1)
    assert result.min.tolist() == [1.0, 2.0] and result.max.tolist() == [5.0, 3.0]
    assert repr(result).startswith("torch.return_types.aminmax(\nmin=tensor([1., 2.]),\nmax=tensor([5., 3.]))")


def test_nodes_save_what_torchs_do(torch):
    def nodes(lib):
        x = lib.tensor([[1.0, 3.0, 2.0], [5.0, 4.0, 6.0]], requires_grad=True)
        return x, [x.kthvalue(2, 1)[0].grad_fn, x.mode(0, True)[0].grad_fn, lib.aminmax(x, dim=1).max.grad_fn,
                   lib.aminmax(x).min.grad_fn]

    x, ours = nodes(gradscope)
    _, theirs = nodes(torch)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.name() == reference.name()
        for name in ("_saved_dim", "_saved_keepdim", "_saved_self_sym_sizes"):
            if hasattr(reference, name):
                assert getattr(mine, name) == getattr(reference, name), (reference.name(), name)
    assert ours[2]._saved_self is x and ours[2]._saved_max.tolist() == [3.0, 6.0]
    np.testing.assert_array_equal(ours[0]._saved_indices.numpy(), theirs[0]._saved_indices.numpy())


def test_unique_consecutive_refuses_backward():
    x = gradscope.tensor([1.0, 1.0, 2.0], requires_grad=True)
    out = gradscope.unique_consecutive(x)
    assert out.grad_fn.name() == "UniqueConsecutiveBackward0"
    with pytest.raises(NotImplementedError, match="the derivative for 'unique_consecutive' is not implemented"):
        out.sum().backward()


def test_cov_without_degrees_of_freedom_warns_as_torch(torch):
    messages = []
    for lib in (gradscope, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = lib.cov(lib.tensor([[1.0, 2.0], [0.0, 3.0]]), correction=2)
        messages.append(str(caught[0].message).split(" (Triggered")[0])
        assert value[0, 0].item() == float("inf")
    assert messages[0] == messages[1]
