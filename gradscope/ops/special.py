"""Special functions NumPy lacks, vectorised: lgamma, digamma, polygamma, erfinv, xlogy.

Each computes in float64 and returns the input's floating dtype. The gamma family shifts its argument
up past `_SHIFT_TO` with the recurrences (ψ(x) = ψ(x + 1) − 1/x …) and sums an asymptotic series there;
negative arguments are reflected first (Γ(x)Γ(1 − x) = π / sin πx; lgamma already below ½), and the
trigamma is PyTorch's own short series, so values agree with PyTorch's kernels.
"""

from __future__ import annotations

import math

import numpy as np

_SHIFT_TO = 10.0
_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
# B_2k / (2k (2k − 1)), the Stirling series of lgamma, k = 1 … 8
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)
# B_2k, k = 1 … 8
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _float64(a) -> tuple[np.ndarray, np.dtype]:
    a = np.asarray(a)
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    return a.astype(np.float64), dtype


def xlogy(x, y) -> np.ndarray:
    """x · log y, 0 where x is 0 (even for y = 0 or inf) unless y is nan, as PyTorch's."""
    dtype = np.result_type(x, y)  # before log turns a Python number into a float64
    out = np.asarray(x * np.log(y)).astype(dtype, copy=False)
    return np.where((x == 0) & ~np.isnan(y), 0, out).astype(dtype, copy=False)


def _sin_pi_distance(x: np.ndarray) -> np.ndarray:
    """x − round(x), exact in floating point: sin πx from it keeps its digits for large x."""
    return x - np.round(x)


