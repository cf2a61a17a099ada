"""arange, linspace and logspace give PyTorch's CPU values to the bit (gradscope.ops.ranges: its kernels fuse
`start + step * i` into one rounding and fill arange a vector register at a time), take PyTorch's sizes and
raise its errors; affine_grid's sampling grid, built on linspace, is PyTorch's to the bit, so grid_sample reads
the same pixels."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")

FLOATS = ("float32", "float64")
bounds = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


def _same(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", FLOATS)
@settings(max_examples=150, deadline=None)
@given(start=bounds, length=st.floats(min_value=0.01, max_value=500), count=st.integers(1, 3000),
       descending=st.booleans())
def test_arange_values(dtype, start, length, count, descending):
    step = length / count * (-1 if descending else 1)
    end = start + step * count
    _same(gradscope.arange(start, end, step, dtype=getattr(gradscope, dtype)),
          torch.arange(start, end, step, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("args", [(10,), (2.5,), (0, 1, 0.1), (-math.pi, math.pi, 0.01), (3, -2, -0.7),
                                  (0.5, 3.7, 1), (-2.5, 3, 2), (0, 3, 0.5), (float("inf"),), (0, 3, 1.5),
                                  (-7, 8, 3), (10, 0, -3)])
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "int64", "int32", "int16", "uint8"])
def test_arange_sizes_and_dtypes(args, dtype):
    """Integer dtypes truncate start, end and step (int64 counts its size from the truncated values, the others
    from the given ones), so a fractional step can give zeros, or an error."""
    try:
        theirs = torch.arange(*args, dtype=dtype and getattr(torch, dtype))
    except Exception as error:
        with pytest.raises(type(error), match="^" + re.escape(str(error)) + "$"):
            gradscope.arange(*args, dtype=dtype and getattr(gradscope, dtype))
        return
    _same(gradscope.arange(*args, dtype=dtype and getattr(gradscope, dtype)), theirs)


@pytest.mark.parametrize("dtype", FLOATS)
@settings(max_examples=150, deadline=None)
@given(start=bounds, end=bounds, steps=st.integers(0, 2000))
def test_linspace_values(dtype, start, end, steps):
    _same(gradscope.linspace(start, end, steps, dtype=getattr(gradscope, dtype)),
          torch.linspace(start, end, steps, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("dtype", FLOATS)
@settings(max_examples=100, deadline=None)
@given(start=st.floats(-8, 8), end=st.floats(-8, 8), steps=st.integers(0, 300),
       base=st.sampled_from([10.0, 2.0, math.e, 0.5, 3]))
def test_logspace_values(dtype, start, end, steps, base):
    _same(gradscope.logspace(start, end, steps, base, dtype=getattr(gradscope, dtype)),
          torch.logspace(start, end, steps, base, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("call", [
    "arange(0, 10, 0)", "arange(0, -10, 1)", "arange(10, 0)", "arange(float('inf'))", "arange(float('nan'))",
    "arange(0, 1, 0.3, dtype=T.int64)", "arange(1e20)", "arange(0, 1, 1e-19)", "arange(0, 3, dtype=T.complex64)",
    "arange(0, 5, 1, dtype=T.bool)", "linspace(0, 1, -1)", "logspace(0, 1, -2)"])
def test_errors(call):
    with pytest.raises(Exception) as theirs:
        eval("T." + call, {"T": torch})
    with pytest.raises(type(theirs.value), match="^" + re.escape(str(theirs.value)) + "$"):
        eval("T." + call, {"T": gradscope})


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 1, 28, 28), (1, 3, 7, 5), (1, 1, 29, 64), (1, 1, 4, 6, 9)])
def test_affine_grid_is_pytorchs_to_the_bit(align_corners, size):
    """An identity transform puts every sampling point exactly on a pixel: an ulp off, and grid_sample's
    gradient reads the neighbouring pixel."""
    k = len(size) - 2
    theta = np.concatenate([np.eye(k), np.zeros((k, 1))], axis=1)[None].repeat(size[0], 0).astype(np.float32)
    theta[..., -1] += np.float32(0.03)
    ours = gradscope.nn.functional.affine_grid(gradscope.tensor(theta), size, align_corners=align_corners)
    theirs = torch.nn.functional.affine_grid(torch.tensor(theta), size, align_corners=align_corners)
    _same(ours.detach(), theirs)
