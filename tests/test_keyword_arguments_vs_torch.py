"""Keyword arguments gradscope accepted and then ignored, or refused where PyTorch takes them, found by auditing
every keyword of PyTorch's signatures against gradscope (/work/notes/s22/fidelity22-tools/kwarg_audit.py): argmax's
keepdim without a dim, complex dtypes of the random factories, generator= of the *_like factories and torch.rrelu,
all/any over a list of dims, and out= of torch.special's, linalg.matmul and the *_copy functions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).uniform(-1, 1, (2, 3, 4))


def _outcome(lib, call):
    """(dtype, shape, values) of a call's result (each of a tuple's), or the error it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call(lib)
        except (RuntimeError, IndexError, TypeError) as error:
            return type(error).__name__, str(error)
    results = result if isinstance(result, tuple) else (result,)
    return [(str(r.dtype), tuple(r.shape), r.detach().resolve_conj().numpy() if isinstance(r, torch.Tensor)
             else r.detach().numpy()) for r in results]


def _compare(call, rtol=1e-12):
    ours, theirs = _outcome(gradscope, call), _outcome(torch, call)
    if isinstance(theirs, tuple) or isinstance(ours, tuple):
        assert ours == theirs
        return
    assert [r[:2] for r in ours] == [r[:2] for r in theirs]
    for (*_, mine), (*_, expected) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("call", [
    lambda L: L.argmax(L.tensor(X), keepdim=True), lambda L: L.argmin(L.tensor(X), keepdim=True),
    lambda L: L.tensor(X).argmax(keepdim=True), lambda L: L.tensor(X).argmin(dim=None, keepdim=True),
    lambda L: L.argmax(L.tensor(X), keepdim=True, out=L.empty(0, dtype=L.int64)),
    lambda L: L.argmax(L.tensor(2.0), keepdim=True), lambda L: L.argmin(L.tensor(X), keepdim=False),
], ids=["argmax", "argmin", "method", "method dim None", "out", "0-dim", "keepdim False"])
def test_argmax_without_a_dim_keeps_every_dim(call):
    """keepdim=True without a dim gave the 0-dim flat index; PyTorch keeps every dim as 1."""
    _compare(call)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("call", [
    lambda L, d: L.rand(3, dtype=d), lambda L, d: L.randn(5, dtype=d), lambda L, d: L.randn(20, dtype=d),
    lambda L, d: L.rand_like(L.zeros(2, 3, dtype=d)), lambda L, d: L.randn_like(L.zeros(2, 3), dtype=d),
    lambda L, d: L.zeros(4, dtype=d).normal_(1.0, 2.0), lambda L, d: L.zeros(40, dtype=d).normal_(),
    lambda L, d: L.zeros(4, dtype=d).uniform_(1.0, 2.0), lambda L, d: L.zeros(4, 6, dtype=d).t().normal_(),
    lambda L, d: L.randn(4, dtype=d, generator=L.Generator().manual_seed(5)),
], ids=["rand", "randn", "randn of 20", "rand_like", "randn_like", "normal_", "normal_ of 40", "uniform_",
        "normal_ transposed", "randn with a generator"])
def test_complex_random_values_fill_both_parts(call, dtype):
    """A complex dtype's imaginary parts were all zero. PyTorch fills the real and imaginary parts alike (its
    view_as_real): uniform parts, or normal parts of std/√2. After the same seed the values are PyTorch's."""
    def outcome(L):
        L.manual_seed(0)
        return _outcome(L, lambda L: call(L, getattr(L, dtype)))

    ours, theirs = outcome(gradscope), outcome(torch)
    assert [r[:2] for r in ours] == [r[:2] for r in theirs]
    np.testing.assert_array_equal(ours[0][2], theirs[0][2])
    assert np.all(ours[0][2].imag != 0)


