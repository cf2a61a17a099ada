"""Running a primitive on tensors: compute with NumPy, then record the node when grad is needed."""

from __future__ import annotations

import numpy as np

from gradscope._quiet import QUIET_RESET, QUIET_SET, QUIET_VALUE
from gradscope._shapes import broadcast_error
from gradscope.autograd import errors, observers
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.node import (
    HeldTensors,
    _light_to_saved,
    _sequence,
    complex_node_class,
    half_node_class,
    node_class,
)
from gradscope.autograd.saved import _NUMBERS, SavedTensor, default_hooks, save_input
from gradscope.autograd.tensor import Tensor, _stale_view_requires_grad, _sync_view
from gradscope.ops.registry import Primitive, attr_reader

_ndarray = np.ndarray
_FLOAT64, _FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)  # NumPy's own instances: `is` finds them
_FLOAT16 = np.dtype(np.float16)


class _SharedMetas(dict):
    """shape -> `((shape, dtype),)`, the input metadata of a one-input node, for one dtype: made once and shared
    by every node of that shape (tuples a node keeps until the backward are objects the cyclic GC counts and
    visits; see fused_products._Layout): the fast paths' (fused.py) and `_record_unary`'s."""

    __slots__ = ("dtype",)

    def __missing__(self, shape: tuple) -> tuple:
        if len(self) >= 4096:  # shapes without end (a sequence length each step): start again
            self.clear()
        self[shape] = metas = ((shape, self.dtype),)
        return metas


ONE_METAS64, ONE_METAS32 = _SharedMetas(), _SharedMetas()
ONE_METAS64.dtype, ONE_METAS32.dtype = _FLOAT64, _FLOAT32
COMPLEX_INPUT = 1 << 62  # in _edges_and_meta's bits: an input that needs a gradient is complex
HALF_INPUT = 1 << 61  # or float16
_OWN_CLASS_INPUT = COMPLEX_INPUT | HALF_INPUT  # either: the node's class is _node_class_for's


