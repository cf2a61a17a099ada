"""Two-frame forwards of the losses that are one primitive of an input and a target: F.mse_loss, F.smooth_l1_loss,
F.huber_loss, F.binary_cross_entropy and F.binary_cross_entropy_with_logits, in their commonest call (tensors of one
float dtype and shape, no weights, a reduction given by name, no legacy size_average/reduce).

Through the general path such a call is the loss's argument checks (the target's size, the reduction's, the
broadcast), then `functions._binary` and `dispatch.apply` with its recorder: ~10 Python frames on every training
step. Anomaly mode pays more for them: the stack of a loss computed in the user's step (outside any module call)
was found by walking out over those frames, making a frame object of each. Here the loss's function checks its
arguments (before its general path: a wrapper's frame would move its warnings' location) and `make` (one per loss)
computes as `apply` does (the same NumPy call in the quiet context) and makes what `dispatch._record_simple` makes,
in its order: the output, the node (edges, input metadata, sequence number, the loss's params as `_attrs`), the
tensors its rules read saved as light entries (and no weights held, as `dispatch.hold` holds none); then hands the
node to anomaly mode's checker with the number of gradscope frames to leave out, as fused.py does. Anything else
(other dtypes or shapes, broadcasting with its warning, subclasses, modes, observers or watchers, inference tensors,
no input that needs a gradient) is the general path's.
"""

from __future__ import annotations

import numpy as np

from gradscope._quiet import QUIET_RUN
from gradscope.autograd import observers
from gradscope.autograd.fused import _FLOAT32, _FLOAT64
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.node import _sequence, node_class, own_code
from gradscope.autograd.tensor import Tensor, _stale_view_requires_grad, _sync_view
from gradscope.ops import losses as L
from gradscope.ops import nn as N

_new = object.__new__
_ndarray = np.ndarray
# anomaly mode's stacks start past the checker's frames, `make`'s and the loss's (AnomalyChecker.node_made)
_SKIP = 4


def _maker(op):
    """`make(input, target, params)` (`params`: the reduction enum first): `op`'s output tensor with its node, as
    `dispatch.apply` makes them for two tensors of one float dtype and shape, one of which needs a gradient; None for
    any other call (the caller then takes the general path)."""
    plan = op.save_plan
    if (not op.simple or op.inputs != ("self", "target") or op.attrs or len(plan) != 2 or plan[0][:2] != (False, 0)
            or plan[1][:2] != (False, 1)):
        raise ValueError(f"{op.name}: no one-frame forward for it (needs one output, an input and a target, no "
                         "derived attributes, both saved)")
    cls = node_class(op)
    forward = op.forward
    # which rules read each saved input (bit 1: the input's, 2: the target's): saved only if one of them will run
    input_readers, target_readers = plan[0][2], plan[1][2]
    held = (None,) * len(op.held)  # the held params (weights): none in the common call (dispatch.hold's)

    def make(input, target, params):
        if not (type(input) is Tensor and type(target) is Tensor and observers.idle and modes.get() is DEFAULT_MODES
                and not input._is_inference and not target._is_inference):
            return None
        data, other = input._data, target._data
        dtype = data.dtype
        if not ((dtype is _FLOAT32 or dtype is _FLOAT64) and other.dtype is dtype and data.shape == other.shape):
            return None
        live = 1 if input._requires_grad or input._base is not None and _stale_view_requires_grad(input) else 0
        if target._requires_grad or target._base is not None and _stale_view_requires_grad(target):
            live |= 2
        if not live:  # no node (check_forward checks the op itself: the general path's)
            return None
        try:  # NumPy's floating-point errors ignored, as PyTorch's: in the quiet context
            out = QUIET_RUN(forward, data, other, *params)
        except RuntimeError:  # another thread is in the quiet context (or the forward raised it, and will again)
            return None
        t = _new(Tensor)  # Tensor._make, inlined
        t._data = out if type(out) is _ndarray else np.asarray(out)
        t._output_nr = 0
        t._version_counter = [0]
        t._base = None
        node = cls()
        if live & 1:
            if input._base is not None:
                _sync_view(input)
            fn = input._node
            edge = (fn, input._output_nr) if fn is not None else input._leaf_edge()
            meta = (data.shape, dtype)
        else:
            edge, meta = (None, 0), None
        if live & 2:
            if target._base is not None:
                _sync_view(target)
            fn = target._node
            node._next = (edge, (fn, target._output_nr) if fn is not None else target._leaf_edge())
            node._input_meta = (meta, (other.shape, dtype))
        else:
            node._next = (edge, (None, 0))
            node._input_meta = (meta, None)
        node._seq = next(_sequence)
        node._attrs = params
        t._requires_grad = True
        t._node = node
        counter, other_counter = input._version_counter, target._version_counter  # dispatch._light's entries
        node._saved = ((data, counter, counter[0], input, input._node) if input_readers & live else None,
                       (other, other_counter, other_counter[0], target, target._node) if target_readers & live
                       else None)
        if held:
            node._held = held
        if observers.checker is not None and observers.checker.node_made(node, _SKIP):
            observers.checker.forward_made(node, (input, target), (t,))
        return t

    return own_code(make)


# the common calls, made by nn/_functional/loss.py's functions when their arguments are the common ones
mse_loss = _maker(L.mse_loss)  # params: (reduction,)
smooth_l1_loss = _maker(L.smooth_l1_loss)  # (reduction, beta)
huber_loss = _maker(L.huber_loss)  # (reduction, delta)
binary_cross_entropy = _maker(L.binary_cross_entropy)  # (None, reduction): no weight
binary_cross_entropy_with_logits = _maker(N.binary_cross_entropy_with_logits)  # (None, None, reduction)
