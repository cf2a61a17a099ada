"""Which torch.* functions take `out=`, and how each writes it: torch.add, torch.div, torch.eq, torch.matmul,
torch.sum, torch.exp … (`torch.div(x, 0, out=x)`, the tensors tutorial's `torch.matmul(t, t.T, out=y3)`).

gradscope/__init__.py hands this table to the one wrapper that binds the torch namespace (numpy_names.py), which
also gives the reductions NumPy's argument names: a function takes `out=` and `axis=` through one frame. The tensor
methods and operators take no `out`, as in PyTorch, and stay the functions themselves (one frame for the common
case, see fused.py). The library's own callers of tanh, sigmoid, where and addmm (nn.Tanh, F.linear, the RNN cells)
import the functions themselves, not the namespace's wrapped ones: out= costs no model's forward a frame. Functions
that have an `out` parameter of their own (zeros, cumsum, randperm, hstack …) write it themselves."""

from __future__ import annotations

import functools
import warnings

from gradscope.autograd.numpy_names import OutForm, past_wrappers
from gradscope.autograd.out_arg import write_out


def _into(name: str) -> OutForm:
    """The result written into out; `name` is the op PyTorch's errors name (`div` for torch.divide too). The
    wrapper calls write_out itself (a partial is no Python frame): its resize warning names the user's line."""
    return OutForm(functools.partial(write_out, name, stacklevel=2))


def _made_in(name: str, resized=None) -> OutForm:
    """A factory's values, made in out's dtype: an out of another shape is resized silently, or after `resized`
    warns."""
    return OutForm(functools.partial(_write_made, name, resized), factory=True)


def _write_made(name: str, resized, result, out):
    if out.shape != result.shape:
        if resized is not None and out.numel():
            resized(out, result)
        out.resize_(0)  # a factory resizes its out without the deprecation warning other ops give
    return write_out(name, result, out)


def _arange_resized(out, result) -> None:
    warnings.warn(f"The number of elements in the out tensor of shape {list(out.shape)} is {out.numel()} which does "
                  f"not match the computed number of elements {result.numel()}. Note that this may occur as a result "
                  f"of rounding error. The out tensor will be resized to a tensor of shape ({result.numel()},).",
                  UserWarning, stacklevel=past_wrappers(3))  # _write_made's caller is the wrapper


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
    "alias_copy": "alias_copy", "diagonal_copy": "diagonal_copy", "slice_copy": "slice_copy",
    "squeeze_copy": "squeeze_copy", "t_copy": "t_copy", "unsqueeze_copy": "unsqueeze_copy",
    "slice_scatter": "slice_scatter", "tanh": "tanh", "sigmoid": "sigmoid", "where": "where", "addmm": "addmm",
    "cat": "cat", "concat": "cat", "concatenate": "cat", "stack": "stack",
}
OUT_FORMS = {name: _into(aten) for name, aten in _INTO.items()}
OUT_FORMS.update({name: _made_in(name) for name in ("full", "eye", "linspace", "rand", "randn", "randint")})
OUT_FORMS["arange"] = _made_in("arange", _arange_resized)
