"""a + alpha·b in float32 as PyTorch's CPU kernels compute it: one fused multiply-add, one rounding (add and sub with
alpha, rsub, addcmul, lerp, in place or not, requiring grad or not), bit for bit. NumPy rounds the product first: a
last-bit difference in about a fifth of the elements, which an optimizer loop written with add_(alpha=) compounds."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

CALLS = {
    "add_alpha": lambda T, a, b, c: a.add(b, alpha=-0.37),
    "add_int_alpha": lambda T, a, b, c: T.add(a, b, alpha=3),
    "sub_alpha": lambda T, a, b, c: a.sub(b, alpha=0.1),
    "rsub_alpha": lambda T, a, b, c: T.rsub(a, b, alpha=0.3),
    "add_alpha_in_place": lambda T, a, b, c: a.clone().add_(b, alpha=1e-3),
    "sub_alpha_in_place": lambda T, a, b, c: a.clone().sub_(b, alpha=2.7),
    "add_alpha_broadcast": lambda T, a, b, c: a.add(b[:1], alpha=0.3),
    "add_alpha_number": lambda T, a, b, c: a.add(0.7, alpha=0.3),
    "addcmul": lambda T, a, b, c: a.addcmul(b, c),
    "addcmul_value": lambda T, a, b, c: T.addcmul(a, b, c, value=-1.7),
    "addcmul_in_place": lambda T, a, b, c: a.clone().addcmul_(b, c, value=0.5),
    "addcdiv_value": lambda T, a, b, c: a.addcdiv(b, c.abs() + 1, value=0.3),
    "lerp_near_start": lambda T, a, b, c: a.lerp(b, 0.3),
    "lerp_near_end": lambda T, a, b, c: a.lerp(b, 0.7),
    "lerp_tensor_weight": lambda T, a, b, c: a.lerp(b, c.abs().clamp(max=1.2) - 0.1),
    "lerp_in_place": lambda T, a, b, c: a.clone().lerp_(b, 0.1),
}


@pytest.mark.parametrize("size", [2, 33, 1000])
@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("call", CALLS)
def test_float32_results_are_pytorchs_bit_for_bit(call, requires_grad, size):
    rng = np.random.default_rng(size)
    arrays = [rng.standard_normal(size).astype(np.float32) for _ in range(3)]
    results = []
    for lib in (torch, gradscope):
        a, b, c = (lib.tensor(x, requires_grad=requires_grad) for x in arrays)
        results.append(CALLS[call](lib, a, b, c).detach().numpy())
    assert results[1].dtype == results[0].dtype
    np.testing.assert_array_equal(results[1], results[0])


def test_a_hand_written_sgd_loop_stays_pytorchs():
    """`p.add_(p.grad, alpha=-lr)` over many steps, as older tutorials write SGD."""
    rng = np.random.default_rng(0)
    start, target = rng.standard_normal(500).astype(np.float32), rng.standard_normal(500).astype(np.float32)
    finals = []
    for lib in (torch, gradscope):
        p, y = lib.tensor(start, requires_grad=True), lib.tensor(target)
        for _ in range(50):
            ((p - y) ** 2).sum().backward()
            with lib.no_grad():
                p.add_(p.grad, alpha=-0.01)
            p.grad = None
        finals.append(p.detach().numpy())
    np.testing.assert_array_equal(finals[1], finals[0])
