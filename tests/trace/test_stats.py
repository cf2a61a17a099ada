"""Tensor statistics: what the report, the TUI and the checks show about a tensor."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradscope._stats import BATCH_NUMEL, HISTOGRAM_BINS, TensorStats, compute_stats, compute_stats_each, norm_sort_key


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


def test_non_finite_values_are_counted_and_left_out_of_the_figures_but_the_norm():
    values = np.array([np.nan, np.nan, np.inf, -np.inf, -np.inf, -np.inf, 0.0, 2.0], dtype=np.float32)
    stats = compute_stats(values)
    assert (stats.nan, stats.posinf, stats.neginf) == (2, 1, 3)
    assert stats.nonfinite == 6 and not stats.finite
    assert math.isnan(stats.norm)  # the norm of the tensor, not of its finite part
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


def test_float32_values_in_a_range_too_narrow_for_float32_bins_are_binned():
    # vanished gradients: float32 subnormals, whose bin scale (16 / range) is beyond float32's range
    tiny = np.linspace(-1.4e-38, 2.2e-38, 64, dtype=np.float32)
    stats = compute_stats(tiny)
    assert sum(stats.histogram) == 64 and stats.histogram[0] >= 1 and stats.histogram[-1] >= 1
    expected, _ = np.histogram(tiny.astype(np.float64), bins=16, range=(float(tiny.min()), float(tiny.max())))
    assert np.abs(np.array(stats.histogram) - expected).max() <= 1  # bin edges may round either way
    saturated = np.tanh(np.linspace(8, 9, 1000)).astype(np.float32)  # a narrow range far from 0
    expected, _ = np.histogram(saturated.astype(np.float64), bins=16,
                               range=(float(saturated.min()), float(saturated.max())))
    assert np.abs(np.array(compute_stats(saturated).histogram) - expected).max() <= 1


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


# ------------------------------------------------------------------------- honest numbers (issue 13)
def test_std_of_float32_values_near_1000_is_their_std():
    rng = np.random.default_rng(0)
    values = (1000 + 0.01 * rng.standard_normal(4096)).astype(np.float32)
    exact = values.astype(np.float64)
    stats = compute_stats(values)
    assert stats.std == pytest.approx(exact.std(), rel=1e-9)  # E[x²] - mean² in float32 gave 0.28
    assert stats.mean == pytest.approx(exact.mean(), rel=1e-12)
    assert stats.norm == pytest.approx(np.linalg.norm(exact), rel=1e-12)


@pytest.mark.parametrize("value", [1.0, 1234.567, -3e-20, 7e30])
def test_a_single_value_has_population_std_zero(value):
    torch = pytest.importorskip("torch")
    stats = compute_stats(np.array(value, dtype=np.float32))
    assert stats.std == 0.0  # one pass over float32 gave 5.6e-05 for a scalar
    assert stats.std == torch.tensor(value).std(correction=0).item()


def test_std_is_the_population_std_pytorch_gives_with_correction_0():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    values = rng.standard_normal((5, 7)) * 3 + 2
    expected = torch.from_numpy(values).std(correction=0).item()
    assert compute_stats(values).std == pytest.approx(expected, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(min_dims=0, max_dims=3, max_side=6),
                  elements=st.floats(-1e6, 1e6, width=32)),
       st.sampled_from([0.0, 1e3, -1e6]))
def test_mean_std_norm_match_pytorch_in_float64(values, offset):
    torch = pytest.importorskip("torch")
    values = np.asarray(values + offset, dtype=values.dtype)
    exact = torch.from_numpy(values.astype(np.float64))
    stats = compute_stats(values)
    assert stats.mean == pytest.approx(exact.mean().item(), rel=1e-9, abs=1e-9)
    assert stats.std == pytest.approx(exact.std(correction=0).item(), rel=1e-6, abs=1e-9)
    assert stats.norm == pytest.approx(torch.linalg.vector_norm(exact).item(), rel=1e-9)


@pytest.mark.parametrize(("values", "expected"), [([1.0, np.nan, 2.0], math.nan), ([1.0, np.inf, 2.0], math.inf),
                                                  ([-np.inf, 0.5], math.inf), ([np.nan, np.inf], math.nan),
                                                  ([np.inf, -np.inf], math.inf)])
def test_norm_of_a_tensor_with_non_finite_values_is_non_finite_as_pytorch_says(values, expected):
    torch = pytest.importorskip("torch")
    array = np.array(values, dtype=np.float32)
    norm = compute_stats(array).norm
    assert norm == expected or math.isnan(norm) and math.isnan(expected)
    assert str(norm) == str(torch.linalg.vector_norm(torch.from_numpy(array)).item())


def test_a_gradient_with_eight_nans_has_a_nan_norm_not_its_finite_part():
    grad = np.full(1000, 0.08 / math.sqrt(992), dtype=np.float32)
    grad[:8] = np.nan
    assert math.isnan(compute_stats(grad).norm)  # was 0.08


def test_tiny_float64_values_keep_their_norm_and_std():
    stats = compute_stats(np.array([1e-200, 3e-200]))  # squares underflow to 0 unless scaled
    assert stats.norm == pytest.approx(math.sqrt(10) * 1e-200)
    assert stats.std == pytest.approx(1e-200)


def test_a_trace_written_before_honest_norms_reads_back_non_finite_norms():
    data = compute_stats(np.array([1.0, 2.0, 2.0, 0.0])).to_json()
    data.update(numel=5, shape=[5], nan=1)  # an old file: the finite part's norm beside a NaN count
    assert math.isnan(TensorStats.from_json(data).norm)
    data.update(nan=0, posinf=1)
    assert TensorStats.from_json(data).norm == math.inf


def test_norm_sort_key_puts_non_finite_first_either_way_and_missing_last():
    norms = [0.5, None, math.inf, 2.0, math.nan, 1e-19]
    largest = sorted(norms, key=norm_sort_key)
    assert math.isnan(largest[0]) and largest[1:] == [math.inf, 2.0, 0.5, 1e-19, None]
    smallest = sorted(norms, key=lambda norm: norm_sort_key(norm, largest_first=False))
    assert math.isnan(smallest[0]) and smallest[1:] == [math.inf, 1e-19, 0.5, 2.0, None]


def _tensors_of_every_kind(dtype: str, shape: tuple[int, ...], rng) -> np.ndarray:
    """37 tensors of `shape`: scales from tiny to huge, and, in floats, every case _compute treats apart."""
    scales = rng.choice([1e-30, 1e-3, 1.0, 1e3, 1e30], size=(37,) + (1,) * len(shape))
    values = rng.standard_normal((37, *shape)) * scales
    if dtype == "bool":
        return values > 0
    if dtype[0] in "iu":
        limits = np.iinfo(dtype)
        return np.clip(values * 100, max(limits.min, -(2**62)), min(limits.max, 2**62)).astype(dtype)
    with np.errstate(over="ignore"):
        values = values.astype(dtype)
    rows = values.reshape(37, -1)
    if rows.shape[1]:
        rows[1], rows[2], rows[3, 0], rows[4, -1] = 0, 7.5, np.nan, np.inf
        rows[5], rows[6, 0], rows[7] = np.nan, -np.inf, -0.0
        rows[8, ::2] = 0
        rows[9] = np.finfo(dtype).max
        rows[10] = np.finfo(dtype).smallest_subnormal
        rows[11, 0] = np.finfo(dtype).max / 3
    return values


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "uint8", "uint64", "bool"])
@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 3), (16, 16), (BATCH_NUMEL,), (BATCH_NUMEL + 1,), (0,), (3, 0)])
def test_statistics_of_many_tensors_at_once_are_each_ones_bit_for_bit(dtype, shape):
    tensors = _tensors_of_every_kind(dtype, shape, np.random.default_rng(len(shape) + sum(shape)))
    # repr: NaN figures compare equal as text
    assert [repr(s) for s in compute_stats_each(tensors)] == [repr(compute_stats(t)) for t in tensors]