def apply(op: Primitive, inputs, params: tuple = (), arrays=None):
    """Run `op` on `inputs` (Tensors or Python numbers) and return its output tensor(s).

    `arrays` overrides the values the forward sees (inputs already promoted to a common dtype);
    the graph still refers to the original tensors.
    """
    if arrays is None:  # NOTE: a loop: a comprehension is a function call of its own, dearer for 1-3 inputs
        arrays = []
        for x in inputs:
            arrays.append(x._data if isinstance(x, Tensor) else x)
    token = QUIET_SET(QUIET_VALUE)
    try:
        if params or op.variadic:
            out = op.forward(arrays, *params) if op.variadic else op.forward(*arrays, *params)
        elif len(arrays) == 2:  # plain calls are cheaper than star-args for the common arities
            out = op.forward(arrays[0], arrays[1])
        else:
            out = op.forward(*arrays)
    except ValueError as error:  # NumPy's broadcasting error, in PyTorch's words
        if "broadcast" not in str(error):
            raise
        raise RuntimeError(broadcast_error([np.shape(a) for a in arrays if isinstance(a, np.ndarray)])) from None
    finally:
        QUIET_RESET(token)
    if op.simple:  # one output, not a view: most ops, on the hottest path of the forward
        t = _new_tensor(Tensor)  # Tensor._make, inlined
        t._data = out if type(out) is _ndarray else np.asarray(out)
        t._requires_grad = False
        t._node = None
        t._output_nr = 0
        t._version_counter = [0]
        t._base = None
        mode = modes.get()  # every switch this op reads, in one read
        if mode is not DEFAULT_MODES and not mode.plain or observers.GLOBAL:  # no_grad, inference mode, hooks
            _finish(op, inputs, params, arrays, (t,), mode)
            return t
        if len(inputs) == 1:
            x = inputs[0]
            if (type(x) is Tensor or isinstance(x, Tensor)) and (
                    x._requires_grad or x._base is not None and _stale_view_requires_grad(x)):
                _record_unary(op, x, params, arrays, t)
            elif observers.checker is not None and observers.checker.check_forward:  # no node: checked here
                observers.checker.op_computed(op, inputs, (t,))
        else:
            for x in inputs:
                if (type(x) is Tensor or isinstance(x, Tensor)) and (
                        x._requires_grad or x._base is not None and _stale_view_requires_grad(x)):
                    _record_simple(op, inputs, params, arrays, t)
                    break
            else:
                if observers.checker is not None and observers.checker.check_forward:  # no node: checked here
                    observers.checker.op_computed(op, inputs, (t,))
        if observers.WATCHERS:
            observers.notify_watchers("op_computed", op, inputs, (t,))
        if mode is not DEFAULT_MODES:  # observers listen in this context
            tell_observers(op, inputs, (t,))
        return t
    if op.simple_view:
        t = _new_tensor(Tensor)  # Tensor._make, inlined
        t._data = out if type(out) is _ndarray else np.asarray(out)
        t._requires_grad = False
        t._node = None
        t._output_nr = 0
        x = inputs[0]
        mode = modes.get()
        if (mode is DEFAULT_MODES or mode.plain) and not observers.GLOBAL:  # grad mode on, no hooks
            _make_view(t, x, (op, params, None), True)
            if x._requires_grad or x._base is not None and _stale_view_requires_grad(x):
                _record_unary(op, x, params, arrays, t)
            if mode is not DEFAULT_MODES:  # observers listen in this context
                tell_observers(op, inputs, (t,))
            return t
        _make_view(t, x, (op, params, None), mode.grad)
        if mode.inference:  # a view is an inference tensor when its base is one (_make_view)
            t._view_made_in_inference = True
        if mode.grad and (x._requires_grad or x._base is not None and _stale_view_requires_grad(x)):
            _record(op, inputs, params, arrays, (t,))
        if observers.GLOBAL or mode.observers:
            observers.notify("op_computed", op, inputs, (t,))
            if observers.dual_level is not None:
                observers.dual_level.propagate(op, inputs, params, arrays, (t,))
        return t
    outputs = tuple([_make(o if type(o) is _ndarray else np.asarray(o)) for o in out] if op.n_outputs != 1
                    else [_make(out if type(out) is _ndarray else np.asarray(out))])
    mode = modes.get()
    if op.view:
        if op.n_outputs == 1:
            _make_view(outputs[0], inputs[0], (op, params, None), mode.grad)
        else:
            for index, t in enumerate(outputs):
                _make_view(t, inputs[0], (op, params, index), mode.grad)
                t._multi_output_view = op.forward_name
    _finish(op, inputs, params, arrays, outputs, mode)
    return outputs[0] if op.n_outputs == 1 else outputs


def apply_holding(op: Primitive, inputs, params: tuple, tensors: tuple, arrays=None):
    """`apply` for an op with held params (`op.held`: targets, indices, masks, weights PyTorch saves as tensors):
    `params` as the forward and the rules see them (arrays), `tensors` the held ones as the tensors they came from
    (None: not given, or an array made here; a list for a list param, see `hold`). The node keeps those, to show
    them as its `_saved_*` and to check, as PyTorch does, that none was changed in place before the backward."""
    out = apply(op, inputs, params, arrays)
    node = (out[0] if type(out) is tuple else out)._node  # a multi-output op's (ctc_loss, embedding_bag)
    if node is not None:
        tensor = tensors[0]
        if len(tensors) == 1 and type(tensor) is Tensor and modes.get() is DEFAULT_MODES and (
                not tensor._is_inference):  # hold, inlined for one tensor (a mask, an index, a target): most ops'
            counter = tensor._version_counter
            node._held = ((tensor._data, counter, counter[0], tensor, tensor._node),)
        else:
            hold(node, tensors)
    return out


