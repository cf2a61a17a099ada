"""torch.fft's transforms, built as PyTorch builds them on three primitives (ops/spectral.py): the same nodes
(FftC2CBackward0, FftR2CBackward0, FftC2RBackward0, with ConjBackward0, ConstantPadNdBackward0 or SliceBackward0
where PyTorch records them), the same dtypes and errors."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope._shapes import normalize_dim
from gradscope.autograd.complex_functions import conj, conj_physical
from gradscope.autograd.dispatch import apply
from gradscope.autograd.factories import _finish
from gradscope.autograd.functions import to_dtype
from gradscope.autograd.pointwise import _type_name
from gradscope.autograd.rearrange import narrow, roll
from gradscope.autograd.tensor import Tensor
from gradscope.ops import padding
from gradscope.ops import spectral as S

_NORMALIZATION = {"backward": (0, 2), "ortho": (1, 1), "forward": (2, 0)}  # PyTorch's codes: (forward, inverse)


def _code(norm: str | None, forward: bool) -> int:
    if norm is None:
        norm = "backward"
    if norm not in _NORMALIZATION:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return _NORMALIZATION[norm][0 if forward else 1]


def _floating(input: Tensor) -> Tensor:
    """Integers and bools in the default dtype; half precision refused, as PyTorch's CPU transforms do."""
    dtype = input._data.dtype
    if dtype.kind in "biu":
        return to_dtype(input, _dtypes.get_default_dtype())
    if dtype == np.float16:
        raise RuntimeError("Unsupported dtype Half")
    return input


def _as_complex(input: Tensor) -> Tensor:
    input = _floating(input)
    if input._data.dtype.kind == "c":
        return input
    return to_dtype(input, _dtypes.complex128 if input._data.dtype == np.float64 else _dtypes.complex64)


def _real_input(input: Tensor, function: str) -> Tensor:
    input = _floating(input)
    if input._data.dtype.kind == "c":
        raise RuntimeError(f"{function} expects a real input tensor, but got {_type_name(input._data.dtype)}")
    return input


def _one_dim(input: Tensor, dim: int) -> int:
    if input._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return normalize_dim(dim, input._data.ndim)


def _check_size(n: int) -> None:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _resized(input: Tensor, dims, sizes) -> Tensor:
    """The signal cut or zero-padded at its end to `sizes` along `dims` (PyTorch's SliceBackward0 or
    ConstantPadNdBackward0)."""
    shape = input._data.shape
    for dim, size in zip(dims, sizes):
        if size < shape[dim]:
            input = narrow(input, dim, 0, size)
    pad = []
    for dim in range(input._data.ndim - 1, -1, -1):
        pad += [0, sizes[dims.index(dim)] - shape[dim] if dim in dims and sizes[dims.index(dim)] > shape[dim] else 0]
    while pad and pad[-1] == 0 and pad[-2] == 0:
        pad = pad[:-2]
    return apply(padding.constant_pad_nd, (input,), (tuple(pad), 0)) if pad else input


def _dims_and_sizes(input: Tensor, s, dim) -> tuple[tuple, tuple | None]:
    """PyTorch's fftn argument rules: the dims transformed (as given) and the signal sizes (None: the input's)."""
    ndim = input._data.ndim
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
        dims = tuple(range(ndim - len(s), ndim))
    else:
        dims = tuple(range(ndim))
    dims = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is not None:
        sizes = tuple(input._data.shape[d] if size == -1 else size for d, size in zip(dims, s))
        for size in sizes:
            _check_size(size)
        return dims, sizes
    return dims, None