def _shifted(x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """x moved up by whole steps until ≥ `_SHIFT_TO` (x ≥ ½ here), and the values stepped over."""
    steps = []
    w = x.copy()
    for _ in range(int(_SHIFT_TO) + 1):
        below = w < _SHIFT_TO
        if not below.any():
            break
        steps.append(np.where(below, w, np.nan))
        w = np.where(below, w + 1, w)
    return w, steps


def _lgamma_large(w: np.ndarray) -> np.ndarray:
    inverse = 1 / w
    square = inverse * inverse
    series = np.zeros_like(w)
    for c in reversed(_STIRLING):
        series = series * square + c
    return (w - 0.5) * np.log(w) - w + _HALF_LOG_TWO_PI + series * inverse


def _lgamma_positive(z: np.ndarray) -> np.ndarray:
    w, steps = _shifted(z)
    product = np.ones_like(z)
    for step in steps:
        product = product * np.where(np.isnan(step), 1.0, step)
    return _lgamma_large(w) - np.log(product)


def lgamma(a) -> np.ndarray:
    """log |Γ(a)|; +inf at the poles 0, −1, −2 … and at ±inf."""
    x, dtype = _float64(a)
    reflect = x < 0.5
    z = np.where(reflect, 1 - x, x)
    out = _lgamma_positive(np.where(np.isfinite(z), z, 1.0))
    sine = np.abs(np.sin(math.pi * _sin_pi_distance(np.where(reflect & np.isfinite(x), x, 0.5))))
    out = np.where(reflect, np.log(math.pi / sine) - out, out)
    # NOTE: the shift's cancellation leaves ~1e-15 near the roots; at 1 and 2 themselves the value is exactly 0
    out = np.where((x == 1) | (x == 2), 0.0, np.where(np.isinf(x), math.inf, out))
    return np.where(np.isnan(x), np.nan, out).astype(dtype, copy=False)


def _digamma_positive(z: np.ndarray) -> np.ndarray:
    w, steps = _shifted(z)
    inverse_square = 1 / (w * w)
    series = np.zeros_like(w)
    for k in range(7, 0, -1):
        series = series * inverse_square + _BERNOULLI[k - 1] / (2 * k)
    out = np.log(w) - 0.5 / w - series * inverse_square
    for step in steps:
        out = out - np.where(np.isnan(step), 0.0, 1 / step)
    return out


def digamma(a) -> np.ndarray:
    """ψ(a) = d/da lgamma(a): −inf at +0 (+inf at −0), nan at the negative integers, as PyTorch's."""
    x, dtype = _float64(a)
    finite = np.isfinite(x)
    negative = (x < 0) & finite
    out = _digamma_positive(np.where(negative, 1 - x, np.where(finite & (x > 0), x, 1.0)))
    fraction = np.fmod(np.where(negative, x, 0.5), 1.0)
    out = np.where(negative, out - math.pi / np.tan(math.pi * fraction), out)
    out = np.where(negative & (fraction == 0), np.nan, out)
    out = np.where(x == 0, np.copysign(math.inf, -x), out)
    out = np.where(x == math.inf, math.inf, np.where(x == -math.inf, np.nan, out))
    return np.where(np.isnan(x), np.nan, out).astype(dtype, copy=False)


def _trigamma(x: np.ndarray) -> np.ndarray:
    """ψ⁽¹⁾ as PyTorch's calc_trigamma computes it (six steps up, a short series), so values agree."""
    reflect = x < 0.5
    sine = np.sin(math.pi * np.where(reflect, x, 0.5))
    result = np.where(reflect, -(math.pi * math.pi) / (sine * sine), 0.0)
    x = np.where(reflect, 1 - x, x)
    for _ in range(6):
        result = result + 1 / (x * x)
        x = x + 1
    inverse_square = 1 / (x * x)
    result = result + (1 + 1 / (2 * x) + inverse_square * (1 / 6 - inverse_square * (1 / 30 - inverse_square / 42))) / x
    return np.where(reflect, -result, result)


def _hurwitz_zeta(s: int, x: np.ndarray) -> np.ndarray:
    """ζ(s, x) = Σ_k (x + k)^−s for an integer s ≥ 2 and x > 0: the first terms summed until x + k ≥
    `_SHIFT_TO` + s, the tail by Euler–Maclaurin."""
    start = _SHIFT_TO + s
    total = np.zeros_like(x)
    w = x.copy()
    for _ in range(int(start) + 1):
        below = w < start
        if not below.any():
            break
        total = total + np.where(below, w, 1.0) ** -s * below
        w = np.where(below, w + 1, w)
    tail = w ** (1 - s) / (s - 1) + 0.5 * w ** -s
    rising = float(s)  # s (s + 1) … (s + 2k − 2) / (2k)!
    power = w ** (-s - 1)
    inverse_square = 1 / (w * w)
    for k, bernoulli in enumerate(_BERNOULLI, start=1):
        tail = tail + bernoulli * rising / math.factorial(2 * k) * power
        rising *= (s + 2 * k - 1) * (s + 2 * k)
        power = power * inverse_square
    return total + tail


def polygamma(n: int, a) -> np.ndarray:
    """ψ⁽ⁿ⁾(a), the n-th derivative of digamma (n = 0 is digamma itself)."""
    if n == 0:
        return digamma(a)
    x, dtype = _float64(a)
    if n == 1:
        return _trigamma(x).astype(dtype, copy=False)
    s = n + 1
    pole = (x <= 0) & (x == np.round(x))
    finite = np.isfinite(x) & ~pole
    x = np.where(finite, x, 1.0)
    # x = f − m with f in (0, 1): ζ(s, x) = ζ(s, f) + (−1)^s (ζ(s, 1 − f) − ζ(s, m + 1 − f)), every argument > 0
    f = x - np.floor(x)
    m = np.maximum(-np.floor(x), 0.0)
    negative = x < 0
    zeta = _hurwitz_zeta(s, np.where(negative, f, x))
    reflected = _hurwitz_zeta(s, np.where(negative, 1 - f, 1.0)) - _hurwitz_zeta(s, np.where(negative, m + 1 - f, 1.0))
    zeta = np.where(negative, zeta + (-1) ** s * reflected, zeta)
    sign = (-1) ** (n + 1)
    out = sign * math.factorial(n) * zeta
    # PyTorch's (Cephes' zeta): a pole or -inf gives ±inf, +inf gives nan
    a = np.asarray(a)
    out = np.where(pole | (a == -math.inf), sign * math.inf, np.where(a == math.inf, np.nan, out))
    return np.where(np.isnan(a), np.nan, out).astype(dtype, copy=False)


# PyTorch's calc_erfinv: a rational first guess, then two Newton steps on erf
_ERFINV_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_ERFINV_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_ERFINV_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ERFINV_D = (3.543889200, 1.637067800)


def _polynomial(coefficients, z):
    out = np.zeros_like(z)
    for c in reversed(coefficients):
        out = out * z + c
    return out


_erf_elements = np.frompyfunc(math.erf, 1, 1)
_erfc_elements = np.frompyfunc(math.erfc, 1, 1)


def erfinv(a) -> np.ndarray:
    """The inverse of erf on (−1, 1), ±inf at ±1 and nan outside."""
    y, dtype = _float64(a)
    size = np.abs(y)
    central = size <= 0.7
    y = np.where(size < 1, y, 0.0)
    z = y * y
    x_central = y * _polynomial(_ERFINV_A, z) / (_polynomial(_ERFINV_B, z) * z + 1)
    # NOTE: the tails solve erfc(|x|) = 1 − |y| (exact for |y| ≥ ½): erf(x) − y would cancel to nothing near ±1
    complement = np.where(central, 0.5, 1 - np.abs(y))
    tail_z = np.sqrt(-np.log(complement / 2))
    x_tail = _polynomial(_ERFINV_C, tail_z) / (_polynomial(_ERFINV_D, tail_z) * tail_z + 1)
    for _ in range(2):
        slope = 2 / math.sqrt(math.pi) * np.exp(-x_central * x_central)
        x_central = x_central - (np.asarray(_erf_elements(x_central), dtype=np.float64) - y) / slope
        slope = 2 / math.sqrt(math.pi) * np.exp(-x_tail * x_tail)
        x_tail = x_tail + (np.asarray(_erfc_elements(x_tail), dtype=np.float64) - complement) / slope
    x = np.where(central, x_central, np.copysign(x_tail, y))
    x = np.where(size == 1, np.copysign(math.inf, a), np.where(size < 1, x, np.nan))
    return x.astype(dtype, copy=False)


def entr(a) -> np.ndarray:
    """−x log x: 0 at 0, −inf below 0, as PyTorch's special.entr."""
    x, dtype = _float64(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1.0)), np.where(x == 0, 0.0, -math.inf))
    return np.where(np.isnan(x), np.nan, out).astype(dtype, copy=False)


