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
from gradscope.autograd.writes import before_write, before_writes


def real(tensor: Tensor) -> np.ndarray:
    """The tensor's array, a complex one seen as pairs of reals (PyTorch's view_as_real); a 0-d one
    as a 1-element view, so that NumPy's arithmetic on it gives arrays, not scalars."""
    data = tensor._data
    if data.ndim and data.dtype.kind != "c":
        return data
    data = np.atleast_1d(data)
    return data.view(data.real.dtype) if data.dtype.kind == "c" else data


def writable(tensor: Tensor) -> np.ndarray:
    """`real(tensor)` to write into: the write announced first, as every write into a tensor's memory is
    (a recording may hold this memory by reference: gradscope.autograd.writes)."""
    before_write(tensor._data)
    return real(tensor)


def writable_all(*tensors: Tensor) -> list[np.ndarray]:
    """`writable` of each tensor in one call: an update writes into a parameter and its state at once."""
    arrays = []
    for tensor in tensors:
        data = tensor._data
        arrays.append(data if data.ndim and data.dtype.kind != "c" else real(tensor))
    before_writes(arrays)
    return arrays


def bump(tensor: Tensor) -> None:
    tensor._version_counter[0] += 1


def scalar(value):
    """A hyper-parameter given as a one-element tensor, as a NumPy scalar of its dtype: arithmetic
    with it then rounds as PyTorch's with a 0-d tensor does (a float32 lr gives a float32 step size)."""
    return value._data.reshape(())[()] if isinstance(value, Tensor) else value


def lerp_(tensor: Tensor, end: np.ndarray, weight: float, scratch: np.ndarray | None = None) -> None:
    """tensor.lerp_(end, weight); PyTorch picks one of two formulas by the weight's size. `scratch`
    (shaped like `end`) saves allocating a temporary."""
    data = writable(tensor)
    step = np.subtract(end, data, out=scratch)
    if abs(weight) < 0.5:
        step *= weight
        data += step
    else:
        step *= 1 - weight
        np.subtract(end, step, out=data)
    bump(tensor)


def mul_(tensor: Tensor, factor: float) -> None:
    data = writable(tensor)
    data *= factor
    bump(tensor)


def addcmul_(tensor: Tensor, first: np.ndarray, second: np.ndarray, value: float,
             scratch: np.ndarray | None = None) -> None:
    """tensor += value * first * second, multiplied in that order."""
    product = np.multiply(first, value, out=scratch)
    product *= second
    data = writable(tensor)
    data += product
    bump(tensor)


def addcdiv_(tensor: Tensor, numerator: np.ndarray, denominator: np.ndarray, value: float,
             scratch: np.ndarray | None = None) -> None:
    """tensor += value * numerator / denominator, in that order."""
    quotient = np.multiply(numerator, value, out=scratch)
    quotient /= denominator
    data = writable(tensor)
    data += quotient
    bump(tensor)


