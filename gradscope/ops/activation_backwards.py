"""PyTorch's backward kernels of piecewise-linear activations (leaky_relu_backward, hardtanh_backward, the shrinks',
threshold_backward, rrelu_with_noise_backward) as ops of their own, as relu's threshold_backward (ops/elementwise.py).

Each passes the gradient, or a constant times it, where a comparison of the input selects: on arrays the first-order
rule runs the same selection it always did. Under create_graph=True it records PyTorch's `*BackwardBackward0` node,
which takes the input too, with a zero derivative there: a second derivative with respect to the input is then
zeros, as PyTorch's, where a rule written with `where` left the input out of the graph (an error without
allow_unused: "appears to not have been used in the graph").
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import primitive


def _backward_kernel(name: str, select, node: str, params: tuple):
    """`select(g, x, *params)` as an op of the gradient and of `x` (the input, or the result an in-place kernel
    reads): linear in the gradient (its rule is the kernel again), constant in `x`."""
    def grad_rule(gg, s):
        return s.xp.apply(op, (gg, s.self), tuple(getattr(s, param) for param in params))

    op = primitive(name, select, node, inputs=("grad_output", "self"), params=params, saves=("self",),
                   vjp=(grad_rule, lambda gg, s: s.xp.zeros_like(gg)))
    return op


def _inside(x, lambd):  # as the shrinks' kernels: edges included, a NaN is not inside (its gradient passes)
    return (x >= -lambd) & (x <= lambd)


leaky_relu_backward = _backward_kernel(
    "leaky_relu_backward", lambda g, x, negative_slope: np.where(x > 0, g, g * negative_slope),
    "LeakyReluBackwardBackward0", ("negative_slope",))
# NOTE: strictly inside (min_val, max_val): 0 at both edges
hardtanh_backward = _backward_kernel(
    "hardtanh_backward", lambda g, x, min_val, max_val: np.where((x > min_val) & (x < max_val), g, 0.0),
    "HardtanhBackwardBackward0", ("min_val", "max_val"))
hardshrink_backward = _backward_kernel(
    "hardshrink_backward", lambda g, x, lambd: np.where(_inside(x, lambd), 0.0, g), "HardshrinkBackwardBackward0",
    ("lambd",))
softshrink_backward = _backward_kernel(
    "softshrink_backward", lambda g, x, lambd: np.where(_inside(x, lambd), 0.0, g), "SoftshrinkBackwardBackward0",
    ("lambd",))
# F.threshold's (relu's, at 0 and from its result, is elementwise.threshold_backward): nothing at or below
threshold_backward_at = _backward_kernel(
    "threshold_backward_at", lambda g, x, threshold: np.where(x <= threshold, 0.0, g), "ThresholdBackwardBackward0",
    ("threshold",))



def _rrelu_select(g, x, noise, lower, upper, training):
    # NOTE: PyTorch's rrelu_with_noise_backward: g · noise only when training with a real interval
    if training and upper - lower > 1e-6:
        return g * noise.astype(g.dtype, copy=False)
    return np.where(x > 0, g, g * ((lower + upper) / 2))


rrelu_with_noise_backward = _backward_kernel(
    "rrelu_with_noise_backward", _rrelu_select, "RreluWithNoiseBackwardBackward0",
    ("noise", "lower", "upper", "training"))


def rule(kernel, *params: str, reads: str = "self"):
    """An activation's first-order rule: `kernel` of the gradient and the saved `reads`, with the node's params."""
    def vjp(g, s):
        return s.xp.apply(kernel, (g, getattr(s, reads)), tuple(getattr(s, param) for param in params))
    return vjp
