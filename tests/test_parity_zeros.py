"""Norm-, pow- and prod-like gradients at 0, first and second order, against PyTorch 2.13.

0 is where these rules divide by something that vanishes (|x|**(p-2), 1/result, result/x): PyTorch
masks some of those places to 0 and leaves others inf or NaN. Every function here runs at an all-zero
input and at an input with some zeros, and its gradients (and the gradients of their sum of squares)
must be PyTorch's, NaN and inf included. A gradient PyTorch leaves undefined (norm with p = 0) must be
None here too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch

NORM_ORDERS = (0, 0.5, 1, 1.5, 2, 2.5, 3, 4, math.inf, -math.inf, -1, -0.5)
EXPONENTS = (0, 0.5, 1, 1.5, 2, 2.5, 3, -1, -0.5)

FUNCTIONS: dict = {}
for _p in NORM_ORDERS:
    FUNCTIONS[f"norm_p{_p}"] = lambda lib, x, p=_p: x.norm(p)
    FUNCTIONS[f"norm_p{_p}_dim1"] = lambda lib, x, p=_p: x.norm(p, 1)
    FUNCTIONS[f"norm_p{_p}_dim0_keepdim"] = lambda lib, x, p=_p: lib.norm(x, p, 0, True)
for _e in EXPONENTS:
    FUNCTIONS[f"pow_{_e}"] = lambda lib, x, e=_e: x ** e
    FUNCTIONS[f"zero_base_pow_{_e}"] = lambda lib, x, e=_e: lib.pow(lib.zeros_like(x), x + e)
    FUNCTIONS[f"tensor_pow_{_e}"] = lambda lib, x, e=_e: x ** (x.detach() * 0 + e).requires_grad_()
FUNCTIONS.update({
    "rpow_0": lambda lib, x: 0 ** x,
    "sqrt": lambda lib, x: x.sqrt(),
    "rsqrt": lambda lib, x: x.rsqrt(),
    "reciprocal": lambda lib, x: x.reciprocal(),
    "square": lambda lib, x: x.square(),
    "abs": lambda lib, x: x.abs(),
    "norm_default": lambda lib, x: x.norm(),
    "std": lambda lib, x: x.std(),
    "var": lambda lib, x: x.var(),
    "std_dim": lambda lib, x: x.std(1),
    "prod": lambda lib, x: x.prod(),
    "prod_dim": lambda lib, x: x.prod(1),
    "prod_dim_negative_keepdim": lambda lib, x: x.prod(-2, keepdim=True),
})
INPUTS = {"all_zero": np.zeros((2, 3)), "some_zero": np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 0.5]])}


def _gradients(lib, name, values):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    out = FUNCTIONS[name](lib, x)
    (first,) = lib.autograd.grad(out.sum(), x, create_graph=True, allow_unused=True)
    if first is None or not first.requires_grad:
        return [first, None]
    (second,) = lib.autograd.grad((first * first).sum(), x, allow_unused=True)
    return [first, second]


def _arrays(grads):
    # force=True: torch returns ZeroTensors for gradients it knows are zero
    return [None if g is None else np.asarray(g.detach().numpy(force=True), dtype=np.float64) for g in grads]


def test_fractional_norm_at_zero_has_zero_gradient():
    """x.norm(1.5) at 0 gave NaN (0 * |0|**-0.5); PyTorch's norm_backward uses sgn(x) |x|**(p-1) for p < 2."""
    for lib in filter(None, (gradscope, reference_torch())):
        for p in (1.5, 0.5, -1, 2.5):
            x = lib.zeros(3, requires_grad=True)
            x.norm(p).backward()
            assert x.grad.tolist() == [0.0, 0.0, 0.0], (lib.__name__, p)
        x = lib.zeros(3, requires_grad=True)
        x.norm(0).backward()
        assert x.grad is None  # PyTorch's norm_backward returns an undefined gradient for p = 0


@pytest.mark.parametrize("values", INPUTS, ids=str)
@pytest.mark.parametrize("name", FUNCTIONS, ids=str)
def test_gradients_at_zero_match_torch(name, values):
    torch = reference_torch()
    if torch is None:
        pytest.skip("needs torch")
    theirs = _arrays(_gradients(torch, name, INPUTS[values]))
    ours = _arrays(_gradients(gradscope, name, INPUTS[values]))
    for order, (mine, reference) in enumerate(zip(ours, theirs, strict=True), start=1):
        assert (mine is None) == (reference is None), f"order {order}"
        if mine is not None:
            # NOTE: a second derivative that cancels to 0 keeps rounding noise of a few ulps of its terms (PyTorch's
            # norm(p=2.5) gives 1.8e-15 beside entries of 0.05 on one machine, 0 on another): absolute 1e-14 there
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-15 if order == 1 else 1e-14,
                                       equal_nan=True, err_msg=f"order {order}")
