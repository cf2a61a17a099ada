"""The samplers PyTorch's CPU kernels run element by element, with rejection loops that take as many
draws as they need: `_standard_gamma` (Marsaglia and Tsang), `_sample_dirichlet` (normalised gammas) and
`poisson` (Hörmann's transformed rejection, or multiplying uniforms for small rates). Each element's draws
follow the previous one's in the stream, so the loop is sequential; its draws are PyTorch's scalar ones
(`Draws`), read from words fetched in bulk, and the values equal PyTorch's after the same seed.
"""

from __future__ import annotations

import math

import numpy as np

_THIRD_F32 = float(np.float32(1.0) / np.float32(3.0))  # the C literal 1.0f / 3.0f
_SQUEEZE_F32 = float(np.float32(0.0331))


class Draws:
    """PyTorch's scalar draws from a Generator: doubles in [0, 1) from 53 bits of two words (the first the
    high part), standard normals by Box-Muller on two of those, the second kept for the next normal (and in
    the generator's state). Words are fetched ahead in bulk; `close()` puts the generator just past the
    words used, as if drawn one by one."""

    def __init__(self, generator, expected_words: int = 64) -> None:
        self.generator = generator
        self.state = generator.bit_generator.state
        self.words = generator.words(max(expected_words, 2)).tolist()
        self.used = 0
        self.kept_normal = generator._next_normal

    def uniform(self) -> float:
        if self.used + 2 > len(self.words):
            self.words += self.generator.words(len(self.words)).tolist()
        high, low = self.words[self.used], self.words[self.used + 1]
        self.used += 2
        return (((high & 0x1F_FFFF) << 32) | low) * 2.0**-53

    def normal(self) -> float:
        if self.kept_normal is not None:
            value, self.kept_normal = self.kept_normal, None
            return value
        u1, u2 = self.uniform(), self.uniform()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.kept_normal = r * math.sin(theta)
        return r * math.cos(theta)

    def close(self) -> None:
        self.generator.bit_generator.state = self.state
        self.generator.words(self.used)
        self.generator._next_normal = self.kept_normal


def standard_gamma(alpha: np.ndarray, generator) -> np.ndarray:
    """Gamma(α, 1) draws for each α (C order), as PyTorch's `_standard_gamma`: float32 α runs the
    kernel's float32 steps in float32, the rest in double; results at least the dtype's smallest normal."""
    dtype = alpha.dtype
    single = dtype == np.float32
    draws = Draws(generator, 8 * alpha.size)
    try:
        values = [_gamma_one(a, draws, single) for a in alpha.ravel().tolist()]
    finally:
        draws.close()
    tiny = np.finfo(dtype).tiny
    return np.fmax(np.array(values, dtype=np.float64).astype(dtype), tiny).reshape(alpha.shape)


def _gamma_one(alpha: float, draws: Draws, single: bool) -> float:
    f32 = np.float32
    scale = 1.0
    if alpha < 1.0:  # boosted: Gamma(α) = Gamma(α + 1) · U^(1/α)
        if alpha == 0.0:
            return 0.0
        exponent = float(f32(1.0) / f32(alpha)) if single else 1.0 / alpha
        scale *= (1 - draws.uniform()) ** exponent
        alpha = float(f32(alpha) + f32(1.0)) if single else alpha + 1.0
    d = float(f32(alpha) - f32(_THIRD_F32)) if single else alpha - _THIRD_F32
    # NOTE: a negative α gives nan here, as in C (no error): the sample is nan, returned as the smallest normal
    c = 1.0 / math.sqrt(9.0 * d) if d > 0 else (math.inf if d == 0 else math.nan)
    while True:
        while True:
            x = draws.normal()
            y = 1.0 + c * x
            if not y <= 0:  # as C's `while (y <= 0)`: a nan y (from a nan or negative α) ends the loop
                break
        v = y * y * y
        u = 1 - draws.uniform()
        xx = x * x
        if u < 1.0 - _SQUEEZE_F32 * xx * xx or math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def sample_dirichlet(alpha: np.ndarray, generator) -> np.ndarray:
    """Dirichlet draws along the last dim, as PyTorch's `_sample_dirichlet`: double gammas of each α (C
    order), divided by their sum, kept inside [smallest normal, the largest float below 1] of α's dtype."""
    dtype = alpha.dtype
    draws = Draws(generator, 8 * alpha.size)
    try:
        gammas = np.array([_gamma_one(a, draws, False) for a in alpha.astype(np.float64).ravel().tolist()])
    finally:
        draws.close()
    gammas = np.fmax(gammas, np.finfo(np.float64).tiny).reshape(alpha.shape)
    shares = (gammas / gammas.sum(-1, keepdims=True)).astype(dtype)
    return np.clip(shares, np.finfo(dtype).tiny, np.nextafter(dtype.type(1), dtype.type(0)))


