"""Summary statistics of a tensor: what the report, the TUI and the checks show about it."""

from __future__ import annotations

import math
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from gradscope._quiet import loud, quiet

HISTOGRAM_BINS = 16
MAX_DIMS = 64  # NumPy's own limit
DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                    "float32", "float64", "complex64", "complex128"})  # what a recorded tensor can hold


@dataclass(frozen=True, slots=True)
class TensorStats:
    """Shape, dtype and value statistics of one tensor.

    `norm` is the L2 norm of every element: NaN when one is NaN, inf when one is infinite (a norm of
    the finite part alone would hide a broken gradient). `mean`, `std` (population: a single value's
    is 0), `min` and `max` describe the finite elements, next to the counts of the others.
    """

    shape: tuple[int, ...]
    dtype: str
    numel: int
    norm: float
    mean: float
    std: float
    min: float
    max: float
    nan: int
    posinf: int
    neginf: int
    zero_fraction: float
    histogram: tuple[int, ...]
    histogram_range: tuple[float, float]

    @property
    def nonfinite(self) -> int:
        return self.nan + self.posinf + self.neginf

    @property
    def finite(self) -> bool:
        return self.nonfinite == 0

    def to_json(self) -> dict:
        data = {field.name: getattr(self, field.name) for field in fields(self)}  # asdict deep-copies: slow
        data["shape"] = list(self.shape)
        data["histogram"] = list(self.histogram)
        data["histogram_range"] = list(self.histogram_range)
        return data

    @classmethod
    def from_json(cls, data: dict) -> TensorStats:
        """Statistics read back from JSON (non-finite figures may be the strings "nan", "inf", "-inf"),
        checked to be ones `compute_stats` could have produced; TypeError or ValueError otherwise.

        >>> TensorStats.from_json(compute_stats(np.ones(3)).to_json()).norm
        1.7320508075688772
        """
        shape = _counts(data["shape"])
        if len(shape) > MAX_DIMS:
            raise ValueError(f"{len(shape)} dimensions (at most {MAX_DIMS})")
        numel, nan, posinf, neginf = _counts([data["numel"], data["nan"], data["posinf"], data["neginf"]])
        if math.prod(shape) != numel:
            raise ValueError(f"shape {list(shape)} doesn't hold {numel} elements")
        finite = numel - nan - posinf - neginf
        if finite < 0:
            raise ValueError(f"{nan + posinf + neginf} non-finite values in {numel} elements")
        histogram = _counts(data["histogram"])
        if len(histogram) != HISTOGRAM_BINS or sum(histogram) > finite:
            raise ValueError(f"a histogram of {len(histogram)} counts totalling {sum(histogram)} "
                             f"({HISTOGRAM_BINS} counting at most {finite} finite values expected)")
        low, high = (_number(value) for value in _list(data["histogram_range"]))
        if not (math.isfinite(low) and math.isfinite(high) and low <= high
                or math.isnan(low) and math.isnan(high) and not any(histogram)):
            raise ValueError(f"histogram range [{low}, {high}]")
        figures = {key: _number(data[key]) for key in ("norm", "mean", "std", "min", "max", "zero_fraction")}
        if figures["norm"] < 0 or figures["std"] < 0 or not 0 <= figures["zero_fraction"] <= 1:
            raise ValueError(f"norm {figures['norm']}, std {figures['std']}, zero fraction {figures['zero_fraction']}")
        if data["dtype"] not in DTYPES:
            raise ValueError(f"dtype {reprlib.repr(data['dtype'])}")
        figures["norm"] = _whole_norm(figures["norm"], nan, posinf + neginf)
        return cls(shape=shape, dtype=data["dtype"], numel=numel, nan=nan, posinf=posinf, neginf=neginf,
                   histogram=histogram, histogram_range=(low, high), **figures)


def norm_sort_key(norm: float | None, largest_first: bool = True) -> tuple[int, float]:
    """A key that sorts norms largest (or smallest) first, but NaN, then inf, before every finite
    norm either way, and None (no gradient at all) last: a broken gradient is never at the bottom.

    >>> sorted([0.5, None, math.inf, 2.0, math.nan], key=norm_sort_key)
    [nan, inf, 2.0, 0.5, None]
    """
    if norm is None:
        return (3, 0.0)
    if math.isnan(norm):
        return (0, 0.0)
    if math.isinf(norm):
        return (1, 0.0)
    return (2, -norm if largest_first else norm)


def _whole_norm(norm: float, nan: int, infinite: int) -> float:
    """The norm of the whole tensor: traces written before norms counted non-finite values hold the
    finite part's."""
    return math.nan if nan else math.inf if infinite else norm


def _counts(values) -> tuple[int, ...]:
    """A JSON list of non-negative integers (not booleans)."""
    counts = tuple(_list(values))
    if not all(type(count) is int for count in counts) or counts and min(counts) < 0:
        raise TypeError(f"expected counts, got {reprlib.repr(values)}")
    return counts


def _number(value) -> float:
    if value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {reprlib.repr(value)}")
    return float(value)


