"""Short forwards of a linear layer's products: `t`, 2-D `matmul` (mm) and `F.linear` (t, then addmm).

As fused.py does for elementwise ops, `transpose(general)`, `mm(general)` and `linear(general)` wrap a function
whose general path goes through `dispatch.apply`, with its common case run in two frames (the call, then the view
or the product; F.linear's in the call's one): float32/float64 operands of one dtype, 2-D,
whose shapes multiply, a transposed tensor (and F.linear's weight) that is not a view, in `Modes.plain` (grad
mode on, no inference mode or saved-tensor hooks) and no process-wide observer or watcher (anomaly mode is fine).
They make exactly the views, nodes (edges, input metadata, params, sizes and strides, light saved entries) and
version counters the general path makes, and hand the nodes to anomaly mode's checker as it does (from as deep as
dispatch's recorders: the checker's stack starts at the caller of the function), then to the observers listening
in this context (`dispatch.tell_observers`); anything else is `general`'s. NumPy computes in the quiet context
(_quiet.QUIET_RUN: floating-point errors ignored, as PyTorch's).

Why: through apply's generic recording a narrow linear layer's forward cost ~5x NumPy's `x @ w.T + b`.
"""

from __future__ import annotations

import numpy as np

from gradscope._quiet import QUIET_RESET, QUIET_RUN, QUIET_SET, QUIET_VALUE
from gradscope.autograd import errors, observers
from gradscope.autograd.dispatch import tell_observers
from gradscope.autograd.fused import _FLOAT32, _FLOAT64, _SKIP, _named_like
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.node import _sequence, node_class, own_code
from gradscope.autograd.tensor import Tensor, _stale_view_requires_grad, _sync_view
from gradscope.ops import linalg as L
from gradscope.ops import shape as S

_new = object.__new__
_NO_EDGE = (None, 0)
_T_NODE, _MM_NODE, _ADDMM_NODE = node_class(S.t), node_class(L.mm), node_class(L.addmm)
_MM, _ADD = L.mm.forward, np.add  # addmm's forward at beta = alpha = 1 on one dtype: mm, += bias
_DOT, _DOT_WORK = L._DOT, L._DOT_WORK  # np.dot, for products it computes as matmul does (see _layout)
_T_CHAIN = ((S.t, (), None),)  # the view chain of `x.t()` for an x that is not a view (dispatch._make_view)


class _Layout:
    """What F.linear's nodes keep of one layout of its operands (a 2-D input of `shape` and byte `strides`, a weight
    of `weight_shape` and `weight_strides`, one dtype), made once and shared by the nodes of every call with that
    layout: the weight's TBackward0 input metadata, AddmmBackward0's/MmBackward0's metadata and sizes and strides
    (`_input_meta`, `_attrs`, read-only tuples), and whether np.dot may compute the product.

    Why: a node keeps its tuples until the backward, and each is an object the cyclic GC counts and visits; made per
    call they were 13 of the ~40 a narrow layer (Linear + tanh) kept alive, and the GC took 6-9% of its step."""

    __slots__ = ("shape", "strides", "weight_strides", "dtype", "dense", "other_shape", "bias_shape", "weight_metas",
                 "left_meta", "right_meta", "bias_meta", "data_strides", "other_strides", "addmm", "mm", "addmm_first",
                 "mm_first")


_LAYOUTS: dict = {}  # weight shape -> the _Layout of the last call with a weight of that shape
_MAX_LAYOUTS = 256  # past this many weight shapes the cache starts again (a model has few)