def hold(node, tensors: tuple) -> None:
    """Make `node` hold `tensors`, one per held param of its op (`op.held`): a tensor, None, or for a param that is
    a list of optional tensors (index's and index_put's `indices`) a list of tensors and Nones. Each is kept light,
    or under saved-tensor hooks as a SavedTensor, packed now (after the node's saved tensors) and unpacked when
    the backward or a `_saved_*` reads it, as PyTorch's saved index tensors are."""
    keep = _light if default_hooks.get() is None else SavedTensor
    held = []  # NOTE: loops, not comprehensions: each would be a call of its own
    for tensor in tensors:
        if tensor is None:
            held.append(None)
        elif type(tensor) is list:
            entries = []
            for item in tensor:
                entries.append(None if item is None else keep(item))
            held.append(HeldTensors(entries))
        else:
            held.append(keep(tensor))
    node._held = tuple(held)


def _finish(op, inputs, params, arrays, outputs: tuple, mode) -> None:
    """The end of `apply` in any modes: mark outputs made in inference mode, record the node (light
    entries are `apply`'s shortcut in the default modes), tell watchers and observers."""
    if mode.inference:
        for t in outputs:
            if op.view:  # an inference tensor when its base is one (_make_view)
                t._view_made_in_inference = True
            else:
                t._is_inference = True
    if mode.grad:
        for x in inputs:
            if isinstance(x, Tensor) and (x._requires_grad or _stale_view_requires_grad(x)):
                _record(op, inputs, params, arrays, outputs)
                break
    if observers.checker is not None and observers.checker.check_forward:  # an op that made no node
        observers.checker.op_computed(op, inputs, outputs)
    if observers.WATCHERS:
        observers.notify_watchers("op_computed", op, inputs, outputs)
    if observers.GLOBAL or mode.observers:
        observers.notify("op_computed", op, inputs, outputs)
        if observers.dual_level is not None:  # forward AD: the outputs' tangents
            observers.dual_level.propagate(op, inputs, params, arrays, outputs)


_make = Tensor._make
_new_tensor = object.__new__


def _edge(x):
    """The graph edge a tensor contributes as an input: its grad_fn, its AccumulateGrad, or none."""
    if isinstance(x, Tensor) and (x._requires_grad or _stale_view_requires_grad(x)):
        if x._base is not None:
            _sync_view(x)
        fn = x._node
        return (fn, x._output_nr) if fn is not None else x._leaf_edge()
    return (None, 0)


_NO_EDGE = (None, 0)


def _record_unary(op, x: Tensor, params, arrays, out: Tensor) -> None:
    """`_record_simple` for an op of one input (which needs a gradient), without loops."""
    dtype = x._data.dtype
    out_dtype = out._data.dtype
    if (dtype is not out_dtype or not (dtype is _FLOAT64 or dtype is _FLOAT32)) and (
            dtype.kind == "c" or out_dtype.kind == "c" or dtype is _FLOAT16 or out_dtype is _FLOAT16):  # `is` first
        node = _node_class_for(op, out_dtype, ((None, dtype),))()
    else:
        node = (op.node_class or node_class(op))()
    if x._base is not None:
        _sync_view(x)
    fn = x._node
    node._next = ((fn, x._output_nr) if fn is not None else x._leaf_edge(),)
    node._seq = next(_sequence)
    data = x._data
    node._input_meta = (ONE_METAS64[data.shape] if dtype is _FLOAT64 else ONE_METAS32[data.shape] if dtype is _FLOAT32
                         else ((data.shape, dtype),))
    node._attrs = params + _attr_values(op, arrays, 1) if op.attrs else params
    out._requires_grad = True
    out._node = node
    plan = op.save_plan  # the only rule runs: everything it reads is saved
    if not plan:
        node._saved = ()
    elif len(plan) == 1:
        if plan[0][0]:
            node._saved = ((out._data, out._version_counter, 0, None, None),)
        elif x._is_inference:
            raise RuntimeError(errors.INFERENCE_SAVED)
        else:
            counter = x._version_counter
            node._saved = ((data, counter, counter[0], x, fn),)
    else:  # NOTE: a loop, not a comprehension: one would make `x` and `out` cells, built on every call
        saved = []
        for is_output, _, _ in plan:
            saved.append((out._data, out._version_counter, 0, None, None) if is_output else _light(x))
        node._saved = tuple(saved)
    if observers.checker is not None and observers.checker.node_made(node):
        observers.checker.forward_made(node, (x,), (out,))


