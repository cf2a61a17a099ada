"""One-frame forward of cross_entropy's commonest call: logits (N, C) and class indices (N,), no class weights,
no label smoothing, an ignore_index that is no class.

Through the general path that call is log_softmax, then nll_loss: two trips through `dispatch.apply` and its
recorders, the targets' checks (shapes, dtype, bounds) and the reduction's, ~1,000 bytecodes around ~20 NumPy
calls on a small array, on every training step. `cross_entropy(general)` checks once, computes both forwards in
one visit to the quiet context, then makes what the general path makes, in its order: the log-probabilities with
their LogSoftmaxBackward0 (the result saved), then the loss with its NllLossBackward0 (the log-probabilities saved,
the targets held, PyTorch's reduction enum and ignore_index kept). It serves the default modes only, with no
observer or watcher, and anomaly mode's default checks (both nodes handed to it in one call, as the general path's
recorders hand them; check_forward checks log_softmax before nll_loss is computed: `general`'s), float32/float64
logits that need a gradient and targets known to be in bounds; anything else, errors included, is `general`'s.

In the backward, the engine runs the pair as one when their loss is the pass's root and nothing looks
(`log_softmax_under_nll`): the logits' gradient from the two rules' arithmetic, without their one-hot and trips.
"""

from __future__ import annotations

import numpy as np

from gradscope._quiet import QUIET_RUN
from gradscope.autograd import observers
from gradscope.autograd.fused import _FLOAT32, _FLOAT64, _SKIP, _named_like
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.node import FREED, AccumulateGrad, _sequence, node_class, own_code
from gradscope.autograd.tensor import Tensor, _stale_view_requires_grad, _sync_view
from gradscope.ops import nn as N

_new = object.__new__
_ndarray = np.ndarray
_LOG_SOFTMAX_NODE, _NLL_NODE = node_class(N.log_softmax), node_class(N.nll_loss)
_REDUCTIONS = {"mean": N.MEAN, "sum": N.SUM, "none": N.NONE}  # PyTorch's reduction enum, as the node keeps it
_CLASS_DIM = (1,)  # log_softmax's params on a 2-D input
_maximum_reduce, _add_reduce, _exp, _log, _dot = np.maximum.reduce, np.add.reduce, np.exp, np.log, N._dot
_multiply, _subtract = np.multiply, np.subtract
_ones, _row_indices, _ROWS, _MEAN, _SUM = N._ones, N.row_indices, N._ROW_INDICES, N.MEAN, N.SUM
_NARROW, _TALL = N._NARROW, N._TALL
_ZEROS = {dtype: np.zeros((), dtype) for dtype in (_FLOAT32, _FLOAT64)}  # 0 - x's zero, in x's dtype
_ONE_FREED = FREED[1]
_NEG_INF = -np.inf
# the class indices PyTorch takes (int64, uint8) read as unsigned integers of their size
_UNSIGNED = {np.dtype(np.int64): np.dtype(np.uint64), np.dtype(np.uint8): np.dtype(np.uint8)}


def _arrays(data, classes, reduction: int):
    """The log-probabilities along dim 1 and the loss of the targets `classes`, as ops/nn.py's `_log_softmax` and
    `_nll_loss` compute them for targets in bounds, none ignored, no class weights (the same NumPy calls: the same
    bits)."""
    rows, columns = data.shape
    if columns <= _NARROW and rows >= _TALL:  # N._row_maxima along dim 1, inline: its calls, as it chooses them
        shifted = data - _maximum_reduce(data.T.copy(), 0, None, None, False, _NEG_INF)[:, None]
    else:
        shifted = data - _maximum_reduce(data, _CLASS_DIM, None, None, True, _NEG_INF)
    shifted -= _log(_dot(_exp(shifted), _ones(columns, data.dtype))[..., None])
    indices = _ROWS.get(rows)  # N.row_indices, inline
    if indices is None:
        indices = _row_indices(rows)
    picked = shifted[indices, classes]
    if reduction == _MEAN:
        return shifted, (-_add_reduce(picked, None) / rows).astype(data.dtype)
    if reduction == _SUM:
        return shifted, (-picked).sum()
    return shifted, -picked


