"""gather, scatter and index_select check their index as PyTorch does (dtype, rank, sizes, bounds) and raise its
errors, not NumPy's; int32 indices work."""

from __future__ import annotations

import pytest

import gradscope


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _grid(lib):
    return lib.arange(12.0).view(3, 4)


@pytest.mark.parametrize("call", [
    lambda lib: _grid(lib).gather(1, lib.tensor([[0], [4], [1]])),
    lambda lib: _grid(lib).gather(1, lib.tensor([[-1]])),
    lambda lib: _grid(lib).gather(1, lib.tensor([[0.0]])),
    lambda lib: _grid(lib).gather(1, lib.tensor([0])),
    lambda lib: _grid(lib).gather(1, lib.tensor([[0, 1]] * 4)),
    lambda lib: lib.arange(4.0).gather(0, lib.tensor([[1]])),
    lambda lib: _grid(lib).scatter(1, lib.tensor([[4]]), 1.0),
    lambda lib: _grid(lib).scatter(1, lib.tensor([[-1]]), 1.0),
    lambda lib: _grid(lib).scatter(1, lib.tensor([[0.0]]), 1.0),
    lambda lib: _grid(lib).scatter(1, lib.tensor([[0, 1]] * 4), 1.0),
    lambda lib: _grid(lib).scatter_add(1, lib.tensor([[5]]), _grid(lib)),
    lambda lib: _grid(lib).index_select(1, lib.tensor([[0]])),
    lambda lib: _grid(lib).index_select(1, lib.tensor([0.0])),
    lambda lib: _grid(lib).index_select(1, lib.tensor([4])),
    lambda lib: _grid(lib).index_select(1, lib.tensor([1, -1])),
    lambda lib: lib.arange(4.0).index_select(0, lib.tensor([4])),
])
def test_errors_match_torch(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(gradscope)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("call", [
    lambda lib: _grid(lib).gather(1, lib.tensor([[0], [3], [1]], dtype=lib.int32)),
    lambda lib: lib.tensor(2.0).gather(0, lib.tensor(0)),
    lambda lib: lib.tensor(2.0).gather(0, lib.tensor([0])),
    lambda lib: _grid(lib).index_select(1, lib.tensor([0, 3], dtype=lib.int32)),
    lambda lib: _grid(lib).index_select(1, lib.tensor(1)),
    lambda lib: _grid(lib).scatter(0, lib.tensor([[2, 0]], dtype=lib.int32), -1.0),
])
def test_values_match_torch(torch, call):
    assert call(gradscope).tolist() == call(torch).tolist()
