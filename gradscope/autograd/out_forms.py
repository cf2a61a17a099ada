"""Which torch.* functions take `out=`, and how each writes it: torch.add, torch.div, torch.eq, torch.matmul,
torch.sum, torch.exp … (`torch.div(x, 0, out=x)`, the tensors tutorial's `torch.matmul(t, t.T, out=y3)`).

gradscope/__init__.py hands this table to the one wrapper that binds the torch namespace (numpy_names.py), which
also gives the reductions NumPy's argument names: a function takes `out=` and `axis=` through one frame (fft.py
hands FFT_OUT_FORMS to torch.fft's binding the same way). The tensor methods and operators take no `out`, as in
PyTorch, and stay the functions themselves (one frame for the common case, see fused.py). The library's own callers
of tanh, sigmoid, where and addmm (nn.Tanh, F.linear, the RNN cells) import the functions themselves, not the
namespace's wrapped ones: out= costs no model's forward a frame. Functions that have an `out` parameter of their own
(zeros, cumsum, randperm, hstack …) write it themselves."""

from __future__ import annotations

import functools
import warnings

from gradscope.autograd.numpy_names import OutForm, past_wrappers
from gradscope.autograd.out_arg import write_made, write_out
from gradscope.autograd.pointwise import _type_name


def _into(name: str) -> OutForm:
    """The result written into out; `name` is the op PyTorch's errors name (`div` for torch.divide too). The
    wrapper calls write_out itself (a partial is no Python frame): its resize warning names the user's line."""
    return OutForm(functools.partial(write_out, name, stacklevel=2))


def _into_exactly(name: str, refusal: str, type_name=_type_name, grad_first: bool = False) -> OutForm:
    """The result written into an out of its own dtype only; another is refused with `refusal`, formatted with the
    result's and out's dtypes as `type_name` names them. `grad_first`: PyTorch refuses an input that requires grad
    before it looks at out's dtype."""
    return OutForm(functools.partial(_write_exactly, name, refusal, type_name, grad_first))


def _write_exactly(name: str, refusal: str, type_name, grad_first: bool, result, out):
    if out._data.dtype != result._data.dtype and not (grad_first and result.requires_grad):
        raise RuntimeError(refusal.format(result=type_name(result._data.dtype), out=type_name(out._data.dtype)))
    return write_out(name, result, out)


# the C++ type of each dtype, as the refusal of the *_copy functions (and a few others) names them
_CPP_TYPES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
_EXACT = {name: name for name in ("alias_copy", "as_strided_copy", "diagonal_copy", "expand_copy", "permute_copy",
                                   "select_copy", "slice_copy", "squeeze_copy", "t_copy", "transpose_copy",
                                   "unfold_copy", "unsqueeze_copy", "view_copy", "isin", "index_copy")}
_EXACT["norm"] = "linalg_vector_norm"  # NOTE: torch.norm's 'nuc' form words its refusal as linalg.matrix_norm


def _made_in(name: str, resized=None) -> OutForm:
    """A factory's values, made in out's dtype: an out of another shape is resized silently, or after `resized`
    warns."""
    return OutForm(functools.partial(write_made, name, resized), factory=True)


def _arange_resized(out, result) -> None:
    warnings.warn(f"The number of elements in the out tensor of shape {list(out.shape)} is {out.numel()} which does "
                  f"not match the computed number of elements {result.numel()}. Note that this may occur as a result "
                  f"of rounding error. The out tensor will be resized to a tensor of shape ({result.numel()},).",
                  UserWarning, stacklevel=past_wrappers(3))  # write_made's caller is the wrapper


_INTO = {  # torch name: ATen name
    "add": "add", "sub": "sub", "subtract": "sub", "mul": "mul", "multiply": "mul", "div": "div", "divide": "div",
    "true_divide": "div", "pow": "pow", "maximum": "maximum", "minimum": "minimum", "eq": "eq", "ne": "ne",
    "not_equal": "ne", "lt": "lt", "less": "lt", "le": "le", "less_equal": "le", "gt": "gt", "greater": "gt",
    "ge": "ge", "greater_equal": "ge",
    "matmul": "matmul", "mm": "mm", "bmm": "bmm", "mv": "mv", "dot": "dot", "outer": "outer",
    "sum": "sum", "mean": "mean", "prod": "prod", "amax": "amax", "amin": "amin", "argmax": "argmax",
    "argmin": "argmin", "logsumexp": "logsumexp", "std": "std", "var": "var",
    "exp": "exp", "log": "log", "abs": "abs", "absolute": "abs", "sqrt": "sqrt", "rsqrt": "rsqrt", "neg": "neg",
    "negative": "neg", "round": "round", "erf": "erf", "clamp": "clamp", "clip": "clamp", "clamp_min": "clamp_min",
    "clamp_max": "clamp_max", "sin": "sin", "cos": "cos", "floor": "floor", "ceil": "ceil", "trunc": "trunc",
    "reciprocal": "reciprocal", "square": "square", "sign": "sign", "nonzero": "nonzero", "gather": "gather",
    "log1p": "log1p", "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor",
    "logical_not": "logical_not", "max": "max", "min": "min", "softmax": "softmax", "log_softmax": "log_softmax",
    "slice_scatter": "slice_scatter", "tanh": "tanh", "sigmoid": "sigmoid", "where": "where", "addmm": "addmm",
    "cat": "cat", "concat": "cat", "concatenate": "cat", "stack": "stack", "ger": "mul",
    "orgqr": "linalg_householder_product",
}
OUT_FORMS = {name: _into(aten) for name, aten in _INTO.items()}
_SCALAR_TYPE = "Expected object of scalar type {result} but got scalar type {out} for argument 'out'"
OUT_FORMS.update({name: _into_exactly(name, _SCALAR_TYPE, grad_first=True) for name in ("complex", "polar")})
OUT_FORMS.update({name: _into_exactly(name, name + " only supports bool tensor for result, got: {out}")
                  for name in ("all", "any")})
