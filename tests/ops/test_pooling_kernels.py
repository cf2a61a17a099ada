"""Max pooling's two ways of finding each window's pick (a pass per kernel position for small kernels, an argmax
over copied windows for large ones) agree with each other and with PyTorch, ties and NaNs included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope
from gradscope.ops import pooling as P

NAN = float("nan")


@settings(max_examples=60, deadline=None)
@given(kernel=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
       grid=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from(["float32", "float64", "int64"]), seed=st.integers(0, 2**16), disjoint=st.booleans())
def test_a_pass_per_position_picks_what_the_argmax_picks(kernel, grid, dtype, seed, disjoint):
    """Over strided views of the windows, or (`disjoint`, for windows sharing no element) over blocks of a
    position-major copy of them."""
    values = [-1.0, 0.0, 2.0, 2.0, NAN, -np.inf, np.inf] if dtype != "int64" else [-3, 0, 2, 2, 5]
    rng = np.random.default_rng(seed)
    view = np.array(values, dtype=dtype)[rng.integers(0, len(values), grid + kernel)]
    k = len(kernel)
    by_position = P.max_over_positions(view, kernel, disjoint)
    by_argmax = P.max_by_argmax(view.reshape(grid + (-1,)))
    np.testing.assert_array_equal(by_position[0], by_argmax[0])
    np.testing.assert_array_equal(by_position[1], by_argmax[1])
    assert by_position[0].dtype == view.dtype and by_position[0].shape == view.shape[:-k]


def _torch_pair(call, x):
    torch = pytest.importorskip("torch")
    return [tuple(t.detach().numpy() for t in call(lib, lib.tensor(x))) for lib in (gradscope, torch)]


@pytest.mark.parametrize("dims, kernel, stride, padding, dilation, ceil_mode", [
    (2, 2, 2, 0, 1, False),     # 4 positions: a pass each
    (2, 3, 2, 1, 1, True),      # 9, padded, ceil_mode
    (2, (2, 3), 1, 1, 2, False),
    (2, 5, 2, 2, 1, False),     # 25: the argmax
    (1, 3, 1, 1, 1, False),
    (3, 2, 1, 1, 1, True),      # 8
    (3, 3, 2, 1, 1, False),     # 27: the argmax
])
def test_max_pool_with_ties_and_nans_matches_torch(dims, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch picks a window's first maximum, or its last NaN; an all -inf window padded on the left reports its
    first element inside the input."""
    shape = (2, 3) + (7, 8, 6)[:dims]
    rng = np.random.default_rng(dims * 10 + padding)
    x = np.array([-1.0, 0.0, 1.0, 1.0, NAN, -np.inf])[rng.integers(0, 6, shape)]
    x[(0, 0) + (slice(0, 3),) * dims] = -np.inf
    name = f"max_pool{dims}d"
    ours, theirs = _torch_pair(lambda lib, t: getattr(lib.nn.functional, name)(
        t, kernel, stride, padding, dilation, ceil_mode, return_indices=True), x)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


@pytest.mark.parametrize("output_size", [(2, 3), (3, 3), 1])
def test_adaptive_max_pool_with_nans_at_window_ends_matches_torch(output_size):
    rng = np.random.default_rng(3)
    x = np.array([-1.0, 0.0, 1.0, 1.0, NAN])[rng.integers(0, 5, (2, 2, 7, 5))]
    x[..., -1] = NAN  # the last element of every last window: repeated where the gather pads
    ours, theirs = _torch_pair(lambda lib, t: lib.nn.functional.adaptive_max_pool2d(t, output_size, True), x)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
