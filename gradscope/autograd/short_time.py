"""torch.stft and torch.istft, and the window functions (hann, hamming, blackman, bartlett, kaiser).

stft is built as PyTorch builds it: the signal padded at both ends (center), its frames an as_strided view, each
multiplied by the window, then a real-to-complex transform (FftR2CBackward0) and an in-place transpose. istft
inverts it: an inverse transform per frame, the window again, the frames added where they overlap, divided by the
overlapping windows' squares.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gradscope import _dtypes
from gradscope.autograd import functions as F
from gradscope.autograd.complex_functions import view_as_real
from gradscope.autograd.dispatch import apply
from gradscope.autograd.indexing_functions import index_add
from gradscope.autograd.placement_functions import as_strided
from gradscope.autograd.rearrange import narrow
from gradscope.autograd.shape_functions import expand, reshape, squeeze, transpose, unsqueeze
from gradscope.autograd.spectral_functions import fft, ifft, irfft, rfft
from gradscope.autograd.tensor import Tensor
from gradscope.autograd.view_inplace import squeeze_, transpose_
from gradscope.ops import padding


def _window(name: str, length: int, periodic: bool, dtype, requires_grad: bool, values) -> Tensor:
    """A window of `length` points from `values(n, float dtype)` over the symmetric window's n points (one more
    when periodic, the last dropped): computed in the dtype, as PyTorch's kernels compute it."""
    np_dtype = _dtypes.get_default_dtype().numpy if dtype is None else _dtypes.to_numpy_dtype(dtype)
    if np_dtype.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {_dtypes.from_numpy_dtype(np_dtype)}")
    if length < 0:
        raise RuntimeError(f"{name} requires non-negative window length, got window_length={length}")
    if length <= 1:
        data = np.ones(length, dtype=np_dtype)
    else:
        n = length + 1 if periodic else length
        data = np.asarray(values(n, np_dtype), dtype=np_dtype)[:length]
    t = Tensor._make(data)
    if requires_grad:
        t._set_requires_grad(True, "Only Tensors of floating point and complex dtype can require gradients")
    return t


