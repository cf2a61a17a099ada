"""torch.fft's functions, torch.complex, torch.polar and torch.conj_physical take `out=` as PyTorch's: the result is
written into `out`, which is returned (gradscope ignored `out` before: `fft.fft(x, out=o)` left `o` unchanged and
returned a new tensor). A transform's out must be complex (real for the c2r transforms), with PyTorch's error
otherwise; a resized out warns at the caller's line. Every case runs on both libraries and must agree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((3, 4))
Z = X + 1j * np.random.default_rng(1).standard_normal((3, 4))
REAL_IN = ["fft", "ifft", "rfft", "ihfft", "fft2", "ifft2", "fftn", "ifftn", "rfft2", "rfftn", "ihfft2", "ihfftn"]
COMPLEX_IN = ["fft", "ifft", "irfft", "hfft", "fft2", "ifft2", "fftn", "ifftn", "irfft2", "irfftn", "hfft2", "hfftn"]
REAL_OUT = {"irfft", "hfft", "irfft2", "irfftn", "hfft2", "hfftn"}
CALLS = {f"{name}(x)": (name, "x", ()) for name in REAL_IN}
CALLS.update({f"{name}(z)": (name, "z", ()) for name in COMPLEX_IN})
CALLS.update({
    "fft(x, n=6, dim=0)": ("fft", "x", (6, 0)), "rfft(x, 5)": ("rfft", "x", (5,)), "irfft(z, 7)": ("irfft", "z", (7,)),
    "fftn(z, s=(2, 5))": ("fftn", "z", ((2, 5),)), "ihfftn(x, dim=(0, 1))": ("ihfftn", "x", (None, (0, 1))),
    "hfftn(z, s=(3, 6), norm='ortho')": ("hfftn", "z", ((3, 6), None, "ortho")),
})


def _call(lib, key: str, out):
    name, operand, args = CALLS[key]
    value = lib.tensor(X if operand == "x" else Z)
    return getattr(lib.fft, name)(value, *args, out=out)


def _outcome(lib, call, out_of):
    """What a call with `out=` gives: out's values, whether the result is out, its dtype and shape, warnings."""
    out = out_of(lib)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call(lib, out)
        except RuntimeError as error:
            return "error", str(error)
    messages = [str(w.message).split(" (Triggered internally")[0] for w in caught]
    return out.detach().numpy(), result is out, str(out.dtype), tuple(out.shape), out.requires_grad, messages


def _compare(call, out_of, rtol=1e-12):
    ours, theirs = _outcome(gradscope, call, out_of), _outcome(torch, call, out_of)
    assert ours[1:] == theirs[1:]
    if not isinstance(ours[0], str):
        np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=rtol)


def _double(key):
    return (lambda L: L.empty(0, dtype=L.float64)) if CALLS[key][0] in REAL_OUT else \
        (lambda L: L.empty(0, dtype=L.complex128))


# ihfftn over one dim (ihfftn(x) of a 1-D x) is left out: PyTorch 2.13 writes nothing into its out (a bug of its
# own, test_ihfftn_of_one_dim_writes_its_values_into_out)
@pytest.mark.parametrize("key", CALLS)
def test_transforms_write_into_out(key):
    _compare(lambda L, out: _call(L, key, out), _double(key))


@pytest.mark.parametrize("key", ["fft(x)", "ifft(z)", "rfft(x)", "irfft(z)", "hfft2(z)", "ihfftn(x)", "fftn(z)"])
def test_an_out_of_another_shape_is_resized_with_a_warning(key):
    _compare(lambda L, out: _call(L, key, out), lambda L: L.zeros(2, 2, dtype=_double(key)(L).dtype))


@pytest.mark.parametrize("key", ["fft(x)", "ifft(z)", "rfft(x)", "irfft(z)", "hfftn(z)", "ihfft2(x)"])
def test_a_single_precision_out_takes_the_values_cast(key):
    single = (lambda L: L.empty(0)) if CALLS[key][0] in REAL_OUT else (lambda L: L.empty(0, dtype=L.complex64))
    _compare(lambda L, out: _call(L, key, out), single, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "complex128", "int64"])
@pytest.mark.parametrize("key", ["fft(x)", "fft(z)", "ifft(x)", "rfft(x)", "ihfft(x)", "irfft(z)", "hfft(z)",
                                 "fft2(x)", "ifftn(z)", "rfftn(x)", "irfft2(z)", "hfftn(z)", "ihfft2(x)"])
def test_an_out_of_the_wrong_kind_is_refused(key, dtype):
    """A transform to complex values refuses a real or integer out, a c2r one a complex or integer out, with
    PyTorch's text (fft2's and ifftn's name fftn)."""
    _compare(lambda L, out: _call(L, key, out), lambda L: L.empty(0, dtype=getattr(L, dtype)))


@pytest.mark.parametrize("key", ["fft(x)", "fft(z)", "rfft(x)", "irfft(z)", "hfft(z)", "fft2(x)", "ifftn(z)",
                                 "rfft2(x)", "ihfft2(x)", "hfftn(z)"])
def test_an_input_that_requires_grad_is_refused(key):
    """PyTorch's text names the kernel (_fft_r2c, _fft_c2c, _fft_c2r). Left out: ifft and ihfft of a real input,
    where PyTorch 2.13 returns an out whose grad_fn is broken (NotImplemented); gradscope refuses those too."""
    def call(L, out):
        name, operand, args = CALLS[key]
        return getattr(L.fft, name)(L.tensor(X if operand == "x" else Z, requires_grad=True), *args, out=out)

    _compare(call, _double(key))


