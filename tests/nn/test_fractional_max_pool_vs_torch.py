"""F.fractional_max_pool2d/3d and nn.FractionalMaxPool2d/3d against torch: values, indices and gradients over
drawn shapes, kernels, output sizes, samples and dtypes (float32's rounding of the window starts included);
samples drawn from the seed; output_ratio; NaN windows; nodes; the argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


@st.composite
def _cases(draw):
    dims = draw(st.sampled_from([2, 3]))
    batched = draw(st.booleans())
    channels = draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(dims)]
    # PyTorch's bound: out + kernel - 1 ≤ size in 2-D, < size in 3-D
    slack = 0 if dims == 2 else 1
    output = [draw(st.integers(1, 4)) for _ in range(dims)]
    spatial = [o + k - 1 + slack + draw(st.integers(0, 5)) for o, k in zip(output, kernel, strict=True)]
    batch = draw(st.integers(1, 2)) if batched else None
    return dims, batch, channels, kernel, output, spatial, draw(st.sampled_from(["float32", "float64"]))


def _run(lib, case, seed):
    dims, batch, channels, kernel, output, spatial, dtype = case
    rng = np.random.default_rng(seed)
    shape = ([batch] if batch else []) + [channels] + spatial
    x = lib.tensor(rng.normal(size=shape).astype(dtype), requires_grad=True)
    samples = lib.tensor(rng.uniform(size=(batch or 1, channels, dims)).astype(dtype))
    pool = lib.nn.functional.fractional_max_pool2d if dims == 2 else lib.nn.functional.fractional_max_pool3d
    values, indices = pool(x, kernel, output_size=output, return_indices=True, _random_samples=samples)
    (grad,) = lib.autograd.grad((values * values).sum(), x)
    return [values.detach().numpy(), indices.numpy(), grad.numpy(), values.grad_fn.name()]


@settings(deadline=None, max_examples=150)
@given(case=_cases(), seed=st.integers(0, 2**16))
def test_values_indices_and_gradients_match_torch(case, seed):
    ours, theirs = _run(gradscope, case, seed), _run(torch, case, seed)
    for a, b in zip(ours[:3], theirs[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours[3] == theirs[3]


def test_drawn_samples_ratio_modules_nan_and_saved_values():
    def run(lib):
        lib.manual_seed(3)
        x = lib.randn(2, 3, 9, 11, requires_grad=True)
        seen = [np.round(lib.nn.functional.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5)).detach().numpy(),
                         5).tolist()]
        pool = lib.nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True)
        values, indices = pool(x)
        node = values.grad_fn
        seen += [repr(pool), list(pool.state_dict()), indices.tolist(), node.name(), node._saved_kernel_size,
                 node._saved_output_size, node._saved_result1.tolist(), tuple(node._saved_self.shape)]
        pool3 = lib.nn.FractionalMaxPool3d(2, output_size=(2, 3, 4), _random_samples=lib.rand(1, 2, 3))
        seen += [repr(pool3), list(pool3.state_dict()),
                 np.round(pool3(lib.randn(1, 2, 5, 6, 7)).numpy(), 5).tolist()]
        nan = lib.tensor([[[[1.0, float("nan"), 3.0, float("nan")], [2.0, 2.0, 2.0, 2.0]]]])
        seen.append(lib.nn.functional.fractional_max_pool2d(nan, 2, output_size=(1, 1), return_indices=True,
                                                            _random_samples=lib.zeros(1, 1, 2))[1].tolist())
        return seen

    assert run(gradscope) == run(torch)


def test_argument_errors_match_torch():
    def run(lib):
        F = lib.nn.functional
        x = lib.randn(2, 3, 7, 9)
        samples = lib.rand(2, 3, 2)
        calls = [
            lambda: F.fractional_max_pool2d(x, 2, output_size=(7, 5)),
            lambda: F.fractional_max_pool2d(x, 2, output_size=(4, 9)),
            lambda: F.fractional_max_pool2d(x, 8, output_size=(4, 5)),
            lambda: F.fractional_max_pool2d(x[0, 0], 2, output_size=(4, 5)),
            lambda: F.fractional_max_pool2d(x, 2, output_size=(4, 5), _random_samples=lib.rand(2, 3, 3)),
            lambda: F.fractional_max_pool2d(x, 2, output_size=(4, 5), _random_samples=lib.rand(1, 3, 2)),
            lambda: F.fractional_max_pool2d(x, 2, output_size=(4, 5), _random_samples=samples.double()),
            lambda: F.fractional_max_pool2d(x, (2, 2, 2), output_size=(4, 5), _random_samples=samples),
            lambda: F.fractional_max_pool2d(x, 2, output_size=(4, 5, 1), _random_samples=samples),
            lambda: F.fractional_max_pool2d(x, 2),
            lambda: F.fractional_max_pool2d(x, 2, output_ratio=0.5),
            lambda: F.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5, 0.5)),
            lambda: F.fractional_max_pool3d(x, 2, output_size=(2, 3, 4)),
            lambda: F.fractional_max_pool3d(x[None], 2, output_size=(1, 6, 4)),
            lambda: F.fractional_max_pool3d(x[None], 2, output_size=(1, 3, 8)),
            lambda: lib.nn.FractionalMaxPool2d(2),
            lambda: lib.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5),
            lambda: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5),
            lambda: lib.nn.FractionalMaxPool3d(0, output_size=2),
        ]
        return [_error(call) for call in calls]

    assert run(gradscope) == run(torch)