@pytest.mark.parametrize("call", [
    lambda L, g: L.rand_like(L.zeros(2, 3), generator=g), lambda L, g: L.randn_like(L.zeros(5), generator=g),
    lambda L, g: L.randint_like(L.zeros(4), 10, generator=g),
    lambda L, g: L.randint_like(L.zeros(4), 3, 9, generator=g),
], ids=["rand_like", "randn_like", "randint_like", "randint_like low high"])
def test_like_factories_draw_from_their_generator(call):
    """generator= was a TypeError; the values are PyTorch's for the same generator seed, whatever the global one."""
    def outcome(L, global_seed):
        L.manual_seed(global_seed)
        return call(L, L.Generator().manual_seed(4)).numpy()

    np.testing.assert_array_equal(outcome(gradscope, 1), outcome(torch, 1))
    np.testing.assert_array_equal(outcome(gradscope, 2), outcome(torch, 1))


@pytest.mark.parametrize("name", ["rrelu", "rrelu_", "nn.functional.rrelu_"])
def test_rrelu_draws_its_slopes_from_its_generator(name):
    """torch.rrelu(..., generator=g) drew from the global generator (its generator was ignored). The draws are
    gradscope's own, not PyTorch's (F.rrelu's docstring): compared here are the same generator seed, a different
    global seed, and another generator seed."""
    def draw(global_seed, seed):
        gradscope.manual_seed(global_seed)
        values = -gradscope.ones(50)
        function = gradscope.nn.functional.rrelu_ if name.startswith("nn.") else getattr(gradscope, name)
        return function(values, 0.1, 0.3, True, gradscope.Generator().manual_seed(seed)).numpy()

    first = draw(0, 7)
    np.testing.assert_array_equal(first, draw(1, 7))
    assert not np.array_equal(first, draw(0, 8))
    assert np.all((first <= -0.1) & (first >= -0.3))


@pytest.mark.parametrize("call", [
    lambda L, x: L.all(x, dim=(0, 1)), lambda L, x: L.all(x, dim=[1]), lambda L, x: L.any(x, dim=(), keepdim=True),
    lambda L, x: L.all(x, (0,), True), lambda L, x: x.all(dim=[0, 1], keepdim=True), lambda L, x: x.any(dim=[-1]),
    lambda L, x: L.all(x, dim=None, keepdim=True), lambda L, x: L.all(x, dim=(0, -2)),
    lambda L, x: L.any(L.tensor(0.0), dim=(0,), keepdim=True), lambda L, x: L.all(x, dim=(2,)),
    lambda L, x: L.all(x, out=L.empty(0, dtype=L.bool)), lambda L, x: L.any(x, 1, out=L.empty(0)),
    lambda L, x: L.any(x, (0, 1), out=L.empty(0, dtype=L.bool)),
], ids=["dims", "list", "no dims", "positional", "method", "method list", "keepdim", "repeated", "0-dim",
        "out of range", "out", "float out", "dims out"])
def test_all_and_any_take_a_list_of_dims_and_out(call):
    """A tuple or list of dims was NumPy's TypeError; out= a TypeError. An empty list reduces nothing (PyTorch's)."""
    _compare(lambda L: call(L, L.tensor([[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]])))


