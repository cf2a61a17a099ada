"""Bitwise ops, shifts, gcd, lcm and signbit against PyTorch: values, dtypes, errors, the operators, in place."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

FUNCTIONS = ("bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift gcd lcm").split()
OPERANDS = {
    "int64": ([5, -8, 3, 0], "int64", [3, 1, -6, 0], "int64"),
    "shift_counts": ([1, -8, 3, 7], "int64", [64, 1, -1, 63], "int64"),
    "uint8_int64": ([1, 200, 3, 255], "uint8", [9, 1, 2, 8], "int64"),
    "int8": ([-8, 100, 3, 1], "int8", [9, 2, 7, 8], "int8"),
    "int32_scalar": ([5, -8, 3, 0], "int64", 3, "int32"),
    "bool": ([True, False, True, False], "bool", [True, True, False, False], "bool"),
    "float": ([1.0, 2.0, 3.0, 4.0], "float32", [1, 2, 3, 4], "int64"),
}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _make(lib, values, dtype):
    return lib.tensor(values, dtype=getattr(lib, dtype))


def _outcome(call):
    try:
        result = call()
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        return type(error), str(error)
    return str(result.dtype), result.numpy().tolist()


@pytest.mark.parametrize("operands", OPERANDS, ids=str)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_binary_as_torch(torch, name, operands):
    a, a_dtype, b, b_dtype = OPERANDS[operands]

    def call(lib):
        return getattr(lib, name)(_make(lib, a, a_dtype), _make(lib, b, b_dtype))
    assert _outcome(lambda: call(gradscope)) == _outcome(lambda: call(torch))


@pytest.mark.parametrize("number", [3, -1, True])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_with_a_number_as_torch(torch, name, number):
    for values, dtype in (([5, -8, 3], "int64"), ([1, 200, 3], "uint8"), ([True, False, True], "bool")):
        def call(lib, values=values, dtype=dtype):
            return getattr(lib, name)(_make(lib, values, dtype), number)
        assert _outcome(lambda: call(gradscope)) == _outcome(lambda: call(torch))


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool", "float32"])
def test_bitwise_not_and_signbit_as_torch(torch, dtype):
    values = {"bool": [True, False]}.get(dtype, [0, 3, 100, 7])
    for name in ("bitwise_not", "signbit"):
        def call(lib, name=name):
            return getattr(lib, name)(_make(lib, values, dtype))
        assert _outcome(lambda: call(gradscope)) == _outcome(lambda: call(torch))
    assert _outcome(lambda: ~_make(gradscope, values, dtype)) == _outcome(lambda: ~_make(torch, values, dtype))


def test_signbit_of_floats(torch):
    values = [-0.0, 0.0, -1.5, float("inf"), float("-inf"), float("nan"), -float("nan")]
    assert gradscope.signbit(gradscope.tensor(values)).tolist() == torch.signbit(torch.tensor(values)).tolist()
    x = gradscope.tensor([1.0], requires_grad=True)
    assert not gradscope.signbit(x).requires_grad


@pytest.mark.parametrize("expression", [
    lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: a << b, lambda a, b: a >> b,
    lambda a, b: 6 & a, lambda a, b: 1 << b, lambda a, b: 1024 >> b,
], ids=["and", "or", "xor", "lshift", "rshift", "rand", "rlshift", "rrshift"])
def test_operators_are_bitwise_on_integers(torch, expression):
    """Found on the way: `&`, `|`, `^` and `~` were logical, so `a & b` of integers gave bools."""
    def call(lib):
        return expression(lib.tensor([5, -8, 3]), lib.tensor([3, 1, 2]))
    assert _outcome(lambda: call(gradscope)) == _outcome(lambda: call(torch))


def test_operators_on_bools_and_floats(torch):
    for lib_values in ([True, False], [1.0, 2.0]):
        assert _outcome(lambda v=lib_values: gradscope.tensor(v) & gradscope.tensor(v)) == _outcome(
            lambda v=lib_values: torch.tensor(v) & torch.tensor(v))


@pytest.mark.parametrize("name", [f + "_" for f in FUNCTIONS] + ["bitwise_not_"])
def test_in_place_as_torch(torch, name):
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor([12, -8, 3])
        out = getattr(x, name)() if name == "bitwise_not_" else getattr(x, name)(lib.tensor([8, 2, 1]))
        assert out is x
        results.append(x.numpy().tolist())
    assert results[0] == results[1]


def test_in_place_operators(torch):
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor([12, -8, 3])
        x &= 6
        x |= lib.tensor([1, 0, 0])
        x ^= 3
        x <<= 2
        x >>= 1
        results.append(x.numpy().tolist())
    assert results[0] == results[1]
    np.testing.assert_array_equal(gradscope.gcd_(gradscope.tensor([12, 9]), gradscope.tensor([8, 6])).numpy(), [4, 3])
