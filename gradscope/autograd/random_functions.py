"""torch.* sampling: bernoulli, multinomial, normal (tensor means and stds), randperm. Draws come from
the default generator (seeded by manual_seed) or the `generator` given, PyTorch's Mersenne Twister. bernoulli,
normal and randperm draw PyTorch's values; multinomial uses NumPy's algorithms on that stream: seeded and
repeatable, values differ from PyTorch's, the distributions and the API don't."""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope.autograd import factories, sequential_sampling
from gradscope.autograd.dispatch import apply
from gradscope.autograd.generator import fill_in_memory_order
from gradscope.autograd.inplace import _inplace
from gradscope.autograd.out_arg import write_made, write_out
from gradscope.autograd.tensor import Tensor, _c_type_name
from gradscope.ops import random as R
from gradscope.ops.gamma_grads import dirichlet_grad, standard_gamma_grad


def _generator(generator):
    return generator if generator is not None else factories.default_generator


def _scalar_type(t: Tensor) -> str:
    """'Long' for int64, as PyTorch names dtypes in its kernels' errors."""
    return t.dtype.legacy_name.removesuffix("Tensor")


def _check_probability(p: float) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:.6g}")


def _check_probabilities(p: Tensor) -> np.ndarray:
    if p._data.dtype.kind != "f":
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_scalar_type(p)}'")
    if not np.all((p._data >= 0) & (p._data <= 1)):  # NaN fails too
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
                           "improved?  If so, please report an enhancement request to PyTorch.)")
    return p._data


