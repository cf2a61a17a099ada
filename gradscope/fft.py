"""torch.fft: discrete Fourier transforms with PyTorch's signatures, norms, dtypes, errors and node names
(FftC2CBackward0, FftR2CBackward0, FftC2RBackward0), their gradients in PyTorch's complex convention.

The functions live in the autograd layer (gradscope/autograd/spectral_functions.py).

    >>> x = gradscope.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    >>> gradscope.fft.rfft(x)
    tensor([10.+0.j, -2.+2.j, -2.+0.j], grad_fn=<FftR2CBackward0>)
"""

from gradscope.autograd import numpy_names
from gradscope.autograd.out_forms import FFT_OUT_FORMS
from gradscope.autograd.spectral_functions import (
    fft,
    fft2,
    fftfreq,
    fftn,
    fftshift,
    hfft,
    hfft2,
    hfftn,
    ifft,
    ifft2,
    ifftn,
    ifftshift,
    ihfft,
    ihfft2,
    ihfftn,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftfreq,
    rfftn,
)

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft", "ifft2", "ifftn",
           "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn"]

# NumPy's argument names (fft.rfft(t, axis=0)), as PyTorch's parser takes them for its native functions, and out=
numpy_names.bind_numpy_names(globals(), prefix="fft_", out_forms=FFT_OUT_FORMS)