def _list(value) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {reprlib.repr(value)}")
    return value


def compute_stats(array: np.ndarray) -> TensorStats:
    """Statistics of `array`. Non-finite values are counted, and left out of the other figures.

    Mean, std and norm accumulate in float64 (see `_moments`); the norm is non-finite when a value is.
    """
    token = quiet()
    try:
        return _compute(np.asarray(array))
    finally:
        loud(token)


# NOTE: a row's sums in a 2-D reduction are the 1-D reduction's bit for bit while the row fits NumPy's
# buffer (8192 elements; einsum's differ past it): bigger tensors are computed one at a time
BATCH_NUMEL = 4096
BATCH_BLOCK = 1 << 16  # elements computed together: the float64 copies that takes stay small


def compute_stats_each(arrays: Sequence[np.ndarray]) -> list[TensorStats]:
    """`[compute_stats(a) for a in arrays]` for arrays of one shape and dtype, the same figures bit for
    bit, computed together: a trace holds tens of thousands of small tensors, where a call per tensor
    costs far more than its arithmetic.

    >>> [s.mean for s in compute_stats_each([np.array([1.0, 2.0]), np.array([3.0, 5.0])])]
    [1.5, 4.0]
    """
    if not len(arrays):
        return []
    first = np.asarray(arrays[0])
    shape, numel = tuple(int(s) for s in first.shape), first.size
    if not 0 < numel <= BATCH_NUMEL or first.dtype.kind not in "biuf":
        return [compute_stats(array) for array in arrays]
    stats: list[TensorStats] = []
    step = max(1, BATCH_BLOCK // numel)
    token = quiet()
    try:
        for start in range(0, len(arrays), step):
            block = np.concatenate(arrays[start:start + step], axis=None)
            stats += _compute_each(block.reshape(-1, numel), shape)
    finally:
        loud(token)
    return stats


def _compute_each(rows: np.ndarray, shape: tuple[int, ...]) -> list[TensorStats]:
    """`_compute` of each row, vectorised over the rows that need neither a mask (NaN, inf) nor scaling
    (`_moments`): the same operations, in the same order, element by element; the others one by one."""
    dtype_name, numel = rows.dtype.name, rows.shape[1]
    numbers = rows.view(np.int8) if rows.dtype.kind == "b" else rows  # as _compute counts booleans
    low, high = numbers.min(axis=1).astype(np.float64), numbers.max(axis=1).astype(np.float64)
    largest = np.maximum(np.abs(low), np.abs(high))
    low_safe, high_safe = SAFE_MAGNITUDES
    plain = np.isfinite(low) & np.isfinite(high) & ((largest == 0) | (low_safe <= largest) & (largest <= high_safe))
    stats: list[TensorStats | None] = [None] * len(rows)
    for index in np.flatnonzero(~plain).tolist():
        stats[index] = _compute(rows[index].reshape(shape))
    picked = np.flatnonzero(plain)
    if not picked.size:
        return stats
    low, high = low[picked], high[picked]
    values = numbers[picked].astype(np.float64)
    zero_fraction = (numel - np.count_nonzero(values, axis=1)) / numel
    mean = np.add.reduce(values, axis=1) / numel
    deviations = values - mean[:, None]
    squared_deviations = np.einsum("ij,ij->i", deviations, deviations)  # as _moments: einsum, row by row
    norm = np.sqrt(squared_deviations + numel * mean * mean)
    std = np.sqrt(squared_deviations / numel)
    histograms = _histogram_each(values, low, high)
    for index, *figures in zip(picked.tolist(), norm.tolist(), mean.tolist(), std.tolist(), low.tolist(),
                               high.tolist(), zero_fraction.tolist(), histograms.tolist()):
        norm_, mean_, std_, low_, high_, zero_fraction_, histogram = figures
        stats[index] = TensorStats(shape, dtype_name, numel, norm_, mean_, std_, low_, high_, 0, 0, 0, zero_fraction_,
                                   tuple(histogram), (low_, high_))
    return stats


def _compute(array: np.ndarray) -> TensorStats:
    numel = int(array.size)
    dtype_name = array.dtype.name
    if array.dtype.kind == "b":
        array = array.astype(np.int8)
    elif array.dtype.kind == "c":
        array = np.abs(array)
    flat = array.ravel(order="K")  # a view in memory order: no copy of a transposed array
    shape = tuple(int(s) for s in array.shape)
    if numel == 0:
        return TensorStats(shape, dtype_name, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0, (0,) * HISTOGRAM_BINS,
                           (0.0, 0.0))
    nan = posinf = neginf = 0
    finite = flat
    low, high = float(flat.min()), float(flat.max())
    if not (np.isfinite(low) and np.isfinite(high)):  # min/max see every nan and inf: no mask otherwise
        finite_mask = np.isfinite(flat)
        finite = flat[finite_mask]
        nan = int(np.isnan(flat).sum())
        posinf = int(np.isposinf(flat).sum())
        neginf = int(np.isneginf(flat).sum())
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
    zero_fraction = float((numel - np.count_nonzero(flat)) / numel)
    if not finite.size:
        nothing = float("nan")
        return TensorStats(shape, dtype_name, numel, _whole_norm(nothing, nan, posinf + neginf), nothing, nothing,
                           nothing, nothing, nan, posinf, neginf, zero_fraction, (0,) * HISTOGRAM_BINS,
                           (nothing, nothing))
    mean, std, norm = _moments(finite, max(abs(low), abs(high)))
    norm = _whole_norm(norm, nan, posinf + neginf)  # as torch.linalg.norm gives it
    return TensorStats(
        shape=shape, dtype=dtype_name, numel=numel, norm=norm, mean=mean, std=std, min=low, max=high, nan=nan,
        posinf=posinf, neginf=neginf, zero_fraction=zero_fraction,
        histogram=tuple(int(c) for c in _histogram(_sample(finite), low, high)), histogram_range=(low, high),
    )


# Squares of magnitudes inside this range neither overflow nor underflow in float64
SAFE_MAGNITUDES = (1e-140, 1e140)


def _moments(finite: np.ndarray, largest: float) -> tuple[float, float, float]:
    """Mean, population standard deviation and L2 norm of finite values, accumulated in float64.

    Two passes: the mean, then the squared deviations from it. One pass (E[x²] - mean²) cancels
    catastrophically: a float32 tensor near 1000 with std 0.01 came out as 0.28. Values whose squares
    would overflow or underflow float64 are first scaled by a power of two (exact).
    """
    count = finite.size
    low, high = SAFE_MAGNITUDES
    exponent = 0 if largest == 0 or low <= largest <= high else math.frexp(largest)[1]
    values = np.ldexp(finite, -exponent, dtype=np.float64) if exponent else finite
    mean = float(np.add.reduce(values, dtype=np.float64)) / count
    deviations = values.astype(np.float64)
    deviations -= mean
    # NOTE: einsum, not np.dot: BLAS threads on a busy machine made dot 100× slower
    squared_deviations = float(np.einsum("i,i->", deviations, deviations))
    # Σx² = Σ(x - mean)² + count·mean²: no cancellation, both terms are non-negative
    norm = math.sqrt(squared_deviations + count * mean * mean)
    std = math.sqrt(squared_deviations / count)
    return _unscaled(mean, exponent), _unscaled(std, exponent), _unscaled(norm, exponent)


def _unscaled(value: float, exponent: int) -> float:
    """value·2**exponent; inf where that exceeds float64 (the norm of values near its limit can)."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return math.copysign(math.inf, value)


HISTOGRAM_SAMPLE = 65536


def _sample(values: np.ndarray) -> np.ndarray:
    """At most HISTOGRAM_SAMPLE evenly spaced values: the histogram of a big tensor is drawn from a
    sample (its range, from the exact min and max, is not)."""
    step = -(-values.size // HISTOGRAM_SAMPLE)
    return values[::step] if step > 1 else values


def _histogram_each(rows: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """`_histogram` of each row of finite float64 values (no sample: rows are small), as one array."""
    count = len(rows)
    span = high / 2 - low / 2
    spread = (span > 0) & np.isfinite(span)
    scale = np.where(spread, HISTOGRAM_BINS / 2 / np.where(spread, span, 1.0), 0.0)
    direct = np.isfinite(low * scale) & np.isfinite(high * scale)
    position = rows * scale[:, None]
    if not direct.all():
        position[~direct] = rows[~direct] / 2 * (2 * scale[~direct])[:, None]
    position -= (low * scale)[:, None]
    bins = position.astype(np.intp)
    np.clip(bins, 0, HISTOGRAM_BINS - 1, out=bins)
    bins += (np.arange(count) * HISTOGRAM_BINS)[:, None]
    counts = np.bincount(bins.ravel(), minlength=count * HISTOGRAM_BINS).reshape(count, HISTOGRAM_BINS)
    counts[~spread] = 0
    counts[~spread, HISTOGRAM_BINS // 2] = rows.shape[1]
    return counts


def _histogram(finite: np.ndarray, low: float, high: float) -> np.ndarray:
    """Counts in HISTOGRAM_BINS equal bins over [low, high]; halves first so huge ranges don't overflow."""
    span = high / 2 - low / 2
    if span <= 0 or not np.isfinite(span):
        counts = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
        counts[HISTOGRAM_BINS // 2] = finite.size
        return counts
    scale = HISTOGRAM_BINS / 2 / span  # not / (2 * span): that overflows for a range near float64's limit
    # NOTE: positions in float64: in float32, a scale past float32's range (a range of subnormals) or a
    # narrow range far from 0 (tanh saturated near 1) puts values whole bins off, even below 0
    values = finite.astype(np.float64, copy=False)
    position = values * scale if np.isfinite(low * scale) and np.isfinite(high * scale) else values / 2 * (2 * scale)
    position -= low * scale
    bins = position.astype(np.intp)
    np.clip(bins, 0, HISTOGRAM_BINS - 1, out=bins)  # the maximum reaches the top edge; rounding may pass either
    return np.bincount(bins, minlength=HISTOGRAM_BINS)