def _record_simple(op, inputs, params, arrays, out) -> None:
    """`_record` for an op with one output that is not a view, with what it saves kept light: a
    tuple `(array, version counter, version, input tensor or None, its grad_fn then)` instead of a
    SavedTensor (node.py turns it into one when user code asks). Only in `Modes.plain` (no saved-tensor hooks,
    no process-wide observer: those take the general path, `_record`)."""
    node = (op.node_class or node_class(op))()
    if len(inputs) == 2:  # the commonest arity, unrolled
        a, b = inputs
        if (type(a) is Tensor or isinstance(a, Tensor)) and (
                a._requires_grad or a._base is not None and _stale_view_requires_grad(a)):
            if a._base is not None:
                _sync_view(a)
            fn = a._node
            edge = (fn, a._output_nr) if fn is not None else a._leaf_edge()
            data = a._data
            meta = (data.shape, data.dtype)
            live = 1
        else:
            edge, meta, live = _NO_EDGE, None, 0
        if (type(b) is Tensor or isinstance(b, Tensor)) and (
                b._requires_grad or b._base is not None and _stale_view_requires_grad(b)):
            if b._base is not None:
                _sync_view(b)
            fn = b._node
            node._next = (edge, (fn, b._output_nr) if fn is not None else b._leaf_edge())
            data = b._data
            meta1 = (data.shape, data.dtype)
            node._input_meta = (meta, meta1)
            live |= 2
        else:
            node._next = (edge, _NO_EDGE)
            node._input_meta = (meta, None)
            meta1 = None
        out_dtype = out._data.dtype  # a complex node's class: see _record_unary (`is` first: real floats, cheaply)
        if not (out_dtype is _FLOAT64 or out_dtype is _FLOAT32) or (meta is not None and meta[1] is not out_dtype) or (
                meta1 is not None and meta1[1] is not out_dtype):
            node.__class__ = _node_class_for(op, out_dtype, node._input_meta)
    else:
        live = _edges_and_meta(node, inputs)
        out_dtype = out._data.dtype
        if live & _OWN_CLASS_INPUT or not (out_dtype is _FLOAT64 or out_dtype is _FLOAT32) and out_dtype.kind in "cf":
            node.__class__ = _node_class_for(op, out_dtype, node._input_meta)
    node._seq = next(_sequence)
    node._attrs = params + _attr_values(op, arrays, live) if op.attrs else params
    out._requires_grad = True
    out._node = node
    plan = op.save_plan
    if not plan:
        node._saved = ()
    elif len(plan) == 1:
        is_output, index, readers = plan[0]
        if not readers & live:
            node._saved = (None,)
        elif is_output:
            node._saved = ((out._data, out._version_counter, 0, None, None),)
        else:
            x = inputs[index]
            node._saved = (x if type(x) in _NUMBERS else _light(x),)  # a Python number is kept as it is
    else:
        saved = []
        for is_output, index, readers in plan:
            if not readers & live:  # no rule that reads it will run (its input needs no gradient)
                saved.append(None)
            elif is_output:
                saved.append((out._data, out._version_counter, 0, None, None))
            else:
                x = inputs[index]
                saved.append(x if type(x) in _NUMBERS else _light(x))
        node._saved = tuple(saved)
    if observers.checker is not None and observers.checker.node_made(node):
        observers.checker.forward_made(node, inputs, (out,))


