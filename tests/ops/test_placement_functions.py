"""index_copy, index_put, masked_scatter, the view scatters, fill_diagonal_, narrow_copy, take_along_dim,
as_strided and storage_offset against torch: errors, storage offsets, memory shared with the input, and the
gradients PyTorch gives where they aren't the derivative."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _same_error(call, torch) -> None:
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(gradscope)
    assert str(ours.value) == str(theirs.value)


def _grid(lib):
    return lib.arange(12.0).view(3, 4)


@pytest.mark.parametrize("call", [
    lambda lib: _grid(lib).index_copy(1, lib.tensor([0, 2]), lib.ones(3, 3)),
    lambda lib: _grid(lib).index_copy(1, lib.tensor([0, 5]), lib.ones(3, 2)),
    lambda lib: _grid(lib).index_copy(1, lib.tensor([0.0, 1.0]), lib.ones(3, 2)),
    lambda lib: _grid(lib).index_copy(1, lib.tensor([[0, 1]]), lib.ones(3, 2)),
    lambda lib: _grid(lib).index_copy(1, lib.tensor([0, 2]), lib.ones(3, 2, dtype=lib.float64)),
    lambda lib: _grid(lib).index_put((lib.tensor([5]),), lib.tensor(1.0)),
    lambda lib: _grid(lib).index_put((lib.tensor([0, 2]),), lib.ones(3)),
    lambda lib: _grid(lib).index_put((lib.tensor([0, 2]),), lib.tensor(1)),
    lambda lib: _grid(lib).masked_scatter(_grid(lib) > 5, lib.arange(100.0, 102.0)),
    lambda lib: _grid(lib).masked_scatter(_grid(lib) > 5, lib.arange(100, 112)),
    lambda lib: _grid(lib).masked_scatter((_grid(lib) > 5).int(), lib.arange(100.0, 112.0)),
    lambda lib: lib.select_scatter(_grid(lib), lib.ones(3), 1, 4),
    lambda lib: lib.select_scatter(_grid(lib), lib.ones(4), 1, 0),
    lambda lib: lib.slice_scatter(_grid(lib), lib.ones(3, 3), 1, 0, 4, 2),
    lambda lib: lib.diagonal_scatter(_grid(lib), lib.ones(2)),
    lambda lib: lib.zeros(2, 3, 2).fill_diagonal_(5),
    lambda lib: lib.zeros(3).fill_diagonal_(5),
    lambda lib: _grid(lib).narrow_copy(1, 3, 2),
    lambda lib: lib.take_along_dim(_grid(lib), lib.tensor([[0.0]]), dim=1),
    lambda lib: lib.take_along_dim(_grid(lib), lib.tensor([0]), dim=1),
    lambda lib: _grid(lib).as_strided((2, 2), (1, 2), 11),
    lambda lib: _grid(lib).as_strided((2, 2), (1, 2), -1),
    lambda lib: _grid(lib).as_strided((2,), (1, -2), 1),
    lambda lib: _grid(lib).as_strided((2,), (-1,), 1),
    lambda lib: _grid(lib).index_reduce(0, lib.tensor([0, 0]), _grid(lib)[:2], "sum"),
    lambda lib: _grid(lib).index_reduce(0, lib.tensor([0, 5]), _grid(lib)[:2], "prod"),
])
def test_errors_match_torch(torch, call):
    _same_error(call, torch)


@pytest.mark.parametrize("call", [
    lambda lib: _grid(lib)[1:].storage_offset(),
    lambda lib: _grid(lib)[1:].t()[2:].storage_offset(),
    lambda lib: _grid(lib)[1:].detach().storage_offset(),
    lambda lib: _grid(lib)[1:].clone().storage_offset(),
    lambda lib: _grid(lib)[:, 1].expand(2, 3).storage_offset(),
    lambda lib: _grid(lib)[1:].as_strided((2, 2), (1, 2)).tolist(),
    lambda lib: _grid(lib)[2:].as_strided((3,), (1,), 0).tolist(),
    lambda lib: lib.zeros(7, 3).fill_diagonal_(5, wrap=True).tolist(),
    lambda lib: lib.zeros(2, 2, 2).fill_diagonal_(5).tolist(),
    lambda lib: _grid(lib).t().contiguous().t().fill_diagonal_(-1).tolist(),
    lambda lib: _grid(lib).index_copy(0, lib.tensor([0, 0]), lib.arange(8.0).view(2, 4)).tolist(),
    lambda lib: _grid(lib).index_put([_grid(lib) > 5], lib.tensor(-1.0)).tolist(),
])
def test_values_match_torch(torch, call):
    assert call(gradscope) == call(torch)


def test_as_strided_is_a_view_of_the_storage():
    x = gradscope.arange(12.0).view(3, 4).clone()
    window = x[1:].as_strided((2, 2), (1, 4), 1)
    window.mul_(10)
    assert x[:2, 1:3].tolist() == [[10.0, 20.0], [50.0, 60.0]]
    assert window._base is x and window._version == x._version == 1


def test_as_strided_refuses_storage_it_cannot_model():
    """Memory owned by a strided array (here over a bytearray) has no flat storage to lay a view on."""
    strided = gradscope.from_numpy(np.ndarray((3,), dtype=np.float64, buffer=bytearray(48), strides=(16,)))
    with pytest.raises(NotImplementedError, match="as_strided needs the tensor's storage in one contiguous block"):
        strided.as_strided((2,), (1,))


def test_gradients_torch_gives_that_are_not_the_derivative(torch):
    """A repeated index_copy target passes the gradient to every source slice; narrow_copy with a negative
    start slices its gradient at the start as given (empty here: zero)."""
    def grads(lib):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        s = lib.tensor([[7.0, 8.0, 9.0], [1.0, 1.0, 1.0]], requires_grad=True)
        (x.index_copy(0, lib.tensor([1, 1]), s) * lib.arange(6.0).view(2, 3)).sum().backward()
        y = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y.narrow_copy(0, -1, 1).sum().backward()
        return x.grad.tolist(), s.grad.tolist(), y.grad.tolist()

    assert grads(gradscope) == grads(torch)


def test_index_reduce_warns_at_most_once_that_it_is_beta():
    """As PyTorch's TORCH_WARN_ONCE (an earlier test may have had the one warning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            gradscope.ones(2).index_reduce(0, gradscope.tensor([0]), gradscope.ones(1), "amax")
    messages = [str(w.message) for w in caught]
    assert messages.count("index_reduce() is in beta and the API may change at any time.") <= 1


