"""index_add, index_copy, index_fill, put and take against PyTorch 2.13: their checks (in PyTorch's order and words:
index rank and dtype, self/source dtypes, counts, slice shapes, bounds by kernel path), their 0-dim cases, and the
tensors their nodes save (take and gather save self, index_add/index_copy/put the source when it needs a gradient),
so that one changed in place before the backward makes it refuse as PyTorch's does."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


CALLS = {
    "add": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0, 1]), T.ones(2, 3)),
    "add_dup_alpha": lambda T: T.zeros(4, 2).index_add(0, T.tensor([1, 1, 3]), T.arange(6.).view(3, 2), alpha=2.5),
    "add_long_alpha": lambda T: T.zeros(4, 2, dtype=T.long).index_add(0, T.tensor([1, 3]), T.ones(2, 2, dtype=T.long),
                                                                     alpha=3),
    "add_int32_index": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0, 1], dtype=T.int32), T.ones(2, 3)),
    "add_0d_index": lambda T: T.zeros(4, 3).index_add(0, T.tensor(1), T.ones(1, 3)),
    "add_dim1": lambda T: T.zeros(4, 3).index_add(-1, T.tensor([0, 2]), T.ones(4, 2)),
    "add_0d_both": lambda T: T.tensor(1.).index_add(0, T.tensor([0]), T.tensor(2.), alpha=3),
    "add_0d_source": lambda T: T.zeros(3).index_add(0, T.tensor([0]), T.tensor(1.)),
    "add_0d_self": lambda T: T.tensor(1.).index_add(0, T.tensor([0]), T.ones(1)),
    "add_2d_index": lambda T: T.zeros(4, 3).index_add(0, T.tensor([[0, 1]]), T.ones(2, 3)),
    "add_float_2d_index": lambda T: T.zeros(4, 3).index_add(1, T.tensor([[0.]]), T.ones(2, 2)),
    "add_float_index": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0., 1.]), T.ones(2, 3)),
    "add_uint8_index": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0], dtype=T.uint8), T.ones(1, 3)),
    "add_dtypes": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0, 1]), T.ones(2, 3, dtype=T.float64)),
    "add_count": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0, 1, 2]), T.ones(2, 3)),
    "add_shape": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0, 1]), T.ones(2, 4)),
    "add_ndim": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0, 1]), T.ones(2, 3, 1)),
    "add_out_of_bounds_dim0": lambda T: T.zeros(4, 3).index_add(0, T.tensor([1, 7, 9]), T.ones(3, 3)),
    "add_negative_dim0": lambda T: T.zeros(4, 3).index_add(0, T.tensor([0, -1]), T.ones(2, 3)),
    "add_out_of_bounds_last_dim": lambda T: T.zeros(4, 2, 3).index_add(2, T.tensor([5]), T.ones(4, 2, 1)),
    "add_out_of_bounds_middle_dim": lambda T: T.zeros(4, 2, 3).index_add(1, T.tensor([5]), T.ones(4, 1, 3)),
    "add_out_of_bounds_alpha": lambda T: T.zeros(4, 2).index_add(0, T.tensor([5]), T.ones(1, 2), alpha=2),
    "add_out_of_bounds_int32": lambda T: T.zeros(4, 2).index_add(0, T.tensor([5], dtype=T.int32), T.ones(1, 2)),
    "add_out_of_bounds_1d": lambda T: T.zeros(4).index_add(0, T.tensor([-1]), T.ones(1)),
    "add_out_of_bounds_0d": lambda T: T.tensor(0.).index_add(0, T.tensor([1]), T.tensor(1.)),
    "add_out_of_bounds_empty": lambda T: T.zeros(4, 0).index_add(0, T.tensor([5]), T.ones(1, 0)),
    "add_in_place": lambda T: T.zeros(4, 2).index_add_(0, T.tensor([5]), T.ones(1, 2)),
    "copy_slices": lambda T: T.zeros(4, 3, 2).index_copy(1, T.tensor([0, 1]), T.ones(4, 2, 5)),
    "copy_count_and_slices": lambda T: T.zeros(4, 3, 2).index_copy(1, T.tensor([0, 1, 2]), T.ones(3, 2, 5)),
    "copy_0d_source_into_3d": lambda T: T.zeros(4, 3, 2).index_copy(1, T.tensor([0]), T.tensor(1.)),
    "copy_0d_source_two_indices": lambda T: T.zeros(3).index_copy(0, T.tensor([0, 1]), T.tensor(1.)),
    "copy_0d_source_into_1d": lambda T: T.zeros(1).index_copy(0, T.tensor([0]), T.tensor(1.)),
    "copy_1d_source_into_0d": lambda T: T.tensor(0.).index_copy(0, T.tensor([0]), T.ones(1)),
    "copy_ndim": lambda T: T.zeros(4, 3).index_copy(0, T.tensor([0, 1]), T.ones(2, 3, 1)),
    "copy_count": lambda T: T.zeros(4, 3).index_copy(0, T.tensor([0, 1, 2]), T.ones(2, 3)),
    "fill_2d_index": lambda T: T.zeros(4, 3).index_fill(0, T.tensor([[0]]), 1.),
    "fill_2d_float_index": lambda T: T.zeros(4, 3).index_fill(0, T.tensor([[1.]]), 1.),
    "fill_int32_index": lambda T: T.zeros(4, 3).index_fill(0, T.tensor([1], dtype=T.int32), 1.),
    "fill_1d_value_first": lambda T: T.zeros(4, 3).index_fill(0, T.tensor([1.]), T.tensor([1., 2.])),
    "fill_out_of_bounds": lambda T: T.zeros(4, 3).index_fill(1, T.tensor([3]), 1.),
    "fill_negative_out_of_bounds": lambda T: T.zeros(4, 3).index_fill(0, T.tensor([-5]), 1.),
    "fill_negative": lambda T: T.zeros(4, 3).index_fill(0, T.tensor([-1]), 1.),
    "fill_0d": lambda T: T.tensor(0.).index_fill(0, T.tensor([0]), 1.),
    "fill_0d_out_of_bounds": lambda T: T.tensor(0.).index_fill(0, T.tensor([1]), 1.),
    "fill_0d_tensor_value": lambda T: T.tensor(0.).index_fill(0, T.tensor([0]), T.tensor(2.)),
    "put_dtypes": lambda T: T.zeros(4, 3).put(T.tensor([0, 1]), T.ones(2, dtype=T.float64)),
    "put_float_index": lambda T: T.zeros(4, 3).put(T.tensor([0., 1.]), T.ones(2)),
    "put_int32_index": lambda T: T.zeros(4, 3).put(T.tensor([1], dtype=T.int32), T.ones(1)),
    "put_out_of_bounds": lambda T: T.zeros(4, 3).put(T.tensor([12]), T.ones(1)),
    "take_float_index": lambda T: T.zeros(4, 3).take(T.tensor([0., 1.])),
    "take_int32_index": lambda T: T.zeros(4, 3).take(T.tensor([1], dtype=T.int32)),
}


@pytest.mark.parametrize("name", CALLS)
def test_checks_and_values_match_torch(torch, name):
    call = CALLS[name]
    try:
        theirs = call(torch)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        with pytest.raises(type(error)) as ours:
            call(gradscope)
        assert str(ours.value) == str(error)
        return
    ours = call(gradscope)
    assert ours.shape == theirs.shape
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# each op with a differentiable self and source (s), then one of them changed in place before the backward
OPS = {
    "index_copy": lambda x, s, i: x.index_copy(0, i, s),
    "index_copy_": lambda x, s, i: x.clone().index_copy_(0, i, s),
    "index_add": lambda x, s, i: x.index_add(0, i, s, alpha=2),
    "index_add_0d": lambda x, s, i: x[0, 0].index_add(0, i[:1], s[0, 0]),
    "put": lambda x, s, i: x.put(i, s[0, :2]),
    "put_accumulate": lambda x, s, i: x.put(i, s[0, :2], accumulate=True),
    "put_": lambda x, s, i: x.clone().put_(i, s[0, :2]),
    "take": lambda x, s, i: x.take(i) * s[0, :2],
    "gather": lambda x, s, i: x.gather(0, i[:, None].expand(2, 3)) * s,
    "index_fill_0d": lambda x, s, i: x[0, 0].index_fill(0, i[:1], s[0, 0]),
}


@pytest.mark.parametrize("changed", [None, "source", "self"])
@pytest.mark.parametrize("name", OPS)
def test_saved_tensors_changed_in_place(torch, name, changed):
    outcomes = []
    for lib in (torch, gradscope):
        x = lib.tensor(np.arange(15.).reshape(5, 3) / 7, requires_grad=True)
        s0 = lib.tensor(np.arange(6.).reshape(2, 3) - 2.5, requires_grad=True)
        x1, s = x * 1, s0 * 1
        try:
            y = OPS[name](x1, s, lib.tensor([0, 2]))
            if changed == "source":
                s.mul_(2)
            elif changed == "self":
                x1.mul_(2)
            (y * lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
            outcomes.append((x.grad.tolist(), None if s0.grad is None else s0.grad.tolist()))
        except RuntimeError as error:
            outcomes.append(str(error))
    assert outcomes[1] == outcomes[0]


NODES = {
    "index_copy": lambda T, x, s: x.index_copy(0, T.tensor([0, 2]), s),
    "index_copy_source_only": lambda T, x, s: T.zeros(5, 3).index_copy(0, T.tensor([0, 2]), s),
    "index_copy_self_only": lambda T, x, s: x.index_copy(0, T.tensor([0, 2]), T.ones(2, 3)),
    "index_add": lambda T, x, s: x.index_add(0, T.tensor([0, 2]), s, alpha=2),
    "index_add_self_only": lambda T, x, s: x.index_add(0, T.tensor([0, 2]), T.ones(2, 3)),
    "put": lambda T, x, s: x.put(T.tensor([0, 2]), s[0, :2]),
    "put_self_only": lambda T, x, s: x.put(T.tensor([0, 2]), T.ones(2), accumulate=True),
    "take": lambda T, x, s: x.take(T.tensor([0, 2])),
    "gather": lambda T, x, s: x.gather(0, T.tensor([[0, 2, 1]])),
    "gather_sparse": lambda T, x, s: x.gather(0, T.tensor([[0, 2, 1]]), sparse_grad=True),
}


def _shown(value, x, s):
    if value is x or value is s:
        return "x" if value is x else "s"
    return value.tolist() if hasattr(value, "tolist") else value


# only source's rule reads index_add's index: PyTorch's node saves it only when source needs a gradient (so there
# an index changed in place is no error); gradscope holds it always
KNOWN = {"index_add_self_only": "holds the index when only self needs a gradient; PyTorch's _saved_index is None"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN[name], strict=True))
                                  if name in KNOWN else name for name in NODES])
def test_node_saves_what_pytorchs_saves(torch, name):
    seen = []
    for lib in (torch, gradscope):
        x = lib.tensor(np.arange(15, dtype=np.float32).reshape(5, 3), requires_grad=True)
        s = lib.tensor(np.ones((2, 3), np.float32), requires_grad=True)
        node = NODES[name](lib, x, s).grad_fn
        names = sorted(name for name in dir(node) if name.startswith("_saved_"))
        seen.append((type(node).__name__, {name: _shown(getattr(node, name), x, s) for name in names}))
    assert seen[1] == seen[0]
