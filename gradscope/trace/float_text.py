"""The text of float32 values as Python writes the doubles they convert to (`repr(float(value))`), a whole
array at once, for the JSON export.

Python writes a double with the shortest decimal that reads back as it (the nearest such, if several),
found by David Gay's algorithm one number at a time (~0.8 µs each here); a trace's JSON is mostly
numbers. A float32 value has 24 significant bits, so its product with a power of ten held as three
doubles is exact to ~2^-100: enough to find, with NumPy, its 17 significant digits and then the fewest
that still round to it. What that margin can't settle (a decimal within 2^-30 of a rounding boundary)
and powers of two (whose lower neighbour is twice as near) are written by `repr` itself.
"""

from __future__ import annotations

import decimal
import functools
from fractions import Fraction

import numpy as np

FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float16))  # values exact in 24 bits
DIGITS = 17  # significant digits that always read back as the same double
_LOWEST, _HIGHEST = 10**16, 10**17  # a value scaled by 10^k lies in [_LOWEST, _HIGHEST)
_K_MIN, _K_MAX = -24, 64  # the k that scale float32's range (1.4e-45 .. 3.4e38) there
_MARGIN = 2.0**-30  # in units of the 17th digit: the computed figures are within 2^-44 of exact
_EXPONENT_OFFSET = 50  # decimal exponents of float32 values are -45 .. 38
_NAN, _INF = 98, 99  # forms of the values that have no digits, beyond any exponent's
_FORMS = 100


def _powers_of_ten() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """10^k for k in [_K_MIN, _K_MAX] as top + rest + low: top has 26 significant bits and rest 27 (so
    a float32 value times either is exact), low the rounding error of top + rest."""
    high, low = [], []
    for k in range(_K_MIN, _K_MAX + 1):
        exact = Fraction(10) ** k
        high.append(float(exact))
        low.append(float(exact - Fraction(high[-1])))
    high_array = np.array(high)
    top = (high_array.view(np.uint64) & ~np.uint64((1 << 27) - 1)).view(np.float64)
    return top, high_array - top, np.array(low), high_array


_TOP, _REST, _LOW, _HIGH = _powers_of_ten()
_FOUR_DIGITS = np.frombuffer("".join(f"{n:04d}" for n in range(10_000)).encode(), np.uint32)  # "0042" as one


def join(values: np.ndarray, separators: list[str], kinds: np.ndarray) -> str:
    """Each value's text (as `_finite_json(float(value))` then json write it: "nan", "inf", "-inf" as
    strings) followed by `separators[kinds[i]]`, for float32 or float16 `values` (flattened)."""
    if not values.size:
        return ""
    with np.errstate(invalid="ignore"):  # a signalling NaN converts quietly, as tolist() converts it
        numbers = values.ravel().astype(np.float64)
    negative = np.signbit(numbers)
    magnitude = np.abs(numbers)
    finite = np.isfinite(magnitude)
    written = finite & (magnitude != 0)  # the values with digits to find: not zero, NaN nor infinite
    if written.all():
        digits, exponent = _shortest(magnitude)  # the significant digits (17 of them) and the power of ten
    else:  # of the first; zero is "0.0", as 0e0
        digits, exponent = np.zeros(numbers.size, np.int64), np.zeros(numbers.size, np.int64)
        nonzero = np.flatnonzero(written)
        digits[nonzero], exponent[nonzero] = _shortest(magnitude[nonzero])
    characters = _digit_characters(digits)
    length = DIGITS - np.argmax(characters[:, ::-1] != ord("0"), axis=1)  # trailing zeros dropped
    form = exponent + _EXPONENT_OFFSET
    if not written.all():
        length[digits == 0] = 1
        form[np.isnan(numbers)], form[np.isinf(numbers)] = _NAN, _INF
        length[~finite] = 0
    return _lay_out(characters, negative, form, length, separators, kinds)


