"""The implicit reparameterisation gradients of Gamma and Dirichlet samples, as PyTorch's CPU kernels
approximate them (`_standard_gamma_grad`, `_dirichlet_grad`): dx/dα = −(∂F/∂α)(x; α) / f(x; α) for a
sample x of CDF F and density f, which has no closed form. Each is piecewise (a series for small x, a
saddle-point expansion for large α, a fitted rational function elsewhere), with PyTorch's regions and
coefficients so that the gradients agree with PyTorch's. Vectorised over flat float64 arrays.
"""

from __future__ import annotations

import math

import numpy as np

_PSI_10 = 2.25175258906672110764  # ψ(10)
_DIGAMMA_ASYMPTOTIC = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
                       -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
                       8.33333333333333333333e-2)
_F32 = {value: float(np.float32(value)) for value in (0.8, 0.9, 1.1, 1e17)}  # C float literals, as doubles


def digamma_one(x: np.ndarray) -> np.ndarray:
    """ψ(x) by PyTorch's kernel helper: shifted up to 10 with ψ(x) = ψ(x + 1) − 1/x, then the asymptotic
    series (exactly ψ(10) at 10), reflected for negative x, inf at 0 and the negative integers."""
    x = np.array(x, dtype=np.float64)
    result, extra = np.zeros_like(x), np.zeros_like(x)
    negative = x < 0
    pole = (x == 0) | (negative & (x == np.floor(x)))
    extra[negative] = -math.pi / np.tan(math.pi * x[negative])
    x[negative] = 1 - x[negative]
    below = x < 10
    while below.any():
        result[below] -= 1 / x[below]
        x[below] += 1
        below = x < 10
    z = 1.0 / (x * x)
    series = np.full_like(x, _DIGAMMA_ASYMPTOTIC[0])
    for coefficient in _DIGAMMA_ASYMPTOTIC[1:]:
        series = series * z + coefficient
    y = np.where(x < _F32[1e17], z * series, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = result + np.log(x) - (0.5 / x) - y + extra
    out = np.where(x == 10, result + _PSI_10 + extra, out)
    return np.where(pole, np.inf, out)


_GAMMA_RATIONAL = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
     -1.5247877e-07],
])


def standard_gamma_grad(alpha, x) -> np.ndarray:
    """d x / d α for samples x of Gamma(α, 1) (PyTorch's `_standard_gamma_grad`), in float64."""
    alpha, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    out = np.empty(alpha.shape)
    small = x < _F32[0.8]
    large = ~small & (alpha > 8.0)
    middle = ~small & ~large
    with np.errstate(all="ignore"):
        out[small] = _gamma_grad_small_x(alpha[small], x[small])
        out[large] = _gamma_grad_large_alpha(alpha[large], x[large])
        out[middle] = _gamma_grad_rational(alpha[middle], x[middle])
    return out


def _gamma_grad_small_x(alpha, x):
    """A Taylor series of the CDF in x (x < 0.8); nan (0/0 far in the tail) gives 0."""
    numer, denom = np.ones_like(x), alpha.copy()
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = x**alpha
    pdf = x ** (alpha - 1) * np.exp(-x)
    cdf = pow_x_alpha * series1
    cdf_alpha = (np.log(x) - digamma_one(alpha)) * cdf - pow_x_alpha * series2
    result = -cdf_alpha / pdf
    return np.where(np.isnan(result), 0.0, result)


def _gamma_grad_large_alpha(alpha, x):
    """Rice's saddle-point expansion (α > 8), with a polynomial near the mode where it is singular."""
    near = (_F32[0.9] * alpha <= x) & (x <= _F32[1.1] * alpha)
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = 1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha + alpha * (107 + 3600 * x)
    polynomial = numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
    denom = np.sqrt(8 * alpha)
    term2 = denom / (alpha - x)
    term3 = (x - alpha - alpha * np.log(x / alpha)) ** -1.5
    term23 = np.where(x < alpha, term2 - term3, term2 + term3)
    term1 = np.log(x / alpha) * term23 - np.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    expansion = -stirling * (x * term1) / denom
    return np.where(near, polynomial, expansion)


