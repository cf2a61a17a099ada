"""torch.fft, the window functions, stft and istft against PyTorch: values, dtypes, node names, errors and
gradients (real and complex inputs, in PyTorch's complex convention), and gradcheck on complex inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

FFT = [
    "F.fft(x)", "F.fft(z)", "F.ifft(z)", "F.ifft(x)", "F.rfft(x)", "F.irfft(z)", "F.hfft(z)", "F.ihfft(x)", "F.fft2(z)",
    "F.fft2(x)", "F.rfft2(x)", "F.irfft2(z)", "F.fftn(z)", "F.rfftn(x)", "F.irfftn(z)", "F.ifftn(z)", "F.ifft2(z)",
    "F.fft(z, n=8)", "F.fft(z, n=3)", "F.rfft(x, n=9)", "F.irfft(z, n=5)", "F.hfft(z, n=7)", "F.fftshift(z)",
    "F.ifftshift(x)", "F.fft(z, norm='ortho')", "F.ifft(z, norm='forward')", "F.rfft(x, norm='ortho', dim=0)",
    "F.irfft(z, dim=0, norm='forward')", "F.irfft(z, n=8, norm='ortho')", "F.hfft(z, norm='forward')",
    "F.ihfft(x, norm='ortho')", "F.fftn(x, s=(3, 8))", "F.rfftn(x, s=(5, 5))", "F.irfftn(z, s=(3, 7))",
    "F.irfftn(z, s=(3, 6), norm='ortho')", "F.fftn(z, dim=(1, 0))", "F.rfftn(x, dim=(1, 0))", "F.irfftn(z, dim=(1, 0))",
    "F.fft(x.float())", "F.irfft(z.to(lib.complex64))", "F.fft(x, dim=0)", "F.ifftn(x)", "F.fftshift(x, dim=1)",
    "F.ifftshift(z, dim=(0,))", "F.fft(x, norm='bad')", "F.fft(x, n=0)", "F.rfft(z)", "F.irfft(z[:, :1])",
    "F.fft(x.long())", "F.fft(x, dim=2)", "F.fftn(x, s=(4, 5), dim=(0,))", "F.ihfft(z)", "F.fftn(x, dim=(0, 0))",
    "F.fft(x.half())", "F.fft(x[0, 0])", "F.fftfreq(5)", "F.rfftfreq(5)", "F.fftfreq(4, d=0.5)",
    "F.fftfreq(4, dtype=lib.float64)", "F.rfftfreq(7, 0.1)", "F.fftfreq(5, dtype=lib.int64)",
]
SHORT_TIME = [
    "lib.stft(x1, 8, hop_length=2, window=w, return_complex=True)", "lib.stft(x1, 8, return_complex=True)",
    "lib.stft(x1, 8, hop_length=3, window=w, return_complex=True, center=False)",
    "lib.stft(x, 6, hop_length=2, window=wr, return_complex=True, normalized=True)",
    "lib.stft(x1, 8, hop_length=2, win_length=6, window=wr, return_complex=True)",
    "lib.stft(x1, 8, hop_length=2, window=w, return_complex=True, onesided=False)",
    "lib.stft(x1, 8, hop_length=2, window=w, return_complex=False)",
    "lib.stft(x1, 8, hop_length=2, window=w, return_complex=True, pad_mode='constant')",
    "lib.stft(x1, 8)", "lib.stft(x1 * (1 + 1j), 8, hop_length=2, window=w)",
    "lib.istft(lib.stft(x1, 8, hop_length=2, window=w, return_complex=True), 8, hop_length=2, window=w)",
    "lib.istft(lib.stft(x1, 8, hop_length=2, window=w, return_complex=True), 8, hop_length=2, window=w, length=18)",
    "lib.istft(lib.stft(x1, 8, hop_length=2, window=w, return_complex=True), 8, hop_length=2, window=w, length=25)",
    "lib.istft(lib.stft(x, 6, hop_length=2, window=wr, return_complex=True, normalized=True), 6, hop_length=2, "
    "window=wr, normalized=True)",
    "lib.istft(lib.stft(x1, 8, hop_length=2, window=w, return_complex=True, onesided=False), 8, hop_length=2, "
    "window=w, onesided=False)",
    "lib.hann_window(5)", "lib.hann_window(6, periodic=False, dtype=lib.float64)", "lib.hamming_window(7)",
    "lib.hamming_window(5, False, 0.6, 0.3)", "lib.blackman_window(6)", "lib.blackman_window(5, dtype=lib.float64)",
    "lib.bartlett_window(7)", "lib.bartlett_window(6, periodic=False)", "lib.kaiser_window(6)",
    "lib.kaiser_window(7, periodic=False, beta=5.0, dtype=lib.float64)", "lib.hann_window(1)", "lib.hann_window(0)",
    "lib.hann_window(4, requires_grad=True)",
]


def _evaluate(lib, expression: str):
    """(value, dtype, node name, gradients) of the expression, or the error it raises, as text."""
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((4, 6)), requires_grad=True)
    z = lib.tensor(rng.standard_normal((4, 6)) + 1j * rng.standard_normal((4, 6)), requires_grad=True)
    x1 = lib.tensor(rng.standard_normal(20), requires_grad=True)
    w = lib.hann_window(8, dtype=lib.float64)
    wr = lib.tensor(rng.uniform(0.5, 1, 6), requires_grad=True)
    names = {"lib": lib, "F": lib.fft, "x": x, "z": z, "x1": x1, "w": w, "wr": wr}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = eval(expression, names)  # noqa: S307 - the test's own expressions
        if not y.requires_grad:
            return y.numpy(), str(y.dtype), None, []
        shape = tuple(y.shape)
        u = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if y.dtype.is_complex else 0)
        grads = lib.autograd.grad(y, (x, z, x1, wr), lib.tensor(u).to(y.dtype), allow_unused=True)
        return (y.detach().resolve_conj().numpy(), str(y.dtype), y.grad_fn.name(),
                [None if g is None else g.resolve_conj().numpy() for g in grads])
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return f"{type(error).__name__}: {str(error).splitlines()[0][:60]}"


@pytest.mark.parametrize("expression", FFT + SHORT_TIME)
def test_matches_torch(expression):
    ours, theirs = _evaluate(gradscope, expression), _evaluate(torch, expression)
    if isinstance(theirs, str):
        assert isinstance(ours, str) and ours.split(":")[0] == theirs.split(":")[0]
        if "stft" not in expression:
            assert ours == theirs
        return
    assert not isinstance(ours, str), ours
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-6)
    assert ours[1] == theirs[1]
    if "stft" not in expression:  # stft's and istft's last steps differ (an in-place transpose, a fold)
        assert ours[2] == theirs[2]
    for mine, reference in zip(ours[3], theirs[3], strict=True):
        assert (mine is None) == (reference is None)
        if mine is not None:
            tight = "float64" in ours[1] or "complex128" in ours[1]  # float32 results round their gradients
            np.testing.assert_allclose(mine, reference, rtol=1e-9 if tight else 1e-5, atol=1e-12 if tight else 1e-6)


@pytest.mark.parametrize("function", [
    lambda z: gradscope.fft.fft(z, norm="ortho"), lambda z: gradscope.fft.ifftn(z, s=(3, 2)),
    lambda z: gradscope.fft.irfft(z, n=5), lambda z: gradscope.fft.hfft(z, norm="forward"),
    lambda z: gradscope.fft.rfft(z.real * z.imag), lambda z: gradscope.fft.ihfft(z.abs(), n=4),
    lambda z: gradscope.fft.irfftn(z, s=(2, 4)),
])
def test_gradcheck_and_gradgradcheck_on_complex_inputs(function):
    rng = np.random.default_rng(1)
    z = gradscope.tensor(rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3)), requires_grad=True)
    assert gradscope.autograd.gradcheck(function, (z,))
    assert gradscope.autograd.gradgradcheck(function, (z,))


def _graph_names(node) -> list:
    return [] if node is None else [node.name()] + [n for child, _ in node.next_functions for n in _graph_names(child)]


HERMITIAN_N_D = [("hfft2", {}), ("hfftn", {}), ("hfftn", {"s": (3, 6)}), ("hfftn", {"dim": (0, 2), "norm": "ortho"}),
                 ("hfftn", {"dim": (1,), "norm": "forward"}), ("hfft2", {"s": (2, 5)}), ("ihfft2", {}), ("ihfftn", {}),
                 ("ihfftn", {"s": (4, 4), "norm": "ortho"}), ("ihfftn", {"dim": (0,)}),
                 ("ihfft2", {"norm": "forward", "dim": (0, 1)})]


@pytest.mark.parametrize(("name", "arguments"), HERMITIAN_N_D, ids=[f"{n}-{a}" for n, a in HERMITIAN_N_D])
def test_hermitian_n_dimensional_transforms_match_torch(name, arguments):
    """fft.hfft2/hfftn/ihfft2/ihfftn, which gradscope lacked: values, graphs (a c2c over the other dims around the
    last dim's c2r or r2c, as PyTorch's) and gradients."""
    rng = np.random.default_rng(5)
    data = (rng.standard_normal((2, 3, 4)) + 1j * rng.standard_normal((2, 3, 4)) if name.startswith("h")
            else rng.standard_normal((2, 3, 5)))

    def run(L):
        x = L.tensor(data, requires_grad=True)
        y = getattr(L.fft, name)(x, **arguments)
        weights = L.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
        ((y * weights).real if y.is_complex() else y * weights).sum().backward()
        return tuple(y.shape), str(y.dtype), _graph_names(y.grad_fn), y.detach().resolve_conj().numpy(), x.grad.numpy()

    ours, theirs = run(gradscope), run(torch)
    assert ours[:3] == theirs[:3]
    for a, b in zip(ours[3:], theirs[3:], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
