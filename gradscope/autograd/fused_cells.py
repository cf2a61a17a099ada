"""One-frame forward of an Elman RNN cell's step: `act(F.linear(h, W_hh, b_hh) + F.linear(x, W_ih, b_ih))`.

nn.RNNCell runs it once per time step, and through the one-frame ops it is four calls (two F.linear, an add, the
nonlinearity), each checking the modes, the operands' types and dtypes again and entering the quiet context for
each NumPy call. `rnn_cell` checks once, computes the step's arrays in one visit to the quiet context, then makes
the nodes, views and output the one-frame ops make (fused_products.linear twice, fused.binary's add, fused.unary's
tanh or relu), in their order: TBackward0 and AddmmBackward0 (MmBackward0 without biases) of the state's product,
the same of the input's, AddBackward0, then TanhBackward0 or ReluBackward0. The products' and the sum's Tensors
are not made: the general path's are garbage once the step returns (no node keeps its own output, and in the
default modes nothing watches), so nothing could tell them missing. It serves the training case only:
default modes, no observer or watcher, anomaly mode's default checks (its nodes handed to the checker in pairs, in one
frame as the one-frame ops' are; check_forward reads the outputs not made here), weights and biases requiring grad and
not views, no inference tensor; anything else returns None and the caller takes the general path, op by op.
"""

from __future__ import annotations

from gradscope._quiet import QUIET_RESET, QUIET_RUN, QUIET_SET, QUIET_VALUE
from gradscope.autograd import observers
from gradscope.autograd.dispatch import ONE_METAS32, ONE_METAS64
from gradscope.autograd.functions import _ALPHA_ONE
from gradscope.autograd.fused import _FLOAT32, _FLOAT64, _SKIP
from gradscope.autograd.fused_products import _ADD, _DOT, _LAYOUTS, _MM, _layout, transposed_view
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.node import OpNode, _sequence, node_class
from gradscope.autograd.tensor import Tensor, _stale_view_requires_grad, _sync_view
from gradscope.ops import elementwise as E
from gradscope.ops import linalg as L
from gradscope.ops import shape as S

_new = object.__new__
_NO_EDGE = (None, 0)
_T_NODE, _MM_NODE, _ADDMM_NODE = node_class(S.t), node_class(L.mm), node_class(L.addmm)
_ADD_NODE, _TANH_NODE, _RELU_NODE = node_class(E.add), node_class(E.tanh), node_class(E.relu)
_TANH, _RELU = E.tanh.forward, E.relu.forward


def _arrays(state, weights_hh, biases_hh, dot_hh, data, weights_ih, biases_ih, dot_ih, activation):
    """The step's output: each product (with its bias added into it, addmm's forward at beta = alpha = 1), their
    sum and its activation, computed as the one-frame ops compute them (np.dot where F.linear's fast path takes
    it: the same bits as matmul there). The sum goes into the state's product, an array no one else sees (see
    the module's docstring): the same bits as a new one."""
    hh = _DOT(state, weights_hh) if dot_hh else _MM(state, weights_hh)
    if biases_hh is not None:
        _ADD(hh, biases_hh, hh)
    ih = _DOT(data, weights_ih) if dot_ih else _MM(data, weights_ih)
    if biases_ih is not None:
        _ADD(ih, biases_ih, ih)
    return activation(_ADD(hh, ih, hh))


_CELLS: dict = {}  # the operands' (dtype, shapes, strides, bias shape) -> _cell's (layouts, metadata)
_MAX_CELLS = 256  # past this many the cache starts again (a model has few)


