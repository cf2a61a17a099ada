"""The array namespace VJP rules call through `s.xp`: this is the NumPy one.

The autograd layer provides a Tensor namespace with the same names (checked by a test), so a rule
such as `g * s.xp.cos(s.self)` runs on ndarrays for first-order gradients and on Tensors, building
a graph, under `create_graph=True`.
"""

from __future__ import annotations

import numpy as np

from gradscope._shapes import sum_to
from gradscope.ops import special
from gradscope.ops.complex_ops import _view_as_complex, _view_as_real
from gradscope.ops.cumulative import scan
from gradscope.ops.nn import _erf
from gradscope.ops.rearrange import roll_array
from gradscope.ops.reduction import sum_dims


def torch_sign(a):
    """PyTorch's sign, (0 < x) − (x < 0): 0 at a nan, where NumPy's is nan. The forward and every rule use it."""
    out = np.sign(a)
    return np.where(out != out, 0, out).astype(out.dtype, copy=False) if out.dtype.kind == "f" else out


def _sigmoid(x):
    # NOTE: PyTorch's 1 / (1 + exp(-x)). The tanh form 0.5·(1 + tanh(x/2)) lost every digit below x = -17 (float32)
    # or -37 (float64), where 1 + tanh rounds to 0: sigmoid(-20) was 0, so log(sigmoid(-20)) was -inf, not -20.
    # exp(-x) overflowing (x < -88 in float32) gives PyTorch's 0; its warning is silenced.
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def threshold_backward(g, result):
    """+0.0 where result <= 0, else g (PyTorch's threshold_backward: a select, so a NaN or inf gradient at a unit that
    is off gives 0, and a NaN result passes g). The select multiplies g's bits, as unsigned integers, by the mask's
    0 or 1: np.where branches per element and costs 10x more on a random mask."""
    dtype, result_dtype = g.dtype, result.dtype
    # NOTE: the unsigned dtype looked up, not parsed from a string, and 0 in the result's dtype (see _ONE32)
    unsigned = _UNSIGNED_OF.get(dtype) or np.dtype(f"u{dtype.itemsize}")
    zero = _ZERO32 if result_dtype is _FLOAT32 else _ZERO64 if result_dtype is _FLOAT64 else 0
    return (g.view(unsigned) * ~(result <= zero)).view(dtype)


def relu_backward(g, result):
    """threshold_backward(g, result) for relu's result, which is never negative (a number >= 0, or NaN): there
    `result <= 0` is `result == 0`, so the mask of units that pass g is `result != 0` itself, one NumPy call (and
    one bool array) fewer than its negation."""
    dtype, result_dtype = g.dtype, result.dtype
    unsigned = _UNSIGNED_OF.get(dtype) or np.dtype(f"u{dtype.itemsize}")
    zero = _ZERO32 if result_dtype is _FLOAT32 else _ZERO64 if result_dtype is _FLOAT64 else 0
    return (g.view(unsigned) * (result != zero)).view(dtype)


def _read_only(value, dtype) -> np.ndarray:
    array = np.full((), value, dtype)
    array.flags.writeable = False
    return array


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)  # NumPy's own instances: `is` finds them
# 1 and 0 of float32 or float64, for rules' `1 - x` and `x <= 0`: the same values as a Python 1 or 0 (NumPy computes
# with a Python number in the array's dtype), but NumPy's path for a Python number costs ~2.3k instructions more a
# ufunc call
_ONE32, _ONE64 = _read_only(1, _FLOAT32), _read_only(1, _FLOAT64)
_ZERO32, _ZERO64 = _read_only(0, _FLOAT32), _read_only(0, _FLOAT64)
# each float dtype's unsigned integers of its size, which threshold_backward reads its bits as
_UNSIGNED_OF = {np.dtype(f"f{size}"): np.dtype(f"u{size}") for size in (2, 4, 8)}

def kernel_scalar(array, number):
    """A Scalar argument (addmm's beta, alpha …) as PyTorch's kernel for `array`'s dtype takes it: an integer
    tensor's kernel reads a float as an integer (truncated), so the result stays integer."""
    if array.dtype.kind in "iu" and isinstance(number, float):
        return int(number)
    return number


def tanh_backward(g, result):
    """g * (1 - tanh²), tanh's gradient from its result (g of the result's shape and dtype)."""
    dtype = result.dtype
    one = _ONE32 if dtype is _FLOAT32 else _ONE64 if dtype is _FLOAT64 else 1
    grad = one - result * result
    grad *= g  # NOTE: in place into an array made here (one allocation less); a product is the same either way round
    return grad


def sigmoid_backward(g, result):
    """g * σ(1 - σ), sigmoid's gradient from its result (g of the result's shape and dtype)."""
    dtype = result.dtype
    one = _ONE32 if dtype is _FLOAT32 else _ONE64 if dtype is _FLOAT64 else 1
    grad = one - result
    grad *= result
    grad *= g
    return grad