def _cosine_sum(n: int, dtype, step: float, terms) -> np.ndarray:
    """Σ coefficient · cos(multiple · step · k) over k < n, PyTorch's steps in `dtype`."""
    base = np.arange(n, dtype=dtype) * np.asarray(step, dtype=dtype)
    total = None
    for multiple, coefficient in terms:
        term = np.cos(base * np.asarray(multiple, dtype=dtype)) * np.asarray(coefficient, dtype=dtype)
        total = term if total is None else total + term
    return total


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """alpha − beta · cos(2πk / (N − 1))."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad, lambda n, d: (
        np.cos(np.arange(n, dtype=d) * np.asarray(2 * math.pi / (n - 1), dtype=d)) * np.asarray(-beta, dtype=d)
        + np.asarray(alpha, dtype=d)))


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                requires_grad: bool = False) -> Tensor:
    """0.5 − 0.5 · cos(2πk / (N − 1)): PyTorch's hamming window with alpha = beta = 0.5."""
    if dtype is not None and _dtypes.to_numpy_dtype(dtype).kind != "f":
        raise RuntimeError(f"hann_window expects floating point dtypes, got: {dtype}")
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype, requires_grad=requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """0.42 − 0.5 · cos(2πk / (N − 1)) + 0.08 · cos(4πk / (N − 1))."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, lambda n, d: (
        _cosine_sum(n, d, math.pi / (n - 1), ((4, 0.08),)) - _cosine_sum(n, d, math.pi / (n - 1), ((2, 0.5),))
        + np.asarray(0.42, dtype=d)))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """The triangle 1 − |2k / (N − 1) − 1|."""
    def values(n, d):
        rising = np.arange(n, dtype=d) * np.asarray(2 / (n - 1), dtype=d)
        half = (n - 1) // 2 + 1
        rising[half:] = np.asarray(2, dtype=d) - rising[half:]
        return rising
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, values)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None, layout=None,
                  device=None, requires_grad: bool = False) -> Tensor:
    """I0(beta · √(1 − ((k − α) / α)²)) / I0(beta), α = (N − 1) / 2."""
    def values(n, d):
        alpha = (n - 1) / 2
        k = np.arange(n, dtype=np.float64)
        return np.i0(beta * np.sqrt(np.maximum(1 - ((k - alpha) / alpha) ** 2, 0))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, values)


_RETURN_COMPLEX = ("stft requires the return_complex parameter be given for real inputs, and will further require "
                   "that return_complex=True in a future PyTorch release.")


def _full_window(window: Tensor | None, n_fft: int, win_length: int, like: Tensor, name: str) -> Tensor | None:
    """The window centred in n_fft points (zeros around it); None: a rectangular window of n_fft points."""
    if window is not None:
        if window._data.ndim != 1 or window._data.shape[0] != win_length:
            raise RuntimeError(f"{name}: expected a 1D window tensor of size equal to win_length={win_length}, but "
                               f"got window with size {list(window._data.shape)}")
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    if window is None:
        window = Tensor._make(np.ones(win_length, dtype=like._data.real.dtype))
    return apply(padding.constant_pad_nd, (window,), ((left, n_fft - win_length - left), 0))


def stft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
         window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided: bool | None = None, return_complex: bool | None = None) -> Tensor:
    """The short-time Fourier transform: (freq, frames) per signal, frames hop_length apart."""
    complex_input = input._data.dtype.kind == "c" or window is not None and window._data.dtype.kind == "c"
    if return_complex is None:
        if not complex_input:
            raise RuntimeError(_RETURN_COMPLEX)
        return_complex = True
    elif not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                      "complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you can "
                      "still call torch.view_as_real on the complex output to recover the old return format.",
                      UserWarning, stacklevel=2)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if input._data.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input._data.ndim}D tensor")
    signal = unsqueeze(input, 0) if input._data.ndim == 1 else input
    if center:
        if pad_mode not in ("reflect", "constant", "replicate", "circular"):
            raise RuntimeError(f"stft: unsupported pad_mode {pad_mode!r}")
        extended = reshape(signal, (1,) + tuple(signal._data.shape))
        half = n_fft // 2
        if pad_mode == "reflect":
            padded = apply(padding.reflection_pad1d, (extended,), ((half, half),))
        elif pad_mode == "replicate":
            padded = apply(padding.replication_pad1d, (extended,), ((half, half),))
        else:
            padded = apply(padding.constant_pad_nd, (extended,), ((half, half), 0))
        signal = reshape(padded, tuple(padded._data.shape[1:]))
    batch, length = signal._data.shape
    if not 0 < n_fft <= length:
        raise RuntimeError(f"stft: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    frames = 1 + (length - n_fft) // hop_length
    signal = signal if signal._data.flags.c_contiguous else signal.contiguous()
    windows = as_strided(signal, (batch, frames, n_fft), (length, hop_length, 1))
    full = _full_window(window, n_fft, win_length, signal, "stft")
    if full is not None:
        windows = F.mul(windows, full)
    onesided = not complex_input if onesided is None else onesided
    if complex_input and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    out = rfft(windows, norm=norm) if onesided else fft(windows, norm=norm)
    out = transpose_(out, 1, 2)
    if input._data.ndim == 1:
        out = squeeze_(out, 0)
    return out if return_complex else view_as_real(out)


def istft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
          window: Tensor | None = None, center: bool = True, normalized: bool = False, onesided: bool | None = None,
          length: int | None = None, return_complex: bool = False) -> Tensor:
    """The inverse of stft: each frame transformed back, windowed, and the frames overlap-added, divided by the
    overlap-added squared window."""
    if input._data.dtype.kind != "c":
        raise RuntimeError("istft requires a complex-valued input tensor")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    spectrum = unsqueeze(input, 0) if input._data.ndim == 2 else input
    batch, frequencies, frames = spectrum._data.shape
    onesided = frequencies != n_fft if onesided is None else onesided
    expected = n_fft // 2 + 1 if onesided else n_fft
    if frequencies != expected:
        raise RuntimeError(f"istft: expected the frequency dimension (2nd to last) of the input tensor to match n_fft "
                           f"/ 2 + 1 when onesided=True, but got {frequencies}" if onesided else
                           f"istft: expected the frequency dimension (2nd to last) of the input tensor to match n_fft "
                           f"when onesided=False, but got {frequencies}")
    norm = "ortho" if normalized else "backward"
    columns = transpose(spectrum, 1, 2)
    if onesided:
        if return_complex:
            raise RuntimeError("cannot have onesided output if window or input is complex")
        pieces = irfft(columns, n=n_fft, norm=norm)
    elif return_complex:
        pieces = ifft(columns, n=n_fft, norm=norm)
    else:  # NOTE: a real signal from a two-sided spectrum: PyTorch reads its first half only, as Hermitian
        pieces = irfft(narrow(columns, -1, 0, n_fft // 2 + 1), n=n_fft, norm=norm)
    real_dtype = pieces._data.real.dtype
    full = _full_window(window, n_fft, win_length, pieces, "istft")
    full = Tensor._make(np.ones(n_fft, dtype=real_dtype)) if full is None else full
    pieces = F.mul(pieces, full)
    total = n_fft + hop_length * (frames - 1)
    positions = (np.arange(frames)[:, None] * hop_length + np.arange(n_fft)).reshape(-1)
    signal = index_add(Tensor._make(np.zeros((batch, total), dtype=pieces._data.dtype)), 1,
                       Tensor._make(positions), reshape(pieces, (batch, frames * n_fft)))
    # the overlapping windows' squares: differentiable too, a window that requires grad gets their gradient
    squares = reshape(expand(unsqueeze(F.mul(full, full), 0), (frames, n_fft)), (frames * n_fft,))
    envelope = index_add(Tensor._make(np.zeros(total, dtype=real_dtype)), 0, Tensor._make(positions), squares)
    start = n_fft // 2 if center else 0
    end = total - n_fft // 2 if center and length is None else total if length is None else start + length
    end = min(end, total)
    envelope = narrow(envelope, 0, start, end - start)
    smallest = float(np.abs(envelope._data).min(initial=np.inf))
    if smallest < 1e-11:
        raise RuntimeError(f"istft(...): window overlap add min: {smallest:g}")
    signal = F.div(narrow(signal, 1, start, end - start), envelope)
    if input._data.ndim == 2:
        signal = squeeze(signal, 0)
    if length is not None and end - start < length:
        signal = apply(padding.constant_pad_nd, (signal,), ((0, length - (end - start)), 0))
    return signal