def poisson(rates: np.ndarray, generator) -> np.ndarray:
    """Poisson draws for each rate (C order), as PyTorch's CPU `poisson`."""
    if not np.all(rates >= 0):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    draws = Draws(generator, 4 * rates.size)
    try:
        values = [_poisson_one(rate, draws) for rate in rates.astype(np.float64).ravel().tolist()]
    finally:
        draws.close()
    return np.array(values, dtype=np.float64).astype(rates.dtype).reshape(rates.shape)


def _poisson_one(rate: float, draws: Draws) -> float:
    if rate >= 10:  # transformed rejection (Hörmann 1993)
        slam, loglam = math.sqrt(rate), math.log(rate)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            U = draws.uniform() - 0.5
            V = draws.uniform()
            us = 0.5 - abs(U)
            k = _c_floor((2 * a / us + b) * U + rate + 0.43)
            k = int(k) if math.isfinite(k) else -(2**63)  # C's cast of inf or nan to int64 on x86
            if us >= 0.07 and V <= vr:
                return k
            if k < 0 or (us < 0.013 and V > us):
                continue
            bound = -rate + k * loglam - math.lgamma(k + 1)
            if math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b) <= bound:
                return k
    if rate == 0:
        return 0
    enlam, count, product = math.exp(-rate), 0, 1.0  # multiply uniforms until below e^-rate
    while True:
        product *= draws.uniform()
        if product <= enlam:
            return count
        count += 1


# Stirling's series tail log k! − (k + ½) log(k + 1) + (k + 1) − ½ log 2π for k = 0 … 9 (PyTorch's table)
_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287)


def binomial(count: np.ndarray, prob: np.ndarray, generator) -> np.ndarray:
    """Binomial(count, prob) draws (C order over the broadcast shape), as PyTorch's CPU `binomial`: inversion
    by geometric waiting times when count·p < 10, Hörmann's BTRS rejection otherwise (on min(p, 1 − p)).
    float32 runs the kernel's float32 steps in float32."""
    count, prob = np.broadcast_arrays(count, prob)
    dtype = np.result_type(count, prob)
    single = dtype == np.float32
    draws = Draws(generator, 4 * count.size)
    try:
        values = [_binomial_one(n, p, draws, single) for n, p in zip(count.ravel().tolist(), prob.ravel().tolist())]
    finally:
        draws.close()
    return np.array(values, dtype=np.float64).astype(dtype).reshape(count.shape)


def _binomial_one(count: float, prob: float, draws: Draws, single: bool) -> float:
    real = np.float32 if single else float
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        if float(real(count) * real(prob)) >= 10.0:
            return _btrs(count, prob, draws, real)
        return _binomial_inversion(count, prob, draws, real)
    if prob > 0.5:
        qprob = float(real(1.0 - prob))
        if float(real(count) * real(qprob)) >= 10.0:
            return float(real(count) - real(_btrs(count, qprob, draws, real)))
        return float(real(count) - real(_binomial_inversion(count, qprob, draws, real)))
    return math.nan


def _binomial_inversion(count: float, prob: float, draws: Draws, real) -> float:
    """The number of geometric waiting times (in trials) that fit in `count`."""
    log_q = float(real(math.log1p(-prob)))  # NOTE: PyTorch's log1p of a float is the float one
    geom_sum, successes = 0.0, 0.0
    while True:
        geom_sum += _c_ceil(math.log(draws.uniform()) / log_q)
        if geom_sum > count:
            return successes
        successes += 1


def _c_ceil(value: float) -> float:
    """C's ceil: infinities and nan pass through (math.ceil raises on them)."""
    return float(math.ceil(value)) if math.isfinite(value) else value


def _c_floor(value: float) -> float:
    return float(math.floor(value)) if math.isfinite(value) else value


def _stirling_tail(k: float) -> float:
    if k < len(_STIRLING_TAIL):
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _btrs(count: float, prob: float, draws: Draws, real) -> float:
    """Hörmann's transformed rejection with squeeze (BTRS), as TensorFlow's and PyTorch's kernels run it."""
    n, p = real(count), real(prob)
    stddev = float(np.sqrt(real(n * p * (real(1) - p)))) if real is np.float32 else math.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = float(n * p) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(p / (real(1) - p))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(float((n + real(1)) * p))
    while True:
        U = draws.uniform() - 0.5
        V = draws.uniform()
        us = 0.5 - abs(U)
        k = float(real(_c_floor((2 * a / us + b) * U + c)))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and V <= v_r:
            return k
        V = math.log(V * alpha / (a / (us * us) + b))
        upperbound = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                      + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                      + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                      + _stirling_tail(m) + _stirling_tail(count - m) - _stirling_tail(k) - _stirling_tail(count - k))
        if V <= upperbound:
            return k