def xlog1py(x, y) -> np.ndarray:
    """x · log1p(y), 0 where x is 0 (even for y = −1 or inf) unless y is nan, as PyTorch's."""
    dtype = np.result_type(x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(x * np.log1p(y)).astype(dtype, copy=False)
    return np.where((x == 0) & ~np.isnan(y), 0, out).astype(dtype, copy=False)


# NOTE: exp(x²) erfc(x) directly up to here (the error of x² grows the result's by x² ulps, ≤ 1e-13); the
# asymptotic series 1/(x√π) Σ (−1)ᵏ (2k − 1)!! / (2x²)ᵏ beyond, where its terms fall below 1e-20 by k = 20
_ERFCX_SERIES_FROM = 12.0


def erfcx(a) -> np.ndarray:
    """The scaled complementary error function exp(x²) erfc(x), without the overflow: ~1/(x√π) for large x."""
    x, dtype = _float64(a)
    direct = np.where(x < _ERFCX_SERIES_FROM, x, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        near = np.exp(direct * direct) * np.asarray(_erfc_elements(direct), dtype=np.float64)
    far = np.where(x >= _ERFCX_SERIES_FROM, x, _ERFCX_SERIES_FROM)
    with np.errstate(over="ignore"):
        inverse = 1 / (2 * far * far)
    term, series = np.ones_like(far), np.ones_like(far)
    for k in range(1, 21):
        term = term * -(2 * k - 1) * inverse
        series = series + term
    out = np.where(x < _ERFCX_SERIES_FROM, near, series * (1 / math.sqrt(math.pi)) / far)
    out = np.where(x == math.inf, 0.0, np.where(x == -math.inf, math.inf, out))
    return np.where(np.isnan(x), np.nan, out).astype(dtype, copy=False)


def log_ndtr(a) -> np.ndarray:
    """log Φ(x), with t = x/√2: log1p(−erfc(t)/2) above −1 (Φ near 1), log(erfcx(−t)/2) − t² below (no underflow),
    as PyTorch's (the same t², so its gradient's exp(−(result + x²/2)) cancels the same way)."""
    x, dtype = _float64(a)
    t = x * math.sqrt(0.5)
    upper = np.where(x > -1, t, 0.0)
    out_upper = np.log1p(-0.5 * np.asarray(_erfc_elements(upper), dtype=np.float64))
    lower = np.where(x > -1, -1.0, t)
    out_lower = np.log(0.5 * erfcx(-lower)) - lower * lower
    out = np.where(x > -1, out_upper, out_lower)
    return np.where(np.isnan(x), np.nan, out).astype(dtype, copy=False)


# Acklam's rational approximations of Φ⁻¹ (relative error 1.2e-9), refined by one Halley step on Φ
_NDTRI_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
            -3.066479806614716e+01, 2.506628277459239e+00)
_NDTRI_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
            -1.328068155288572e+01)
