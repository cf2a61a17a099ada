"""The legacy constructors `torch.Tensor(...)`, `torch.FloatTensor(...)` … and `Tensor.new(...)`, against
PyTorch 2.13: sizes make uninitialised tensors of that shape, sequences are data, a tensor is an alias,
and wrong arguments raise PyTorch's TypeErrors word for word.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch

# name -> expression with `torch`, `t` (a 2x3 float32 tensor), `d` (float64), `i` (int64) and `np`
CASES = {
    "size_of_a_tensor": "torch.Tensor(t.size())",
    "size_object": "torch.Tensor(torch.Size([4]))",
    "empty_size": "torch.Tensor(torch.Size([]))",
    "ints": "torch.Tensor(2, 3)",
    "one_int": "torch.Tensor(3)",
    "zero": "torch.Tensor(0)",
    "numpy_int_and_int_tensor_as_sizes": "torch.Tensor(np.int64(2), torch.tensor(3))",
    "nothing": "torch.Tensor()",
    "device_only": "torch.Tensor(device='cpu')",
    "ints_and_device": "torch.Tensor(2, device='cpu')",
    "list": "torch.Tensor([2, 3])",
    "tuple_is_data": "torch.Tensor((2, 3))",
    "nested_list": "torch.Tensor([[1, 2], [3, 4]])",
    "empty_list": "torch.Tensor([])",
    "range": "torch.Tensor(range(3))",
    "bools": "torch.Tensor([True, False])",
    "list_of_tensors": "torch.Tensor([torch.tensor(1.5), torch.tensor(2.0)])",
    "float64_array": "torch.Tensor(np.array([1.5, 2.5]))",
    "int_array": "torch.Tensor(np.array([1, 2]))",
    "alias_of_int_tensor": "torch.Tensor(i)",
    "alias_of_a_leaf": "torch.Tensor(torch.ones(2, requires_grad=True))",
    "float_tensor_size": "torch.FloatTensor(t.size())",
    "double_tensor_size": "torch.DoubleTensor(t.size())",
    "long_tensor_size": "torch.LongTensor(t.size())",
    "long_tensor_data": "torch.LongTensor([1.7, 2])",
    "double_tensor_data": "torch.DoubleTensor([1, 2])",
    "new_ints": "t.new(2, 3)",
    "new_size": "t.new(t.size())",
    "new_list": "d.new([1, 2])",
    "new_nothing": "i.new()",
    "new_alias": "t.new(t)",
    "new_int_data": "i.new([1.5, 2])",
    # errors
    "float": "torch.Tensor(2.5)",
    "bool": "torch.Tensor(True)",
    "none": "torch.Tensor(None)",
    "string": "torch.Tensor('a')",
    "numpy_scalar": "torch.Tensor(np.float64(2.0))",
    "negative": "torch.Tensor(2, -1)",
    "dtype_keyword": "torch.Tensor(2, 3, dtype=torch.float64)",
    "requires_grad_keyword": "torch.Tensor([1, 2], requires_grad=True)",
    "keyword_only": "torch.Tensor(dtype=torch.float64)",
    "too_many_keywords": "torch.Tensor(2, 3, 4, dtype=torch.float64)",
    "float_then_int": "torch.Tensor(2.0, 3)",
    "int_then_float": "torch.Tensor(2, 3.0)",
    "int_then_list": "torch.Tensor(2, [3])",
    "two_lists": "torch.Tensor([1.5, 2], [3])",
    "tuple_and_int": "torch.Tensor((2,), 3)",
    "size_and_int": "torch.Tensor(torch.Size([2]), 3)",
    "tensor_and_int": "torch.Tensor(t, 2)",
    "array_and_int": "torch.Tensor(np.zeros(2), 2)",
    "float_tensor_of_long": "torch.FloatTensor(i)",
    "float_tensor_dtype_keyword": "torch.FloatTensor(2, 3, dtype=torch.float64)",
    "long_tensor_float": "torch.LongTensor(2.5)",
    "new_of_other_dtype": "t.new(i)",
    "new_dtype_keyword": "t.new(2, 3, dtype=torch.float64)",
    "new_float": "t.new(2.0)",
}
UNINITIALISED = {"size_of_a_tensor", "size_object", "empty_size", "ints", "one_int", "ints_and_device",
                 "numpy_int_and_int_tensor_as_sizes", "float_tensor_size", "double_tensor_size", "long_tensor_size",
                 "new_ints", "new_size"}


def _outcome(lib, name):
    env = {"torch": lib, "np": np, "t": lib.zeros(2, 3), "d": lib.zeros(2, dtype=lib.float64),
           "i": lib.tensor([1, 2])}
    try:
        out = eval(CASES[name], env)  # noqa: S307 - the table above, written here
    except (TypeError, RuntimeError) as error:
        return type(error).__name__, str(error)
    values = None if name in UNINITIALISED else out.tolist()
    return (type(out).__name__, tuple(out.shape), str(out.dtype), values, out.requires_grad,
            out.grad_fn and out.grad_fn.name())


def test_sizes_make_a_tensor_of_that_shape():
    """torch.Tensor(t.size()) built the 1-D tensor [2., 3.]; PyTorch builds an uninitialised 2x3 tensor."""
    t = gradscope.zeros(2, 3)
    for made in (gradscope.Tensor(t.size()), gradscope.Tensor(2, 3), t.new(t.size()), t.new(2, 3),
                 gradscope.FloatTensor(t.size())):
        assert tuple(made.shape) == (2, 3) and made.dtype == gradscope.float32
    assert gradscope.Tensor([2, 3]).tolist() == [2.0, 3.0]
    assert gradscope.Tensor((2, 3)).tolist() == [2.0, 3.0]
    assert gradscope.LongTensor(t.size()).dtype == gradscope.int64


def test_alias_shares_memory_and_version():
    for lib in filter(None, (gradscope, reference_torch())):
        source = lib.ones(2)
        alias = lib.Tensor(source)
        alias.add_(1)
        assert source.tolist() == [2.0, 2.0] and source._version == 1, lib.__name__


@pytest.mark.parametrize("name", CASES)
def test_legacy_constructor_matches_torch(name):
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    assert _outcome(gradscope, name) == _outcome(torch, name)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "complex64", "int64", "bool"])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_as_tensor_of_a_tensor_is_its_to(dtype, requires_grad):
    """`torch.as_tensor(t, dtype=...)` is `t.to(dtype)`: `t` itself for its own dtype, else a copy in the graph
    (ToCopyBackward0) whose gradient comes back in `t`'s dtype."""
    torch = reference_torch()
    seen = {}
    for name, lib in (("torch", torch), ("gradscope", gradscope)):
        source = lib.tensor([1.5, -2.0, 0.0], requires_grad=requires_grad)
        made = lib.as_tensor(source, dtype=getattr(lib, dtype))
        grad = None
        if made.requires_grad:
            (made * made).sum().abs().backward()
            grad = (str(source.grad.dtype).removeprefix("torch."), source.grad.tolist())
        seen[name] = (made is source, type(made.grad_fn).__name__, made.requires_grad,
                      str(made.dtype).removeprefix("torch."), made.tolist(), grad)
    assert seen["gradscope"] == seen["torch"]