def _coins(target: np.ndarray, p, generator) -> np.ndarray:
    """bernoulli_(p)'s draws for `target`, in the order PyTorch writes them (its memory order); a tensor p
    is broadcast to target's shape."""
    rng = _generator(generator)
    if isinstance(p, np.ndarray):
        p = np.broadcast_to(p, target.shape)
        return fill_in_memory_order(target, lambda shape, q: rng.bernoulli_fill(shape, target.dtype, q), p)
    return fill_in_memory_order(target, lambda shape: rng.bernoulli_fill(shape, target.dtype, p))


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws, each 1 with probability `input` (or the number `p`), PyTorch's values after the same seed;
    the gradient is zero (BernoulliBackward0). With a number p PyTorch records a node that refuses backward,
    and so does this."""
    contiguous = np.empty(input._data.shape, input._data.dtype)  # PyTorch draws into a contiguous result
    if p is None:
        values = _coins(contiguous, _check_probabilities(input), generator)
        result = apply(R.bernoulli, (input,), (values,))
    else:
        _check_probability(p)
        result = apply(R.bernoulli_p, (input,), (_coins(contiguous, p, generator),))
    return write_out("bernoulli", result, out)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 draws, 1 with probability `p` (a number, or a tensor that broadcasts), PyTorch's values
    after the same seed."""
    if isinstance(p, Tensor):
        values = _coins(self._data, _check_probabilities(p), generator)
        return _inplace(self, lambda t, q: apply(R.bernoulli_tensor_, (t, q), (values,)), p)
    _check_probability(p)
    values = _coins(self._data, p, generator)
    return _inplace(self, lambda t: apply(R.bernoulli_scalar_, (t,), (values,)))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the categories of each row of `input` (non-negative weights, not necessarily
    summing to 1), with or without replacement: PyTorch's draws after the same seed. No gradient.

    Without replacement (or for one sample) the picks are the largest weight / Exp(1) keys (a Gumbel-max
    draw, one exponential per weight); with replacement each sample is a double uniform looked up in the
    row's cumulative weights, summed and normalised in the input's dtype, as PyTorch's CPU kernel does."""
    weights = input._data
    _check_multinomial(input, num_samples, replacement)
    rows = weights.reshape(-1, weights.shape[-1])
    rng = _generator(generator)
    if rows.shape[0] == 0:
        picks = np.empty((0, num_samples), dtype=np.int64)
    elif not replacement or num_samples == 1:
        if not np.all(rows < np.inf) or np.any(rows < 0):  # NaN fails the first
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if np.any(rows.sum(axis=1) == 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        keys = rows / rng.exponential_fill(rows.shape, rows.dtype, 1.0)
        if num_samples == 1:  # PyTorch's argmax: the first largest
            picks = np.argmax(keys, axis=1)[:, None]
        else:  # NOTE: keys that tie (zero weights) come in index order; PyTorch's topk leaves their order open
            picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    else:
        cumulative = _cumulative_weights(rows)
        u = rng.unit_uniform(rows.shape[0] * num_samples, np.float64).reshape(rows.shape[0], num_samples)
        picks = np.stack([np.searchsorted(row.astype(np.float64), draws) for row, draws in zip(cumulative, u)])
    result = Tensor._make(picks.reshape(weights.shape[:-1] + (num_samples,)).astype(np.int64, copy=False))
    return write_out("multinomial", result, out)


def _check_multinomial(input, num_samples, replacement) -> None:
    weights = input._data
    if weights.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if weights.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_scalar_type(input)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > weights.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if weights.shape[-1] > 2**24:
        raise RuntimeError("number of categories cannot exceed 2^24")


def _cumulative_weights(rows: np.ndarray) -> np.ndarray:
    """Each row's running sum over its total, in the rows' dtype, the last set to 1; PyTorch checks row by
    row, so the first bad row's problem is the one reported."""
    for row in rows:
        bad = np.flatnonzero(~((row >= 0) & np.isfinite(row)))
        if bad.size:
            kind = "probability entry < 0" if not row[bad[0]] >= 0 else "probability entry = infinity or NaN"
            raise RuntimeError(f"invalid multinomial distribution (encountering {kind})")
        if not row.sum() > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    cumulative = np.cumsum(rows, axis=1, dtype=rows.dtype)  # sequential, as PyTorch sums
    cumulative /= cumulative[:, -1:]
    cumulative[:, -1] = 1
    return cumulative


def _check_std(std: np.ndarray) -> None:
    if np.any(std < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Normal draws: a tensor of means and/or of stds (broadcast; zero gradients, NormalBackward1/2/3), or
    numbers and a size."""
    rng = _generator(generator)
    if isinstance(mean, Tensor) and isinstance(std, Tensor):
        _check_std(std._data)
        shape = np.broadcast_shapes(mean._data.shape, std._data.shape)
        dtype = np.result_type(mean._data, std._data)
        values = rng.normal_fill(shape, dtype, 0, 1) * std._data + mean._data  # PyTorch's order: N(0, 1)·std + mean
        result = apply(R.normal_tensor_tensor, (mean, std), (values.astype(dtype, copy=False),))
    elif isinstance(mean, Tensor):
        factories.check_std(std)
        data = mean._data
        values = rng.normal_fill(data.shape, data.dtype, 0, std) + data  # N(0, std²) + mean
        result = apply(R.normal_tensor_float, (mean,), (values.astype(data.dtype, copy=False),))
    elif isinstance(std, Tensor):
        _check_std(std._data)
        data = std._data
        values = rng.normal_fill(data.shape, data.dtype, 0, 1) * data + data.dtype.type(mean)
        result = apply(R.normal_float_tensor, (std,), (values.astype(data.dtype, copy=False),))
    else:
        if size is None:
            raise TypeError("normal() missing 1 required positional arguments: \"size\"")
        result = factories.normal(mean, std, size, generator=generator)
        if dtype is not None:
            result = Tensor._make(result._data.astype(_dtypes.to_numpy_dtype(dtype)))
        if requires_grad:
            result.requires_grad_()
    return write_out("normal", result, out)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0 … n−1 (int64 unless `dtype`, or out's, says otherwise)."""
    result = factories.randperm(n, generator=generator)
    if out is not None and dtype is None:
        dtype = out.dtype
    if dtype is not None:
        if _dtypes.to_numpy_dtype(dtype).kind in "cb":
            raise NotImplementedError(f'"randperm" not implemented for \'{dtype.legacy_name[:-6]}\'')
        result = Tensor._make(result._data.astype(_dtypes.to_numpy_dtype(dtype)))
    if requires_grad:
        result.requires_grad_()
    return result if out is None else write_made("randperm", None, result, out)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with Exp(lambd) draws: PyTorch's values after the same seed."""
    data = self._data
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:.6g}")
    if data.dtype.kind != "f":
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_scalar_type(self)}")
    rng = _generator(generator)
    values = fill_in_memory_order(data, lambda shape: rng.exponential_fill(shape, data.dtype, lambd))
    return _inplace(self, lambda t: apply(R.exponential, (t,), (values,)))


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success: PyTorch's values after the same
    seed."""
    data = self._data
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:.6g}")
    if data.dtype == np.bool_:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    rng = _generator(generator)
    values = fill_in_memory_order(data, lambda shape: rng.geometric_fill(shape, data.dtype, p))
    return _inplace(self, lambda t: apply(R.geometric, (t,), (values,)))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy(median, sigma) draws: PyTorch's values after the same seed."""
    data = self._data
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:.6g}")
    if data.dtype.kind != "f":
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {_c_type_name(data.dtype)}")
    rng = _generator(generator)
    values = fill_in_memory_order(data, lambda shape: rng.cauchy_fill(shape, data.dtype, median, sigma))
    return _inplace(self, lambda t: apply(R.cauchy, (t,), (values,)))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std²)) draws: PyTorch's values after the same seed (float64 ones of 32 elements
    or more within ulps: the normals are NumPy's there)."""
    data = self._data
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:.6g}")
    if data.dtype.kind != "f":
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for '{_scalar_type(self)}'")
    rng = _generator(generator)
    values = fill_in_memory_order(data, lambda shape: rng.log_normal_fill(shape, data.dtype, mean, std))
    return _inplace(self, lambda t: apply(R.log_normal, (t,), (values,)))


