"""What the optimizers share: PyTorch's in-place tensor updates written on NumPy arrays, state
tensors, and the argument checks.

Each kernel writes into its first argument, mirrors the order of operations of PyTorch's CPU kernel
(so float32 state stays float32 and float64 results agree to the last bits but for fused
multiply-adds) and bumps the owning tensor's version counter as PyTorch's in-place op does.
"""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope.autograd.tensor import Tensor


def real(tensor: Tensor) -> np.ndarray:
    """The tensor's array, a complex one seen as pairs of reals (PyTorch's view_as_real); a 0-d one
    as a 1-element view, so that NumPy's arithmetic on it gives arrays, not scalars."""
    data = np.atleast_1d(tensor._data)
    return data.view(data.real.dtype) if data.dtype.kind == "c" else data


def bump(tensor: Tensor) -> None:
    tensor._version_counter[0] += 1


def scalar(value) -> float:
    """A hyper-parameter given as a one-element tensor, as a Python float (PyTorch's _to_scalar)."""
    return float(value.item()) if isinstance(value, Tensor) else value


def lerp_(tensor: Tensor, end: np.ndarray, weight: float) -> None:
    """tensor.lerp_(end, weight); PyTorch picks one of two formulas by the weight's size."""
    data = real(tensor)
    if abs(weight) < 0.5:
        step = end - data
        step *= weight
        data += step
    else:
        step = end - data
        step *= 1 - weight
        np.subtract(end, step, out=data)
    bump(tensor)


def mul_(tensor: Tensor, factor: float) -> None:
    data = real(tensor)
    data *= factor
    bump(tensor)


def addcmul_(tensor: Tensor, first: np.ndarray, second: np.ndarray, value: float) -> None:
    """tensor += value * first * second, multiplied in that order."""
    product = first * value
    product *= second
    data = real(tensor)
    data += product
    bump(tensor)


def addcdiv_(tensor: Tensor, numerator: np.ndarray, denominator: np.ndarray, value: float) -> None:
    """tensor += value * numerator / denominator, in that order."""
    quotient = numerator * value
    quotient /= denominator
    data = real(tensor)
    data += quotient
    bump(tensor)


def add_(tensor: Tensor, other: np.ndarray, alpha: float = 1.0) -> None:
    data = real(tensor)
    if alpha == -1.0:
        data -= other
    else:
        data += other * alpha
    bump(tensor)


def gradient(param: Tensor, group: dict) -> np.ndarray:
    """The parameter's gradient as the update reads it: negated when maximizing, plus L2 weight
    decay when the group has it and does not decouple it."""
    grad = real(param.grad)
    if group["maximize"]:
        grad = -grad
    decay = group["weight_decay"]
    if decay != 0 and not group.get("decoupled_weight_decay", False):
        grad = grad + real(param) * decay
    return grad


def zeros_like(param: Tensor) -> Tensor:
    return Tensor._make(np.zeros_like(param._data))


def step_counter(value: float = 0.0) -> Tensor:
    """The 0-d counter PyTorch keeps per parameter: float32, or float64 under that default dtype."""
    dtype = np.float64 if _dtypes.get_default_dtype() is _dtypes.float64 else np.float32
    return Tensor._make(np.array(value, dtype=dtype))


def increment(counter: Tensor) -> float:
    counter._data += 1
    bump(counter)
    return float(counter._data)


def check(value, label: str, upper: float | None = None) -> None:
    """PyTorch's `Invalid <label>: <value>` for a negative (or, given `upper`, too large) value."""
    if not 0.0 <= value or (upper is not None and not value < upper):
        raise ValueError(f"Invalid {label}: {value}")


def check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    check(lr, "learning rate")


def check_betas(betas) -> None:
    for index in (0, 1):
        check(betas[index], f"beta parameter at index {index}", upper=1.0)
