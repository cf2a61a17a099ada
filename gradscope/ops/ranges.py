"""The values of arange, linspace and logspace as PyTorch's CPU kernels compute them, to the bit.

The kernels are one line each (RangeFactoriesKernel.cpp), but the compiler fuses their `start + step * i`
into one multiply-add, rounded once, and arange fills its output eight floats (four doubles) at a time from
a base computed per block. NumPy's `np.arange`/`np.linspace` round twice and spread the steps differently,
so their values sit an ulp away from PyTorch's at a third of the points. An ulp matters downstream: a sampling
grid built from linspace (affine_grid) decides which pixel grid_sample's gradient reads, and an identity
transform sits exactly on the pixel boundaries.

NOTE: the fused multiply-add is emulated in float64 by error-free transformations (the product's rounding
error by Dekker's split, the sums' by Knuth's two-sum), ties included; it assumes no overflow or underflow
in the split. float32 values are computed in float64 and rounded once more, a float64 result that is a
float32 tie rounded by the sign of what it left out, so they too are rounded once.
"""

from __future__ import annotations

import math

import numpy as np

_SPLIT = 134217729.0  # 2**27 + 1: Dekker's splitter for float64
# elements per vector register in the AVX2 build of the arange kernel (the one PyTorch's x86 wheels run)
_ARANGE_LANES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}


def _two_sum(a, b) -> tuple[np.ndarray, np.ndarray]:
    """a + b rounded, and its rounding error: their sum is exactly a + b (Knuth)."""
    total = a + b
    virtual = total - a
    return total, (a - (total - virtual)) + (b - virtual)


def fused_multiply_add(a, b, c, dtype=np.float64) -> np.ndarray:
    """a · b + c in `dtype` (float64 or float32) with one rounding (see the module's note)."""
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    product = a * b
    a_high = a * _SPLIT - (a * _SPLIT - a)
    b_high = b * _SPLIT - (b * _SPLIT - b)
    a_low, b_low = a - a_high, b - b_high
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    # a · b + c = result + rest + tail exactly, each smaller than the last
    high, low = _two_sum(product, c)
    error, tail = _two_sum(product_error, low)
    result, rest = _two_sum(high, error)
    # a tie between result and its neighbour past `rest` is broken by the tail's sign, not by evenness
    neighbour = np.nextafter(result, np.copysign(np.inf, rest))
    past_tie = (rest != 0) & (rest * 2 == neighbour - result) & (np.sign(tail) * np.sign(rest) > 0)
    result = np.where(past_tie, neighbour, result)
    if np.dtype(dtype) == np.float64:
        return result
    # the sign of what result leaves out decides float32 ties the same way
    residual = np.where(past_tie, -rest, np.where(rest != 0, rest, tail))
    single = result.astype(np.float32)
    other = np.nextafter(single, np.where(result > single, np.float32(np.inf), np.float32(-np.inf)))
    tie = (result * 2 == single.astype(np.float64) + other.astype(np.float64)) & (single != other)
    towards_other = np.sign(other.astype(np.float64) - single.astype(np.float64)) * np.sign(residual) > 0
    return np.where(tie & towards_other, other, single)


def arange_values(start: float, step: float, size: int, dtype: np.dtype) -> np.ndarray:
    """The `size` values torch.arange(start, …, step) gives in floating `dtype`: start + step · i in double,
    eight float32s (four float64s) to a block from the block's first value, the last partial pair of
    blocks one by one."""
    dtype = np.dtype(dtype)
    index = np.arange(size, dtype=np.float64)
    lanes = _ARANGE_LANES.get(dtype)
    if lanes is None or size < 2 * lanes:
        return fused_multiply_add(step, index, start).astype(dtype)
    blocked = size - size % (2 * lanes)
    first = index[:blocked:lanes]
    base = fused_multiply_add(step, first, start).astype(dtype).astype(np.float64)
    lane = np.arange(lanes, dtype=np.float64)
    values = np.empty(size, dtype)
    values[:blocked] = fused_multiply_add(lane[None, :], step, base[:, None]).reshape(-1)
    values[blocked:] = fused_multiply_add(step, index[blocked:], start)
    return values


def linspace_values(start, end, steps: int, dtype: np.dtype) -> np.ndarray:
    """torch.linspace's `steps` values in floating `dtype`: the step computed in `dtype`, the first half
    counted up from start and the second down from end (each one multiply-add), so both ends are exact."""
    dtype = np.dtype(dtype)
    if steps <= 1:
        return np.full(steps, start, dtype)
    first, last = dtype.type(start), dtype.type(end)
    if dtype == np.float16:
        return _half_linspace(first, last, steps)
    step = (last - first) / dtype.type(steps - 1)
    half = steps // 2
    index = np.arange(steps, dtype=np.float64)
    values = np.empty(steps, dtype)
    values[:half] = fused_multiply_add(step, index[:half], first, dtype)
    values[half:] = fused_multiply_add(-step, steps - 1 - index[half:], last, dtype)
    return values


def _half_linspace(first, last, steps: int) -> np.ndarray:
    """linspace's float16 values as PyTorch's kernel computes them in c10::Half arithmetic (a scalar loop, no
    multiply-add): the step and each count made float16s, each product and sum rounded to float16."""
    counts, half = np.arange(steps), steps // 2
    with np.errstate(over="ignore", invalid="ignore"):  # a count past 65504 is inf in float16, as in PyTorch
        step = (last - first) / np.float16(steps - 1)
        up, down = counts[:half].astype(np.float16), (steps - 1 - counts[half:]).astype(np.float16)
        return np.concatenate((first + step * up, last - step * down))


def logspace_values(start, end, steps: int, base: float, dtype: np.dtype) -> np.ndarray:
    """torch.logspace: base ** (the exponents linspace would give), the exponents counted in double from
    start and end as `dtype` values, the power of the double base taken in double and rounded to `dtype`.
    Its kernel is built without FMA, so here the exponents round twice."""
    dtype = np.dtype(dtype)
    if steps <= 1:
        return np.full(steps, math.pow(float(base), float(start)), dtype)
    first, last = float(dtype.type(start)), float(dtype.type(end))
    step = float(dtype.type(last) - dtype.type(first)) / (steps - 1)
    index = np.arange(steps, dtype=np.float64)
    half = steps // 2
    exponent = np.empty(steps, np.float64)
    exponent[:half] = first + step * index[:half]
    exponent[half:] = last - step * (steps - 1 - index[half:])
    base = float(base)
    # the C library's pow, as PyTorch's: NumPy's vectorised power differs from it in the last bit
    return np.fromiter((math.pow(base, e) for e in exponent.tolist()), np.float64, steps).astype(dtype)