def random_(self, *bounds, to=None, generator=None):
    """Fill with integers: random_() any the dtype holds from 0 (up to 2**digits for floats), random_(to)
    from [0, to), random_(low, to) from [low, to), random_(low, None) from low to the dtype's maximum:
    PyTorch's values after the same seed."""
    data, rng = self._data, _generator(generator)
    if to is not None:
        bounds = bounds + (to,)
    if not bounds:
        op, draw = R.random_full, lambda shape: rng.random_fill(shape, data.dtype)
    else:
        low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
        if high is None:
            high = _largest_integer(data.dtype) + 1
        op, draw = (R.random_to if len(bounds) == 1 else R.random_from_to,
                    lambda shape: rng.integers_fill(shape, data.dtype, int(low), int(high)))
    values = fill_in_memory_order(data, draw)
    return _inplace(self, lambda t: apply(op, (t,), (values,)))


def _largest_integer(dtype: np.dtype) -> int:
    """The top of random_(low, None)'s range: the dtype's maximum, 2**digits for floats, 1 for bool."""
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1)
    return 1 if dtype == np.bool_ else int(np.iinfo(dtype).max)


FUNCTIONS = ("bernoulli", "multinomial", "normal", "randperm")
METHODS = {"bernoulli": bernoulli, "bernoulli_": bernoulli_, "multinomial": multinomial,
           "exponential_": exponential_, "geometric_": geometric_, "cauchy_": cauchy_, "log_normal_": log_normal_,
           "random_": random_}


def _floating_values(input: Tensor, kernel: str) -> np.ndarray:
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_type(input)}'")
    return np.asarray(input._data, order="C")


def _standard_gamma(input: Tensor, generator=None) -> Tensor:
    """Gamma(input, 1) draws, PyTorch's values after the same seed (its Marsaglia-Tsang sampler, run element
    by element); differentiable by implicit reparameterisation (StandardGammaBackward0)."""
    values = sequential_sampling.standard_gamma(_floating_values(input, "gamma_cpu"), _generator(generator))
    return apply(R.standard_gamma, (input,), (values,))


def _sample_dirichlet(input: Tensor, generator=None) -> Tensor:
    """Dirichlet(input) draws along the last dim (normalised gammas), PyTorch's values after the same seed
    but an ulp of some float64 sums of 5 or more categories; recorded only to refuse backward, as PyTorch's."""
    values = sequential_sampling.sample_dirichlet(_floating_values(input, "dirichlet"), _generator(generator))
    return apply(R.sample_dirichlet, (input,), (values,))


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson(input) counts (of input's dtype), PyTorch's values after the same seed; gradient zero
    (PoissonBackward0)."""
    values = sequential_sampling.poisson(_floating_values(input, "poisson_cpu"), _generator(generator))
    return apply(R.poisson, (input,), (values,))


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Binomial(count, prob) draws (broadcast), PyTorch's values after the same seed; recorded only to refuse
    backward, as PyTorch's."""
    for name, t in (("count", count), ("prob", prob)):
        if t._data.dtype.kind != "f":
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: {_scalar_type(t)}")
    values = sequential_sampling.binomial(count._data, prob._data, _generator(generator))
    return apply(R.binomial, (count, prob), (values,))


def _standard_gamma_grad(self: Tensor, output: Tensor) -> Tensor:
    """d output / d self for Gamma(self, 1) samples `output` (implicit reparameterisation)."""
    return Tensor._make(standard_gamma_grad(self._data, output._data).astype(np.result_type(self._data, output._data)))


def _dirichlet_grad(x: Tensor, alpha: Tensor, total: Tensor) -> Tensor:
    """d x / d alpha for Dirichlet samples x of concentrations alpha summing to `total`."""
    return Tensor._make(dirichlet_grad(x._data, alpha._data, total._data).astype(x._data.dtype))
