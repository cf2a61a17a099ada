"""One number formatter for every place gradscope shows a value (issue 13 §5)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradscope._format import (
    NONFINITE_STYLE,
    ZERO_STYLE,
    format_array,
    format_number,
    number_spans,
    number_style,
)


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "0"), (-0.0, "0"), (0, "0"), (1e-19, "1e-19"), (8e-19, "8e-19"), (0.5, "0.5"), (0.125, "0.125"),
    (1 / 3, "0.3333"), (12.3456, "12.35"), (1234.5, "1234"), (12345.678, "1.235e+04"), (1e13, "1e+13"),
    (-1.23456e-7, "-1.235e-07"), (0.00998, "0.00998"), (math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"),
    (None, "—"), (7, "7"), (np.float32(0.1), "0.1"), (np.int64(3), "3"),
])
def test_format_number(value, text):
    assert format_number(value) == text


@given(st.floats(-1e308, 1e308).filter(lambda value: value != 0))  # 1.798e+308 would read back as inf
def test_a_nonzero_number_keeps_four_significant_digits_and_is_never_shown_as_zero(value):
    text = format_number(value)
    assert float(text) != 0
    assert float(text) == pytest.approx(value, rel=5e-4)
    assert len(text) <= len("-1.235e-308")


def test_styles_mark_non_finite_values_and_exact_zeros():
    assert number_style(math.nan) == number_style(-math.inf) == NONFINITE_STYLE
    assert number_style(0.0) == ZERO_STYLE
    assert number_style(1e-19) == number_style(None) == ""


def test_a_value_grid_shows_tiny_gradients_and_exact_zeros_honestly():
    grid = format_array(np.array([[1e-19, 0.5], [np.nan, 0.0]]))
    assert grid == "[[1e-19   0.5]\n [  nan     0]]"  # NumPy's suppress_small printed 1e-19 as `0.`


def test_a_large_grid_is_summarised_and_aligned_to_the_values_shown():
    values = np.arange(2000.0).reshape(40, 50) / 7
    grid = format_array(values, threshold=120, edgeitems=2, max_line_width=200)
    lines = grid.splitlines()
    assert lines[0] == "[[     0 0.1429 ...  6.857      7]"
    assert lines[2] == " ..."
    assert lines[-1].endswith("285.6]]")


def test_integer_and_empty_grids_print_as_numpy_does():
    assert format_array(np.array([1, 2, 3])) == "[1 2 3]"
    assert format_array(np.zeros((0, 2))) == "[]"


def test_number_spans_style_nan_inf_and_zero_tokens_only():
    text = "[[1e-19   0.5]\n [ -inf     0]] nan 10 1e+10"
    spans = {text[start:end]: style for start, end, style in number_spans(text)}
    assert spans == {"-inf": NONFINITE_STYLE, "0": ZERO_STYLE, "nan": NONFINITE_STYLE}