SIZE_KEYWORD = {  # name -> expression: the factories' `size=` keyword (the GAT example's torch.empty(size=(n, m)))
    "empty": "torch.empty(size=(2, 3)).shape", "zeros": "torch.zeros(size=(2, 3))", "ones_list": "torch.ones(size=[2])",
    "rand": "torch.rand(size=(2,)).shape", "randn_dtype": "torch.randn(size=(1, 2), dtype=torch.float64).dtype",
    "size_object": "torch.zeros(size=torch.Size([2]))", "zero_dims": "torch.zeros(size=())",
    "seeded": "torch.randn(size=(2,), generator=torch.Generator().manual_seed(0))",
    "requires_grad": "torch.ones(size=(2,), requires_grad=True)",
    "twice": "torch.zeros(2, size=(3,))", "sequence_and_keyword": "torch.zeros((2,), size=(2,))",
    "an_int": "torch.empty(size=3)", "none": "torch.zeros()", "none_ones": "torch.ones()",
}


@pytest.mark.parametrize("name", SIZE_KEYWORD)
def test_factories_take_the_size_keyword(name):
    """torch.empty(size=(n, m)) raised "empty() got an unexpected keyword argument 'size'"; torch.zeros() made a
    0-dim tensor where PyTorch wants a size."""
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    seen = []
    for lib in (gradscope, torch):
        try:
            seen.append(repr(eval(SIZE_KEYWORD[name], {"torch": lib})))
        except TypeError as error:
            seen.append(f"TypeError: {error}")
    assert seen[0] == seen[1]


FILL_VALUES = ("1e300", "float('inf')", "float('nan')", "-1", "300", "-300", "2**40", "1e5", "-1e9", "2.7")
FILLS = ("torch.full((2,), {v}, dtype=torch.{d})", "torch.zeros(2, dtype=torch.{d}).fill_({v})",
         "torch.zeros(2, dtype=torch.{d}).masked_fill(torch.tensor([True, False]), {v})",
         "torch.full_like(torch.zeros(2, dtype=torch.{d}), {v})", "torch.zeros(2, dtype=torch.{d}).new_full((2,), {v})")


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "float32", "float64", "float16", "bool"])
def test_fill_values_convert_as_torch(dtype):
    """A fill value is converted as PyTorch's checked_convert: inf, NaN or out of range for an integer type, or beyond
    a float type's largest (masked_fill(mask, -1e9) on float16), is 'value cannot be converted to type int64_t
    without overflow'; an unsigned type wraps small negatives (-1 is 255). gradscope wrote int64's minimum for
    -inf, inf for -1e9 in float16, and NumPy's OverflowError for uint8 -1."""
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    for template in FILLS:
        for value in FILL_VALUES:
            seen = []
            for lib in (gradscope, torch):
                try:
                    seen.append(str(eval(template.format(v=value, d=dtype), {"torch": lib}).tolist()))
                except RuntimeError as error:
                    seen.append(str(error))
            assert seen[0] == seen[1], template.format(v=value, d=dtype)


TENSOR_INTEGERS = ("float('inf'), torch.int64", "[1.5, float('inf')], torch.int64", "300, torch.uint8",
                   "-1, torch.uint8", "[300], torch.int8", "float('nan'), torch.int32", "2**40, torch.int32",
                   "[1.7, -2.7], torch.int64", "[-255, 255], torch.uint8", "[-256], torch.uint8",
                   "[[1, 2], [3, -4]], torch.long", "[True, False], torch.int64", "[], torch.int64")


@pytest.mark.parametrize("args", TENSOR_INTEGERS)
def test_tensor_of_numbers_into_an_integer_dtype_as_torch(args):
    """torch.tensor(inf, dtype=torch.int64) is 'value cannot be converted to type int64 without overflow' (gradscope
    gave int64's minimum; 300 into uint8 wrapped to 44)."""
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    data, dtype = args.rsplit(", ", 1)
    seen = []
    for lib in (gradscope, torch):
        try:
            seen.append(str(eval(f"torch.tensor({data}, dtype={dtype})", {"torch": lib}).tolist()))
        except RuntimeError as error:
            seen.append(str(error))
    assert seen[0] == seen[1]