def _c2c(input: Tensor, dims, sizes, norm, forward: bool) -> Tensor:
    input = _as_complex(input)
    if sizes is not None:
        input = _resized(input, dims, sizes)
    return apply(S.fft_c2c, (input,), (tuple(sorted(dims)), _code(norm, forward), forward))


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-dimensional discrete Fourier transform along `dim` (a real input's is its full, two-sided spectrum)."""
    input = _floating(input)
    dim = _one_dim(input, dim)
    if n is not None:
        _check_size(n)
        input = _resized(input, (dim,), (n,))
    if input._data.dtype.kind == "c":
        return apply(S.fft_c2c, (input,), ((dim,), _code(norm, True), True))
    return apply(S.fft_r2c, (input,), ((dim,), _code(norm, True), False))


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of fft."""
    input = _floating(input)
    dim = _one_dim(input, dim)
    if n is not None:
        _check_size(n)
        input = _resized(input, (dim,), (n,))
    if input._data.dtype.kind == "c":
        return apply(S.fft_c2c, (input,), ((dim,), _code(norm, False), False))
    return conj(apply(S.fft_r2c, (input,), ((dim,), _code(norm, False), False)))  # a real signal's: conj(fft)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """fft of a real signal, its n // 2 + 1 non-negative frequencies."""
    input = _real_input(input, "rfft")
    dim = _one_dim(input, dim)
    if n is not None:
        _check_size(n)
        input = _resized(input, (dim,), (n,))
    return apply(S.fft_r2c, (input,), ((dim,), _code(norm, True), True))


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of hfft: the n // 2 + 1 non-negative frequencies of ifft of a real signal."""
    input = _real_input(input, "ihfft")
    dim = _one_dim(input, dim)
    if n is not None:
        _check_size(n)
        input = _resized(input, (dim,), (n,))
    return conj(apply(S.fft_r2c, (input,), ((dim,), _code(norm, False), True)))


def _c2r(input: Tensor, dims, last_size: int, sizes, norm, forward: bool) -> Tensor:
    """The real signal of `last_size` points whose half spectrum over `dims` is `input` (conjugated first for
    hfft, a forward transform)."""
    _check_size(last_size)
    input = _as_complex(input)
    input = _resized(input, dims, tuple(sizes[:-1]) + (last_size // 2 + 1,))
    if forward:
        input = conj(input)
    return apply(S.fft_c2r, (input,), (dims, _code(norm, forward), last_size))


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of rfft: a real signal of n points (2 (m − 1) for m frequencies by default)."""
    input = _floating(input)
    dim = _one_dim(input, dim)
    last = n if n is not None else 2 * (input._data.shape[dim] - 1)
    return _c2r(input, (dim,), last, (last,), norm, False)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The real spectrum of a signal with Hermitian symmetry, given by its first half."""
    input = _floating(input)
    dim = _one_dim(input, dim)
    last = n if n is not None else 2 * (input._data.shape[dim] - 1)
    return _c2r(input, (dim,), last, (last,), norm, True)


def fftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-dimensional transform over `dim` (every dim, or the last len(s))."""
    dims, sizes = _dims_and_sizes(input, s, dim)
    return _c2c(input, dims, sizes, norm, True)


def ifftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    dims, sizes = _dims_and_sizes(input, s, dim)
    return _c2c(input, dims, sizes, norm, False)


def fft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> Tensor:
    return fftn(input, s, dim, norm)


def ifft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> Tensor:
    return ifftn(input, s, dim, norm)


def rfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """fftn of a real signal, halved (n // 2 + 1) along the last of `dim`."""
    input = _real_input(input, "rfftn")
    dims, sizes = _dims_and_sizes(input, s, dim)
    if sizes is not None:
        input = _resized(input, dims, sizes)
    return apply(S.fft_r2c, (input,), (dims, _code(norm, True), True))


def rfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> Tensor:
    return rfftn(input, s, dim, norm)


def irfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The inverse of rfftn: the last of `dim` has s[-1] points (2 (m − 1) by default)."""
    input = _floating(input)
    dims, sizes = _dims_and_sizes(input, s, dim)
    if sizes is None:
        sizes = tuple(input._data.shape[d] for d in dims[:-1]) + (2 * (input._data.shape[dims[-1]] - 1),)
    return _c2r(input, dims, sizes[-1], sizes, norm, False)


def irfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> Tensor:
    return irfftn(input, s, dim, norm)


def hfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The real spectrum of an n-dimensional signal with Hermitian symmetry, given by its half along the last of `dim`
    (s[-1] points there, 2 (m − 1) by default): as PyTorch, a forward c2c over the other dims, then the conjugate's
    c2r along the last."""
    input = _floating(input)
    dims, sizes = _dims_and_sizes(input, s, dim)
    if sizes is None:
        sizes = tuple(input._data.shape[d] for d in dims[:-1]) + (2 * (input._data.shape[dims[-1]] - 1),)
    last = sizes[-1]
    _check_size(last)
    input = _resized(_as_complex(input), dims, tuple(sizes[:-1]) + (last // 2 + 1,))
    code = _code(norm, True)
    if len(dims) > 1:
        input = apply(S.fft_c2c, (input,), (tuple(sorted(dims[:-1])), code, True))
    return apply(S.fft_c2r, (conj(input),), ((dims[-1],), code, last))


def hfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> Tensor:
    return hfftn(input, s, dim, norm)


def ihfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The inverse of hfftn: of a real signal, the half spectrum (n // 2 + 1) along the last of `dim` of its
    inverse transform. As PyTorch: a one-sided r2c along the last, conjugated, then an inverse c2c over the others."""
    input = _real_input(input, "ihfftn")
    dims, sizes = _dims_and_sizes(input, s, dim)
    if sizes is not None:
        input = _resized(input, dims, sizes)
    code = _code(norm, False)
    half = apply(S.fft_r2c, (input,), ((dims[-1],), code, True))
    if len(dims) == 1:
        return conj(half)
    return apply(S.fft_c2c, (conj_physical(half),), (tuple(sorted(dims[:-1])), code, False))


def ihfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> Tensor:
    return ihfftn(input, s, dim, norm)


def _frequency_dtype(dtype, function: str) -> np.dtype:
    np_dtype = _dtypes.get_default_dtype().numpy if dtype is None else _dtypes.to_numpy_dtype(dtype)
    if np_dtype.kind not in "fc":
        raise RuntimeError(f"{function} requires a floating point or complex dtype")
    if np_dtype.kind == "c":  # allowed by the check, then refused by arange, which PyTorch makes them with
        raise NotImplementedError(f'"arange_cpu" not implemented for \'{_type_name(np_dtype)}\'')
    return np_dtype


def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """The sample frequencies of fft's n points, spaced d apart: [0, 1, …, -2, -1] / (d n)."""
    np_dtype = _frequency_dtype(dtype, "fftfreq")
    steps = np.arange(n, dtype=np.int64)
    steps[(n + 1) // 2:] -= n
    values = steps.astype(np_dtype) * np.asarray(1.0 / (n * d), dtype=np_dtype)
    return _finish(values, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """The sample frequencies of rfft's n points: [0, 1, …, n // 2] / (d n)."""
    np_dtype = _frequency_dtype(dtype, "rfftfreq")
    values = np.arange(n // 2 + 1, dtype=np.int64).astype(np_dtype) * np.asarray(1.0 / (n * d), dtype=np_dtype)
    return _finish(values, requires_grad)


def _shift(input: Tensor, dim, inverse: bool) -> Tensor:
    ndim = input._data.ndim
    dims = tuple(range(ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(normalize_dim(d, ndim) for d in dims)
    sizes = [input._data.shape[d] for d in dims]
    return roll(input, tuple((size + 1) // 2 if inverse else size // 2 for size in sizes), dims)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """The zero frequency moved to the middle (a roll by half of each dim)."""
    return _shift(input, dim, False)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """The inverse of fftshift."""
    return _shift(input, dim, True)
