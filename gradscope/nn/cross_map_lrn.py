"""nn.CrossMapLRN2d: Lua Torch's local response normalisation across channels, which PyTorch keeps as a Python
autograd Function (its node is CrossMapLRN2dBackward). Its window is not LocalResponseNorm's: the running sum
over channels adds channel c + p - 1 and drops channel c - p only once c > p (p = ⌊(size - 1)/2⌋ + 1), and its
backward pads the ratios by size - ⌊(size - 1)/2⌋ in front (with size 1 it does not fit, and raises): both are
reproduced as PyTorch computes them, in the same order of additions.

    >>> nn.CrossMapLRN2d(3)
    CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)
"""

from __future__ import annotations

import numpy as np

from gradscope.autograd.function import Function
from gradscope.autograd.tensor import Tensor
from gradscope.nn.module import Module


def _scale(x: np.ndarray, size: int, alpha: float, k: float) -> np.ndarray:
    channels = x.shape[1]
    square = x * x
    pre_pad = int((size - 1) / 2 + 1)
    scale = np.empty_like(x)
    scale[:, 0] = 0
    for c in range(min(pre_pad, channels)):
        scale[:, 0] += square[:, c]
    for c in range(1, channels):
        scale[:, c] = scale[:, c - 1]
        if c < channels - pre_pad + 1:
            scale[:, c] += square[:, c + pre_pad - 1]
        if c > pre_pad:
            scale[:, c] -= square[:, c - pre_pad]
    return scale * x.dtype.type(alpha / size) + x.dtype.type(k)


def _forward(ctx, input, size, alpha=1e-4, beta=0.75, k=1):
    ctx.size, ctx.alpha, ctx.beta, ctx.k = size, alpha, beta, k
    if input.dim() != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
    x = input.detach().numpy()
    ctx.scale = _scale(x, size, alpha, k)
    output = Tensor._make(np.power(ctx.scale, x.dtype.type(-beta)) * x)
    ctx.save_for_backward(input, output)
    return output


def _backward(ctx, grad_output):
    input, output = ctx.saved_tensors
    x, y, g = input.detach().numpy(), output.detach().numpy(), grad_output.detach().numpy()
    size, scale = ctx.size, ctx.scale
    channels = x.shape[1]
    front = int(size - (size - 1) / 2)
    if front + channels > channels + size - 1:
        raise RuntimeError(f"start ({front}) + length ({channels}) exceeds dimension size ({channels + size - 1}).")
    ratio_scale = x.dtype.type(2 * ctx.alpha * ctx.beta / size)
    grad_input = np.power(scale, x.dtype.type(-ctx.beta)) * g
    padded = np.zeros((x.shape[0], channels + size - 1) + x.shape[2:], dtype=x.dtype)
    padded[:, front:front + channels] = g * y / scale
    accumulated = padded[:, :size - 1].sum(axis=1)
    for c in range(channels):
        accumulated += padded[:, c + size - 1]
        grad_input[:, c] -= ratio_scale * x[:, c] * accumulated
        accumulated -= padded[:, c]
    return Tensor._make(grad_input), None, None, None, None


# the Function PyTorch applies, under its class name (its node is CrossMapLRN2dBackward)
_cross_map_lrn2d = type("CrossMapLRN2d", (Function,), {"forward": staticmethod(_forward),
                                                       "backward": staticmethod(_backward)})


class CrossMapLRN2d(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return _cross_map_lrn2d.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