def adam_(param: Tensor, grad: np.ndarray, exp_avg: Tensor, exp_avg_sq: Tensor, max_exp_avg_sq: Tensor | None,
          beta1: float, beta2: float, step_size: float, correction2: float, eps: float,
          scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """One Adam update, as PyTorch's single-tensor step writes it: exp_avg.lerp_(grad, 1 - beta1);
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2); (amsgrad: max_exp_avg_sq kept the
    running maximum, read instead of exp_avg_sq); denom = sqrt(v) / correction2 + eps;
    param.addcdiv_(exp_avg, denom, value=-step_size). The kernels above in one call: an optimizer
    step runs this per parameter, and their calls cost more than the arithmetic on small tensors."""
    m, v, data = writable_all(exp_avg, exp_avg_sq, param)
    work, denom = scratch
    step = np.subtract(grad, m, out=work)  # lerp_: PyTorch's formula for a weight below 0.5
    weight = 1 - beta1
    if abs(weight) < 0.5:
        step *= weight
        m += step
    else:
        step *= 1 - weight
        np.subtract(grad, step, out=m)
    v *= beta2
    product = np.multiply(grad, 1 - beta2, out=work)
    product *= grad
    v += product
    if max_exp_avg_sq is not None:
        v = np.maximum(real(max_exp_avg_sq), v, out=writable(max_exp_avg_sq))
        bump(max_exp_avg_sq)
    np.sqrt(v, out=denom)
    denom /= correction2
    denom += eps
    quotient = np.multiply(m, -step_size, out=work)
    quotient /= denom
    data += quotient
    exp_avg._version_counter[0] += 1
    exp_avg_sq._version_counter[0] += 2  # mul_, then addcmul_
    param._version_counter[0] += 1


def add_(tensor: Tensor, other: np.ndarray, alpha: float = 1.0) -> None:
    data = writable(tensor)
    if alpha == -1.0:
        data -= other
    else:
        data += other * alpha
    bump(tensor)


def scratch(optimizer, like: np.ndarray, slot: int) -> np.ndarray:
    """A C-ordered buffer shaped like `like`, kept on the optimizer between steps: its temporaries.
    NOTE: a step then allocates nothing; fresh arrays of a large parameter's size page-fault anew on
    every step (glibc hands freed memory back to the OS), which costs more than the arithmetic."""
    pool = optimizer.__dict__.get("_scratch")
    if pool is None:
        pool = optimizer._scratch = {}
    key = (like.shape, like.dtype, slot)
    buffer = pool.get(key)
    if buffer is None:
        buffer = pool[key] = np.empty(like.shape, like.dtype)
    return buffer


def scratches(optimizer, like: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two scratch buffers shaped like `like` (an update's temporaries), kept between steps as `scratch`'s."""
    pool = optimizer.__dict__.get("_scratch_pairs")
    if pool is None:
        pool = optimizer._scratch_pairs = {}
    key = (like.shape, like.dtype)
    pair = pool.get(key)
    if pair is None:
        pair = pool[key] = (np.empty(like.shape, like.dtype), np.empty(like.shape, like.dtype))
    return pair


def gradient(optimizer, param: Tensor, group: dict) -> np.ndarray:
    """The parameter's gradient as the update reads it: negated when maximizing, plus L2 weight
    decay when the group has it and does not decouple it; in the parameter's layout."""
    grad, data = param.grad._data, param._data
    if not data.ndim or data.dtype.kind == "c":
        grad, data = real(param.grad), real(param)
    maximize, decay = group["maximize"], group["weight_decay"]
    decay = 0 if group.get("decoupled_weight_decay", False) else decay
    if not (maximize or decay or grad.strides != data.strides):  # NOTE: strides, not .flags: a new object a read
        return grad
    # NOTE: one pass into a buffer in the parameter's layout; NumPy across mixed layouts is slower
    buffer = scratch(optimizer, data, 0) if data.flags.c_contiguous else np.empty_like(data)
    _copy(buffer, grad)
    if maximize:
        np.negative(buffer, out=buffer)
    if decay:
        buffer += data * decay
    return buffer


def _copy(buffer: np.ndarray, source: np.ndarray, tile: int = 64) -> None:
    """copyto, transposing a large Fortran-ordered matrix (a weight's gradient through `weight.T`)
    tile by tile: NumPy's element-by-element transpose misses the cache and takes twice as long."""
    if source.ndim != 2 or source.size < tile * tile or not source.flags.f_contiguous or source.flags.c_contiguous:
        np.copyto(buffer, source)
        return
    rows, columns = source.shape
    for row in range(0, rows, tile):
        for column in range(0, columns, tile):
            buffer[row:row + tile, column:column + tile] = source[row:row + tile, column:column + tile]


def zeros_like(param: Tensor) -> Tensor:
    return Tensor._make(np.zeros_like(param._data))


def step_counter(value: float = 0.0) -> Tensor:
    """The 0-d counter PyTorch keeps per parameter: float32, or float64 under that default dtype."""
    dtype = np.float64 if _dtypes.get_default_dtype() is _dtypes.float64 else np.float32
    return Tensor._make(np.array(value, dtype=dtype))


def increment(counter: Tensor) -> float:
    """counter += 1 (in the counter's dtype, as PyTorch's `step_t += 1`); returns the new count."""
    data = counter._data
    before_write(data)
    if data.ndim:
        data += 1
        value = float(data.reshape(-1)[0])
    else:  # NOTE: fill casts the Python sum as `+=` rounds it, at a fraction of the cost of a 0-d ufunc call
        data.fill(float(data) + 1.0)
        value = float(data)
    counter._version_counter[0] += 1
    return value


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
