"""The in-place view ops: transpose_ (swapaxes_, swapdims_), t_, squeeze_, unsqueeze_.

They change a tensor's shape and strides, never its values: the tensor itself becomes the new view of
the same memory. As in PyTorch they count as in-place ops (the version goes up, so a saved value that
was this tensor no longer matches) and, in a graph, the tensor takes the op's own node
(TransposeBackward1, TBackward1, SqueezeBackward3/4/5, UnsqueezeBackward1) with its old node as the
input. A view stays a view of its base: the step is added to its view recipe.
"""

from __future__ import annotations

from gradscope._shapes import normalize_dim, refuse_repeated_dims
from gradscope.autograd import errors, observers
from gradscope.autograd.dispatch import apply
from gradscope.autograd.grad_mode import inference_enabled
from gradscope.autograd.inplace import _check
from gradscope.autograd.tensor import Tensor
from gradscope.ops import shape as S


def _restride(self: Tensor, op, view_op, params: tuple) -> Tensor:
    """Give `self` the shape and strides `op` makes of it (`view_op`: the same as a view, for its recipe)."""
    if self._is_inference and not inference_enabled.get():  # before _check's leaf error, as PyTorch's order
        raise RuntimeError(errors.INFERENCE_INPLACE)
    if _check(self) and self.requires_grad:  # PyTorch's in-place errors (leaf, view of a leaf, inference …)
        out = apply(op, (self,), params)
        self._data, self._node, self._output_nr = out._data, out._node, 0
    else:
        self._data = op.forward(self._data, *params)
    self._version_counter[0] += 1
    if observers.dual_level is not None:  # forward AD: the tangent takes the same view
        observers.dual_level.restrided(self, view_op, params)
    if self._base is not None:
        self._view_chain = self._view_chain + ((view_op, params, None),)
        self._view_version = self._version_counter[0]  # its own step: not a change to route through the base
    return self


def transpose_(self, dim0, dim1):
    ndim = self._data.ndim
    dims = (normalize_dim(dim0, ndim), normalize_dim(dim1, ndim))
    return _restride(self, S.transpose_, S.transpose, dims)


swapaxes_ = swapdims_ = transpose_


def t_(self):
    if self._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D")
    return _restride(self, S.t_, S.t, ())


def squeeze_(self, dim=None):
    if dim is None:
        return _restride(self, S.squeeze_all_, S.squeeze_all, ())
    ndim = self._data.ndim
    dims = tuple(normalize_dim(d, ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
    refuse_repeated_dims(dims)
    dims = tuple(d for d in dims if ndim and self._data.shape[d] == 1)
    op = S.squeeze_dims_ if isinstance(dim, (tuple, list)) else S.squeeze_
    return _restride(self, op, S.squeeze_dims if isinstance(dim, (tuple, list)) else S.squeeze_dim, (dims,))


def unsqueeze_(self, dim):
    return _restride(self, S.unsqueeze_, S.unsqueeze, (normalize_dim(dim, self._data.ndim + 1),))


METHODS = {"transpose_": transpose_, "swapaxes_": swapaxes_, "swapdims_": swapdims_, "t_": t_, "squeeze_": squeeze_,
           "unsqueeze_": unsqueeze_}