def _cell(dtype, shape: tuple, strides: tuple, state_shape: tuple, state_strides: tuple, ih_shape: tuple,
          ih_strides: tuple, hh_shape: tuple, hh_strides: tuple, bias_shape: tuple | None) -> tuple | None:
    """What a step with operands of these dtype, shapes and strides shares with every other such step, once its
    operands are checked: each product's F.linear layout (fused_products._Layout: its nodes' metadata, sizes and
    strides, and whether np.dot computes it), the nonlinearity's `_input_meta` (fused.unary's) and the add's;
    None when the step does not serve them (the general path raises the errors). Kept for the next step.

    Why: checked and looked up afresh, these were ~300 bytecodes a step (a third of the step's forward)."""
    if not ((dtype is _FLOAT32 or dtype is _FLOAT64) and len(shape) == 2 and len(ih_shape) == 2
            and shape[1] == ih_shape[1] and state_shape == (shape[0], ih_shape[0])
            and hh_shape == (ih_shape[0], ih_shape[0]) and (bias_shape is None or bias_shape == ih_shape[:1])):
        return None
    # each product's layout as F.linear's fast path keeps it, shared with F.linear's nodes
    layout_hh = _LAYOUTS.get(hh_shape)
    if (layout_hh is None or layout_hh.shape != state_shape or layout_hh.dtype is not dtype
            or layout_hh.strides != state_strides or layout_hh.weight_strides != hh_strides):
        layout_hh = _layout(state_shape, state_strides, hh_shape, hh_strides, dtype)
    layout_ih = _LAYOUTS.get(ih_shape)
    if (layout_ih is None or layout_ih.shape != shape or layout_ih.dtype is not dtype
            or layout_ih.strides != strides or layout_ih.weight_strides != ih_strides):
        layout_ih = _layout(shape, strides, ih_shape, ih_strides, dtype)
    out_metas = (ONE_METAS64 if dtype is _FLOAT64 else ONE_METAS32)[state_shape]  # fused.unary's
    cell = (layout_hh, layout_ih, out_metas, (out_metas[0], out_metas[0]))
    if len(_CELLS) >= _MAX_CELLS:
        _CELLS.clear()
    _CELLS[(dtype, shape, strides, state_shape, state_strides, ih_shape, ih_strides, hh_shape, hh_strides,
            bias_shape)] = cell
    return cell


def rnn_cell(input: Tensor, hx: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None,
             bias_hh: Tensor | None, relu: bool) -> Tensor | None:
    """`tanh(F.linear(hx, weight_hh, bias_hh) + F.linear(input, weight_ih, bias_ih))` (relu with `relu`) for a
    2-D input (N, I) and state (N, H), with the general path's nodes; None when it is not the common case."""
    if not (observers.idle and (observers.checker is None or not observers.checker.check_forward)
            and modes.get() is DEFAULT_MODES
            and isinstance(input, Tensor) and isinstance(hx, Tensor) and isinstance(weight_ih, Tensor)
            and isinstance(weight_hh, Tensor) and weight_ih._requires_grad and weight_hh._requires_grad
            and weight_ih._base is None and weight_hh._base is None and not (
                input._is_inference or hx._is_inference or weight_ih._is_inference or weight_hh._is_inference)):
        return None
    data, state, weights_ih, weights_hh = input._data, hx._data, weight_ih._data, weight_hh._data
    dtype = data.dtype
    if bias_ih is None and bias_hh is None:
        biases_ih = biases_hh = bias_shape = None
    elif not (isinstance(bias_ih, Tensor) and isinstance(bias_hh, Tensor) and bias_ih._requires_grad
              and bias_hh._requires_grad and (biases_ih := bias_ih._data).dtype is dtype
              and (biases_hh := bias_hh._data).dtype is dtype and (bias_shape := biases_ih.shape) == biases_hh.shape):
        return None
    # the operands' shapes and strides as one key: a cell seen before passed _cell's checks with them
    cell = _CELLS.get((dtype, data.shape, data.strides, state.shape, state.strides, weights_ih.shape,
                       weights_ih.strides, weights_hh.shape, weights_hh.strides, bias_shape))
    if cell is None:
        cell = _cell(dtype, data.shape, data.strides, state.shape, state.strides, weights_ih.shape,
                     weights_ih.strides, weights_hh.shape, weights_hh.strides, bias_shape)
        if cell is None:
            return None
    layout_hh, layout_ih, out_metas, add_metas = cell
    # NOTE: `is`, as the general path's checks: a key compares dtypes by equality, which ignores a dtype's metadata
    if not (layout_ih.dtype is dtype and state.dtype is dtype and weights_ih.dtype is dtype
            and weights_hh.dtype is dtype):
        return None
    other_ih, other_hh = weights_ih.T, weights_hh.T
    dot_ih, dot_hh = layout_ih.dense, layout_hh.dense
    activation = _RELU if relu else _TANH
    try:  # NumPy's floating-point errors ignored, as PyTorch's: in the quiet context
        out = QUIET_RUN(_arrays, state, other_hh, biases_hh, dot_hh, data, other_ih, biases_ih, dot_ih, activation)
    except RuntimeError:  # another thread is in the quiet context (the step raises no RuntimeError itself)
        token = QUIET_SET(QUIET_VALUE)
        try:
            out = _arrays(state, other_hh, biases_hh, dot_hh, data, other_ih, biases_ih, dot_ih, activation)
        finally:
            QUIET_RESET(token)

    # the state's product, then the input's, as F.linear's fast path makes them
    hh_node = _product(hx, state, weight_hh, other_hh, bias_hh, layout_hh)
    ih_node = _product(input, data, weight_ih, other_ih, bias_ih, layout_ih)

    # their sum (fused.binary's add: alpha 1, nothing saved), then the nonlinearity (fused.unary's: the result saved)
    add_node = _ADD_NODE()
    add_node._next = ((hh_node, 0), (ih_node, 0))
    add_node._input_meta = add_metas
    add_node._seq = next(_sequence)
    add_node._attrs = _ALPHA_ONE
    add_node._saved = ()
    node = _RELU_NODE() if relu else _TANH_NODE()
    node._next = ((add_node, 0),)
    node._seq = next(_sequence)
    node._input_meta = out_metas
    node._attrs = ()
    hidden = _new(Tensor)
    hidden._data = out
    hidden._requires_grad = True
    hidden._node = node
    hidden._output_nr = 0
    hidden._version_counter = version = [0]
    hidden._base = None
    node._saved = ((out, version, 0, None, None),)
    if observers.checker is not None:  # anomaly mode: the stack, module call and parent of each node
        made = observers.checker.nodes_made
        made(hh_node._next[-1][0], hh_node, _SKIP)  # the state's TBackward0 and product
        made(ih_node._next[-1][0], ih_node, _SKIP)  # the input's
        made(add_node, node, _SKIP)
    return hidden


