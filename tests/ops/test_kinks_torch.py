"""Gradients at kinks, poles and ties of the torch.* functions beyond the basics: PyTorch's choice, stated
by hand. test_kinks.py runs the table (`TORCH_KINKS` here joins its own); what is not a table row is here."""

from __future__ import annotations

import math
import warnings

import pytest

import gradscope
from gradscope.autograd import errors

INF, NAN = math.inf, math.nan
SELU_SCALE, SELU_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717

# name: (call on float64 leaves, input values, expected gradient of call(...).sum() for each input)
TORCH_KINKS = {
    "xlogy at x = 0: log y where y > 0, else 0; y's is x / y": (
        lambda lib, x, y: lib.xlogy(x, y), [[0.0, 0.0, 0.0, 2.0], [0.5, -1.0, 0.0, 3.0]],
        [[math.log(0.5), 0.0, 0.0, math.log(3.0)], [0.0, -0.0, NAN, 2 / 3]]),
    "xlogy by a number at x = 0": (lambda lib, x: x.xlogy(-1.0), [[0.0, 1.0]], [[0.0, NAN]]),
    "atan2 at the origin is 0": (lambda lib, y, x: lib.atan2(y, x), [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                                 [[0.0, 0.0, 1.0], [-0.0, -1.0, -0.0]]),
    "fmod: the divisor gets -trunc(x / y)": (lambda lib, x, y: lib.fmod(x, y), [[5.5, -5.5, 4.0], [2.0, 2.0, 2.0]],
                                             [[1.0, 1.0, 1.0], [-2.0, 2.0, -2.0]]),
    "remainder: the divisor gets -floor(x / y)": (lambda lib, x, y: x.remainder(y), [[5.5, -5.5, 4.0], [2.0, 2.0, 2.0]],
                                                  [[1.0, 1.0, 1.0], [-2.0, 3.0, -2.0]]),
    "frac passes the gradient at integers": (lambda lib, x: x.frac(), [[1.0, -2.0, 0.5]], [[1.0, 1.0, 1.0]]),
    "nan_to_num passes it only where the input is finite": (lambda lib, x: x.nan_to_num(), [[1.0, INF, -INF, NAN]],
                                                            [[1.0, 0.0, 0.0, 0.0]]),
    "lgamma at its poles: digamma's -inf and nan": (lambda lib, x: lib.lgamma(x), [[0.0, -1.0, 1.0]],
                                                    [[-INF, NAN, -0.5772156649015329]]),
    "erfinv at ±1 is inf": (lambda lib, x: x.erfinv(), [[1.0, -1.0, 0.0]], [[INF, INF, math.sqrt(math.pi) / 2]]),
    "lerp with a tensor weight: weight gets end - start": (
        lambda lib, a, b, w: lib.lerp(a, b, w), [[1.0, 2.0], [3.0, 2.0], [0.5, 2.0]],
        [[0.5, -1.0], [0.5, 2.0], [2.0, 0.0]]),
    "cumprod with zeros: exact products, nothing after the first zero": (
        lambda lib, x: x.cumprod(1), [[[1.0, 0.0, 2.0, 0.0, 3.0], [2.0, 3.0, 0.0, 4.0, 5.0]]],
        [[[1.0, 3.0, 0.0, 0.0, 0.0], [4.0, 2.0, 6 + 24 + 120, 0.0, 0.0]]]),
    "cummax ties go to the latest index, nans to each nan": (
        lambda lib, x: x.cummax(0).values, [[1.0, 3.0, 3.0, 2.0, NAN, 5.0, NAN]],
        [[1.0, 1.0, 2.0, 0.0, 2.0, 0.0, 1.0]]),
    "cummin ties go to the latest index": (lambda lib, x: lib.cummin(x, 0)[0], [[3.0, 1.0, 1.0, 2.0]],
                                           [[1.0, 1.0, 2.0, 0.0]]),
    "logcumsumexp at -inf is nan, as PyTorch's": (lambda lib, x: x.logcumsumexp(0), [[-INF, 0.0, 1.0]],
                                                 [[NAN, 1 + 1 / (1 + math.e), math.e / (1 + math.e)]]),
    "scatter_reduce amax: ties between self and src share evenly": (
        lambda lib, x, s: x.scatter_reduce(0, lib.tensor([0, 0, 1]), s, "amax"), [[2.0, 1.0], [2.0, 2.0, 0.5]],
        [[1 / 3, 1.0], [1 / 3, 1 / 3, 0.0]]),
    "scatter_reduce prod with zeros: products of the others": (
        lambda lib, x, s: x.scatter_reduce(0, lib.tensor([0, 0, 1, 1]), s, "prod"), [[3.0, 0.0], [0.0, 2.0, 0.0, 0.0]],
        [[0.0, 0.0], [6.0, 0.0, 0.0, 0.0]]),
    "scatter_reduce prod without self, a single zero": (
        lambda lib, x, s: lib.scatter_reduce(x, 0, lib.tensor([0, 0]), s, "prod", include_self=False),
        [[3.0, 5.0], [0.0, 4.0]], [[0.0, 1.0], [4.0, 0.0]]),
    "scatter overwrites: the replaced elements get nothing": (
        lambda lib, x, s: x.scatter(0, lib.tensor([2]), s), [[1.0, 2.0, 3.0], [5.0]], [[1.0, 1.0, 0.0], [1.0]]),
    "index_add, take, put(accumulate) add up repeated indices": (
        lambda lib, x, s: x.index_add(0, lib.tensor([1, 1]), s) * x.take(lib.tensor([0, 0])).sum()
        + x.put(lib.tensor([1, 1]), s, accumulate=True),
        [[1.0, 2.0], [3.0, 4.0]], [[2 * 10 + 2 + 1, 2 + 1], [2 + 1, 2 + 1]]),
    "unfold: overlapping windows add up": (lambda lib, x: x.unfold(0, 2, 1), [[1.0, 2.0, 3.0]], [[1.0, 2.0, 1.0]]),
    "masked_select with a mask broadcast over the input": (
        lambda lib, x: x.masked_select(lib.tensor([[True, False], [True, True]])), [[1.0, 2.0]], [[2.0, 1.0]]),
    "sort: equal values keep their order, each gradient goes back to its own position": (
        lambda lib, x: x.sort(descending=True).values * lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=x.dtype),
        [[1.0, 3.0, 3.0, 2.0]], [[4.0, 1.0, 2.0, 3.0]]),
    "median of all elements: ties share evenly, the lower middle of an even count": (
        lambda lib, x: x.median(), [[3.0, 1.0, 3.0, 2.0, 3.0]], [[1 / 3, 0.0, 1 / 3, 0.0, 1 / 3]]),
    "median is nan with a nan, which gets the gradient": (lambda lib, x: lib.median(x), [[1.0, NAN, 0.0]],
                                                         [[0.0, 1.0, 0.0]]),
    "max and min of all elements are nan with a nan: the nans share the gradient": (
        lambda lib, x: x.max() + lib.min(x), [[1.0, NAN, 0.0, NAN]], [[0.0, 1.0, 0.0, 1.0]]),
    "elu, selu, celu and hardswish at a nan: the slope past the kink, as PyTorch's kernels test x <= 0": (
        lambda lib, x: lib.F.elu(x) + lib.F.selu(x) + lib.F.celu(x, 2.0) + lib.F.hardswish(x), [[NAN, -1.0, 1.0]],
        [[3 + SELU_SCALE, math.exp(-1) * (1 + SELU_SCALE * SELU_ALPHA) + math.exp(-0.5) + 1 / 6,
          3 + SELU_SCALE - 1 / 6]]),
    "elu_ at a nan: its rule from the result takes the slope past the kink too": (
        lambda lib, x: lib.F.elu(x * 1, inplace=True), [[NAN, -1.0]], [[1.0, math.exp(-1)]]),
    "abs at a nan: PyTorch's sign of a nan is 0": (lambda lib, x: x.abs(), [[NAN, -2.0, 0.0]], [[0.0, -1.0, 0.0]]),
    "vector_norm's inf, -inf and 1-norms with a nan: the nan is an extreme, and its sign 0 gives it nothing": (
        lambda lib, x: lib.linalg.vector_norm(x, INF) + lib.linalg.vector_norm(x, -INF) + lib.linalg.vector_norm(x, 1),
        [[NAN, 1.0, -2.0]], [[0.0, 1.0, -1.0]]),
    "maximum and minimum at a nan: a nan loses no comparison, so both inputs get the gradient, as PyTorch's": (
        lambda lib, x, y: lib.maximum(x, y) + lib.minimum(x, y), [[NAN, 1.0, 2.0, 3.0], [1.0, NAN, 2.0, 0.0]],
        [[2.0, 2.0, 1.0, 1.0], [2.0, 2.0, 1.0, 1.0]]),
    "remainder's divisor gets minus floor division's quotient: 2 // -inf is -1": (
        lambda lib, x, y: lib.remainder(x, y), [[2.0, 5.5], [-INF, -2.0]], [[1.0, 1.0], [1.0, 3.0]]),
    "median along a dim: ties go to the index in stable order": (
        lambda lib, x: x.median(1).values, [[[1.0, 3.0, 3.0, 2.0], [2.0, 2.0, 1.0, 1.0]]],
        [[[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]]]),
    "nansum and nanmean: nans get 0": (lambda lib, x: x.nansum() + x.nanmean(), [[1.0, NAN, 3.0]],
                                      [[1.5, 0.0, 1.5]]),
    "std_mean of a constant slice: std's gradient is 0 there": (
        lambda lib, x: lib.std_mean(x, 1)[0] + lib.std_mean(x, 1)[1], [[[2.0, 2.0], [1.0, 3.0]]],
        [[[0.5, 0.5], [0.5 - 1 / math.sqrt(2), 0.5 + 1 / math.sqrt(2)]]]),
    "cdist at zero distance: p = 2 gives 0, p = 1 sign(0) = 0": (
        lambda lib, a, b: lib.cdist(a, b) + lib.cdist(a, b, 1), [[[1.0, 2.0]], [[1.0, 2.0], [2.0, 2.0]]],
        [[[-2.0, 0.0]], [[0.0, 0.0], [2.0, 0.0]]]),
    "cdist with p = inf: each tied maximum gets the whole gradient (unlike norm's)": (
        lambda lib, a, b: lib.cdist(a, b, float("inf")), [[[0.0, 0.0]], [[1.0, -1.0]]], [[[-1.0, 1.0]], [[1.0, -1.0]]]),
    "dist of equal tensors is 0 with gradient 0": (lambda lib, a, b: lib.dist(a, b), [[1.0, 2.0], [1.0, 2.0]],
                                                   [[0.0, 0.0], [0.0, 0.0]]),
    "normal and bernoulli: zero gradients, not the derivative of the draw": (
        lambda lib, m, p: lib.normal(m, 0.0) + lib.bernoulli(p), [[1.0, 2.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]),
}


@pytest.mark.parametrize("values", [[[1.0, 0.0, 2.0, 0.0, 3.0], [2.0, 3.0, 0.0, 4.0, 5.0]], [[0.0, 0.0, 2.0]]])
def test_cumprod_with_zeros_is_differentiable_twice(values):
    """The create_graph gradient of cumprod at zeros is built from differentiable pieces (an n x n table of
    products): its own gradient matches central differences."""
    x = gradscope.tensor(values, dtype=gradscope.float64, requires_grad=True)
    assert gradscope.autograd.gradgradcheck(lambda t: t.cumprod(-1), (x,))


def test_deprecated_products_warn_once():
    """chain_matmul and cross without dim warn once per process, as PyTorch's TORCH_WARN_ONCE."""
    errors._WARNED.difference_update({"chain_matmul", "cross"})
    a = gradscope.ones(3, 3)
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
        gradscope.chain_matmul(a, a)
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim arg is deprecated"):
        gradscope.cross(a, a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradscope.chain_matmul(a, a)
        gradscope.cross(a, a)
