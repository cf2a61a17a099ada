"""`torch.testing`: `assert_close` (and the deprecated `assert_allclose`) and `make_tensor`.

`assert_close(actual, expected)` compares tensors (gradscope's, or NumPy arrays with each other), Python numbers,
and sequences and mappings of them item by item, as PyTorch's does: first the kind of each pair, then the
attributes (shape, dtype, device, layout and, if asked, strides), then the values, `|a - e| <= atol + rtol·|e|`
with tolerances from the dtypes (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7 each; exact for integers and
bools). A failure is an AssertionError with PyTorch's message: how many elements differ, the greatest absolute
and relative differences and where, and for a nested input which item failed.

The comparison is on values only: `requires_grad` and the graph are ignored, so a gradient from a custom
backward can be checked against a hand-computed one directly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from gradscope import _dtypes
from gradscope.autograd.random_tensors import make_tensor
from gradscope.autograd.tensor import Tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

_PRECISIONS = {"float16": (0.001, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
               "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}
# assert_allclose's own (older) table
_LEGACY_PRECISIONS = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


class _Mismatch(Exception):
    """A failed comparison: the exception type PyTorch raises and its message (the item path added on the way
    out)."""

    def __init__(self, kind: type[Exception], message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def _dtype_name(dtype: np.dtype) -> str:
    return dtype.name


def _tolerances(dtypes, rtol, atol, table=_PRECISIONS) -> tuple[float, float]:
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    found = [table.get(_dtype_name(dtype), (0.0, 0.0)) for dtype in dtypes]
    return max(r for r, _ in found), max(a for _, a in found)


def _is_number(value) -> bool:
    return isinstance(value, (bool, int, float, complex)) and not isinstance(value, Tensor)


def _tensor_like(value) -> bool:
    return isinstance(value, (Tensor, np.ndarray))


def _torch_dtype(dtype: np.dtype) -> str:
    return str(_dtypes.from_numpy_dtype(dtype))


def _compare(actual, expected, path: str, options: dict) -> None:
    if actual is None or expected is None:
        if actual is not expected:
            raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}")
        return
    if _tensor_like(actual) and _tensor_like(expected):
        if isinstance(actual, Tensor) != isinstance(expected, Tensor):
            raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type {_type_text(actual)} "
                                       f"and {_type_text(expected)}.")
        _compare_tensors(actual, expected, options)
        return
    if _is_number(actual) and _is_number(expected):
        _compare_numbers(actual, expected, options)
        return
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        missing = sorted(set(expected) - set(actual), key=repr)
        extra = sorted(set(actual) - set(expected), key=repr)
        if missing or extra:
            lines = ["The keys of the mappings do not match:"]
            if missing:
                lines.append(f"Missing keys in the actual mapping: {missing}")
            if extra:
                lines.append(f"Additional keys in the actual mapping: {extra}")
            raise _Mismatch(AssertionError, "\n".join(lines))
        for key in expected:
            _item(actual[key], expected[key], f"{path}[{key!r}]", options)
        return
    if (isinstance(actual, Sequence) and isinstance(expected, Sequence) and not isinstance(actual, str)
            and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _item(a, e, f"{path}[{index}]", options)
        return
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type {_type_text(actual)} and "
                               f"{_type_text(expected)}.")


def _type_text(value) -> str:
    return "<class 'torch.Tensor'>" if isinstance(value, Tensor) else str(type(value))


def _item(actual, expected, path: str, options: dict) -> None:
    try:
        _compare(actual, expected, path, options)
    except _Mismatch as mismatch:
        if getattr(mismatch, "path", None) is None:
            mismatch.path = path
        raise


def _compare_numbers(actual, expected, options: dict) -> None:
    if options["check_dtype"] and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    # a Python number's precision is its type's: float64's for a float, exact for an int or a bool
    widest = min((complex, float, int, bool).index(type(v)) for v in (actual, expected))
    dtype = np.dtype((np.complex128, np.float64, np.int64, np.bool_)[widest])
    rtol, atol = _tolerances([dtype], options["rtol"], options["atol"], options["table"])
    if _close(np.asarray(actual), np.asarray(expected), rtol, atol, options["equal_nan"]).all():
        return
    raise _Mismatch(AssertionError, _scalar_message(actual, expected, rtol, atol))


def _close(a: np.ndarray, e: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    """torch.isclose: equal (infinities included), or finite and within atol + rtol·|e|."""
    if a.dtype.kind in "biu" and e.dtype.kind in "biu" and rtol == 0 and atol == 0:
        return a == e
    with np.errstate(invalid="ignore", over="ignore"):
        equal = a == e
        if equal_nan:
            equal |= np.isnan(a) & np.isnan(e)
        if a.dtype.kind in "biu" and e.dtype.kind in "biu":
            a, e = a.astype(np.float64), e.astype(np.float64)
        difference = np.abs(a - e)
        within = np.isfinite(difference) & (difference <= atol + rtol * np.abs(e))
    return equal | within


def _compare_tensors(actual, expected, options: dict) -> None:
    a = actual._data if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected._data if isinstance(expected, Tensor) else np.asarray(expected)
    is_tensor = isinstance(actual, Tensor)
    if a.shape != e.shape:
        shown = (f"torch.Size({list(a.shape)})", f"torch.Size({list(e.shape)})") if is_tensor else (a.shape, e.shape)
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: {shown[0]} != {shown[1]}.")
    if options["check_dtype"] and a.dtype != e.dtype:
        shown = (_torch_dtype(a.dtype), _torch_dtype(e.dtype)) if is_tensor else (a.dtype, e.dtype)
        raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: {shown[0]} != {shown[1]}.")
    if options["check_stride"] and is_tensor and actual.stride() != expected.stride():
        raise _Mismatch(AssertionError, "The values for attribute 'stride()' do not match: "
                                        f"{actual.stride()} != {expected.stride()}.")
    rtol, atol = _tolerances([a.dtype, e.dtype], options["rtol"], options["atol"], options["table"])
    if a.dtype != e.dtype:  # compared in the common dtype, as PyTorch does with check_dtype=False
        common = np.result_type(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    matches = _close(a, e, rtol, atol, options["equal_nan"])
    if matches.all():
        return
    if a.ndim == 0:
        raise _Mismatch(AssertionError, _scalar_message(a.item(), e.item(), rtol, atol))
    raise _Mismatch(AssertionError, _tensor_message(a, e, matches, rtol, atol))


def _header(identifier: str, equality: bool) -> str:
    return f"{identifier} are not {'equal' if equality else 'close'}!\n\n"


def _difference_line(kind: str, difference, index, tolerance, equality: bool) -> str:
    line = (f"{kind.title()} difference: {difference}" if index is None
            else f"Greatest {kind} difference: {difference} at index {index}")
    return line + ("" if equality else f" (up to {tolerance} allowed)") + "\n"


def _scalar_message(actual, expected, rtol, atol) -> str:
    equality = rtol == 0 and atol == 0
    absolute = abs(actual - expected)
    relative = float("inf") if expected == 0 else absolute / abs(expected)
    text = _header("Scalars", equality) + f"Expected {expected} but got {actual}.\n"
    text += _difference_line("absolute", absolute, None, atol, equality)
    text += _difference_line("relative", relative, None, rtol, equality)
    return text.strip()


def _tensor_message(a: np.ndarray, e: np.ndarray, matches: np.ndarray, rtol, atol) -> str:
    equality = rtol == 0 and atol == 0
    total = matches.size
    wrong = total - int(matches.sum())
    text = _header("Tensor-likes", equality) + f"Mismatched elements: {wrong} / {total} ({wrong / total:.1%})\n"
    integral = a.dtype.kind in "biu"
    if integral:
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        absolute = np.abs(a - e).ravel()
        absolute[matches.ravel()] = 0
        relative = absolute / np.abs(e).ravel()
        if integral:  # an integer quotient is in the default float dtype, as PyTorch's true division gives it
            relative = relative.astype(_dtypes.get_default_dtype().numpy)
        relative[matches.ravel()] = 0
    at_absolute, at_relative = _first_max(absolute), _first_max(relative)
    text += _difference_line("absolute", _shown(absolute[at_absolute]), _unravel(at_absolute, a.shape), atol,
                             equality)
    text += _difference_line("relative", _shown(relative[at_relative]), _unravel(at_relative, a.shape), rtol,
                             equality)
    return text.strip()


def _first_max(values: np.ndarray) -> int:
    """The index of the greatest value, NaN counting as the greatest (torch.max's rule)."""
    nan = np.flatnonzero(np.isnan(values))
    return int(nan[0]) if nan.size else int(np.argmax(values))


def _unravel(flat: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _shown(value) -> float | int:
    """As PyTorch's `.item()` gives it: a Python int for integers, else a Python float (of the float32 value)."""
    return int(value) if np.asarray(value).dtype.kind in "iu" else float(value)


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise an AssertionError with PyTorch's message unless `actual` and `expected` are close (see the module
    docstring)."""
    options = {"rtol": rtol, "atol": atol, "equal_nan": equal_nan, "check_dtype": check_dtype,
               "check_stride": check_stride, "table": _PRECISIONS}
    _run(actual, expected, options, msg)


def _run(actual, expected, options: dict, msg) -> None:
    try:
        _compare(actual, expected, "", options)
    except _Mismatch as mismatch:
        text = mismatch.message
        path = getattr(mismatch, "path", None)
        if path and mismatch.kind is AssertionError:
            text += f"\n\nThe failure occurred for item {path}"
        if isinstance(msg, str):
            text = msg
        elif callable(msg):
            text = msg(text)
        raise mismatch.kind(text) from None


def assert_allclose(actual, expected, rtol: float | None = None, atol: float | None = None, equal_nan: bool = True,
                    msg: str = "") -> None:
    """Deprecated since PyTorch 1.12: `expected` is made a tensor like `actual`, then compared with the older
    default tolerances (float32: rtol 1e-4, atol 1e-5)."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade "
                  "instructions in https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = Tensor._make(np.asarray(actual))
    if not isinstance(expected, Tensor):
        expected = Tensor._make(np.asarray(expected, dtype=actual._data.dtype))
    options = {"rtol": rtol, "atol": atol, "equal_nan": equal_nan, "check_dtype": False, "check_stride": False,
               "table": _LEGACY_PRECISIONS}
    _run(actual, expected, options, msg or None)