def cross_entropy(general):
    """`general` (F.cross_entropy) with its common case in one frame."""

    def function(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        if not (weight is None and size_average is None and reduce is None and type(reduction) is str
                and type(ignore_index) is int and type(label_smoothing) is float and label_smoothing == 0.0
                and type(input) is Tensor and type(target) is Tensor and observers.idle
                and (observers.checker is None or not observers.checker.check_forward)
                and modes.get() is DEFAULT_MODES and not target._is_inference
                and (input._requires_grad or input._base is not None and _stale_view_requires_grad(input))):
            return general(input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing)
        data, classes = input._data, target._data
        dtype, shape = data.dtype, data.shape
        unsigned = _UNSIGNED.get(classes.dtype)
        enum = _REDUCTIONS.get(reduction)
        # NOTE: read as unsigned, a negative target is larger than any class: every target is a class if the
        # largest is below C (nll_loss's own check); an ignore_index that is a class could match some
        if not ((dtype is _FLOAT32 or dtype is _FLOAT64) and len(shape) == 2 and classes.shape == shape[:1]
                and unsigned is not None and enum is not None and shape[0]
                and _maximum_reduce(classes.view(unsigned), None) < shape[1]
                and not 0 <= ignore_index < shape[1]):
            return general(input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing)
        try:  # NumPy's floating-point errors ignored, as PyTorch's: in the quiet context
            log_probs, loss = QUIET_RUN(_arrays, data, classes, enum)
        except RuntimeError:  # another thread is in the quiet context
            return general(input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing)
        # log_softmax's output and node (dispatch.apply, _record_unary)
        probs = _new(Tensor)
        probs._data = log_probs
        probs._output_nr = 0
        probs._version_counter = version = [0]
        probs._base = None
        node = _LOG_SOFTMAX_NODE()
        if input._base is not None:
            _sync_view(input)
        fn = input._node
        node._next = ((fn, input._output_nr) if fn is not None else input._leaf_edge(),)
        node._seq = next(_sequence)
        node._input_meta = ((shape, dtype),)
        node._attrs = _CLASS_DIM
        probs._requires_grad = True
        probs._node = node
        node._saved = ((log_probs, version, 0, None, None),)
        # nll_loss's (dispatch.apply_holding)
        t = _new(Tensor)
        t._data = loss if type(loss) is _ndarray else np.asarray(loss)
        t._output_nr = 0
        t._version_counter = [0]
        t._base = None
        nll = _NLL_NODE()
        nll._next = ((node, 0),)
        nll._seq = next(_sequence)
        nll._input_meta = ((shape, dtype),)
        nll._attrs = (classes, None, enum, ignore_index)
        t._requires_grad = True
        t._node = nll
        nll._saved = ((log_probs, version, 0, probs, node),)
        counter = target._version_counter
        nll._held = ((classes, counter, counter[0], target, target._node), None)
        if observers.checker is not None:  # anomaly mode: the stack, module call and parent of both
            observers.checker.nodes_made(node, nll, _SKIP)
        return t

    return _named_like(own_code(function), general)


def log_softmax_under_nll(nll, grads: list, free: bool):
    """The engine's shortcut for a backward whose one root is cross_entropy's NllLossBackward0 (the loss), in a
    pass where nothing looks (first order, no observer, no anomaly mode): when its one edge leads to a
    LogSoftmaxBackward0 over dim 1 of (N, C) logits, and neither node has hooks, it runs both nodes' rules as one and
    returns the node after the pair with the logits' gradient, `(node, [gradient])`, which the engine runs next as
    it would have after LogSoftmaxBackward0. None when anything differs (the engine then runs both nodes itself).

    Why: the pair's two rules make a one-hot, its row sums and three (N, C) temporaries in ~10 NumPy calls and two
    trips through the engine; the logits' gradient is -(exp(log p) * s) with s added back at each row's class.
    The bits are the two rules' (nll_loss_backward, then log_softmax_backward): the one-hot's row sum is its one
    value v (a product with ones adding zeros to it: exact), but +0 for v = -0; each class off the target is
    0 - exp * s and the target's v - exp * s, the same operations on the same numbers.

    Safe: the root runs first with the pass's one gradient, and every node that could send LogSoftmaxBackward0 a
    gradient is reached through the root's one edge, so through it: it runs next, with this gradient alone, as
    the engine would run it (nothing else runs in between: no leaf waits, no hook)."""
    g = grads[0]
    node, nr = nll._next[0]  # (nll_loss has one input)
    if (type(node) is not _LOG_SOFTMAX_NODE or nll._vjp is None or node._vjp is None or nr  # hooks, retain_grad
            or node._attrs != _CLASS_DIM or type(g) is not _ndarray):
        return None
    child, child_nr = node._next[0]
    if child is None or type(child) is AccumulateGrad or child_nr:  # (a leaf edge holds the leaf): the engine routes it
        return None
    # the saved and held values, checked as the nodes' rules check them (else their errors, or a SavedTensor's hooks)
    saved, (held, weights), probs = nll._saved[0], nll._held, node._saved[0]
    if (type(saved) is not tuple or type(held) is not tuple or type(probs) is not tuple or saved[1][0] != saved[2]
            or held[1][0] != held[2] or probs[1][0] != probs[2] or saved[4] is not None and saved[3]._node is None
            or held[4] is not None and held[3]._node is None or probs[4] is not None and probs[3]._node is None):
        return None
    target, weight, reduction, ignore_index = nll._attrs
    result = probs[0]
    dtype, shape = result.dtype, result.shape
    if (weights is not None or not (reduction == _MEAN or reduction == _SUM) or len(shape) != 2 or shape[1] < 2
            or not (dtype is _FLOAT32 or dtype is _FLOAT64) or g.dtype is not dtype or g.shape
            or nll._input_meta[0] != (shape, dtype) or node._input_meta[0] != (shape, dtype)):
        return None
    n_ignored = _add_reduce(target == ignore_index, None)
    # nll_loss_backward's one value, stored in the one-hot (rounded to its dtype), and the one-hot's row sums
    value = dtype.type(-(g[()] / max(len(target) - n_ignored, 1)) if reduction == _MEAN else -g[()])
    # NOTE: a NaN gradient is the rules': NumPy's product of two NaNs keeps one or the other by the operands' layout
    # (an exp(log p) row of NaN times a NaN sum: the rules' column of sums keeps the row's, a number the sum's)
    if n_ignored or value != value:  # (some rows count for nothing: the rules')
        return None
    zero = _ZEROS[dtype]
    sums = value + zero
    rows = _ROWS.get(len(target))
    if rows is None:
        rows = _row_indices(len(target))
    grad = _exp(result)
    _multiply(grad, sums, grad)
    at_targets = value - grad[rows, target]
    _subtract(zero, grad, grad)
    grad[rows, target] = at_targets
    if free:
        nll._saved = node._saved = _ONE_FREED
    return child, [grad]