OUT_CALLS = {
    "special.erf": lambda L, x, o: L.special.erf(x, out=o), "special.expit": lambda L, x, o: L.special.expit(x, out=o),
    "special.log1p": lambda L, x, o: L.special.log1p(x.abs(), out=o),
    "special.logsumexp": lambda L, x, o: L.special.logsumexp(x, 1, out=o),
    "special.logsumexp axis": lambda L, x, o: L.special.logsumexp(x, axis=(0, 2), out=o),
    "special.round": lambda L, x, o: L.special.round(x * 10, decimals=1, out=o),
    "special.ndtr": lambda L, x, o: L.special.ndtr(x, out=o),
    "linalg.matmul": lambda L, x, o: L.linalg.matmul(x, x.mT, out=o),
    "ger": lambda L, x, o: L.ger(x[0, 0], x[1, 1], out=o),
    "select_copy": lambda L, x, o: L.select_copy(x, 0, 1, out=o),
    "transpose_copy": lambda L, x, o: L.transpose_copy(x, 0, 2, out=o),
    "view_copy": lambda L, x, o: L.view_copy(x, (4, 6), out=o),
    "permute_copy": lambda L, x, o: L.permute_copy(x, (2, 0, 1), out=o),
    "expand_copy": lambda L, x, o: L.expand_copy(x[0, 0], (2, 4), out=o),
    "unfold_copy": lambda L, x, o: L.unfold_copy(x[0, 0], 0, 2, 1, out=o),
    "as_strided_copy": lambda L, x, o: L.as_strided_copy(x, (2, 2), (1, 2), out=o),
    "alias_copy": lambda L, x, o: L.alias_copy(x, out=o), "t_copy": lambda L, x, o: L.t_copy(x[0], out=o),
    "isin": lambda L, x, o: L.isin(x, x[0, 0], out=o),
    "isin inverted": lambda L, x, o: L.isin(x, x[1], invert=True, out=o),
    "index_copy": lambda L, x, o: L.index_copy(x, 1, L.tensor([0, 2]), x[:, :2], out=o),
    "norm": lambda L, x, o: L.norm(x, out=o), "norm dim": lambda L, x, o: L.norm(x, 1, dim=(0, 2), out=o),
}
EXACT = {"isin", "isin inverted", "index_copy", "norm", "norm dim"}
# an out of another dtype: a *_copy function, isin, index_copy and torch.norm refuse it (the copies cast it before),
# as PyTorch's; the others' rules differ op by op in PyTorch, where gradscope casts whenever the cast is allowed (a
# known difference, test_out_argument's)
OUTS = {"float64": lambda L: L.zeros(5, dtype=L.float64), "float32": lambda L: L.empty(0),
        "int64": lambda L: L.empty(0, dtype=L.int64)}


@pytest.mark.parametrize(("name", "out"), [(name, out) for name in OUT_CALLS for out in OUTS
                                           if out == "float64" or name.endswith("_copy") or name in EXACT])
def test_more_functions_write_into_out(name, out):
    """out= was a TypeError, but for the *_copy functions that took it already (torch.norm is PyTorch's Python
    function: it takes out= but none of NumPy's names)."""
    def call(L):
        target = OUTS[out](L)
        result = OUT_CALLS[name](L, L.tensor(X), target)
        return L.tensor(result is target), target

    _compare(call, rtol=1e-6)


# the *_copy functions are left out: PyTorch 2.13 writes them (composites) where gradscope refuses, as for the others
@pytest.mark.parametrize("out", ["float64", "float32"])
@pytest.mark.parametrize("name", ["special.erf", "special.logsumexp", "linalg.matmul", "ger", "norm", "norm dim",
                                  "complex", "polar"])
def test_an_out_call_refuses_an_input_that_requires_grad(name, out):
    """Before out's dtype, where PyTorch looks at that first (complex, polar, torch.norm)."""
    calls = {**OUT_CALLS, "complex": lambda L, x, o: L.complex(x, x, out=o),
             "polar": lambda L, x, o: L.polar(x, x, out=o)}
    _compare(lambda L: calls[name](L, L.tensor(X, requires_grad=True), OUTS[out](L)))


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8", "float16"])
@pytest.mark.parametrize("call", [
    lambda L, d: L.rand(2, dtype=d), lambda L, d: L.randn(2, dtype=d), lambda L, d: L.rand_like(L.zeros(3), dtype=d),
    lambda L, d: L.randn_like(L.zeros(3), dtype=d), lambda L, d: L.zeros(2, dtype=d).uniform_(),
    lambda L, d: L.zeros(2, dtype=d).normal_(),
], ids=["rand", "randn", "rand_like", "randn_like", "uniform_", "normal_"])
def test_random_draws_of_an_integer_dtype_are_refused(call, dtype):
    """Integer and bool dtypes were drawn as floats and cast (zeros, or truncated normals); PyTorch's kernels
    are not implemented for them. float16 is drawn (its values are not compared)."""
    def outcome(L):
        result = _outcome(L, lambda L: call(L, getattr(L, dtype)))
        return result if isinstance(result, tuple) else [r[:2] for r in result]

    assert outcome(gradscope) == outcome(torch)