def _gamma_grad_rational(alpha, x):
    """A bivariate rational fit in log(x/α) and log α."""
    u, v = np.log(x / alpha), np.log(alpha)
    c = [_GAMMA_RATIONAL[0, i] + u * (_GAMMA_RATIONAL[1, i] + u * _GAMMA_RATIONAL[2, i]) for i in range(8)]
    p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
    q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
    return np.exp(p / q)


_DIRICHLET_RATIONAL = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]],
])


def dirichlet_grad(x, alpha, total) -> np.ndarray:
    """d x / d α for the component x (of concentration α, the concentrations summing to `total`) of
    Dirichlet samples, holding the others' share fixed: PyTorch's `_dirichlet_grad`, in float64."""
    x, alpha, total = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (x, alpha, total)))
    beta = total - alpha
    boundary = total * x * (1 - x)
    near_zero = (x <= 0.5) & (boundary < 2.5)
    near_one = ~near_zero & (x >= 0.5) & (boundary < 0.75)
    both_large = ~near_zero & ~near_one & (alpha > 6) & (beta > 6)
    rest = ~(near_zero | near_one | both_large)
    out = np.empty(x.shape)
    with np.errstate(all="ignore"):
        out[near_zero] = _beta_grad_alpha_small(x[near_zero], alpha[near_zero], beta[near_zero])
        out[near_one] = -_beta_grad_beta_small(1 - x[near_one], beta[near_one], alpha[near_one])
        out[both_large] = _beta_grad_alpha_mid(x[both_large], alpha[both_large], beta[both_large])
        out[rest] = _beta_grad_rational(x[rest], alpha[rest], total[rest], beta[rest])
    return out


def _beta_grad_alpha_small(x, alpha, beta):
    """A Taylor expansion in x, for x near 0."""
    factor = digamma_one(alpha) - digamma_one(alpha + beta) - np.log(x)
    numer = np.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** -beta * series
    return np.where(np.isnan(result), 0.0, result)


def _beta_grad_beta_small(x, alpha, beta):
    """The gradient with respect to β by a Taylor expansion in x, for x near 0."""
    factor = digamma_one(alpha + beta) - digamma_one(beta)
    numer, betas, dbetas = np.ones_like(x), np.ones_like(x), np.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -((1 - x) ** (1 - beta)) * series
    return np.where(np.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(x, alpha, beta):
    """Rice's saddle-point expansion for α and β both large, a polynomial near the mean."""
    total = alpha + beta
    mean = alpha / total
    std = np.sqrt(alpha * beta / (total + 1)) / total
    near = (mean - 0.1 * std <= x) & (x <= mean + 0.1 * std)
    poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    polynomial = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / np.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha)) * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1 = term1_num / (np.sqrt(2 * alpha / beta) * total**1.5 * axbx * axbx)
    term2 = 0.5 * np.log(alpha / (total * x))
    term3 = np.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = (beta * np.log(beta / (total * (1 - x))) + alpha * np.log(alpha / (total * x))) ** -1.5
    expansion = stirling * prefactor * (term1 + term2 * (term3 + np.where(x < mean, term4, -term4)))
    return np.where(near, polynomial, expansion)


def _beta_grad_rational(x, alpha, total, beta):
    """A rational correction, fitted in log x, log(α/x) and log(total·x/α), to x (ψ(total) − ψ(α)) / β."""
    u = np.log(x)
    a = np.log(alpha) - u
    b = np.log(total) - a
    p, q = np.zeros_like(x), np.zeros_like(x)
    for i, pow_u in enumerate((np.ones_like(u), u, u * u)):
        for j, pow_a in enumerate((np.ones_like(a), a, a * a)):
            ua = pow_u * pow_a
            cp, cq = _DIRICHLET_RATIONAL[0, i, j], _DIRICHLET_RATIONAL[1, i, j]
            p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x * (digamma_one(total) - digamma_one(alpha)) / beta
    return p / q * approx
