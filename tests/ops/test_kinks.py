"""Gradients at kinks and ties, where the derivative is a choice: PyTorch's choice, stated by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from finite_differences import Lib
from kinks_linalg_nn import LINALG_NN_KINKS
from test_kinks_nn import NN_KINKS
from test_kinks_torch import TORCH_KINKS

import gradscope

INF = math.inf

# name: (call on float64 leaves, input values, expected gradient of call(...).sum() for each input)
KINKS = {
    "relu at 0 is 0": (lambda lib, x: lib.relu(x), [[0.0, -1.0, 2.0]], [[0.0, 0.0, 1.0]]),
    "abs at 0 is 0": (lambda lib, x: x.abs(), [[0.0, -1.0]], [[0.0, -1.0]]),
    "leaky_relu at 0 takes the slope": (lambda lib, x: lib.F.leaky_relu(x, 0.1), [[0.0]], [[0.1]]),
    "sign, floor, round at their jumps are 0": (lambda lib, x: x.sign() + x.floor() + x.round(),
                                                [[0.0, 1.0, 0.5]], [[0.0, 0.0, 0.0]]),
    "max() ties split evenly": (lambda lib, x: x.max(), [[1.0, 3.0, 3.0, 3.0]], [[0.0, 1 / 3, 1 / 3, 1 / 3]]),
    "min() ties split evenly": (lambda lib, x: lib.min(x), [[1.0, 1.0, 3.0]], [[0.5, 0.5, 0.0]]),
    "max(dim) ties go to the first index": (lambda lib, x: x.max(1)[0], [[[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]],
                                            [[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]]),
    "min(dim) ties go to the first index": (lambda lib, x: x.min(0).values, [[[1.0, 3.0], [1.0, 2.0]]],
                                            [[[1.0, 0.0], [0.0, 1.0]]]),
    "amax ties split evenly per slice": (lambda lib, x: x.amax(1), [[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]],
                                         [[[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]]),
    "amin ties split evenly": (lambda lib, x: x.amin(), [[[1.0, 1.0], [2.0, 1.0]]], [[[1 / 3, 1 / 3], [0.0, 1 / 3]]]),
    "maximum ties give half to each": (lambda lib, a, b: lib.maximum(a, b), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]],
                                       [[0.5, 1.0, 0.5], [0.5, 0.0, 0.5]]),
    "minimum ties give half to each": (lambda lib, a, b: lib.minimum(a, b), [[1.0, 2.0], [1.0, 5.0]],
                                       [[0.5, 1.0], [0.5, 0.0]]),
    "clamp passes the gradient at its bounds": (lambda lib, x: x.clamp(-1.0, 1.0), [[-1.0, 1.0, 0.0, 2.0, -2.0]],
                                                [[1.0, 1.0, 1.0, 0.0, 0.0]]),
    "clamp(min) at the bound": (lambda lib, x: x.clamp(min=0.0), [[0.0, -1.0]], [[1.0, 0.0]]),
    "clamp(max) at the bound": (lambda lib, x: x.clamp(max=0.0), [[0.0, 1.0]], [[1.0, 0.0]]),
    "clamp by tensors: at the bounds, and min > max": (
        lambda lib, x, lo, hi: x.clamp(lo, hi),
        [[0.0, 1.0, 0.5, 2.0, 0.75, 3.0], [1.0, 1.0, 0.5, 1.0, 1.0, 1.0], [0.5, 2.0, 2.0, 2.0, 0.75, 0.5]],
        [[0.0, 1.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 1.0, 1.0]]),
    "clamp_min by a tensor at the bound": (lambda lib, x, lo: x.clamp_min(lo), [[0.5, 0.0, 2.0], [0.5, 1.0, 1.0]],
                                           [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
    "2-norm of 0 is 0": (lambda lib, x: x.norm(), [[0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]]),
    "2-norm of a zero row": (lambda lib, x: x.norm(dim=1), [[[0.0, 0.0], [3.0, 4.0]]], [[[0.0, 0.0], [0.6, 0.8]]]),
    "1-norm at 0 is sign(0) = 0": (lambda lib, x: x.norm(1), [[0.0, 0.0, 1.0]], [[0.0, 0.0, 1.0]]),
    "inf-norm of 0 is 0": (lambda lib, x: x.norm(INF), [[0.0, 0.0]], [[0.0, 0.0]]),
    "inf-norm ties split evenly": (lambda lib, x: x.norm(INF), [[1.0, -2.0, 2.0]], [[0.0, -0.5, 0.5]]),
    "3-norm of 0 is 0": (lambda lib, x: x.norm(3), [[0.0, 0.0]], [[0.0, 0.0]]),
    "std of a constant is 0": (lambda lib, x: x.std(), [[1.0, 1.0, 1.0]], [[0.0, 0.0, 0.0]]),
    "sqrt at 0 is inf": (lambda lib, x: x.sqrt(), [[0.0, 4.0]], [[INF, 0.25]]),
    "x ** 0.5 at 0 is inf": (lambda lib, x: x ** 0.5, [[0.0]], [[INF]]),
    "x ** 0 is 0 everywhere": (lambda lib, x: x ** 0, [[0.0, 2.0]], [[0.0, 0.0]]),
    "pow(0, 0): both gradients 0": (lambda lib, a, b: a ** b, [[0.0, 0.0, 0.0, 2.0], [0.0, 2.0, -1.0, 0.0]],
                                    [[0.0, 0.0, -INF, 0.0], [0.0, 0.0, -INF, math.log(2.0)]]),
    "0 ** x: exponent gradient 0 where x >= 0": (lambda lib, x: 0.0 ** x, [[0.0, 1.0, -1.0]], [[0.0, 0.0, -INF]]),
    "prod with one zero": (lambda lib, x: x.prod(), [[2.0, 0.0, 3.0]], [[0.0, 6.0, 0.0]]),
    "prod with two zeros": (lambda lib, x: x.prod(), [[2.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]]),
    "prod(dim) with zeros": (lambda lib, x: lib.prod(x, 1), [[[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]]],
                             [[[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]]]),
    "softmax with a -inf logit": (lambda lib, x: x.softmax(0)[0], [[-INF, 1.0]], [[0.0, 0.0]]),
}


KINKS.update(NN_KINKS)
KINKS.update(LINALG_NN_KINKS)
KINKS.update(TORCH_KINKS)


def _gradients(lib, case) -> list[np.ndarray]:
    call, values, _ = KINKS[case]
    inputs = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
    grads = lib.autograd.grad(call(lib, *inputs).sum(), inputs)
    return [g.detach().numpy() for g in grads]


@pytest.mark.parametrize("case", KINKS)
def test_kink_gradient(case):
    expected = KINKS[case][2]
    for got, want in zip(_gradients(Lib(gradscope, gradscope.nn.functional), case), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("case", KINKS)
def test_kink_gradient_matches_torch(case):
    torch = pytest.importorskip("torch")
    ours = _gradients(Lib(gradscope, gradscope.nn.functional), case)
    for got, want in zip(ours, _gradients(Lib(torch, torch.nn.functional), case), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