def _layout(shape: tuple, strides: tuple, weight_shape: tuple, weight_strides: tuple, dtype) -> _Layout:
    """The _Layout of F.linear's operands, kept for the next call with a weight of this shape."""
    layout = _new(_Layout)
    layout.shape, layout.strides, layout.weight_strides, layout.dtype = shape, strides, weight_strides, dtype
    size = dtype.itemsize  # the nodes keep strides in elements
    # NOTE: np.dot where both operands are dense (C or Fortran order): there it gives matmul's bits (the same
    # BLAS call) without matmul's ufunc machinery (~0.25 us of a 16x32 @ 32x32 product); elsewhere (strided
    # views, broadcast rows) the two may round differently, so matmul, the general path's forward. Past
    # 2**18 multiply-adds np.dot is the slower of the two (3-4% of a 64x256 @ 256x256 or a 512x1024 @
    # 1024x1024 product), so there matmul too
    layout.dense = (shape[0] * shape[1] * weight_shape[0] <= _DOT_WORK
                    and (strides[1] == size and strides[0] == size * shape[1]
                         or strides[0] == size and strides[1] == size * shape[0])
                    and (weight_strides[1] == size and weight_strides[0] == size * weight_shape[1]
                         or weight_strides[0] == size and weight_strides[1] == size * weight_shape[0]))
    other_shape = layout.other_shape = (weight_shape[1], weight_shape[0])
    layout.weight_metas = ((weight_shape, dtype),)
    left_meta = layout.left_meta = (shape, dtype)
    right_meta = layout.right_meta = (other_shape, dtype)
    layout.bias_shape = weight_shape[:1]
    bias_meta = layout.bias_meta = (layout.bias_shape, dtype)
    data_strides = layout.data_strides = (strides[0] // size, strides[1] // size)
    other_strides = layout.other_strides = (weight_strides[1] // size, weight_strides[0] // size)  # the view's
    # (_input_meta, _attrs) of AddmmBackward0 and MmBackward0 where every operand needs a gradient, and where all
    # but the input do (a model's first layer)
    layout.addmm = ((bias_meta, left_meta, right_meta), (1, 1, shape, data_strides, other_shape, other_strides))
    layout.mm = ((left_meta, right_meta), (other_shape, other_strides, shape, data_strides))
    layout.addmm_first = _partial(layout, False, True, True, True)
    layout.mm_first = _partial(layout, False, True, False, False)
    if len(_LAYOUTS) >= _MAX_LAYOUTS:
        _LAYOUTS.clear()
    _LAYOUTS[weight_shape] = layout
    return layout


def _partial(layout: _Layout, left: bool, right: bool, biased: bool, addmm: bool) -> tuple:
    """AddmmBackward0's (`addmm`) or MmBackward0's metadata and sizes and strides for a call where some operand
    needs no gradient: the layout's, with None for its metadata and () for its strides (kept for its own gradient
    only)."""
    left_meta, data_strides = (layout.left_meta, layout.data_strides) if left else (None, ())
    right_meta, other_strides = (layout.right_meta, layout.other_strides) if right else (None, ())
    if addmm:
        return ((layout.bias_meta if biased else None, left_meta, right_meta),
                (1, 1, layout.shape, data_strides, layout.other_shape, other_strides))
    return (left_meta, right_meta), (layout.other_shape, other_strides, layout.shape, data_strides)


def _transposed(x: Tensor) -> Tensor:
    """`x.t()` for a tensor of at most 2 dims that is not a view (nor an inference tensor), in the default
    modes: the view and its TBackward0, as apply's view path makes them."""
    data = x._data
    t = _new(Tensor)
    t._data = data.T
    t._requires_grad = False
    t._node = None
    t._output_nr = 0
    t._base = x
    counter = t._version_counter = x._version_counter
    t._view_chain = _T_CHAIN
    fn = t._view_base_fn = x._node
    t._view_version = counter[0]
    if x._requires_grad:
        node = _T_NODE()
        node._next = ((fn, x._output_nr) if fn is not None else x._leaf_edge(),)
        node._seq = next(_sequence)
        node._input_meta = ((data.shape, data.dtype),)
        node._attrs = ()
        node._saved = ()
        t._requires_grad = True
        t._node = node
        if observers.checker is not None and observers.checker.node_made(node):
            observers.checker.forward_made(node, (x,), (t,))
    return t


def transpose(general):
    """`general(input)` (`t`) with its common case short: a tensor of at most 2 dims, not a view."""

    def function(input):
        if ((type(input) is Tensor or isinstance(input, Tensor)) and input._base is None and input._data.ndim <= 2
                and not input._is_inference and observers.idle
                and ((mode := modes.get()) is DEFAULT_MODES or mode.plain)):
            out = _transposed(input)
            if mode is not DEFAULT_MODES:  # observers listen in this context
                tell_observers(S.t, (input,), (out,))
            return out
        return general(input)

    return _named_like(own_code(function), general)


def _affine(data, other, biases):
    """`data @ other (+ biases)` with this context's NumPy error state set to ignore and reset: the products'
    way while another thread is in the quiet context (_quiet.QUIET_RUN, which they run NumPy in otherwise)."""
    token = QUIET_SET(QUIET_VALUE)
    try:
        out = _MM(data, other)
        if biases is not None:
            _ADD(out, biases, out)
        return out
    finally:
        QUIET_RESET(token)


def _product(input: Tensor, mat2: Tensor, bias: Tensor | None) -> Tensor:
    """`addmm(bias, input, mat2)` (AddmmBackward0, beta = alpha = 1) or, without a bias, `mm(input, mat2)`
    (MmBackward0), made as apply makes them, for operands already checked. Each input that needs a gradient
    gives an edge and its metadata; both ops save mat2 for the input's rule and the input for mat2's."""
    data, other = input._data, mat2._data
    biases = None if bias is None else bias._data
    try:  # NumPy's floating-point errors ignored, as PyTorch's: in the quiet context
        out = QUIET_RUN(_MM, data, other)
        if biases is not None:  # addmm's forward at beta = alpha = 1 on one dtype: added into the product
            QUIET_RUN(_ADD, out, biases, out)
    except RuntimeError:  # another thread is in the quiet context (a product raises no RuntimeError itself)
        out = _affine(data, other, biases)
    t = _new(Tensor)
    t._data = out
    t._requires_grad = False
    t._node = None
    t._output_nr = 0
    t._version_counter = [0]
    t._base = None
    left = input._requires_grad or input._base is not None and _stale_view_requires_grad(input)
    right = mat2._requires_grad or mat2._base is not None and _stale_view_requires_grad(mat2)
    biased = bias is not None and (bias._requires_grad or bias._base is not None and _stale_view_requires_grad(bias))
    if not (left or right or biased):
        if observers.checker is not None and observers.checker.check_forward:  # no node: checked here
            _check_forward(bias, input, mat2, t)
        return t
    dtype = data.dtype
    shape, other_shape = data.shape, other.shape
    size = data.itemsize  # strides in elements, kept for the operand's own gradient only (registry.attr_reader)
    if left:
        if input._base is not None:
            _sync_view(input)
        fn = input._node
        left_edge = (fn, input._output_nr) if fn is not None else input._leaf_edge()
        left_meta = (shape, dtype)
        if mat2._is_inference:
            raise RuntimeError(errors.INFERENCE_SAVED)
        counter = mat2._version_counter
        saved_mat2 = (other, counter, counter[0], mat2, mat2._node)
        strides = data.strides
        data_strides = (strides[0] // size, strides[1] // size)
    else:
        left_edge, left_meta, saved_mat2, data_strides = _NO_EDGE, None, None, ()
    if right:
        if mat2._base is not None:
            _sync_view(mat2)
        fn = mat2._node
        right_edge = (fn, mat2._output_nr) if fn is not None else mat2._leaf_edge()
        right_meta = (other_shape, dtype)
        if input._is_inference:
            raise RuntimeError(errors.INFERENCE_SAVED)
        counter = input._version_counter
        saved_input = (data, counter, counter[0], input, input._node)
        strides = other.strides
        other_strides = (strides[0] // size, strides[1] // size)
    else:
        right_edge, right_meta, saved_input, other_strides = _NO_EDGE, None, None, ()
    if bias is None:
        node = _MM_NODE()
        node._next = (left_edge, right_edge)
        node._input_meta = (left_meta, right_meta)
        node._attrs = (other_shape, other_strides, shape, data_strides)
    else:
        node = _ADDMM_NODE()
        if biased:
            if bias._base is not None:
                _sync_view(bias)
            fn = bias._node
            bias_edge = (fn, bias._output_nr) if fn is not None else bias._leaf_edge()
            bias_meta = (biases.shape, dtype)
        else:
            bias_edge, bias_meta = _NO_EDGE, None
        node._next = (bias_edge, left_edge, right_edge)
        node._input_meta = (bias_meta, left_meta, right_meta)
        node._attrs = (1, 1, shape, data_strides, other_shape, other_strides)
    node._seq = next(_sequence)
    node._saved = (saved_mat2, saved_input)
    t._requires_grad = True
    t._node = node
    if observers.checker is not None and observers.checker.node_made(node):
        observers.checker.forward_made(node, (input, mat2) if bias is None else (bias, input, mat2), (t,))
    return t


def _check_forward(bias: Tensor | None, input: Tensor, mat2: Tensor, out: Tensor) -> None:
    """Anomaly mode's check_forward of a product that made no node, as apply hands it over: mm, or addmm."""
    if bias is None:
        observers.checker.op_computed(L.mm, (input, mat2), (out,))
    else:
        observers.checker.op_computed(L.addmm, (bias, input, mat2), (out,))


def mm(general):
    """`general(input, other)` (`matmul`) with its 2-D case short: MmBackward0."""

    def function(input, other):
        if ((type(input) is Tensor or isinstance(input, Tensor))
                and (type(other) is Tensor or isinstance(other, Tensor))
                and observers.idle and ((mode := modes.get()) is DEFAULT_MODES or mode.plain)):
            data, others = input._data, other._data
            dtype = data.dtype
            if ((dtype is _FLOAT32 or dtype is _FLOAT64) and others.dtype is dtype and data.ndim == 2 == others.ndim
                    and data.shape[1] == others.shape[0]):
                out = _product(input, other, None)
                if mode is not DEFAULT_MODES:  # observers listen in this context
                    tell_observers(L.mm, (input, other), (out,))
                return out
        return general(input, other)

    return _named_like(own_code(function), general)


def linear(general):
    """`general(input, weight, bias)` (F.linear) with its 2-D case short, in one frame (F.linear runs on every
    layer of a model): the weight's view `weight.t()` and its TBackward0, then AddmmBackward0 (MmBackward0
    without a bias) on the view, as `_product(input, _transposed(weight), bias)` makes them, without asking again
    what the view is known to be (in step with its base, as fresh; requiring grad as the weight does). The view of
    a leaf weight is made when something may see it (anomaly mode, observers, `_saved_mat2`: see weight_view)."""

    def function(input, weight, bias=None):
        if not (isinstance(weight, Tensor) and weight._base is None and not weight._is_inference
                and (type(input) is Tensor or isinstance(input, Tensor)) and observers.idle
                and ((mode := modes.get()) is DEFAULT_MODES or mode.plain)):
            return general(input, weight, bias)
        data, weights = input._data, weight._data
        # NOTE: each of NumPy's shapes and strides read once, and the view's made up: a read of an array's
        # attribute is a generic lookup, and a shape's makes a new tuple
        dtype, shape, weight_shape = data.dtype, data.shape, weights.shape
        strides, weight_strides = data.strides, weights.strides
        layout = _LAYOUTS.get(weight_shape)  # one made for these operands' layout: they were checked then
        if (layout is None or layout.shape != shape or layout.dtype is not dtype or weights.dtype is not dtype
                or layout.strides != strides or layout.weight_strides != weight_strides):
            if not ((dtype is _FLOAT32 or dtype is _FLOAT64) and weights.dtype is dtype and len(shape) == 2
                    and len(weight_shape) == 2 and shape[1] == weight_shape[1]):
                return general(input, weight, bias)
            layout = _layout(shape, strides, weight_shape, weight_strides, dtype)
        if bias is None:
            biases = None
        elif not (isinstance(bias, Tensor) and (biases := bias._data).dtype is dtype
                  and biases.shape == layout.bias_shape):
            return general(input, weight, bias)
        other = weights.T
        counter = weight._version_counter
        fn = weight._node
        version = counter[0]
        if weight._requires_grad:
            right = True
            t_node = _T_NODE()
            t_node._next = ((fn, weight._output_nr) if fn is not None else weight._leaf_edge(),)
            t_node._seq = next(_sequence)
            t_node._input_meta = layout.weight_metas
            t_node._attrs = ()
            t_node._saved = ()
            # NOTE: the view of a leaf weight is made only if something may see it: nothing does in the default modes
            # without anomaly mode but `_saved_mat2` (the node's entry holds its TBackward0 in the tensor's place
            # until then: see weight_view), and a view made per layer and step is an object the cyclic GC counts
            lazy = fn is None and mode is DEFAULT_MODES and observers.checker is None
        else:
            right = lazy = False
            t_node = None
        if lazy:
            view = None
        # anomaly mode's default checks read no view either (check_forward's do): made when read, as without it
        elif light := right and fn is None and mode is DEFAULT_MODES and not observers.checker.check_forward:
            view = None
        else:
            view = transposed_view(weight, other, counter, version, fn, right, t_node)
            # (anomaly mode, in the default modes: with the product's node, see below)
            if right and observers.checker is not None and mode is not DEFAULT_MODES and observers.checker.node_made(
                    t_node, _SKIP):
                observers.checker.forward_made(t_node, (weight,), (view,))
        try:  # NumPy's floating-point errors ignored, as PyTorch's: in the quiet context
            out = QUIET_RUN(_DOT if layout.dense else _MM, data, other)
            if biases is not None:  # addmm's forward at beta = alpha = 1 on one dtype: added into the product
                QUIET_RUN(_ADD, out, biases, out)
        except RuntimeError:  # another thread is in the quiet context (a product raises no RuntimeError itself)
            out = _affine(data, other, biases)
        left = input._requires_grad or input._base is not None and _stale_view_requires_grad(input)
        biased = bias is not None and (
            bias._requires_grad or bias._base is not None and _stale_view_requires_grad(bias))
        t = _new(Tensor)
        t._data = out
        t._output_nr = 0
        t._version_counter = [0]
        t._base = None
        if not (left or right or biased):
            t._requires_grad = False
            t._node = None
            if mode is not DEFAULT_MODES:  # (see below)
                tell_observers(S.t, (weight,), (view,))
            if observers.checker is not None and observers.checker.check_forward:  # no node: checked here
                _check_forward(bias, input, view, t)
            if mode is not DEFAULT_MODES:
                _tell_product(input, view, bias, t)
            return t
        if left:
            if input._base is not None:
                _sync_view(input)
            fn = input._node
            left_edge = (fn, input._output_nr) if fn is not None else input._leaf_edge()
            saved_mat2 = ((other, counter, version, t_node, None) if lazy or light
                          else (other, counter, version, view, t_node))
        else:
            left_edge, saved_mat2 = _NO_EDGE, None
        if right:
            right_edge = (t_node, 0)
            if input._is_inference:
                if mode is not DEFAULT_MODES:  # (see below)
                    tell_observers(S.t, (weight,), (view,))
                raise RuntimeError(errors.INFERENCE_SAVED)
            counter = input._version_counter
            saved_input = (data, counter, counter[0], input, input._node)
        else:
            right_edge, saved_input = _NO_EDGE, None
        if bias is None:
            node = _MM_NODE()
            node._next = (left_edge, right_edge)
            if right:
                node._input_meta, node._attrs = layout.mm if left else layout.mm_first
            else:
                node._input_meta, node._attrs = _partial(layout, left, right, False, False)
        else:
            node = _ADDMM_NODE()
            if biased:
                if bias._base is not None:
                    _sync_view(bias)
                fn = bias._node
                bias_edge = (fn, bias._output_nr) if fn is not None else bias._leaf_edge()
            else:
                bias_edge = _NO_EDGE
            node._next = (bias_edge, left_edge, right_edge)
            if right and biased:
                node._input_meta, node._attrs = layout.addmm if left else layout.addmm_first
            else:
                node._input_meta, node._attrs = _partial(layout, left, right, biased, True)
        node._seq = next(_sequence)
        node._saved = (saved_mat2, saved_input)
        t._requires_grad = True
        t._node = node
        if lazy:  # the default modes without anomaly mode: no one to tell
            return t
        if mode is DEFAULT_MODES:
            if observers.checker is not None and (observers.checker.node_made(node, _SKIP) if t_node is None
                                                  else observers.checker.nodes_made(t_node, node, _SKIP)):
                if t_node is not None:
                    observers.checker.forward_made(t_node, (weight,), (view,))
                observers.checker.forward_made(node, (input, view) if bias is None else (bias, input, view), (t,))
            return t
        # observers listen in this context: told of each op as the general path tells them, the view before anomaly
        # mode may refuse the product, the product with the layout's tuples as its metadata and sizes and strides
        tell_observers(S.t, (weight,), (view,))
        if observers.checker is not None and observers.checker.node_made(node, _SKIP):
            observers.checker.forward_made(node, (input, view) if bias is None else (bias, input, view), (t,))
        _tell_product(input, view, bias, t)
        return t

    return _named_like(own_code(function), general)


def transposed_view(weight: Tensor, other, counter: list, version: int, fn, requires_grad: bool, t_node) -> Tensor:
    """The view `weight.t()` of a weight that is not a view, as apply's view path makes it: `other` its array, with
    the weight's version counter and version then, the weight's grad_fn `fn` (None for a leaf) and the view's own,
    `t_node` (its TBackward0; None when it requires no grad)."""
    view = _new(Tensor)
    view._data = other
    view._output_nr = 0
    view._base = weight
    view._version_counter = counter
    view._view_chain = _T_CHAIN
    view._view_base_fn = fn
    view._view_version = version
    view._requires_grad = requires_grad
    view._node = t_node
    return view


def weight_view(t_node, other, counter, version: int) -> Tensor:
    """The view `weight.t()` F.linear computed with (`other`, its array, with the weight's version counter and version
    then) and did not make (see `linear`): made as it would have been, when its AddmmBackward0's (MmBackward0's)
    `_saved_mat2` is first asked for (node._light_to_saved), from its TBackward0 `t_node` and the leaf weight that node
    leads to."""
    return transposed_view(t_node._next[0][0].variable, other, counter, version, None, True, t_node)


def _tell_product(input: Tensor, mat2: Tensor, bias: Tensor | None, out: Tensor) -> None:
    """What the observers listening in this context learn of `mm(input, mat2)` or `addmm(bias, input, mat2)`
    (`dispatch.tell_observers`), as the general path tells them."""
    if bias is None:
        tell_observers(L.mm, (input, mat2), (out,))
    else:
        tell_observers(L.addmm, (bias, input, mat2), (out,))
