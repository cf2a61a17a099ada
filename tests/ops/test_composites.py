"""tensor_split … renorm, the index makers, logspace and range against torch: values and dtypes of the
functions without a gradient, errors, warnings, and what the one-node ops save."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _same(ours, theirs) -> None:
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs, strict=True):
            _same(mine, reference)
        return
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def _same_error(call, torch) -> None:
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(gradscope)
    assert str(ours.value) == str(theirs.value)


def _grid(lib):
    return lib.arange(12.0).view(3, 4)


@pytest.mark.parametrize("call", [
    lambda lib: lib.tril_indices(3, 4),
    lambda lib: lib.tril_indices(3, 4, 1),
    lambda lib: lib.triu_indices(3, 4, -1),
    lambda lib: lib.triu_indices(3, 3, dtype=lib.int32),
    lambda lib: lib.unravel_index(lib.tensor([5, 7, 12, -1]), (3, 4)),
    lambda lib: lib.unravel_index(lib.tensor(5), (3, 4)),
    lambda lib: lib.logspace(0, 2, 3),
    lambda lib: lib.logspace(-1, 2, 5, base=2, dtype=lib.float64),
    lambda lib: lib.logspace(0, 2, 3, dtype=lib.int64),
    lambda lib: lib.vander(lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: lib.vander(lib.tensor([1.0, 2.0, 3.0]), N=2, increasing=True),
    lambda lib: lib.vander(lib.tensor([1, 2])),
    lambda lib: lib.vander(lib.tensor([1.0, 2.0]), N=0),
    lambda lib: lib.block_diag(),
    lambda lib: lib.block_diag(lib.tensor([1, 2]), lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: lib.combinations(lib.tensor([1.0, 2.0, 3.0]), r=0),
    lambda lib: lib.combinations(lib.tensor([1.0, 2.0, 3.0]), r=4),
    lambda lib: _grid(lib).tensor_split([3, 1], dim=1),
    lambda lib: lib.tensor_split(_grid(lib), lib.tensor(3), dim=1),
    lambda lib: lib.trapezoid(lib.tensor([1, 2, 3])),
    lambda lib: lib.trapezoid(lib.zeros(2, 0)),
    lambda lib: lib.cumulative_trapezoid(lib.zeros(2, 0)),
    lambda lib: lib.inner(lib.tensor([1.0, 2.0]), lib.tensor(2.0)),
    lambda lib: _grid(lib).renorm(float("inf"), 0, 5),
    lambda lib: lib.nan_to_num_(lib.tensor([float("nan"), float("inf")])),
    lambda lib: lib.gradient(lib.tensor([1, 2, 4])),
    lambda lib: lib.gradient(_grid(lib) ** 2, spacing=[lib.tensor([0.0, 1.0, 3.0]), lib.tensor([0.0, 1.0, 2.0, 4.0])],
                             edge_order=2),
    lambda lib: lib.gradient(_grid(lib), dim=(0,)),
    lambda lib: lib.unsafe_chunk(_grid(lib), 3, 1),
])
def test_values_and_dtypes_match_torch(torch, call):
    _same(call(gradscope), call(torch))


@pytest.mark.parametrize("call", [
    lambda lib: _grid(lib).tensor_split(0, dim=1),
    lambda lib: lib.tensor_split(_grid(lib), lib.tensor([[1]])),
    lambda lib: lib.tensor_split(_grid(lib), lib.tensor([1.0])),
    lambda lib: lib.tensor_split(lib.tensor(1.0), 1),
    lambda lib: _grid(lib).hsplit(3),
    lambda lib: _grid(lib).hsplit(0),
    lambda lib: lib.hsplit(lib.tensor(1.0), 1),
    lambda lib: lib.arange(4.0).vsplit(2),
    lambda lib: _grid(lib).dsplit(2),
    lambda lib: _grid(lib).split_with_sizes([1, 3]),
    lambda lib: _grid(lib).unflatten(1, (3, -1)),
    lambda lib: _grid(lib).unflatten(1, ()),
    lambda lib: lib.block_diag(lib.zeros(2, 2, 2)),
    lambda lib: lib.combinations(_grid(lib)),
    lambda lib: lib.vander(_grid(lib)),
    lambda lib: lib.vander(lib.ones(3), N=-1),
    lambda lib: lib.unravel_index(lib.tensor([1.0]), (3, 4)),
    lambda lib: lib.trapezoid(_grid(lib), lib.tensor([0.0, 1.0, 3.0])),
    lambda lib: lib.inner(_grid(lib), lib.ones(3)),
    lambda lib: lib.vdot(lib.ones(3), _grid(lib)),
    lambda lib: lib.vdot(lib.ones(3), lib.tensor([1, 2, 3])),
    lambda lib: lib.vdot(lib.ones(3), lib.ones(4)),
    lambda lib: _grid(lib).renorm(-1, 0, 5),
    lambda lib: _grid(lib).renorm(2, 0, -5),
    lambda lib: lib.tensor([1.0, 2.0]).renorm(2, 0, 5),
    lambda lib: lib.gradient(_grid(lib), edge_order=3),
    lambda lib: lib.gradient(_grid(lib)[:, :2], edge_order=2),
    lambda lib: lib.gradient(_grid(lib), spacing=[1.0, 2.0, 3.0]),
    lambda lib: lib.gradient(_grid(lib), spacing=[1.0, 2.0], dim=0),
])
def test_errors_match_torch(torch, call):
    _same_error(call, torch)


def test_range_is_inclusive_and_warns_as_torch(torch):
    for arguments, kwargs in (((0, 3), {}), ((0, 1, 0.25), {}), ((0, 3), {"dtype": "int64"}), ((1.5, -1, -0.5), {})):
        results, messages = [], []
        for lib in (gradscope, torch):
            options = {"dtype": getattr(lib, kwargs["dtype"])} if kwargs else {}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                results.append(lib.range(*arguments, **options))
            messages.append([str(w.message) for w in caught])
        _same(*results)
        assert messages[0] == messages[1]


def test_vander_refuses_backward_as_torch():
    """PyTorch's vander writes its cumprod's saved input in place: a backward through it raises."""
    x = gradscope.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        gradscope.vander(x).sum().backward()


def test_nodes_save_what_torchs_do(torch):
    def nodes(lib):
        x = lib.tensor([[1.0, 3.0, 2.0], [5.0, 4.0, 6.0]], requires_grad=True)
        v = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        return [x.renorm(2, 1, 1.5).grad_fn, lib.vdot(v, v).grad_fn, lib.block_diag(x, v).grad_fn,
                lib.trapezoid(x, dx=0.5).grad_fn, lib.cumulative_trapezoid(x, v).grad_fn]

    for mine, reference in zip(nodes(gradscope), nodes(torch), strict=True):
        assert mine.name() == reference.name()
        for name in dir(reference):
            if name.startswith("_saved_") and not isinstance(getattr(reference, name), torch.Tensor):
                assert getattr(mine, name) == getattr(reference, name), (reference.name(), name)