@pytest.mark.parametrize("key", ["fft(x)", "rfft(x)", "irfft(z)", "ifftn(z)"])
def test_an_out_that_requires_grad_is_refused(key):
    _compare(lambda L, out: _call(L, key, out),
             lambda L: L.empty(0, dtype=_double(key)(L).dtype, requires_grad=True))


@pytest.mark.parametrize("key", ["ifft(x)", "ihfft(x)"])
def test_a_real_input_that_requires_grad_is_refused_for_the_inverse_transforms(key):
    name = CALLS[key][0]
    with pytest.raises(RuntimeError, match=r"^aten::conj_physical\(\): functions with out=\.\.\. arguments don't"):
        getattr(gradscope.fft, name)(gradscope.tensor(X, requires_grad=True), out=gradscope.empty(0,
                                                                                                 dtype=gradscope.complex128))


def test_ihfftn_of_one_dim_writes_its_values_into_out():
    """PyTorch 2.13 leaves out empty here (a bug of its own); its result without out is what out gets here."""
    out = gradscope.empty(0, dtype=gradscope.complex128)
    assert gradscope.fft.ihfftn(gradscope.tensor(X[0]), out=out) is out
    np.testing.assert_allclose(out.numpy(), torch.fft.ihfftn(torch.tensor(X[0])).resolve_conj().numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda L, out: L.fft.fftfreq(5, out=out), lambda L, out: L.fft.rfftfreq(6, 0.5, out=out),
    lambda L, out: L.fft.fftfreq(4, requires_grad=True, out=out),
    lambda L, out: L.fft.rfftfreq(4, dtype=L.float32, out=out), lambda L, out: L.fft.fftfreq(4, dtype=L.float64),
], ids=["fftfreq", "rfftfreq", "fftfreq requires_grad", "rfftfreq dtype", "fftfreq without out"])
@pytest.mark.parametrize("out", ["empty", "wrong shape", "float32", "int64"])
def test_frequencies_are_made_in_outs_dtype(call, out):
    """fftfreq and rfftfreq are factories: their values in out's dtype, a dtype other than out's refused, arange's
    resize warning (PyTorch makes them with arange), requires_grad set on out."""
    outs = {"empty": lambda L: L.empty(0, dtype=L.float64), "wrong shape": lambda L: L.zeros(7, dtype=L.float64),
            "float32": lambda L: L.empty(0), "int64": lambda L: L.empty(0, dtype=L.int64)}
    _compare(call, outs[out], rtol=1e-7)


@pytest.mark.parametrize("call", [
    lambda L, out: L.fft.rfft(L.ones(4), out=out), lambda L, out: L.fft.fft2(L.ones(2, 2), out=out),
    lambda L, out: L.fft.fftfreq(4, out=L.zeros(9)),
], ids=["rfft", "fft2", "fftfreq"])
def test_resize_warnings_name_the_callers_line(call):
    for L in (gradscope, torch):
        was = L.is_warn_always_enabled()
        L.set_warn_always(True)
        try:
            with pytest.warns(UserWarning) as caught:
                call(L, L.zeros(9, dtype=L.complex64))
        finally:
            L.set_warn_always(was)
        assert [w.filename for w in caught] == [__file__], L.__name__


COMPLEX_PARTS = {
    "complex": lambda L, a, b: L.complex(a, b, out=L.empty(0, dtype=L.complex128)),
    "polar": lambda L, a, b: L.polar(a.abs(), b, out=L.zeros(5, dtype=L.complex128)),
    "conj_physical": lambda L, a, b: L.conj_physical(L.complex(a, b), out=L.empty(0, dtype=L.complex128)),
    "conj_physical of a real": lambda L, a, b: L.conj_physical(a, out=L.empty(0, dtype=L.float64)),
    "complex into complex64": lambda L, a, b: L.complex(a, b, out=L.empty(0, dtype=L.complex64)),
    "complex into float64": lambda L, a, b: L.complex(a, b, out=L.empty(0, dtype=L.float64)),
    "polar into complex64": lambda L, a, b: L.polar(a, b, out=L.empty(0, dtype=L.complex64)),
    "conj_physical into complex64": lambda L, a, b: L.conj_physical(a * 1j, out=L.empty(0, dtype=L.complex64)),
    "complex, requires grad": lambda L, a, b: L.complex(a.requires_grad_(), b, out=L.empty(0, dtype=L.complex128)),
}


@pytest.mark.parametrize("name", COMPLEX_PARTS)
def test_complex_polar_and_conj_physical_write_into_out(name):
    """torch.complex/polar/conj_physical took out= and ignored it (out kept its values)."""
    def outcome(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = COMPLEX_PARTS[name](lib, lib.tensor(X), lib.tensor(X[::-1].copy()))
            except RuntimeError as error:
                return "error", str(error)
        return result.numpy(), str(result.dtype), [str(w.message).split(" (Triggered")[0] for w in caught]

    ours, theirs = outcome(gradscope), outcome(torch)
    assert ours[1:] == theirs[1:]
    if not isinstance(ours[0], str):
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)


@pytest.mark.parametrize("name", ["complex", "polar", "conj_physical"])
def test_the_result_is_out(name):
    out = gradscope.empty(0, dtype=gradscope.complex128)
    a = gradscope.tensor(X)
    result = getattr(gradscope, name)(*((a, a) if name != "conj_physical" else (a * 1j,)), out=out)
    assert result is out and out.shape == (3, 4)
