"""Type promotion of mixed dtypes: the result dtype of each call, by hand and against torch."""

from __future__ import annotations

import pytest

import gradscope

# (call, expected dtype name): dimensioned tensors outrank 0-dim tensors, which outrank Python numbers,
# and a lower-priority operand only counts when its category (bool < int < float) is higher
PROMOTIONS = {
    "int64 tensor * 2.5": (lambda lib: lib.tensor([1, 2]) * 2.5, "float32"),
    "float32 + float64 tensors": (lambda lib: lib.tensor([1.0]) + lib.tensor([1.0], dtype=lib.float64), "float64"),
    "int + bool tensors": (lambda lib: lib.tensor([1, 2]) + lib.tensor([True, False]), "int64"),
    "0-dim float64 + float32 tensor": (lambda lib: lib.tensor(1.0, dtype=lib.float64) + lib.tensor([1.0, 2.0]),
                                       "float32"),
    "0-dim float64 * int tensor": (lambda lib: lib.tensor(1.5, dtype=lib.float64) * lib.tensor([1, 2]), "float64"),
    "0-dim int * float32 tensor": (lambda lib: lib.tensor(2) * lib.tensor([1.5]), "float32"),
    "int / int tensors": (lambda lib: lib.tensor([3]) / lib.tensor([2]), "float32"),
    "int tensor / 2": (lambda lib: lib.tensor([3]) / 2, "float32"),
    "int tensor + 1": (lambda lib: lib.tensor([3]) + 1, "int64"),
    "1 - int tensor": (lambda lib: 1 - lib.tensor([1]), "int64"),
    "1.5 - int tensor": (lambda lib: 1.5 - lib.tensor([1]), "float32"),
    "bool tensor + True": (lambda lib: lib.tensor([True]) + True, "bool"),
    "bool tensor * 2": (lambda lib: lib.tensor([True]) * 2, "int64"),
    "bool tensor * 2.5": (lambda lib: lib.tensor([True]) * 2.5, "float32"),
    "float32 tensor * True": (lambda lib: lib.tensor([1.5]) * True, "float32"),
    "int32 + 0-dim int64": (lambda lib: lib.tensor([1], dtype=lib.int32) + lib.tensor(1), "int32"),
    "int32 + int64 tensors": (lambda lib: lib.tensor([1], dtype=lib.int32) + lib.tensor([1]), "int64"),
    "float32 + 0-dim int64": (lambda lib: lib.tensor([1.0]) + lib.tensor(1), "float32"),
    "float16 + 0-dim float32": (lambda lib: lib.tensor([1.0], dtype=lib.float16) + lib.tensor(1.0), "float16"),
    "uint8 + int8": (lambda lib: lib.tensor([1], dtype=lib.uint8) + lib.tensor([1], dtype=lib.int8), "int16"),
    "int tensor ** 2.0": (lambda lib: lib.tensor([2]) ** 2.0, "float32"),
    "int tensor ** 2": (lambda lib: lib.tensor([2]) ** 2, "int64"),
    "2.5 ** int tensor": (lambda lib: 2.5 ** lib.tensor([2]), "float32"),
    "2 ** int tensor": (lambda lib: 2 ** lib.tensor([2]), "int64"),
    "exp(int)": (lambda lib: lib.exp(lib.tensor([1])), "float32"),
    "sqrt(int)": (lambda lib: lib.sqrt(lib.tensor([4])), "float32"),
    "sigmoid(int)": (lambda lib: lib.tensor([1]).sigmoid(), "float32"),
    "relu(int)": (lambda lib: lib.tensor([-1, 1]).relu(), "int64"),
    "abs(int)": (lambda lib: lib.tensor([-1]).abs(), "int64"),
    "sum(bool)": (lambda lib: lib.tensor([True, True]).sum(), "int64"),
    "sum(int32)": (lambda lib: lib.tensor([1], dtype=lib.int32).sum(), "int64"),
    "prod(int)": (lambda lib: lib.tensor([3, 4]).prod(), "int64"),
    "amax(int)": (lambda lib: lib.tensor([3, 4]).amax(), "int64"),
    "where(cond, int, 2.5)": (lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1, 2]), 2.5), "float32"),
    "maximum(int, float32)": (lambda lib: lib.maximum(lib.tensor([1, 2]), lib.tensor([1.5, 0.5])), "float32"),
    "cat(int, float32)": (lambda lib: lib.cat([lib.tensor([1]), lib.tensor([1.5])]), "float32"),
    "clamp(int, 0.5)": (lambda lib: lib.tensor([1, 2]).clamp(min=0.5), "float32"),
    "clamp(float32, 1)": (lambda lib: lib.tensor([1.0, 2.0]).clamp(max=1), "float32"),
    "int tensor // 2": (lambda lib: lib.tensor([3]) // 2, "int64"),
    "int tensor // 2.0": (lambda lib: lib.tensor([3]) // 2.0, "float32"),
    "int tensor % 2": (lambda lib: lib.tensor([3]) % 2, "int64"),
}


@pytest.mark.parametrize("name", PROMOTIONS)
def test_result_dtype(name):
    call, expected = PROMOTIONS[name]
    assert call(gradscope).dtype == getattr(gradscope, expected)


@pytest.mark.parametrize("name", PROMOTIONS)
def test_result_dtype_matches_torch(name):
    torch = pytest.importorskip("torch")
    call, _ = PROMOTIONS[name]
    assert str(call(gradscope).dtype) == str(call(torch).dtype)


@pytest.mark.parametrize("other_dtype, other_shape", [("float64", (2,)), ("float64", ()), ("float32", ())])
def test_each_gradient_keeps_its_inputs_dtype(other_dtype, other_shape):
    """A float32 tensor times a float64 one: the product's dtype follows promotion, each gradient
    comes back in its own input's dtype (and shape)."""
    x = gradscope.tensor([1.5, -2.0], requires_grad=True)
    y = gradscope.full(other_shape, 3.0, dtype=getattr(gradscope, other_dtype), requires_grad=True)
    product = x * y
    assert product.dtype == (gradscope.float64 if other_shape else gradscope.float32)
    gx, gy = gradscope.autograd.grad(product.sum(), (x, y))
    assert (gx.dtype, gy.dtype) == (gradscope.float32, y.dtype)
    assert gx.tolist() == [3.0, 3.0]
    assert gy.shape == y.shape and gy.sum().item() == pytest.approx(-0.5)