def _product(operand: Tensor, array, weight: Tensor, other, bias: Tensor | None, layout) -> OpNode:
    """The nodes of `F.linear(operand, weight, bias)` (`array`: the operand's data; `other`: the weight's transpose,
    which the product was computed with), as F.linear's fast path makes them: weight.t()'s TBackward0, then
    AddmmBackward0 (MmBackward0 without a bias) on that view. The view of a leaf weight is made when `_saved_mat2`
    is read (fused_products.weight_view), as F.linear's: in the modes this step serves nothing else may see it."""
    counter = weight._version_counter
    fn = weight._node
    version = counter[0]
    t_node = _T_NODE()
    t_node._next = ((fn, weight._output_nr) if fn is not None else weight._leaf_edge(),)
    t_node._seq = next(_sequence)
    t_node._input_meta = layout.weight_metas
    t_node._attrs = ()
    t_node._saved = ()
    left = operand._requires_grad or operand._base is not None and _stale_view_requires_grad(operand)
    if left:
        if operand._base is not None:
            _sync_view(operand)
        left_fn = operand._node
        left_edge = (left_fn, operand._output_nr) if left_fn is not None else operand._leaf_edge()
        if fn is None:
            saved_mat2 = (other, counter, version, t_node, None)
        else:  # a weight computed from others (a parametrization's): its view as the general path makes it
            saved_mat2 = (other, counter, version, transposed_view(weight, other, counter, version, fn, True, t_node),
                          t_node)
    else:
        left_edge, saved_mat2 = _NO_EDGE, None
    counter = operand._version_counter
    saved_input = (array, counter, counter[0], operand, operand._node)
    if bias is None:
        node = _MM_NODE()
        node._next = (left_edge, (t_node, 0))
        node._input_meta, node._attrs = layout.mm if left else layout.mm_first
    else:
        node = _ADDMM_NODE()
        if bias._base is not None:
            _sync_view(bias)
        fn = bias._node
        node._next = ((fn, bias._output_nr) if fn is not None else bias._leaf_edge(), left_edge, (t_node, 0))
        node._input_meta, node._attrs = layout.addmm if left else layout.addmm_first
    node._seq = next(_sequence)
    node._saved = (saved_mat2, saved_input)
    return node
