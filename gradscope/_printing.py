"""Render NumPy arrays exactly as PyTorch prints tensors.

``format_tensor`` reproduces ``repr(torch.tensor(...))`` character for character.
The algorithm is PyTorch's (``torch/_tensor_str.py``): a single formatter per
tensor picks integer, fixed-point or scientific notation and one common width
from the values it will show, rows are wrapped at the line width, tensors with
more elements than the threshold are summarised with ``...``, and the trailing
``size=``/``dtype=``/autograd suffixes move onto a new line when they would
overflow it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

_FLOAT32 = np.dtype(np.float32)
_PREFIX = "tensor("
_INDENT = len(_PREFIX)


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTIONS = _PrintOptions()

_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_DTYPE_NAMES: dict[np.dtype, str] = {
    np.dtype(scalar_type): f"torch.{np.dtype(scalar_type).name}"
    for scalar_type in (
        np.bool_,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.float16,
        np.float32,
        np.float64,
        np.complex64,
        np.complex128,
    )
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the print options, like ``torch.set_printoptions``.

    ``profile`` ('default', 'short' or 'full') resets precision, threshold,
    edgeitems and linewidth first; the other arguments then override it when
    they are not None.  ``sci_mode`` is always assigned, as in torch: passing
    None (the default) goes back to choosing the notation automatically.
    """
    if profile is not None:
        if profile not in _PROFILES:
            expected = ", ".join(_PROFILES)
            raise ValueError(f"unknown profile {profile!r}; expected one of {expected}")
        for name, value in _PROFILES[profile].items():
            setattr(_OPTIONS, name, value)
    overrides = {
        "precision": precision,
        "threshold": threshold,
        "edgeitems": edgeitems,
        "linewidth": linewidth,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(_OPTIONS, name, value)
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options as keyword arguments of set_printoptions."""
    return dataclasses.asdict(_OPTIONS)


def dtype_name(dtype: np.dtype) -> str:
    """Return torch's name for a NumPy dtype, e.g. ``'torch.float32'``.

    Raises TypeError for dtypes that have no torch counterpart.
    """
    native = np.dtype(dtype).newbyteorder("=")
    try:
        return _DTYPE_NAMES[native]
    except KeyError:
        raise TypeError(f"dtype {native} has no torch equivalent") from None


class _Formatter:
    """One notation and width shared by all elements of a real-valued tensor."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.floating:
            self.width = max(
                [1, *(len(str(value)) for value in values.ravel().tolist())]
            )
            return
        shown = values.astype(np.float64).ravel()
        shown = shown[np.isfinite(shown) & (shown != 0)]
        if shown.size == 0:
            return
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        smallest, largest = float(np.abs(shown).min()), float(np.abs(shown).max())
        if _OPTIONS.sci_mode is None:
            self.sci_mode = (
                largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
            )
        else:
            self.sci_mode = _OPTIONS.sci_mode
        self.width = max(len(self._text(value)) for value in shown.tolist())

    def _text(self, value: Any) -> str:
        """Render one element without padding."""
        if not self.floating:
            return str(value)
        if self.sci_mode:
            return f"{value:.{_OPTIONS.precision}e}"
        if self.int_mode:
            return f"{value:.0f}" + ("." if math.isfinite(value) else "")
        return f"{value:.{_OPTIONS.precision}f}"

    def format(self, value: Any) -> str:
        """Render one element right-aligned to the common width."""
        return self._text(value).rjust(self.width)


def _format_element(value: Any, real: _Formatter, imag: _Formatter | None) -> str:
    if imag is None:
        return real.format(value)
    real_text = real.format(value.real)
    imag_text = (imag.format(value.imag) + "j").lstrip()
    if imag_text[0] in "+-":
        return real_text + imag_text
    return real_text + "+" + imag_text


def _shown_indices(length: int, summarize: bool) -> list[int | None]:
    """List the indices printed along an axis, with None for a summary's ``...``."""
    edge = _OPTIONS.edgeitems
    if summarize and length > 2 * edge:
        return [*range(edge), None, *range(length - edge, length)]
    return list(range(length))


def _summary(array: np.ndarray) -> np.ndarray:
    """Select the elements a summarised tensor shows: they alone set its format."""
    edge = _OPTIONS.edgeitems
    if array.ndim == 0:
        return array
    if not edge:
        # torch's quirk: a vector keeps all its elements, higher ranks keep none.
        return array if array.ndim == 1 else array.ravel()[:0]
    for axis, length in enumerate(array.shape):
        if length > 2 * edge:
            array = np.take(
                array, [*range(edge), *range(length - edge, length)], axis=axis
            )
    return array


def _format_vector(
    array: np.ndarray,
    indent: int,
    summarize: bool,
    real: _Formatter,
    imag: _Formatter | None,
) -> str:
    element_length = real.width + 2 + (imag.width + 1 if imag is not None else 0)
    per_line = max(1, (_OPTIONS.linewidth - indent) // element_length)
    indices = _shown_indices(len(array), summarize)
    values = iter(array[[i for i in indices if i is not None]].tolist())
    ellipsis = " ..." if _OPTIONS.edgeitems else "..."
    items = [
        ellipsis if i is None else _format_element(next(values), real, imag)
        for i in indices
    ]
    lines = [
        ", ".join(items[start : start + per_line])
        for start in range(0, len(items), per_line)
    ]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _format_nested(
    array: np.ndarray,
    indent: int,
    summarize: bool,
    real: _Formatter,
    imag: _Formatter | None,
) -> str:
    if array.ndim == 0:
        return _format_element(array.item(), real, imag)
    if array.ndim == 1:
        return _format_vector(array, indent, summarize, real, imag)
    parts = [
        "..."
        if i is None
        else _format_nested(array[i], indent + 1, summarize, real, imag)
        for i in _shown_indices(len(array), summarize)
    ]
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _format_data(array: np.ndarray, indent: int) -> str:
    """Render the bracketed contents of a non-empty tensor."""
    summarize = array.size > _OPTIONS.threshold
    shown = _summary(array) if summarize else array
    if array.dtype.kind == "c":
        real, imag = _Formatter(shown.real), _Formatter(shown.imag)
        return _format_nested(array, indent, summarize, real, imag)
    return _format_nested(array, indent, summarize, _Formatter(shown), None)


def _add_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    parts = [text]
    # torch measures the last line two characters longer than it is.
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(parts) + ")"


def format_tensor(
    array: np.ndarray,
    suffixes: Sequence[str] = (),
    *,
    default_float: np.dtype = _FLOAT32,
) -> str:
    """Return PyTorch's repr for a tensor holding ``array``.

    For example ``'tensor([1., 2.], dtype=torch.float64, grad_fn=<MulBackward0>)'``.
    ``suffixes`` are the autograd suffixes to put after the dtype one, already
    formatted (``'grad_fn=<AddBackward0>'`` or ``'requires_grad=True'``).
    ``default_float`` is the default floating dtype (``torch.get_default_dtype()``).
    A ``dtype=`` suffix is added unless the dtype is the default float, its
    complex counterpart, int64 or bool; empty tensors show their dtype unless it
    is the default float, and their ``size=`` unless they are one-dimensional.
    """
    array = np.asarray(array)
    name = dtype_name(array.dtype)
    default_name = dtype_name(default_float)
    default_complex = (
        "torch.complex128" if default_name == "torch.float64" else "torch.complex64"
    )
    leading: list[str] = []
    if array.size == 0:
        if array.ndim != 1:
            leading.append(f"size={array.shape}")
        if name != default_name:
            leading.append(f"dtype={name}")
        text = "[]"
    else:
        if not _OPTIONS.edgeitems:
            leading.append(f"size={array.shape}")
        if name not in (default_name, default_complex, "torch.int64", "torch.bool"):
            leading.append(f"dtype={name}")
        text = _format_data(array, _INDENT)
    return _add_suffixes(_PREFIX + text, [*leading, *suffixes], _INDENT)
