"""Python numbers made into integer tensors as PyTorch 2.13 makes them, where NumPy's casts gave silently wrong
values: an int64 arange counted exactly (arange(2**62, 2**62 + 3) was empty, arange(2**53 + 1, 2**53 + 4) started
at 2**53: its bounds went through doubles), new_tensor's values checked against the dtype (new_tensor([2**63]) held
-2**63), and a negative float refused by an unsigned dtype (tensor([-1.0], dtype=uint8), full, fill_ and
masked_fill gave 255). Every case runs on both libraries and must agree: values and dtype, or error type and text."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

ARANGE = {
    "past 2**62": lambda T: T.arange(2**62, 2**62 + 3), "past 2**53": lambda T: T.arange(2**53 + 1, 2**53 + 4),
    "by 2 past 2**53": lambda T: T.arange(2**53, 2**53 + 6, 2),
    "from -2**63": lambda T: T.arange(-(2**63), -(2**63) + 2),
    "down": lambda T: T.arange(2**62 + 3, 2**62, -1), "a tensor bound": lambda T: T.arange(T.tensor(2**62), 2**62 + 2),
    "to 2**63": lambda T: T.arange(0, 2**63), "a float past int64": lambda T: T.arange(0.0, 1e19, dtype=T.int64),
    "beyond 64 bits": lambda T: T.arange(2**200), "a float end": lambda T: T.arange(2**62, 2**62 + 3.0),
    "int32 (counted in double)": lambda T: T.arange(2**62, 2**62 + 3, dtype=T.int32),
    "float64": lambda T: T.arange(2**62, 2**62 + 3, dtype=T.float64), "a float step": lambda T: T.arange(5, 1.5, -1.5),
    "a float step into int64": lambda T: T.arange(0, 10, 2.5, dtype=T.int64),
    "a huge step": lambda T: T.arange(0, 10, 2**62),
    "small": lambda T: T.arange(-3, 7, 3),
}
NEW_TENSOR = {f"{name} as {dtype}": (data, dtype) for name, data in (
    ("2**63", [2**63]), ("2**63 alone", 2**63), ("300", [300]), ("1.5e19", [1.5e19]), ("nan", [float("nan")]),
    ("-1", [-1]), ("floats", [1.7, 2.5]), ("a negative float", [-2.5]), ("nested", [[1, 2], [3, 4]]),
    ("a bool", True),
    ("beyond 64 bits", (2**200,)), ("a bool and 2**63", [True, 2**63]))
    for dtype in (None, "uint8", "int32", "float32")}
UNSIGNED = {
    "fill_": lambda T, v: T.zeros(2, dtype=T.uint8).fill_(v), "full": lambda T, v: T.full((2,), v, dtype=T.uint8),
    "masked_fill": lambda T, v: T.zeros(2, dtype=T.uint8).masked_fill(T.tensor([True, False]), v),
    "tensor": lambda T, v: T.tensor([v], dtype=T.uint8), "a 0-dim tensor": lambda T, v: T.tensor(v, dtype=T.uint8),
    "new_tensor": lambda T, v: T.tensor([1, 2], dtype=T.uint8).new_tensor([v]),
}


def _outcome(call):
    try:
        result = call()
    except (RuntimeError, TypeError, ValueError, OverflowError) as error:
        return type(error).__name__, str(error)
    return result.tolist(), str(result.dtype)


@pytest.mark.parametrize("case", ARANGE)
def test_arange_as_torch(case):
    assert _outcome(lambda: ARANGE[case](gradscope)) == _outcome(lambda: ARANGE[case](torch))


@pytest.mark.parametrize("case", NEW_TENSOR)
def test_new_tensor_as_torch(case):
    data, dtype = NEW_TENSOR[case]

    def call(T):
        return T.tensor([1, 2]).new_tensor(data, dtype=None if dtype is None else getattr(T, dtype))

    ours, theirs = _outcome(lambda: call(gradscope)), _outcome(lambda: call(torch))
    if dtype == "float32" and isinstance(theirs[0], list):  # float32 values: nan compares unequal
        assert ours[1] == theirs[1]
        np.testing.assert_array_equal(np.array(ours[0]), np.array(theirs[0]))
    else:
        assert ours == theirs


@pytest.mark.parametrize("value", [-1.0, -0.5, -255.0, 255.5, -1, -255, -256, -0.0, 2.7, 255])
@pytest.mark.parametrize("case", UNSIGNED)
def test_numbers_into_unsigned_as_torch(case, value):
    assert _outcome(lambda: UNSIGNED[case](gradscope, value)) == _outcome(lambda: UNSIGNED[case](torch, value))


BOUNDS = {
    "randint to 2**63": lambda T: T.randint(0, 2**63, (2,)), "randint high 2**63": lambda T: T.randint(2**63, (2,)),
    "randint below int64": lambda T: T.randint(-(2**63) - 1, 0, (2,)),
    "randint 2**200": lambda T: T.randint(2**200, (2,)),
    "linspace to 2**70": lambda T: T.linspace(0, 2**70, 3), "linspace to 2**64": lambda T: T.linspace(0, 2**64, 3),
    "linspace from -2**70": lambda T: T.linspace(-(2**70), 0, 3),
    "logspace to 2**70": lambda T: T.logspace(0, 2**70, 3),
}


@pytest.mark.parametrize("case", BOUNDS)
def test_range_bounds_past_64_bits_as_torch(case):
    """randint's bounds are the parser's int64s (ValueError), linspace's and logspace's Scalars (OverflowError beyond
    64 bits): randint(0, 2**63) drew, linspace(0, 2**70, 3) computed."""
    assert _outcome(lambda: BOUNDS[case](gradscope)) == _outcome(lambda: BOUNDS[case](torch))
