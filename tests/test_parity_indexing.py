"""Indexing with lists, nested lists and mixed items, against PyTorch 2.13.

PyTorch 2.13 still reads a short list holding a sequence, tensor, slice, None or Ellipsis as a tuple of
indices, with a deprecation warning (`x[[[0, 4], [2, 2]]]` is `x[[0, 4], [2, 2]]`), and applies integers,
slices and None before tensor indices (`x[0, :, [1, 2]]` is `x[0][:, [1, 2]]`). Random index expressions
over a 3-D tensor compare values, grad_fn names, gradients, warnings and errors.
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

import gradscope
from tests.conftest import normalize, reference_torch

WARNING = ("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; "
           "use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, "
           "x[torch.tensor(seq)], which will result either in an error or a different result")


def _run(lib, make_index, shape=(5, 4)):
    x = lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape).requires_grad_()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = x[make_index(lib)]
            out.sum().backward()
            result = (out.tolist(), out.grad_fn and out.grad_fn.name(), x.grad.tolist())
        except (IndexError, RuntimeError, TypeError, ValueError) as error:
            result = (type(error).__name__, str(error))
    return result, [normalize(str(w.message)) for w in caught]


def test_list_of_lists_is_read_as_a_tuple_with_a_warning():
    """x[[[0, 4], [2, 2]]] picked rows (a 2x2x4 result); PyTorch 2.13 picks x[0, 2] and x[4, 2], and warns."""
    for lib in filter(None, (gradscope, reference_torch())):
        (values, name, grad), seen = _run(lib, lambda lib: [[0, 4], [2, 2]])
        assert values == [2.0, 18.0] and name == "IndexBackward0" and seen == [WARNING], lib.__name__
        (values, _, _), seen = _run(lib, lambda lib: [slice(None), [2, 3]])
        assert values == [[2.0, 3.0], [6.0, 7.0], [10.0, 11.0], [14.0, 15.0], [18.0, 19.0]] and seen == [WARNING]
        (values, _, _), seen = _run(lib, lambda lib: [0, 1])
        assert values == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]] and seen == []


def test_assignment_reads_the_index_the_same_way():
    for lib in filter(None, (gradscope, reference_torch())):
        x = lib.zeros(5, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x[[[0, 4], [2, 2]]] = 1.0
            x[[slice(None), [3]]] = 2.0
        assert x.sum().item() == 2 * 1.0 + 5 * 2.0 and x[0, 2].item() == 1.0 and x[4, 3].item() == 2.0


def _random_item(rng, lib, size):
    kind = rng.choice(["int", "negative", "slice", "step", "none", "ellipsis", "list", "nested", "tensor",
                       "mask", "tuple", "empty"])
    if kind == "int":
        return rng.randrange(size)
    if kind == "negative":
        return -1 - rng.randrange(size)
    if kind == "slice":
        return slice(rng.randrange(size), None)
    if kind == "step":
        return slice(None, None, 2)
    if kind == "none":
        return None
    if kind == "ellipsis":
        return Ellipsis
    if kind == "list":
        return [rng.randrange(size) for _ in range(rng.randint(1, 3))]
    if kind == "nested":
        return [[rng.randrange(size) for _ in range(2)] for _ in range(2)]
    if kind == "tensor":
        return lib.tensor([rng.randrange(size) for _ in range(2)])
    if kind == "mask":
        return lib.tensor([rng.random() < 0.5 for _ in range(size)])
    if kind == "tuple":
        return tuple(rng.randrange(size) for _ in range(2))
    return []


def _random_index(seed):
    def make(lib):
        rng = random.Random(seed)
        sizes = (3, 4, 5)
        items = [_random_item(rng, lib, sizes[i % 3]) for i in range(rng.randint(1, 3))]
        if sum(item is Ellipsis for item in items) > 1:
            items = [item for item in items if item is not Ellipsis]
        return items if rng.random() < 0.6 else tuple(items)  # lists exercise PyTorch's legacy reading
    return make


@pytest.mark.parametrize("seed", range(150))
def test_random_index_expressions_match_torch(seed):
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    assert _run(gradscope, _random_index(seed), (3, 4, 5)) == _run(torch, _random_index(seed), (3, 4, 5))


def _assign(lib, make_index, shape, value_shape):
    x = lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape).requires_grad_()
    v = lib.full(value_shape, -1.0, dtype=lib.float64, requires_grad=True) if value_shape is not None else -1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            y = x * 1
            y[make_index(lib)] = v * 2
            (y * lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape)).sum().backward()
            result = (y.tolist(), y.grad_fn.name(), x.grad.tolist(), None if value_shape is None or v.grad is None
                      else v.grad.tolist())
        except (IndexError, RuntimeError, TypeError, ValueError) as error:
            result = (type(error).__name__, str(error))
    return result, [normalize(str(w.message)) for w in caught]


FIXED = {  # the forms user code writes most, each with its own path in PyTorch's setitem
    "int": lambda lib: 1, "negative_int": lambda lib: -1, "ints": lambda lib: (1, 2),
    "slice": lambda lib: slice(1, None), "full_slice": lambda lib: slice(None), "ellipsis": lambda lib: Ellipsis,
    "none": lambda lib: None,
    "true": lambda lib: True, "false": lambda lib: False, "int_and_list": lambda lib: (0, [1, 2]),
    "list_of_lists": lambda lib: [[0, 1], [1, 2]], "mask": lambda lib: lib.tensor([True, False, True]),
    "int_slice_list": lambda lib: (1, slice(None), [0, 4]),
    # a range is a sequence of indices (the nn tutorial's `input[range(target.shape[0]), target]`)
    "range": lambda lib: range(1, 3), "empty_range": lambda lib: range(0), "negative_range": lambda lib: range(-2, 0),
    "range_and_list": lambda lib: (range(3), [0, 1, 3]), "slice_and_range": lambda lib: (slice(None), range(0, 4, 2)),
    "range_and_tensor": lambda lib: (range(3), lib.tensor([1, 2, 0])),
}

OUT_OF_RANGE = {  # PyTorch numbers the dimension among the index tensors alone, and walks elements before tensors
    "list": lambda lib: [0, 9], "tensor": lambda lib: lib.tensor([0, 9]),
    "after_a_slice": lambda lib: (slice(None), [9]), "after_two_slices": lambda lib: (slice(None), slice(None), [5]),
    "second_tensor": lambda lib: ([1], slice(None), [7]),
    "first_element_first": lambda lib: ([0, 9], [7, 0]), "negative": lambda lib: ([1, 2], slice(None), [2, -7]),
    "after_an_int": lambda lib: (0, slice(None), [7]), "after_an_ellipsis": lambda lib: (Ellipsis, [7]),
    "after_a_mask": lambda lib: (lib.tensor([True, False, True]), slice(None), [1, 5]),
    "after_none": lambda lib: (None, [3]), "broadcast": lambda lib: ([[2]], None, [[4, 5]]),
    "range": lambda lib: range(4),
}


@pytest.mark.parametrize("with_tensor", [False, True], ids=["scalar", "tensor"])
@pytest.mark.parametrize("name", FIXED)
def test_common_index_forms_match_torch(name, with_tensor):
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    assert _run(gradscope, FIXED[name], (3, 4, 5)) == _run(torch, FIXED[name], (3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value_shape = tuple(torch.zeros(3, 4, 5)[FIXED[name](torch)].shape) if with_tensor else None
    ours = _assign(gradscope, FIXED[name], (3, 4, 5), value_shape)
    assert ours == _assign(torch, FIXED[name], (3, 4, 5), value_shape)


@pytest.mark.parametrize("name", OUT_OF_RANGE)
def test_an_index_out_of_range_is_reported_in_pytorchs_words(name):
    """x[:, [9]] is out of bounds "for dimension 0 with size 4" to PyTorch (NumPy said "for axis 1"), whether read
    or written."""
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    theirs = _run(torch, OUT_OF_RANGE[name], (3, 4, 5))
    assert theirs[0][0] == "IndexError" and "out of bounds for dimension" in theirs[0][1]
    assert _run(gradscope, OUT_OF_RANGE[name], (3, 4, 5)) == theirs
    written = _assign(torch, OUT_OF_RANGE[name], (3, 4, 5), None)
    assert _assign(gradscope, OUT_OF_RANGE[name], (3, 4, 5), None) == written


@pytest.mark.parametrize("with_tensor", [False, True], ids=["scalar", "tensor"])
@pytest.mark.parametrize("seed", range(60))
def test_random_index_assignments_match_torch(seed, with_tensor):
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            selected = torch.zeros(3, 4, 5)[_random_index(seed)(torch)]
        except (IndexError, RuntimeError, TypeError, ValueError):
            pytest.skip("an index torch refuses (its errors are compared by test_random_index_expressions_match_torch)")
    value_shape = tuple(selected.shape) if with_tensor else None
    assert _assign(gradscope, _random_index(seed), (3, 4, 5), value_shape) == \
        _assign(torch, _random_index(seed), (3, 4, 5), value_shape)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_assignment_shape_errors_name_the_dtype(oracle, dtype):
    name = {"float64": "Double", "float32": "Float", "int64": "Long"}[dtype]
    oracle.check(f"""
        y = torch.zeros(2, 3, dtype=torch.{dtype})
        y[0] = torch.ones(2, 3, dtype=torch.{dtype})
        """, error=f"RuntimeError: expand(torch.{name}Tensor{{[2, 3]}}, size=[3]): the number of sizes provided (1) "
                   "must be greater or equal to the number of dimensions in the tensor (2)")


ZERO_DIM_BOOLS = {
    "tensor(True)": lambda lib: lib.tensor(True), "tensor(False)": lambda lib: lib.tensor(False),
    "True": lambda lib: True,
    "tensor(True), 0": lambda lib: (lib.tensor(True), 0), "tensor(True), [0]": lambda lib: (lib.tensor(True), [0]),
}


@pytest.mark.parametrize("index", ZERO_DIM_BOOLS)
def test_assignment_through_a_zero_dim_bool_tensor_is_a_view_copy(index):
    """`x[torch.tensor(True)] = v` is PyTorch's `x[True] = v`: a view of x unsqueezed, copied into (CopySlices),
    not an index_put with a mask (Wishart's rsample writes its redraws so)."""
    seen = []
    for lib in (gradscope, reference_torch()):
        x = lib.ones(2, 3, requires_grad=True)
        value = lib.full((2, 3), 5.0, requires_grad=True)
        y = x * 1
        y[ZERO_DIM_BOOLS[index](lib)] = value[0] if "0" in index else value
        (y * lib.arange(6.0).reshape(2, 3)).sum().backward()
        seen.append((y.grad_fn.name(), y.tolist(), x.grad.tolist(), value.grad.tolist()))
    assert seen[0] == seen[1]
