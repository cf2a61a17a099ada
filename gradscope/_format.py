"""How gradscope shows a number, wherever it shows one: the CLI report, the TUI, check and gradcheck
messages.

Four significant digits, with an exponent outside [1e-4, 1e4) (`0.1235`, `1235`, `1.235e+04`,
`1e-19`), so a tiny gradient never prints as `0.`; an exact zero is `0`; `nan`, `inf` and `-inf` as
Python spells them; None (no value) is `—`. Styles are named, not applied (the core doesn't import
rich): non-finite values in the error style, exact zeros dimmed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import numpy as np

SIGNIFICANT_DIGITS = 4
NONFINITE_STYLE = "bold red"
ZERO_STYLE = "dim"
MISSING = "—"

# Tokens of formatted text that get a style: nan/inf (with a sign), and a bare exact zero
_STYLED_TOKEN = re.compile(r"(?<![\w.])(?P<nonfinite>[-+]?(?:nan|inf))(?![\w.])|(?<![\w.+-])(?P<zero>-?0)(?![\w.])")


def format_number(value: float | int | None) -> str:
    """`value` in at most four significant digits.

    >>> [format_number(v) for v in (0.0, -0.0, 1e-19, 0.5, 12345.678, -1.23456e-7, float("nan"), None)]
    ['0', '0', '1e-19', '0.5', '1.235e+04', '-1.235e-07', 'nan', '—']
    """
    if value is None:
        return MISSING
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"  # -0.0 included: a sign on nothing only distracts
    return f"{value:.{SIGNIFICANT_DIGITS}g}"


def number_style(value: float | None) -> str:
    """The style `value` is shown in: the error style for NaN and ±inf, dim for an exact zero, else none."""
    if value is None:
        return ""
    value = float(value)
    if not math.isfinite(value):
        return NONFINITE_STYLE
    return ZERO_STYLE if value == 0 else ""


def number_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, style) of every `nan`, `inf` and exact `0` in text made by this module, to style
    a value grid after formatting it (`rich.text.Text.stylize(style, start, end)`)."""
    for match in _STYLED_TOKEN.finditer(text):
        style = NONFINITE_STYLE if match.group("nonfinite") else ZERO_STYLE
        yield match.start(), match.end(), style


def format_array(values: np.ndarray, *, max_line_width: int = 75, threshold: int = 1000,
                 edgeitems: int = 3) -> str:
    """An array laid out as NumPy prints it (nested brackets, `...` beyond `threshold` elements), each
    float in `format_number`'s form and right-aligned to the widest one shown.

    >>> print(format_array(np.array([[1e-19, 0.5], [float("nan"), 0.0]])))
    [[1e-19   0.5]
     [  nan     0]]
    """
    values = np.asarray(values)
    if values.dtype.kind != "f" or values.size == 0:
        return np.array2string(values, max_line_width=max_line_width, threshold=threshold, edgeitems=edgeitems)
    shown = _shown(values, threshold, edgeitems)
    width = max(len(format_number(value)) for value in shown.flat)
    return np.array2string(values, max_line_width=max_line_width, threshold=threshold, edgeitems=edgeitems,
                           formatter={"float_kind": lambda value: format_number(value).rjust(width)})


def _shown(values: np.ndarray, threshold: int, edgeitems: int) -> np.ndarray:
    """The elements NumPy shows: all of them, or beyond `threshold` the first and last `edgeitems`
    along every axis."""
    if values.size <= threshold:
        return values
    kept = [np.r_[0:edgeitems, size - edgeitems:size] if size > 2 * edgeitems else np.arange(size)
            for size in values.shape]
    return values[np.ix_(*kept)]
