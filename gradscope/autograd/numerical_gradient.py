"""torch.gradient: derivatives of sampled values by central differences (one-sided at the edges), on evenly
spaced samples or at given coordinates. PyTorch's composite, from the same ops (slices, sub, div, cat)."""

from __future__ import annotations

from gradscope import _dtypes
from gradscope._shapes import normalize_dim
from gradscope.autograd import functions as F
from gradscope.autograd.dispatch import apply
from gradscope.autograd.scans import diff
from gradscope.autograd.shape_functions import cat, reshape
from gradscope.autograd.tensor import Tensor
from gradscope.ops import losses as L
from gradscope.ops import shape as S
from gradscope.ops import vector_ops as V


def _slice(t, d: int, start, end=None):
    size = t._data.shape[d]
    begin, stop, _ = slice(start, end).indices(size)
    return apply(S.slice_, (t,), (d, begin, max(begin, stop), 1))


def _over(t, number):
    """`t / number` (DivBackward1); integers give the default float dtype."""
    if t._data.dtype.kind in "biu":
        return F.div(t, number)
    return apply(L.div_scalar, (t,), (number,))


def _times(t, number):
    """`number * t` as PyTorch's C++ writes it (MulBackward1, which saves no tensor), in the dtype it gives: an
    integer tensor times a float is of the default dtype (NumPy's would be float64)."""
    if t._data.dtype.kind not in "fc":
        t = t.to(_dtypes.from_numpy_dtype(_dtypes.result_type((t._data, number))))
    return apply(V.mul_scalar, (t,), (number,))


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative of `input` along each dim (or `dim`) by central differences inside and one-sided ones of
    order `edge_order` at the edges; `spacing` is a number, one per dim, or the sample coordinates per dim."""
    ndim = input._data.ndim
    spacing = 1 if spacing is None else spacing  # None, as PyTorch's binding takes it: unit spacing
    dims = tuple(range(ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(normalize_dim(d, ndim) for d in dims)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal to "
                f"'self.dim() = {ndim}', since dim argument was not given, but got a list of length {len(spacing)}"
                if dim is None else f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing "
                f"and dim arguments to have the same length, but got a spacing argument of length {len(spacing)} "
                f"and a dim argument of length {len(dims)}.")
        spacings = list(spacing)
    else:  # one number for every dim (a 0-dim tensor too, as PyTorch's Scalar)
        spacings = [spacing.item() if isinstance(spacing, Tensor) and not spacing._data.ndim else spacing] * len(dims)
    if any(input._data.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    return tuple(_coordinate_gradient(input, d, step, edge_order) if isinstance(step, Tensor)
                 else _uniform_gradient(input, d, float(step), edge_order) for d, step in zip(dims, spacings))


def _uniform_gradient(y, d: int, step: float, edge_order: int):
    centre = _over(_over(F.sub(_slice(y, d, 2), _slice(y, d, 0, -2)), step), 2)
    if edge_order == 1:
        first = F.sub(_slice(y, d, 1, 2), _slice(y, d, 0, 1))
        last = F.sub(_slice(y, d, -1), _slice(y, d, -2, -1))
    else:
        first = F.sub(F.add(_times(_slice(y, d, 0, 1), -1.5), _times(_slice(y, d, 1, 2), 2)),
                      _times(_slice(y, d, 2, 3), 0.5))
        last = F.add(F.sub(_times(_slice(y, d, -3, -2), 0.5), _times(_slice(y, d, -2, -1), 2)),
                     _times(_slice(y, d, -1), 1.5))
    return cat([_over(first, step), centre, _over(last, step)], d)


def _coordinate_gradient(y, d: int, coordinates, edge_order: int):
    """Differences over unevenly spaced samples at `coordinates` (PyTorch's second-order accurate weights)."""
    shape = [1] * y._data.ndim
    shape[d] = -1
    h = diff(coordinates, 1, 0)
    h1, h2 = _slice(h, 0, 0, -1), _slice(h, 0, 1)
    weights = [F.div(F.neg(h2), F.mul(h1, F.add(h1, h2))), F.div(F.sub(h2, h1), F.mul(h1, h2)),
               F.div(h1, F.mul(h2, F.add(h1, h2)))]
    a, b, c = (reshape(w, tuple(shape)) for w in weights)
    centre = F.add(F.add(F.mul(a, _slice(y, d, 0, -2)), F.mul(b, _slice(y, d, 1, -1))), F.mul(c, _slice(y, d, 2)))
    first_h, second_h, last_h, before_last_h = h[0], h[1], h[-1], h[-2]
    if edge_order == 1:
        first = F.div(F.sub(_slice(y, d, 1, 2), _slice(y, d, 0, 1)), first_h)
        last = F.div(F.sub(_slice(y, d, -1), _slice(y, d, -2, -1)), last_h)
    else:
        both = F.add(first_h, second_h)
        first = _weighted(y, d, ((0, 1), (1, 2), (2, 3)), (
            F.div(F.neg(F.add(_times(first_h, 2.0), second_h)), F.mul(first_h, both)),
            F.div(both, F.mul(first_h, second_h)), F.div(F.neg(first_h), F.mul(second_h, both))))
        both = F.add(last_h, before_last_h)
        last = _weighted(y, d, ((-3, -2), (-2, -1), (-1, None)), (
            F.div(last_h, F.mul(before_last_h, both)), F.div(F.neg(both), F.mul(last_h, before_last_h)),
            F.div(F.add(_times(last_h, 2), before_last_h), F.mul(last_h, both))))
    return cat([first, centre, last], d)


def _weighted(y, d: int, spans, weights):
    terms = [F.mul(w, _slice(y, d, start, end)) for (start, end), w in zip(spans, weights, strict=True)]
    return F.add(F.add(terms[0], terms[1]), terms[2])


FUNCTIONS = ("gradient",)
METHODS: dict = {}
