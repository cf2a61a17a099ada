"""torch.signal.windows: SciPy's window functions with PyTorch's signatures, checks and values. Each is its formula
over `M` evenly spaced points (linspace, in the window's dtype, as PyTorch computes it), symmetric by default
(`sym=False`: periodic, the first M points of a window one longer, as spectral analysis wants). As PyTorch's, hann,
hamming and nuttall check their arguments as general_cosine (its name in their errors); blackman as itself.

    >>> gradscope.signal.windows.hann(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from gradscope import _dtypes
from gradscope.autograd.factories import arange, empty, linspace, ones, tensor
from gradscope.autograd.functions import abs, cos, exp, minimum, sin, sqrt
from gradscope.autograd.pointwise_extra import i0
from gradscope.autograd.tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]


def _checked(name: str, M: int, dtype, layout):
    """The window's dtype (the default one unless given), after PyTorch's checks on the length, layout and dtype."""
    dtype = _dtypes.get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not _dtypes.strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (_dtypes.float32, _dtypes.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _short(M: int, dtype, requires_grad: bool, one_is_ones: bool = True) -> Tensor | None:
    """The window of no point (empty) or, for the windows whose formula divides by M - 1, of one (a one)."""
    if M == 0:
        return empty((0,), dtype=dtype, requires_grad=requires_grad)
    if M == 1 and one_is_ones:
        return ones((1,), dtype=dtype, requires_grad=requires_grad)
    return None


def _points(start, step, M: int, dtype, requires_grad: bool) -> Tensor:
    """M points from `start`, `step` apart."""
    return linspace(start, start + (M - 1) * step, M, dtype=dtype, requires_grad=requires_grad)


def _span(M: int, sym: bool) -> int:
    """What the window's points are spread over: M - 1 symmetric, M periodic."""
    return M - 1 if sym else M


def general_cosine(M, *, a: Iterable, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
                   requires_grad: bool = False) -> Tensor:
    """w[n] = Σ_i (-1)^i a_i cos(2π i n / N), N = M - 1 (M with sym=False)."""
    dtype = _checked("general_cosine", M, dtype, layout)
    short = _short(M, dtype, requires_grad)
    if short is not None:
        return short
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    angles = _points(0, 2 * math.pi / _span(M, sym), M, dtype, requires_grad)
    coefficients = tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype, requires_grad=requires_grad)
    harmonics = arange(coefficients.shape[0], dtype=dtype, requires_grad=requires_grad)
    return (coefficients.unsqueeze(-1) * cos(harmonics.unsqueeze(-1) * angles)).sum(0)


def general_hamming(M, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
                    requires_grad: bool = False) -> Tensor:
    """w[n] = α - (1 - α) cos(2π n / N)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
            requires_grad: bool = False) -> Tensor:
    """general_hamming with α = 0.54."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
         requires_grad: bool = False) -> Tensor:
    """general_hamming with α = 0.5: w[n] = sin²(π n / N)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
             requires_grad: bool = False) -> Tensor:
    """general_cosine with a = (0.42, 0.5, 0.08)."""
    _checked("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
            requires_grad: bool = False) -> Tensor:
    """general_cosine with Nuttall's four coefficients (minimum 4-term Blackman-Harris)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
             requires_grad: bool = False) -> Tensor:
    """The triangle: w[n] = 1 - |2n / N - 1|."""
    dtype = _checked("bartlett", M, dtype, layout)
    short = _short(M, dtype, requires_grad)
    if short is not None:
        return short
    return 1 - abs(_points(-1, 2 / _span(M, sym), M, dtype, requires_grad))


def cosine(M: int, *, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
           requires_grad: bool = False) -> Tensor:
    """The sine window: w[n] = sin(π (n + 1/2) / M) (M + 1 with sym=False)."""
    dtype = _checked("cosine", M, dtype, layout)
    short = _short(M, dtype, requires_grad, one_is_ones=False)
    if short is not None:
        return short
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return sin(_points(0.5 * step, step, M, dtype, requires_grad))


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype=None,
                layout=_dtypes.strided, device=None, requires_grad: bool = False) -> Tensor:
    """w[n] = exp(-|n - center| / τ), centred by default."""
    dtype = _checked("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    short = _short(M, dtype, requires_grad, one_is_ones=False)
    if short is not None:
        return short
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    return exp(-abs(_points(-center / tau, 1 / tau, M, dtype, requires_grad)))


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
             requires_grad: bool = False) -> Tensor:
    """w[n] = exp(-(n - N/2)² / (2 σ²))."""
    dtype = _checked("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    short = _short(M, dtype, requires_grad, one_is_ones=False)
    if short is not None:
        return short
    scale = 1 / (std * math.sqrt(2))
    points = _points(-(M if not sym and M > 1 else M - 1) / 2.0 * scale, scale, M, dtype, requires_grad)
    return exp(-(points ** 2))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=_dtypes.strided, device=None,
           requires_grad: bool = False) -> Tensor:
    """w[n] = I0(β √(1 - (2n / N - 1)²)) / I0(β), I0 the modified Bessel function of order 0."""
    dtype = _checked("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    short = _short(M, dtype, requires_grad)
    if short is not None:
        return short
    beta = tensor(beta, dtype=dtype)  # in the window's dtype: no point rounds past β (√ of a negative: nan)
    step = 2.0 * beta / _span(M, sym)
    points = linspace(-beta, minimum(beta, -beta + (M - 1) * step), M, dtype=dtype, requires_grad=requires_grad)
    return i0(sqrt(beta * beta - points ** 2)) / i0(beta)