_NDTRI_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
            4.374664141464968e+00, 2.938163982698783e+00)
_NDTRI_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)


def _horner(coefficients, z):
    """Σ cᵢ z^(n−i), highest power first."""
    out = np.zeros_like(z)
    for c in coefficients:
        out = out * z + c
    return out


def ndtri(a) -> np.ndarray:
    """Φ⁻¹(p), the standard normal quantile: ∓inf at 0 and 1, nan outside [0, 1]."""
    p, dtype = _float64(a)
    inside = (p > 0) & (p < 1)
    # the lower half solves for q = min(p, 1 − p) (1 − p is exact for p ≥ ½), the upper half is its negative
    q = np.where(inside, np.minimum(p, 1 - p), 0.25)
    central = q > 0.02425
    r = np.where(central, q - 0.5, 0.0)
    s = r * r
    x_central = r * _horner(_NDTRI_A, s) / (_horner(_NDTRI_B, s) * s + 1)
    t = np.sqrt(-2 * np.log(np.where(central, 0.01, q)))
    x_tail = _horner(_NDTRI_C, t) / (_horner(_NDTRI_D, t) * t + 1)
    x = np.where(central, x_central, x_tail)
    # (Φ(x) − q) / φ(x) with Φ(x) = erfcx(−x/√2) e^(−x²/2) / 2, so nothing overflows down to the subnormal q
    step = math.sqrt(2 * math.pi) * (0.5 * erfcx(-x * math.sqrt(0.5)) - np.exp(np.log(q) + 0.5 * x * x))
    x = x - step / (1 + 0.5 * x * step)
    x = np.where(p > 0.5, -x, x)
    x = np.where(p == 0, -math.inf, np.where(p == 1, math.inf, x))
    return np.where(inside | (p == 0) | (p == 1), x, np.nan).astype(dtype, copy=False)


def _bessel_i_scaled(order: int, a: np.ndarray) -> np.ndarray:
    """e^−|x| I_order(|x|) for order 0 or 1: the power series up to |x| = 30 (positive terms), Hankel's
    asymptotic series e^|x| / √(2π|x|) · Σ (−1)ᵏ aₖ / |x|ᵏ beyond (its terms shrink until k ≈ 2|x|)."""
    size = np.abs(a)
    small = np.where(size <= 30, size, 0.0)
    half = small / 2
    term = np.ones_like(small) if order == 0 else half.copy()
    series = term.copy()
    for k in range(1, 80):
        term = term * half * half / (k * (k + order))
        series = series + term
    large = np.where(size > 30, size, 30.0)
    coefficient, asymptotic = 1.0, np.ones_like(large)
    for k in range(1, 30):
        coefficient *= (4 * order * order - (2 * k - 1) ** 2) / (8 * k)
        asymptotic = asymptotic + coefficient * (-1) ** k / large ** k
    return np.where(size <= 30, series * np.exp(-small), asymptotic / np.sqrt(2 * math.pi * large))


def i0e(a) -> np.ndarray:
    """e^−|x| I₀(x): 0 at ±inf."""
    x, dtype = _float64(a)
    out = np.where(np.isinf(x), 0.0, _bessel_i_scaled(0, np.where(np.isinf(x), 0.0, x)))
    return np.where(np.isnan(x), np.nan, out).astype(dtype, copy=False)


def i1e(a) -> np.ndarray:
    """e^−|x| I₁(x), odd (+0 at −0): ±0 at ±inf."""
    x, dtype = _float64(a)
    out = np.where(np.isinf(x), 0.0, _bessel_i_scaled(1, np.where(np.isinf(x), 0.0, x)))
    return np.where(np.isnan(x), np.nan, np.where(x < 0, -out, out)).astype(dtype, copy=False)