_ATTR_READERS: dict = {}  # op -> per derived attribute, registry.attr_reader's (input index, function, when)


def _attr_values(op, arrays, live: int) -> tuple:
    """The derived metadata a node keeps (`self_sym_sizes` …), read from the forward's arrays; `live` says
    which inputs need a gradient (input i: bit 1 << i): an input's strides are kept only then, else ()."""
    readers = _ATTR_READERS.get(op)
    if readers is None:
        readers = _ATTR_READERS[op] = _attr_readers(op)
    values = []  # NOTE: a loop, not a comprehension: one would make `arrays` a cell, built on every call
    for index, read, only_for_its_gradient in readers:
        values.append(read(arrays[index]) if not only_for_its_gradient or live >> index & 1 else ())
    return tuple(values)


def _attr_readers(op) -> tuple:
    return tuple(attr_reader(attr, op.inputs) for attr in op.attrs)


def _edges_and_meta(node, inputs) -> int:
    """Set a node's edges and its inputs' gradient metadata (the shape and dtype the engine sums and
    casts each gradient to), for any number of inputs. Returns which inputs have an edge, as bits
    (input i: 1 << i), and COMPLEX_INPUT if one of them is complex."""
    edges = []
    input_meta = []
    live = 0
    bit = 1
    for x in inputs:
        if isinstance(x, Tensor) and (x._requires_grad or _stale_view_requires_grad(x)):
            if x._base is not None:
                _sync_view(x)
            fn = x._node
            edges.append((fn, x._output_nr) if fn is not None else x._leaf_edge())
            data = x._data
            dtype = data.dtype
            input_meta.append((data.shape, dtype))
            live |= bit
            if not (dtype is _FLOAT64 or dtype is _FLOAT32):  # `is` first: real floats
                live |= COMPLEX_INPUT if dtype.kind == "c" else HALF_INPUT if dtype is _FLOAT16 else 0
        else:
            edges.append(_NO_EDGE)
            input_meta.append(None)
        bit <<= 1
    node._next = tuple(edges)
    node._input_meta = tuple(input_meta)
    return live


def _light(x):
    """What a node keeps of an input: a Python number as it is, a tensor as `(array, version counter,
    version, tensor, its grad_fn)`."""
    if type(x) in _NUMBERS:
        return x
    if x._is_inference:
        raise RuntimeError(errors.INFERENCE_SAVED)
    counter = x._version_counter
    return (x._data, counter, counter[0], x, x._node)


def _node_class_for(op, out_dtype, metas: tuple) -> type:
    """The node class of a node whose output has `out_dtype` and whose inputs `metas`: the complex one (see
    node.complex_node_class) if any of them is complex, the float16 one (node.half_node_class) if any is float16."""
    if out_dtype.kind == "c" or any(meta is not None and meta[1].kind == "c" for meta in metas):
        return complex_node_class(op)
    if out_dtype is _FLOAT16 or any(meta is not None and meta[1] is _FLOAT16 for meta in metas):
        return half_node_class(op)
    return op.node_class or node_class(op)


