"""`torch.testing.make_tensor`: a random tensor for tests, drawn from gradscope's random stream exactly as PyTorch
2.13 draws it, so that a test seeded with `manual_seed` gets PyTorch's values and leaves the stream where PyTorch
leaves it (gradgradcheck draws its grad_outputs here, between a script's own draws).

The interval is [low, high): bounds default to -9 and 9 (integers: -9 and 10, bools: 0 and 2), are clamped to what
the dtype holds, and for integers both are rounded up (randint's high is exclusive)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

from gradscope import _dtypes
from gradscope._runtime import finfo, iinfo
from gradscope.autograd.factories import empty, randint
from gradscope.autograd.tensor import Tensor

_INTEGERS = (_dtypes.uint8, _dtypes.int8, _dtypes.int16, _dtypes.int32, _dtypes.int64)
_BOOL_OR_INTEGER = (_dtypes.bool, *_INTEGERS)


def make_tensor(*shape, dtype, device, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """A tensor of `shape` with values drawn uniformly from [low, high).

    >>> gradscope.testing.make_tensor(2, 3, dtype=gradscope.float64, device="cpu", low=-1, high=1).shape
    torch.Size([2, 3])
    """
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous!r} and memory_format={memory_format!r}")
    if requires_grad and dtype in _BOOL_OR_INTEGER:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = shape[0]
    shape = tuple(shape)
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # twice the last dim, so that the strided view taken below holds every other value
        shape = (*shape[:-1], 2 * shape[-1])

    if dtype is _dtypes.bool:
        low, high = _interval(low, high, dtype, lowest=0, highest=2, default_low=0, default_high=2)
        result = randint(low, high, shape, dtype=dtype)
    elif dtype in _INTEGERS:
        info = iinfo(dtype)
        # randint can't draw int64's maximum (its bound would overflow), so that dtype's interval stops one short
        low, high = _interval(low, high, dtype, lowest=info.min, highest=info.max + (dtype is not _dtypes.int64),
                              default_low=-9, default_high=10)
        result = randint(low, high, shape, dtype=dtype)
    else:
        info = finfo(dtype)
        low, high = _interval(low, high, dtype, lowest=info.min, highest=info.max, default_low=-9, default_high=9)
        result = empty(shape, dtype=dtype)
        _uniform_(result if not dtype.is_complex else _as_real_pairs(result), low, high, info.max)

    if noncontiguous:
        result = result[..., 1::2]  # offset by one, to catch offset bugs too
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if dtype in _BOOL_OR_INTEGER else finfo(dtype).tiny
    if dtype not in _BOOL_OR_INTEGER:
        result.requires_grad = requires_grad
    return result


def _interval(low, high, dtype, *, lowest, highest, default_low, default_high):
    """PyTorch's checks of [low, high), then the bounds clamped into [lowest, highest) (rounded up for integers)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype not in _BOOL_OR_INTEGER:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                      "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                      FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype in _BOOL_OR_INTEGER:
        return math.ceil(low), math.ceil(high)
    return low, high


def _uniform_(values: Tensor, low: float, high: float, largest: float) -> None:
    # uniform_ needs high - low to be finite in the dtype: a wider interval is drawn at half scale and doubled
    if high - low >= largest:
        values.uniform_(low / 2, high / 2).mul_(2)
    else:
        values.uniform_(low, high)


def _as_real_pairs(values: Tensor) -> Tensor:
    from gradscope.autograd.complex_functions import view_as_real  # noqa: PLC0415 - complex support loads late
    return view_as_real(values)
