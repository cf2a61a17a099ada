"""The Tensor twin of ops.namespace.NumpyNamespace: VJP rules run through it under create_graph=True."""

from __future__ import annotations

import numpy as np

from gradscope.autograd import complex_functions, rearrange, scans
from gradscope.autograd import functions as F
from gradscope.autograd import pointwise as P
from gradscope.autograd import products as Pr
from gradscope.autograd import reductions as R
from gradscope.autograd import shape_functions as S
from gradscope.autograd.dispatch import apply
from gradscope.autograd.pointwise_extra import sgn
from gradscope.autograd.tensor import Tensor
from gradscope.ops import elementwise as E
from gradscope.ops import vector_ops as V


def _constant(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._make(np.asarray(value))


class TensorNamespace:
    is_tensor = True

    exp = staticmethod(F.exp)
    log = staticmethod(F.log)
    sqrt = staticmethod(F.sqrt)
    sin = staticmethod(F.sin)
    cos = staticmethod(F.cos)
    tanh = staticmethod(F.tanh)
    sign = staticmethod(F.sign)
    abs = staticmethod(F.abs)
    matmul = staticmethod(Pr.matmul)
    sigmoid = staticmethod(F.sigmoid)
    erf = staticmethod(F.erf)
    sinh = staticmethod(P.sinh)
    cosh = staticmethod(P.cosh)
    floor = staticmethod(F.floor)
    trunc = staticmethod(F.trunc)
    isfinite = staticmethod(F.isfinite)
    digamma = staticmethod(P.digamma)
    polygamma = staticmethod(P.polygamma)
    erfinv = staticmethod(P.erfinv)
    flip = staticmethod(rearrange.flip)
    movedim = staticmethod(rearrange.movedim)
    roll = staticmethod(rearrange.roll)
    rot90 = staticmethod(rearrange.rot90)
    diagonal = staticmethod(rearrange.diagonal)
    cumsum = staticmethod(scans.cumsum)
    cumprod = staticmethod(scans.cumprod)
    logcumsumexp = staticmethod(scans.logcumsumexp)

    @staticmethod
    def einsum(equation, *operands):
        return Pr.einsum(equation, *[_constant(o) for o in operands])

    @staticmethod
    def delayed_error(x, message):
        """x through PyTorch's DelayedError: the same values, but a gradient that reaches back through it raises
        `message` (a rule's result whose own derivative is not defined)."""
        from gradscope.autograd.function import delayed_error  # noqa: PLC0415 - lazy: needed in rare rules only
        return delayed_error(x, message)

    @staticmethod
    def threshold_backward(g, result):
        return apply(E.threshold_backward, (g, result))

    @staticmethod
    def relu_backward(g, result):  # threshold_backward's node, as PyTorch's relu backward makes
        return apply(E.threshold_backward, (g, result))

    @staticmethod
    def tanh_backward(g, result):
        return g * (1 - result * result)

    @staticmethod
    def sigmoid_backward(g, result):
        return g * (result * (1 - result))

    @staticmethod
    def where(condition, a, b):
        return F.where(_constant(condition), a, b)

    @staticmethod
    def sum_to(x, shape):
        return R.sum_to_size(x, shape)

    @staticmethod
    def sum(x, dims, keepdim=False):
        return R.sum(x, dims, keepdim)

    @staticmethod
    def expand(x, shape):
        return S.expand(_constant(x), shape)

    @staticmethod
    def unsqueeze_dims(x, dims):
        for d in dims:
            x = S.unsqueeze(x, d)
        return x

    @staticmethod
    def floor_divide(a, b):  # DivBackward2, as PyTorch's div(rounding_mode="floor"): its gradient is 0
        return F.div(a, b, rounding_mode="floor")

    @staticmethod
    def transpose(x, dim0, dim1):
        return S.transpose(x, dim0, dim1)

    @staticmethod
    def permute(x, dims):
        return S.permute(x, dims)

    @staticmethod
    def t(x):
        return S.t(x)

    @staticmethod
    def mul_scalar(x, number):  # PyTorch's maybe_multiply: a tensor times a Scalar (MulBackward1)
        return apply(V.mul_scalar, (x,), (number,))

    @staticmethod
    def reshape(x, shape):
        return S.reshape(_constant(x), shape)

    @staticmethod
    def zeros(shape, dtype):
        return Tensor._make(np.zeros(shape, dtype))

    @staticmethod
    def zeros_like(x):
        return Tensor._make(np.zeros_like(x._data))

    @staticmethod
    def ones_like(x):
        return Tensor._make(np.ones_like(x._data))

    @staticmethod
    def cast(x, dtype):  # a complex gradient of a real input is its real part (PyTorch's convention)
        x = _constant(x)
        if x._data.dtype.kind == "c" and np.dtype(dtype).kind != "c":
            x = complex_functions.real(x)
        return F.to_dtype(x, dtype)

    conj = staticmethod(complex_functions.conj)
    real = staticmethod(complex_functions.real)
    imag = staticmethod(complex_functions.imag)
    sgn = staticmethod(sgn)
    view_as_real = staticmethod(complex_functions.view_as_real)

    @staticmethod
    def view_as_complex(x):  # a gradient may be strided any way (a broadcast's)
        return complex_functions.view_as_complex(x.contiguous())

    @staticmethod
    def dtype_of(x):  # the NumPy dtype of x's values, as an input's gradient metadata keeps it
        return _constant(x)._data.dtype

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def index_scatter(g, shape, index, accumulate):
        return S.index_scatter(g, shape, index, accumulate)

    @staticmethod
    def concat(xs, dim):
        return S.cat(xs, dim)

    @staticmethod
    def stack(xs, dim):
        return S.stack(xs, dim)

    @staticmethod
    def split(x, sizes, dim):
        return S.split(x, list(sizes), dim)

    @staticmethod
    def apply(op, inputs, params=()):
        # an absent optional input stays None (an edge-less slot, as in the forward)
        return apply(op, tuple(None if x is None else _constant(x) for x in inputs), tuple(params))


TENSOR = TensorNamespace()