@pytest.mark.parametrize("call", [
    lambda L, x: L.nanmean(x, dtype=L.int64), lambda L, x: L.nanmean(x, dtype=L.complex128),
    lambda L, x: L.nansum(x, dtype=L.complex128), lambda L, x: L.nanmean(x, 1, dtype=L.float32),
    lambda L, x: L.nansum(x, dtype=L.bool),
    lambda L, x: L.norm(x, dtype=L.float32), lambda L, x: L.norm(x, dtype=L.complex128),
    lambda L, x: L.norm(x.float(), dtype=L.float64), lambda L, x: L.norm(x, dtype=L.int64),
    lambda L, x: L.norm(x, p=1, dim=1, dtype=L.float32), lambda L, x: L.norm(x * 1j, dtype=L.float64),
    lambda L, x: L.norm(x * 1j, dtype=L.complex64), lambda L, x: L.linalg.vector_norm(x, dtype=L.complex128),
    lambda L, x: L.linalg.matrix_norm(x, dtype=L.int64), lambda L, x: x.norm(dtype=L.float32),
    lambda L, x: L.linalg.norm(x * 1j, dtype=L.float64),
    lambda L, x: L.repeat_interleave(x, 2, output_size=24), lambda L, x: L.repeat_interleave(x, 2, output_size=5),
    lambda L, x: L.repeat_interleave(x, 2, dim=1, output_size=5),
    lambda L, x: L.repeat_interleave(x, L.tensor([1, 2, 0]), dim=0, output_size=3),
    lambda L, x: L.repeat_interleave(x, L.tensor([1, 2, 0]), dim=0, output_size=4),
    lambda L, x: L.repeat_interleave(L.tensor([1, 2]), output_size=3),
    lambda L, x: L.repeat_interleave(L.tensor([1, 2]), output_size=4),
    lambda L, x: L.tril_indices(3, 3, dtype=L.float32), lambda L, x: L.triu_indices(3, 3, dtype=L.int32),
    lambda L, x: L.triu_indices(3, 3, dtype=L.bool), lambda L, x: L.tril_indices(3, 3, dtype=L.uint8),
    lambda L, x: L.randperm(3, dtype=L.complex64), lambda L, x: L.randperm(3, dtype=L.bool),
    lambda L, x: L.range(0, 2, dtype=L.complex64), lambda L, x: L.range(0, 2, dtype=L.bool),
    lambda L, x: L.fft.fftfreq(3, dtype=L.complex64), lambda L, x: L.fft.rfftfreq(3, dtype=L.complex128),
    lambda L, x: L.gradient(x, spacing=L.tensor(0.5)), lambda L, x: L.gradient(x, spacing=[L.tensor(0.5)]),
], ids=["nanmean int64", "nanmean complex", "nansum complex", "nanmean float32", "nansum bool", "norm narrowing",
        "norm complex of real", "norm widening", "norm int64", "norm p=1 narrowing", "norm real of complex",
        "norm complex narrowing", "vector_norm complex of real", "matrix_norm int64", "method norm narrowing",
        "linalg.norm real of complex", "repeat_interleave output_size", "repeat_interleave wrong output_size",
        "repeat_interleave dim wrong output_size", "repeat_interleave tensor output_size",
        "repeat_interleave tensor wrong output_size", "repeat_interleave repeats", "repeat_interleave repeats wrong",
        "tril_indices float32", "triu_indices int32", "triu_indices bool", "tril_indices uint8", "randperm complex",
        "randperm bool", "range complex", "range bool", "fftfreq complex", "rfftfreq complex", "gradient spacing 0-dim",
        "gradient spacing list of 0-dim"])
def test_dtypes_and_sizes_pytorch_refuses(call):
    """Each was accepted and ignored (a dtype computed in another, an output_size never checked) or computed in a
    dtype PyTorch has no kernel for, or a 0-dim tensor spacing refused; now PyTorch's result or its error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.range's deprecation
        _compare(lambda L: call(L, L.tensor(X[0])), rtol=1e-6)