OUT_FORMS.update({name: _into_exactly(aten, "Expected out tensor to have dtype {result}, but got {out} instead",
                                      lambda dtype: _CPP_TYPES.get(dtype.name, dtype.name), name == "norm")
                  for name, aten in _EXACT.items()})
OUT_FORMS["conj_physical"] = _into_exactly("conj_physical", "Found dtype {out} but expected {result}")
OUT_FORMS.update({name: _made_in(name) for name in ("full", "eye", "linspace", "logspace", "range", "rand", "randn",
                                                   "randint")})
OUT_FORMS["arange"] = _made_in("arange", _arange_resized)

# torch.special's and torch.linalg's functions that are torch.* ones, or composites, without an out of their own
SPECIAL_OUT_FORMS = {name: OUT_FORMS[torch_name] for name, torch_name in (
    ("erf", "erf"), ("expit", "sigmoid"), ("log1p", "log1p"), ("logsumexp", "logsumexp"), ("round", "round"))}
SPECIAL_OUT_FORMS["ndtr"] = _into("special_ndtr")
LINALG_OUT_FORMS = {"matmul": OUT_FORMS["matmul"]}


def _spectrum_into(name: str, complex_out: bool, kernel: str) -> OutForm:
    """A torch.fft transform's result written into out, which must be complex (or real, for the c2r transforms:
    `complex_out` False). `name` is the one PyTorch's dtype errors give (fftn for fft2 and ifftn too); `kernel` the
    ATen function its autograd refusal names when the result has no node to tell (an out that requires grad)."""
    return OutForm(functools.partial(_write_spectrum, name, complex_out, kernel))


# the ATen function that made a transform's result, by its node: what PyTorch's refusal of out= with grad names
_SPECTRAL_KERNELS = {"FftR2CBackward0": "_fft_r2c", "FftC2CBackward0": "_fft_c2c", "FftC2RBackward0": "_fft_c2r",
                     "ConjBackward0": "aten::conj_physical"}


def _write_spectrum(name: str, complex_out: bool, kernel: str, result, out):
    kind = out._data.dtype.kind
    if kind != ("c" if complex_out else "f"):
        expected = "a complex" if complex_out else "a floating point"
        raise RuntimeError(f"{name} expects {expected} output tensor, but got {_type_name(out._data.dtype)}")
    if result._node is not None:
        kernel = _SPECTRAL_KERNELS.get(result._node.name(), kernel)
    return write_out(kernel, result, out)


_SPECTRA = {  # torch.fft name: (the name its errors give, complex out, its ATen kernel)
    "fft": ("fft", True, "_fft_r2c"), "ifft": ("ifft", True, "aten::conj_physical"),
    "rfft": ("rfft", True, "_fft_r2c"), "ihfft": ("ihfft", True, "aten::conj_physical"),
    "irfft": ("irfft", False, "_fft_c2r"), "hfft": ("hfft", False, "_fft_c2r"),
    "fft2": ("fftn", True, "_fft_c2c"), "ifft2": ("fftn", True, "_fft_c2c"),
    "fftn": ("fftn", True, "_fft_c2c"), "ifftn": ("fftn", True, "_fft_c2c"),
    "rfft2": ("rfftn", True, "_fft_r2c"), "rfftn": ("rfftn", True, "_fft_r2c"),
    "ihfft2": ("ihfftn", True, "_fft_c2c"), "ihfftn": ("ihfftn", True, "_fft_c2c"),
    "irfft2": ("irfftn", False, "_fft_c2r"), "irfftn": ("irfftn", False, "_fft_c2r"),
    "hfft2": ("hfftn", False, "_fft_c2r"), "hfftn": ("hfftn", False, "_fft_c2r"),
}
FFT_OUT_FORMS = {name: _spectrum_into(*form) for name, form in _SPECTRA.items()}
FFT_OUT_FORMS.update({name: _made_in("arange", _arange_resized) for name in ("fftfreq", "rfftfreq")})
"""torch.fft's functions that take `out=`: the transforms, and fftfreq/rfftfreq (factories; PyTorch makes them with
arange, whose resize warning and name they give)."""
