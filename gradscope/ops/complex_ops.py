"""Complex numbers: conjugation, their real view, building them from parts.

PyTorch's gradient of a real loss L with respect to z = x + iy is ∂L/∂x + i ∂L/∂y. These ops are not holomorphic,
so their rules are PyTorch's formulas for that convention, complex gradients of complex inputs included.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import AS_WRITTEN, primitive


def _view_as_real(a):
    # NOTE: a trailing axis of length 1 is contiguous whatever the strides: NumPy can view it as two reals
    return a[..., None].view(a.real.dtype)


def _view_as_complex(a):
    return a.view(np.result_type(a.dtype, np.complex64))[..., 0]


# rules on ndarrays or tensors (create_graph) alike: `s.xp` has conj, real, imag, view_as_real and view_as_complex
conj_physical = primitive("conj_physical", np.conjugate, "ConjPhysicalBackward0", inputs=("self",),
                          vjp=(lambda g, s: s.xp.conj(g),), complex_vjp=AS_WRITTEN)
# x.conj(): PyTorch's is a lazy view of x with its conjugate bit set; here the values are conjugated at once
conj = primitive("conj", np.conjugate, "ConjBackward0", inputs=("self",), vjp=(lambda g, s: s.xp.conj(g),),
                 complex_vjp=AS_WRITTEN)
view_as_real = primitive("view_as_real", _view_as_real, "ViewAsRealBackward0", inputs=("self",), view=True,
                         vjp=(lambda g, s: s.xp.view_as_complex(g),), complex_vjp=AS_WRITTEN)
view_as_complex = primitive("view_as_complex", _view_as_complex, "ViewAsComplexBackward0", inputs=("self",),
                            view=True, vjp=(lambda g, s: s.xp.view_as_real(g),), complex_vjp=AS_WRITTEN)
# torch.complex(real, imag)
complex_ = primitive("complex", lambda re, im: re + 1j * im if re.dtype == np.float64 else (
                         re.astype(np.complex64) + np.complex64(1j) * im), "ComplexBackward0",
                     inputs=("real", "imag"), saves=(("real", "imag"), ("real", "imag")), complex_vjp=AS_WRITTEN,
                     vjp=(lambda g, s: s.xp.real(g), lambda g, s: s.xp.imag(g)))


def _polar(magnitude, angle):
    out = magnitude * np.cos(angle) + 1j * (magnitude * np.sin(angle))
    return out.astype(np.complex128 if magnitude.dtype == np.float64 else np.complex64, copy=False)


def _polar_vjp(part: str):
    # NOTE: the magnitude's gradient is Re(conj(g) · sgn(result)): 0 where the magnitude is 0, as PyTorch's
    def rule(g, s):
        xp = s.xp
        direction = xp.sgn(s.result) if part == "abs" else s.result * 1j
        return xp.real(xp.conj(g) * direction)
    return rule


polar = primitive("polar", _polar, "PolarBackward0", inputs=("abs", "angle"), saves=("result", "result"),
                  complex_vjp=AS_WRITTEN, vjp=(_polar_vjp("abs"), _polar_vjp("angle")))