def _record(op, inputs, params, arrays, outputs) -> None:
    node = (op.node_class or node_class(op))()
    live = _edges_and_meta(node, inputs)
    if live & _OWN_CLASS_INPUT:
        node.__class__ = _node_class_for(op, outputs[0]._data.dtype, node._input_meta)
    else:
        for out in outputs:
            dtype = out._data.dtype
            if not (dtype is _FLOAT64 or dtype is _FLOAT32) and dtype.kind in "cf":  # complex, float16
                node.__class__ = _node_class_for(op, dtype, node._input_meta)
                break
    node._seq = next(_sequence)
    node._attrs = params + _attr_values(op, arrays, live) if op.attrs else params
    if op.n_outputs == 1:
        out = outputs[0]
        out._requires_grad = True
        out._node = node
    else:
        if op.n_outputs is None:
            node.n_outputs = len(outputs)
        # the node's outputs are the differentiable ones, numbered among themselves, as PyTorch's (a hook on
        # max(dim)'s node gets one gradient, linalg.lu's L and U are outputs 0 and 1 of LinalgLuBackward0)
        differentiable = [outputs[i] for i in op.differentiable_outputs] if op.differentiable_outputs else outputs
        for output_nr, out in enumerate(differentiable):
            out._requires_grad = True
            out._node = node
            out._output_nr = output_nr
    if op.variadic:
        node._saved = tuple([SavedTensor(x) for x in inputs]) if op.save_plan else ()
    else:  # save a value only if a rule that reads it will run (its input needs a gradient)
        node._saved = tuple([None if not readers & live else SavedTensor(outputs[index], True,
                                                                         outputs[index]._output_nr) if is_output
                             else save_input(inputs[index]) for is_output, index, readers in op.save_plan])
    if observers.checker is not None:
        observers.checker.node_created(node, inputs, outputs)
    if observers.GLOBAL or modes.get().observers:
        _notify(op, node, inputs, outputs)


def _notify(op, node, inputs, outputs) -> None:
    """Tell the observers about a new node and what it saved (only called when some observer listens)."""
    node.module_call = observers.node_call()
    observers.notify("node_created", node, inputs, outputs)
    names = [f"{op.inputs[0]}[{i}]" for i in range(len(inputs))] if op.variadic else op.saved_names
    for name, entry in zip(names, node._saved):
        if isinstance(entry, SavedTensor):  # Python numbers, saved as they are, aren't tensors
            observers.notify("tensor_saved", node, name, entry)


def tell_observers(op, inputs, outputs: tuple) -> None:
    """What the observers listening in this context learn of an op a fast path ran in `Modes.plain` (its one
    output just made, with its node if one was made, whose saved entries are light): the events `_record`
    and `_finish` send, in their order (each observer's, one observer after another), each light entry shown as
    the SavedTensor it stands for; or, to an observer with `op_recorded`, a node made in that one event."""
    node = outputs[0]._node
    if node is not None:
        call = observers.calls.get()  # observers.node_call(), inline
        node.module_call = call if call is None or call.inline is None else call.inline
    for observer in observers.GLOBAL + modes.get().observers:
        if node is not None:
            method = getattr(observer, "op_recorded", None)
            if method is not None:  # the light entries are its to read: no SavedTensor made
                method(op, node, inputs, outputs)
                continue
            method = getattr(observer, "node_created", None)
            if method is not None:
                method(node, inputs, outputs)
            method = getattr(observer, "tensor_saved", None)
            if method is not None:
                for name, entry in zip(op.saved_names, node._saved):
                    if type(entry) is tuple:  # Python numbers, saved as they are, aren't tensors
                        method(node, name, _light_to_saved(entry))
        method = getattr(observer, "op_computed", None)
        if method is not None:
            method(op, inputs, outputs)


def _make_view(out: Tensor, source: Tensor, step: tuple, grad_mode: bool) -> None:
    """`out` shares `source`'s memory: same base, same version counter, and a recipe to replay the view
    (`step` is `(primitive, params, output index or None)`); `grad_mode` is whether it is on."""
    if source._base is None:
        out._base = source
        out._view_chain = (step,)
    else:
        out._base = source._base
        out._view_chain = source._view_chain + (step,)
    out._version_counter = source._version_counter
    if not grad_mode:
        out._view_made_without_grad = True
    out._view_base_fn = out._base._node
    out._view_version = out._version_counter[0]
    if source._is_inference:
        out._is_inference = True


def replay_view(chain, array: np.ndarray) -> np.ndarray:
    """Apply a view chain to an array laid out like the base, giving the same view of it."""
    for op, params, index in chain:
        array = op.forward(array, *params)
        if index is not None:
            array = array[index]
    return array