class NumpyNamespace:
    """First-order backward: plain ndarrays."""

    is_tensor = False

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tanh = staticmethod(np.tanh)
    sign = staticmethod(torch_sign)
    abs = staticmethod(np.abs)
    where = staticmethod(np.where)
    sinh = staticmethod(np.sinh)
    cosh = staticmethod(np.cosh)
    floor = staticmethod(np.floor)
    trunc = staticmethod(np.trunc)
    floor_divide = staticmethod(np.floor_divide)
    isfinite = staticmethod(np.isfinite)
    digamma = staticmethod(special.digamma)
    polygamma = staticmethod(special.polygamma)
    erfinv = staticmethod(special.erfinv)
    flip = staticmethod(np.flip)
    movedim = staticmethod(np.moveaxis)
    roll = staticmethod(roll_array)

    @staticmethod
    def rot90(x, k, dims):
        return np.rot90(x, k, dims)

    @staticmethod
    def diagonal(x, offset, dim1, dim2):
        return np.diagonal(x, offset, dim1, dim2)

    @staticmethod
    def delayed_error(x, message):  # on arrays (first order) the gradient is all there is
        return x

    @staticmethod
    def cumsum(x, dim):
        return scan(np.add, x, dim)

    @staticmethod
    def cumprod(x, dim):
        return scan(np.multiply, x, dim)

    @staticmethod
    def logcumsumexp(x, dim):
        return scan(np.logaddexp, x, dim)

    threshold_backward = staticmethod(threshold_backward)
    relu_backward = staticmethod(relu_backward)
    tanh_backward = staticmethod(tanh_backward)
    sigmoid_backward = staticmethod(sigmoid_backward)
    matmul = staticmethod(np.matmul)
    sigmoid = staticmethod(_sigmoid)
    sum_to = staticmethod(sum_to)
    einsum = staticmethod(np.einsum)

    erf = staticmethod(_erf)

    @staticmethod
    def sum(x, dims, keepdim=False):
        return x.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def expand(x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def unsqueeze_dims(x, dims):
        """Re-insert reduced dims (sorted) so a keepdim=False gradient broadcasts against the input."""
        return np.expand_dims(x, dims) if dims else x

    @staticmethod
    def transpose(x, dim0, dim1):  # the methods: NumPy's functions of the same names only wrap them
        return x.swapaxes(dim0, dim1)

    @staticmethod
    def permute(x, dims):
        return x.transpose(dims)

    @staticmethod
    def t(x):  # a matrix's transpose, a vector or a number as it is (Tensor.t)
        return x.T

    @staticmethod
    def mul_scalar(x, number):  # PyTorch's maybe_multiply in a formula: MulBackward1 under create_graph
        return x * number

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def zeros(shape, dtype):
        return np.zeros(shape, dtype)

    @staticmethod
    def zeros_like(x):
        return np.zeros_like(x)

    @staticmethod
    def ones_like(x):
        return np.ones_like(x)

    @staticmethod
    def cast(x, dtype):  # a complex gradient of a real input is its real part (PyTorch's convention)
        return (x.real if x.dtype.kind == "c" and np.dtype(dtype).kind != "c" else x).astype(dtype, copy=False)

    conj = staticmethod(np.conjugate)
    view_as_real = staticmethod(_view_as_real)

    @staticmethod
    def view_as_complex(x):  # a gradient may be strided any way (a broadcast's)
        return _view_as_complex(np.ascontiguousarray(x))

    sgn = staticmethod(np.sign)  # z / |z| for complex z (NumPy 2), PyTorch's sgn; complex rules alone use it
    real = staticmethod(np.real)
    imag = staticmethod(np.imag)

    @staticmethod
    def dtype_of(x):
        return x.dtype

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def index_scatter(g, shape, index, accumulate):
        """Zeros of `shape` with `g` added at `index` (the VJP of indexing)."""
        out = np.zeros(shape, dtype=g.dtype)
        if accumulate:
            np.add.at(out, index, g)
        else:
            out[index] = g
        return out

    @staticmethod
    def concat(xs, dim):
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def stack(xs, dim):
        return np.stack(xs, axis=dim)

    @staticmethod
    def split(x, sizes, dim):
        return np.split(x, np.cumsum(sizes)[:-1], axis=dim)

    @staticmethod
    def apply(op, inputs, params=()):
        """Primitive `op` on `inputs`: a rule that is another op (conv's input gradient is a col2im)
        runs its forward here and records it under create_graph."""
        return op.forward(*inputs, *params)


NUMPY = NumpyNamespace()

_HALF = np.dtype(np.float16)


def half_einsum(equation: str, *arrays) -> np.ndarray:
    """np.einsum, float16 operands summed in float32 and rounded once, as PyTorch's einsum (its contractions are
    bmm and sum, which accumulate so): NumPy's einsum adds in float16 (inf where the sum is 62,600)."""
    if arrays and all(a.dtype == _HALF for a in arrays):
        return np.einsum(equation, *arrays, dtype=np.float32).astype(_HALF)
    return np.einsum(equation, *arrays)


class HalfNumpyNamespace(NumpyNamespace):
    """NUMPY for a float16 node's rules: its sums add float16 in float32 and round once, as PyTorch's sum and sum_to
    (NumPy's add a row at a time in float16)."""

    @staticmethod
    def sum(x, dims, keepdim=False):
        return sum_dims(x, dims, keepdim)

    einsum = staticmethod(half_einsum)

    @staticmethod
    def sum_to(grad, shape):
        if grad.dtype != _HALF or grad.shape == shape:
            return sum_to(grad, shape)
        return sum_to(grad.astype(np.float32), shape).astype(_HALF)


HALF_NUMPY = HalfNumpyNamespace()
