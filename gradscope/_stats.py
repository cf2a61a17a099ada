"""Summary statistics of a tensor: what the report, the TUI and the checks show about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

HISTOGRAM_BINS = 16


@dataclass(frozen=True)
class TensorStats:
    """Shape, dtype and value statistics of one tensor; finite-only for norm/mean/std/min/max."""

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
        data = asdict(self)
        data["shape"] = list(self.shape)
        data["histogram"] = list(self.histogram)
        data["histogram_range"] = list(self.histogram_range)
        return data

    @classmethod
    def from_json(cls, data: dict) -> TensorStats:
        values = dict(data)
        values["shape"] = tuple(int(s) for s in values["shape"])
        values["histogram"] = tuple(int(c) for c in values["histogram"])
        values["histogram_range"] = tuple(float(v) for v in values["histogram_range"])
        return cls(**values)


def compute_stats(array: np.ndarray) -> TensorStats:
    """Statistics of `array`. Non-finite values are counted, and left out of the other figures."""
    array = np.asarray(array)
    numel = int(array.size)
    dtype_name = array.dtype.name
    if array.dtype.kind == "b":
        array = array.astype(np.int8)
    if array.dtype.kind == "c":
        array = np.abs(array)
    flat = array.reshape(-1).astype(np.float64, copy=False)
    if numel == 0:
        return TensorStats(tuple(array.shape), dtype_name, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0,
                           (0,) * HISTOGRAM_BINS, (0.0, 0.0))
    finite_mask = np.isfinite(flat)
    if finite_mask.all():
        finite = flat
        nan = posinf = neginf = 0
    else:
        finite = flat[finite_mask]
        nan = int(np.isnan(flat).sum())
        posinf = int(np.isposinf(flat).sum())
        neginf = int(np.isneginf(flat).sum())
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        histogram = _histogram(finite, low, high)
        # NOTE: scale first, so sums and squares of huge values don't overflow to inf
        scale = max(abs(low), abs(high))
        if scale > 0:
            scaled = finite / scale
            mean, std = float(scale * scaled.mean()), float(scale * scaled.std())
            norm = float(scale * np.sqrt(np.sum(scaled * scaled)))
        else:
            mean = std = norm = 0.0
    else:
        low = high = mean = std = norm = float("nan")
        histogram = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
    return TensorStats(
        shape=tuple(int(s) for s in array.shape), dtype=dtype_name, numel=numel, norm=norm,
        mean=mean, std=std, min=low, max=high, nan=nan, posinf=posinf, neginf=neginf,
        zero_fraction=float(np.count_nonzero(flat == 0) / numel),
        histogram=tuple(int(c) for c in histogram),
        histogram_range=(low, high) if finite.size else (float("nan"), float("nan")),
    )


def _histogram(finite: np.ndarray, low: float, high: float) -> np.ndarray:
    """Counts in HISTOGRAM_BINS equal bins over [low, high]; halves first so huge ranges don't overflow."""
    span = high / 2 - low / 2
    if span <= 0 or not np.isfinite(span):
        counts = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
        counts[HISTOGRAM_BINS // 2] = finite.size
        return counts
    position = (finite / 2 - low / 2) / span * HISTOGRAM_BINS
    bins = np.clip(position.astype(np.int64), 0, HISTOGRAM_BINS - 1)
    return np.bincount(bins, minlength=HISTOGRAM_BINS)
