"""Tensor statistics: what the report, the TUI and the checks show about a tensor."""

import math
import warnings

import numpy as np
import pytest

from gradscope._stats import HISTOGRAM_BINS, TensorStats, compute_stats


def finite_count(stats: TensorStats) -> int:
    return stats.numel - stats.nonfinite


def test_norm_mean_std_min_max_of_a_small_vector():
    stats = compute_stats(np.array([3.0, -4.0, 0.0, 1.0], dtype=np.float32))
    assert stats.shape == (4,)
    assert stats.dtype == "float32"
    assert stats.numel == 4
    assert stats.norm == pytest.approx(math.sqrt(26.0))
    assert stats.mean == pytest.approx(0.0)
    assert stats.std == pytest.approx(math.sqrt((9 + 16 + 0 + 1) / 4))
    assert (stats.min, stats.max) == (-4.0, 3.0)
    assert stats.zero_fraction == 0.25
    assert stats.finite and stats.nonfinite == 0
    assert stats.histogram_range == (-4.0, 3.0)


def test_non_finite_values_are_counted_and_left_out_of_the_figures():
    values = np.array([np.nan, np.nan, np.inf, -np.inf, -np.inf, -np.inf, 0.0, 2.0], dtype=np.float32)
    stats = compute_stats(values)
    assert (stats.nan, stats.posinf, stats.neginf) == (2, 1, 3)
    assert stats.nonfinite == 6 and not stats.finite
    assert stats.norm == pytest.approx(2.0)
    assert stats.mean == pytest.approx(1.0)
    assert (stats.min, stats.max) == (0.0, 2.0)
    assert stats.zero_fraction == pytest.approx(1 / 8)
    assert sum(stats.histogram) == finite_count(stats) == 2


def test_all_non_finite_gives_nan_figures_and_an_empty_histogram():
    stats = compute_stats(np.array([np.nan, np.inf]))
    assert (stats.nan, stats.posinf) == (1, 1)
    assert all(math.isnan(v) for v in (stats.norm, stats.mean, stats.std, stats.min, stats.max))
    assert sum(stats.histogram) == 0


@pytest.mark.parametrize("seed", range(5))
def test_histogram_sums_to_the_finite_count_and_bins_the_values(seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(7, 11)) * 10.0 ** rng.integers(-3, 4)
    values[rng.random(values.shape) < 0.1] = np.nan
    stats = compute_stats(values)
    assert len(stats.histogram) == HISTOGRAM_BINS
    assert sum(stats.histogram) == finite_count(stats)
    finite = values[np.isfinite(values)]
    low, high = stats.histogram_range
    assert (low, high) == (finite.min(), finite.max())
    # the extreme values land in the outer bins
    assert stats.histogram[0] >= 1 and stats.histogram[-1] >= 1
    expected, _ = np.histogram(finite, bins=HISTOGRAM_BINS, range=(low, high))
    assert np.abs(np.array(stats.histogram) - expected).sum() <= 2  # bin edges may round differently


def test_constant_tensor_puts_everything_in_one_bin():
    stats = compute_stats(np.full((3, 3), 5.0))
    assert sum(stats.histogram) == 9
    assert max(stats.histogram) == 9
    assert stats.std == 0.0
    assert stats.norm == pytest.approx(15.0)


def test_float32_extremes_do_not_overflow():
    values = np.array([3e38, -3e38, 1e38, 0.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = compute_stats(values)
    exact = values.astype(np.float64)
    assert stats.norm == pytest.approx(np.sqrt(np.sum(exact**2)))
    assert stats.mean == pytest.approx(exact.mean())
    assert stats.std == pytest.approx(exact.std())
    assert sum(stats.histogram) == 4
    assert stats.histogram[0] == 1 and stats.histogram[-1] == 1


def test_float64_extremes_keep_representable_figures_finite():
    big = 0.55 * np.finfo(np.float64).max  # a sum of two overflows; the norm, mean and std don't
    with np.errstate(all="ignore"):
        stats = compute_stats(np.array([big, big, -big]))
    assert stats.norm == pytest.approx(big * math.sqrt(3))
    assert sum(stats.histogram) == 3
    assert stats.mean == pytest.approx(big / 3)
    assert stats.std == pytest.approx(big / 3 * math.sqrt(8))  # in this order: big * sqrt(8) overflows


def test_empty_tensor():
    stats = compute_stats(np.zeros((0, 3), dtype=np.float32))
    assert stats.shape == (0, 3)
    assert stats.numel == 0
    assert stats.dtype == "float32"
    assert stats.nonfinite == 0
    assert stats.zero_fraction == 0.0
    assert sum(stats.histogram) == 0


def test_scalar_tensor():
    stats = compute_stats(np.array(-2.5))
    assert stats.shape == ()
    assert stats.numel == 1
    assert stats.norm == 2.5
    assert stats.min == stats.max == -2.5


def test_integer_tensor():
    stats = compute_stats(np.array([[1, -2], [0, 0]], dtype=np.int64))
    assert stats.dtype == "int64"
    assert stats.shape == (2, 2)
    assert stats.norm == pytest.approx(math.sqrt(5))
    assert stats.mean == pytest.approx(-0.25)
    assert (stats.min, stats.max) == (-2.0, 1.0)
    assert stats.zero_fraction == 0.5
    assert sum(stats.histogram) == 4


def test_bool_tensor_keeps_its_dtype():
    stats = compute_stats(np.array([True, False, False, True]))
    assert stats.dtype == "bool"
    assert stats.numel == 4
    assert stats.zero_fraction == 0.5
    assert stats.norm == pytest.approx(math.sqrt(2))
    assert sum(stats.histogram) == 4


def test_json_round_trip():
    stats = compute_stats(np.array([[1.0, np.inf], [0.0, -3.0]], dtype=np.float32))
    data = stats.to_json()
    assert data["shape"] == [2, 2]
    assert isinstance(data["histogram"], list)
    assert TensorStats.from_json(data) == stats