def test_as_strided_scatter_gradients_are_torchs(torch):
    """PyTorch's as_strided_scatter_backward gives self the gradient where src was written, not elsewhere."""
    def grads(lib):
        x = lib.zeros(2, 3, requires_grad=True)
        s = lib.zeros(2, 2, requires_grad=True)
        (lib.as_strided_scatter(x, s, (2, 2), (1, 2), 1) * lib.arange(1.0, 7.0).view(2, 3)).sum().backward()
        return x.grad.tolist(), s.grad.tolist()

    assert grads(gradscope) == grads(torch)


def test_nodes_save_what_torchs_do(torch):
    def nodes(lib):
        x = lib.arange(12.0).view(3, 4).requires_grad_()
        return [x.as_strided((2, 2), (1, 2), 1).grad_fn, x.narrow_copy(1, 1, 2).grad_fn,
                lib.slice_scatter(x, x[:, :2], 1, 0, 2).grad_fn, lib.select_scatter(x, x[0], 0, 1).grad_fn,
                lib.diagonal_scatter(x, x[0, :3], 1).grad_fn, (x * 1).fill_diagonal_(2.0).grad_fn]

    for mine, reference in zip(nodes(gradscope), nodes(torch), strict=True):
        assert mine.name() == reference.name()
        for name in dir(reference):
            if name.startswith("_saved_") and not name.endswith(("index", "indices", "mask")):
                assert getattr(mine, name) == getattr(reference, name), (reference.name(), name)
