"""Python and NumPy numbers beside a tensor, as PyTorch takes them.

- A Python int beside an integer tensor is a wrapped number of the tensor's dtype: out of its range, its low bits
  (int8 + 300 adds 44, uint8 > -1 compares with 255), where NumPy refused it with an OverflowError, or compared its true
  value (int8 < 300 was all True). Beyond 64 bits, PyTorch's own OverflowErrors.
- Params PyTorch converts checked (alpha, addcmul's value, clamp's bounds, where's other, index_fill's value, a value
  set by indexing, an integer pow's exponent) raise its 'value cannot be converted to type int8_t without overflow'.
- Ops that compute integers in floats (true division, atan2, xlogy, xlog1py, copysign) cast each operand from its own
  dtype: int8 / torch.tensor(300) divided by 44 (300 wrapped into int8 first).
- A NumPy scalar is a weak number as a Python one is: x / np.sqrt(d) keeps a float32 x float32 (it gave float64), and
  with x requiring grad, x * np.float64(2) and x / np.sqrt(4.0) built their node (they raised AttributeError).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _outcome(lib, build):
    try:
        result = build(lib)
    except Exception as error:  # noqa: BLE001 - the class and message are what is compared
        return type(error).__name__, str(error)
    return str(result.dtype), result.tolist()


def _int8(lib):
    return lib.tensor([1, 2, 100, -128], dtype=lib.int8)


def _uint8(lib):
    return lib.tensor([0, 5, 200, 255], dtype=lib.uint8)


def _setitem(lib, tensor, value):
    tensor[0] = value
    return tensor


WRAPPED = {
    "int8 + 300": lambda T: _int8(T) + 300,
    "300 + int8": lambda T: 300 + _int8(T),
    "int8 - 300": lambda T: _int8(T) - 300,
    "300 - int8": lambda T: 300 - _int8(T),
    "int8 * 300": lambda T: _int8(T) * 300,
    "int8 // 300": lambda T: _int8(T) // 300,
    "int8 % 300": lambda T: _int8(T) % 300,
    "int8 // -300": lambda T: _int8(T) // -300,
    "int8 div floor 300": lambda T: T.div(_int8(T), 300, rounding_mode="floor"),
    "int8 div trunc 300": lambda T: T.div(_int8(T), 300, rounding_mode="trunc"),
    "int8 fmod 300": lambda T: T.fmod(_int8(T), 300),
    "int8 < 300": lambda T: _int8(T) < 300,
    "int8 >= 300": lambda T: _int8(T) >= 300,
    "int8 == 257": lambda T: _int8(T) == 257,
    "int8 & 300": lambda T: _int8(T) & 300,
    "int8 | 300": lambda T: _int8(T) | 300,
    "int8 + 2**40": lambda T: _int8(T) + 2**40,
    "int8 + 2**64 - 1": lambda T: _int8(T) + (2**64 - 1),
    "int8 + 2**64": lambda T: _int8(T) + 2**64,
    "int64 + 2**63": lambda T: T.tensor([1, 2]) + 2**63,
    "int64 + (-2**63 - 1)": lambda T: T.tensor([1, 2]) + (-2**63 - 1),
    "int16 + 70000": lambda T: T.tensor([1, -5], dtype=T.int16) + 70000,
    "int32 * (2**33 + 5)": lambda T: T.tensor([3], dtype=T.int32) * (2**33 + 5),
    "uint8 - 300": lambda T: _uint8(T) - 300,
    "uint8 + (-1)": lambda T: _uint8(T) + (-1),
    "uint8 * -1": lambda T: _uint8(T) * -1,
    "uint8 > -1": lambda T: _uint8(T) > -1,
    "300 ** int8": lambda T: 300 ** T.tensor([1, 2, 3], dtype=T.int8),
    "int8.add_(300)": lambda T: _int8(T).add_(300),
    "int8.mul_(256)": lambda T: _int8(T).mul_(256),
    "int8 += 300": lambda T: _int8(T).__iadd__(300),
    "uint8.sub_(300)": lambda T: _uint8(T).sub_(300),
    "bool.add_(300)": lambda T: T.tensor([True, False]).add_(300),
    "int8 / 300": lambda T: _int8(T) / 300,
}

CHECKED = {
    "int8 ** 300": lambda T: _int8(T) ** 300,
    "int8.add(1, alpha=300)": lambda T: _int8(T).add(1, alpha=300),
    "int8.sub(1, alpha=300)": lambda T: _int8(T).sub(1, alpha=300),
    "int8.add_(1, alpha=300)": lambda T: _int8(T).add_(1, alpha=300),
    "addcmul value=300": lambda T: T.addcmul(_int8(T), _int8(T), _int8(T), value=300),
    "int8.clamp(max=300)": lambda T: _int8(T).clamp(max=300),
    "int8.clamp(min=-300)": lambda T: _int8(T).clamp(min=-300),
    "where(c, int8, 300)": lambda T: T.where(_int8(T) > 1, _int8(T), 300),
    "where(c, 300, uint8)": lambda T: T.where(_uint8(T) > 1, 300, _uint8(T)),
    "int8.index_fill(0, i, 300)": lambda T: _int8(T).index_fill(0, T.tensor([0]), 300),
    "int8[0] = 300": lambda T: _setitem(T, _int8(T), 300),
    "uint8[0] = 256": lambda T: _setitem(T, _uint8(T), 256),
    "uint8[0] = -1": lambda T: _setitem(T, _uint8(T), -1),
    "uint8.index_fill(0, i, -1)": lambda T: _uint8(T).index_fill(0, T.tensor([0]), -1),
    "uint8.clamp(min=-1)": lambda T: _uint8(T).clamp(min=-1),
    "uint8.add(1, alpha=-1)": lambda T: _uint8(T).add(1, alpha=-1),
    "int8.add(5, alpha=30)": lambda T: _int8(T).add(5, alpha=30),
    "int8.sub(100, alpha=2)": lambda T: _int8(T).sub(100, alpha=2),
    "int8.add(tensor, alpha=30)": lambda T: _int8(T).add(_int8(T), alpha=30),
}

FLOATING = {
    "int8 / tensor(300)": lambda T: _int8(T) / T.tensor(300),
    "int8.div(tensor(300))": lambda T: T.div(_int8(T), T.tensor(300)),
    "int8 true_divide 300": lambda T: T.true_divide(_int8(T), 300),
    "uint8 / tensor(256)": lambda T: _uint8(T) / T.tensor(256),
    "atan2(int8, tensor(300))": lambda T: T.atan2(_int8(T), T.tensor(300)),
    "xlogy(int8, tensor(300))": lambda T: T.xlogy(_int8(T), T.tensor(300)),
    "xlog1py(int8, tensor(300))": lambda T: T.special.xlog1py(_int8(T), T.tensor(300)),
    "copysign(int8, tensor(-300))": lambda T: T.copysign(_int8(T), T.tensor(-300)),
}

F32 = np.array([0.5, -1.25, 3.0], dtype=np.float32)

NUMPY_SCALARS = {
    "f32 + np.float64": lambda T: T.tensor(F32) + np.float64(0.1),
    "np.float64 + f32": lambda T: np.float64(0.1) + T.tensor(F32),
    "f32 / np.sqrt(3.0)": lambda T: T.tensor(F32) / np.sqrt(3.0),
    "f32 - np.float32": lambda T: T.tensor(F32) - np.float32(0.1),
    "f32 + np.int64": lambda T: T.tensor(F32) + np.int64(3),
    "f32 < np.float64": lambda T: T.tensor(F32) < np.float64(0.5),
    "f16 + np.float64": lambda T: T.tensor(F32).half() + np.float64(0.5),
    "int8 + np.int64(300)": lambda T: _int8(T) + np.int64(300),
    "int32 + np.int64": lambda T: T.tensor([1, 2], dtype=T.int32) + np.int64(3),
    "int8 * np.int64": lambda T: np.int64(3) * _int8(T),
    "int8 + np.float64": lambda T: _int8(T) + np.float64(0.5),
    "int8 // np.int64": lambda T: _int8(T) // np.int64(3),
    "int8 ** np.int64": lambda T: _int8(T) ** np.int64(2),
    "f32 ** np.float64": lambda T: T.tensor(F32) ** np.float64(2.5),
    "np.float64 ** f32": lambda T: np.float64(2.5) ** T.tensor(F32),
    "where(c, f32, np.float64)": lambda T: T.where(T.tensor(F32) > 0, T.tensor(F32), np.float64(0.1)),
    "f32.clamp(max=np.float64)": lambda T: T.tensor(F32).clamp(max=np.float64(0.1)),
    "f32.clamp_min(np.float64)": lambda T: T.tensor(F32).clamp_min(np.float64(0.1)),
    "int8.clamp(max=np.int64)": lambda T: _int8(T).clamp(max=np.int64(3)),
}


@pytest.mark.parametrize("name", sorted(WRAPPED) + sorted(CHECKED) + sorted(FLOATING) + sorted(NUMPY_SCALARS))
def test_numbers_beside_tensors_as_torch(name):
    build = {**WRAPPED, **CHECKED, **FLOATING, **NUMPY_SCALARS}[name]
    mine, theirs = _outcome(gradscope, build), _outcome(torch, build)
    if mine[0].startswith("torch.float") and mine[0] == theirs[0]:
        np.testing.assert_allclose(mine[1], theirs[1], rtol=2e-7)  # NOTE: libm's atan2/log differ in the last bit
    else:
        assert mine == theirs


GRADIENTS = {
    "x * np.float64": lambda T, x: x * np.float64(0.1),
    "x / np.sqrt": lambda T, x: x / np.sqrt(3.0),
    "x * np.int64": lambda T, x: x * np.int64(3),
    "x + np.float64": lambda T, x: x + np.float64(0.1),
    "np.float64 - x": lambda T, x: np.float64(0.1) - x,
    "x ** np.float64": lambda T, x: x ** np.float64(2.5),
    "x.clamp(max=np.float64)": lambda T, x: x.clamp(max=np.float64(0.1)),
    "x.div(np.float64, rounding_mode=None)": lambda T, x: x.div(np.float64(0.1), rounding_mode=None),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_numpy_scalars_in_differentiable_ops_as_torch(name):
    def run(lib):
        x = lib.tensor(F32, requires_grad=True)
        y = GRADIENTS[name](lib, x)
        node = y.grad_fn
        numbers = {attribute: (type(value).__name__, value) for attribute in dir(node)
                   if attribute.startswith("_saved_") and isinstance(value := getattr(node, attribute), (int, float))}
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return str(y.dtype), y.tolist(), type(node).__name__, numbers, x.grad.tolist()

    mine, theirs = run(gradscope), run(torch)
    assert mine[0] == theirs[0] and mine[2:4] == theirs[2:4]
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-6)
    np.testing.assert_allclose(mine[4], theirs[4], rtol=1e-6)


@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "div_", "__imul__", "__iadd__"])
def test_in_place_arithmetic_with_a_numpy_scalar_rounds_as_torch(method):
    """The scalar is rounded to the tensor's dtype first, as PyTorch's wrapped number: float32 x.mul_(np.float64(0.1))
    multiplied by the float64 0.1 and rounded once (last bits differed from PyTorch's)."""
    values = np.linspace(0.1, 3, 1000).astype(np.float32)

    def run(lib):
        x = lib.tensor(values)
        return getattr(x, method)(np.float64(1 / 3)).numpy()

    np.testing.assert_array_equal(run(gradscope), run(torch))