def _shortest(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shortest digits of positive finite values (17 of them, trailing zeros as needed) and the power
    of ten of the first."""
    mantissa, binary_exponent = np.frexp(magnitude)
    k = 16 - np.floor(np.log10(magnitude)).astype(np.int64)
    whole, fraction, half_gap = _scaled(magnitude, binary_exponent, k)
    for _ in range(2):  # log10 may be one off next to a power of ten
        off = np.flatnonzero((whole < _LOWEST) | (whole >= _HIGHEST))
        if not off.size:
            break
        k[off] += np.where(whole[off] < _LOWEST, 1, -1)
        whole[off], fraction[off], half_gap[off] = _scaled(magnitude[off], binary_exponent[off], k[off])
    digits, doubtful = _fewest(whole, fraction, half_gap)
    exponent = 16 - k
    carried = digits >= _HIGHEST  # 99…9.7 rounds up to 10…0: one digit more before the point
    digits[carried] //= 10
    exponent[carried] += 1
    by_repr = np.flatnonzero(doubtful | (mantissa == 0.5))
    if by_repr.size:
        digits[by_repr], exponent[by_repr] = _digits_by_repr(magnitude[by_repr])
    return digits, exponent


def _scaled(magnitude: np.ndarray, binary_exponent: np.ndarray, k: np.ndarray):
    """magnitude × 10^k as its whole part (int64) and fraction, and half the gap to the neighbouring
    doubles on that scale."""
    index = k - _K_MIN
    terms = [magnitude * _TOP[index], magnitude * _REST[index], magnitude * _LOW[index]]  # the first two exact
    wholes = [np.floor(term) for term in terms]
    fraction = sum(term - whole for term, whole in zip(terms, wholes))
    carry = np.floor(fraction)
    whole = sum(part.astype(np.int64) for part in (*wholes, carry))
    # a double in [2^(e-1), 2^e) is 2^(e-53) from its neighbours: a decimal within half of that reads as it
    half_gap = np.ldexp(_HIGH[index], binary_exponent - 54) + np.ldexp(_LOW[index], binary_exponent - 54)
    return whole, fraction - carry, half_gap


def _fewest(whole: np.ndarray, fraction: np.ndarray, half_gap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nearest multiple of the largest power of ten that is within `half_gap` of whole + fraction
    (17 digits always are, since half_gap > 0.5), and whether the margin left that in doubt."""
    digits = whole + (fraction > 0.5)
    doubtful = np.abs(fraction - 0.5) < _MARGIN
    candidates = np.arange(whole.size)
    step = 1
    while candidates.size and step < _LOWEST:
        step *= 10
        value, frac, gap = whole[candidates], fraction[candidates], half_gap[candidates]
        below = value % step
        down = np.minimum(below, 64).astype(np.float64) + frac  # distances beyond 64 units never count
        up = np.minimum(step - below, 64).astype(np.float64) - frac
        nearest = np.minimum(down, up)
        doubtful[candidates] |= (np.abs(nearest - gap) < _MARGIN) | ((np.abs(down - up) < _MARGIN) & (nearest <= gap))
        fits = nearest <= gap
        candidates = candidates[fits]
        digits[candidates] = (value - below + np.where(up < down, step, 0))[fits]
    return digits, doubtful


def _digits_by_repr(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What `_shortest` finds, read from repr (values it can't settle: few, and often the same)."""
    distinct, where = np.unique(magnitude, return_inverse=True)
    digits, exponents = [], []
    for value in distinct.tolist():
        _, figures, power = decimal.Decimal(repr(value)).as_tuple()
        exponents.append(power + len(figures) - 1)
        digits.append(int("".join(map(str, figures)).ljust(DIGITS, "0")))
    return np.array(digits, np.int64)[where], np.array(exponents, np.int64)[where]


def _lay_out(digit_characters, negative, form, length, separators: list[str], kinds: np.ndarray) -> str:
    """Every value's characters and its separator: a row of the columns of `_COLUMNS` each, the layout of
    its kind (sign, form, length, separator) saying which columns it uses and holding their characters but
    the digits'."""
    key = ((kinds.astype(np.int64) * 2 + negative) * _FORMS + form) * (DIGITS + 1) + length
    present = np.flatnonzero(np.bincount(key))
    row_of = np.zeros(present[-1] + 1, np.int64)
    row_of[present] = np.arange(present.size)
    which = row_of[key]
    width = _SEPARATOR + max(map(len, separators))
    characters = np.zeros((present.size, width), np.uint8)
    used = np.zeros((present.size, width), bool)
    for row, code in enumerate(present.tolist()):
        kind, rest = divmod(code, 2 * _FORMS * (DIGITS + 1))
        text, mask = _layout(*_unpack(rest), separators[kind])
        characters[row, :len(text)], used[row, :len(mask)] = np.frombuffer(text, np.uint8), mask
    rows = characters[which]
    rows[:, _DIGIT:_DIGIT + 2 * DIGITS:2] = digit_characters
    # taking the used places by index is several times faster than by a mask that changes every few places
    return rows.ravel()[np.flatnonzero(used[which])].tobytes().decode("ascii")


def _digit_characters(digits: np.ndarray) -> np.ndarray:
    """The 17 digits of each (ASCII), four at a time from a table: the first one, then four groups of four
    (split in int32, whose divisions are cheaper)."""
    high, low = np.divmod(digits, 10**8)
    high, low = high.astype(np.int32), low.astype(np.int32)
    groups = np.empty((digits.size, 5), np.uint32)  # "000d", "dddd" × 4
    groups[:, 0], rest = np.divmod(high, 10**8)
    groups[:, 1], groups[:, 2] = np.divmod(rest, 10**4)
    groups[:, 3], groups[:, 4] = np.divmod(low, 10**4)
    return _FOUR_DIGITS.take(groups).view(np.uint8)[:, 3:]


def _unpack(key: int) -> tuple[bool, int, int]:
    length = key % (DIGITS + 1)
    form = key // (DIGITS + 1) % _FORMS
    negative = bool(key // ((DIGITS + 1) * _FORMS) % 2)
    return negative, form, length


# The columns of a value's row, each used or not: a sign, "0." and up to three zeros before the digits of
# a small number, each digit followed by a place for the point, an exponent, "nan" or "inf" quoted, the
# separator.
_SIGN, _LEAD, _ZEROS, _DIGIT, _EXPONENT, _SPECIAL = 0, 1, 3, 6, 6 + 2 * DIGITS, 10 + 2 * DIGITS
_SEPARATOR = _SPECIAL + 6


@functools.cache
def _layout(negative: bool, form: int, length: int, separator: str) -> tuple[bytes, list[bool]]:
    """The characters of a value's row (the digits' columns left blank) and the columns it uses, as repr
    writes the value, then the separator."""
    row = bytearray(_SEPARATOR + len(separator))
    used = [False] * len(row)

    def put(column: int, text: str) -> None:
        row[column:column + len(text)] = text.encode()
        used[column:column + len(text)] = [True] * len(text)

    def use_digits(count: int) -> None:
        for place in range(count):
            used[_DIGIT + 2 * place] = True

    exponent = form - _EXPONENT_OFFSET
    if form in (_NAN, _INF):
        put(_SPECIAL, '"nan"' if form == _NAN else '"-inf"' if negative else '"inf"')
    elif -4 <= exponent < 16:  # as repr: positional between 1e-4 and 1e16
        if negative:
            put(_SIGN, "-")
        if exponent < 0:
            put(_LEAD, "0.")
            put(_ZEROS, "0" * (-exponent - 1))
            use_digits(length)
        else:  # the digits past the last significant one are zeros: "1500.0" is 1, 5, 0, 0, ".", 0
            use_digits(max(exponent + 2, length))
            put(_DIGIT + 2 * exponent + 1, ".")
    else:
        if negative:
            put(_SIGN, "-")
        use_digits(length)
        if length > 1:
            put(_DIGIT + 1, ".")
        put(_EXPONENT, f"e{exponent:+03d}")
    put(_SEPARATOR, separator)
    return bytes(row), used


