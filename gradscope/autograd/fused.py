"""One-frame forwards for the commonest calls of elementwise ops.

`unary(op, general)`, `with_number(op, general)` and `binary(op, general)` wrap an op's function on tensors
(`general`, which goes through `dispatch.apply`) with its common case run in a single frame: a float32/float64
tensor, with a Python float or int (an operand, or the op's param: `x ** 2`, `1 - x`) or a tensor of the same
dtype for a second operand, in `Modes.plain` (grad mode on, no inference mode or saved-tensor hooks) and no
process-wide observer or watcher (anomaly mode is fine). They compute, make the output and record the node
exactly as `apply` and `dispatch._record_unary`/`_record_simple` do there (the same node class, edges, metadata
and light saved entries, handed to anomaly mode's checker, then to the observers listening in this context with
`dispatch.tell_observers`, as apply does); anything else is `general`'s.

Why: a chain of small ops spends more in Python frames (function -> operands -> apply -> record) and
their generic checks than in NumPy.
"""

from __future__ import annotations

import numpy as np

from gradscope._quiet import QUIET_RUN
from gradscope.autograd import errors, observers
from gradscope.autograd.dispatch import _NO_EDGE, ONE_METAS32, ONE_METAS64, tell_observers
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.node import _sequence, node_class, own_code
from gradscope.autograd.saved import FLOAT32_SCALARS, FLOAT64_SCALARS, scalar_array
from gradscope.autograd.tensor import Tensor, _stale_view_requires_grad, _sync_view
from gradscope.ops.registry import Primitive

_FLOAT64, _FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)  # NumPy's own instances: `is` finds them
_ndarray = np.ndarray
# a Python int beyond these is no Scalar of PyTorch's (int64, or uint64 above int64's range): _dtypes.scalar_int
_INT64_LIMIT, _UINT64_LIMIT = 1 << 63, 1 << 64
_new = object.__new__
# anomaly mode's stacks start past the checker's frames and this module's one (AnomalyChecker.node_made)
_SKIP = 3


def _check(op: Primitive, n_inputs: int, params: tuple) -> None:
    if not op.simple or len(op.inputs) != n_inputs or op.attrs or len(params) != len(op.params) or len(params) > 1:
        raise ValueError(f"{op.name}: no one-frame forward for it (needs {n_inputs} inputs, one output, "
                         "no derived attributes, at most one param)")


def _named_like(function, general):
    """`function` (with a code object of its own: its node stores see one class, so CPython specialises
    them) named and documented as `general`."""
    function.__name__, function.__qualname__, function.__doc__ = general.__name__, general.__qualname__, general.__doc__
    return function


def unary(op: Primitive, general, float_forwards: tuple | None = None):
    """`general(input)` with the common case of a one-input op without params in one frame; `float_forwards`, if
    given, is the op's forward on a float32 and on a float64 array (C callables giving `op.forward`'s bits without
    its Python frame: relu's np.maximum with its zero bound)."""
    _check(op, 1, ())
    cls = node_class(op)
    forward32, forward64 = float_forwards or (op.forward, op.forward)
    plan = op.save_plan
    saves_result = bool(plan) and plan[0][0]
    saves_self = bool(plan) and not plan[0][0]
    if len(plan) > 1:
        raise ValueError(f"{op.name}: no one-frame forward for it (saves more than one value)")

    def function(input):
        if not ((type(input) is Tensor or isinstance(input, Tensor)) and observers.idle
                and ((mode := modes.get()) is DEFAULT_MODES or mode.plain)):
            return general(input)
        data = input._data
        dtype = data.dtype
        if dtype is _FLOAT32:
            forward = forward32
        elif dtype is _FLOAT64:
            forward = forward64
        else:
            return general(input)
        try:
            out = QUIET_RUN(forward, data)
        except RuntimeError:  # another thread is in the quiet context (or forward raised it, and will again)
            return general(input)
        if type(out) is not _ndarray:
            out = np.asarray(out)
        t = _new(Tensor)  # Tensor._make, inlined; its grad state set once, below
        t._data = out
        t._output_nr = 0
        t._version_counter = version = [0]
        t._base = None
        if not (input._requires_grad or input._base is not None and _stale_view_requires_grad(input)):
            t._requires_grad = False
            t._node = None
            if observers.checker is not None and observers.checker.check_forward:  # no node: checked here
                observers.checker.op_computed(op, (input,), (t,))
        else:
            node = cls()  # NOTE: a call of the class costs half of object.__new__(cls): no argument tuples
            if input._base is not None:
                _sync_view(input)
            fn = input._node
            node._next = ((fn, input._output_nr) if fn is not None else input._leaf_edge(),)
            node._seq = next(_sequence)
            node._input_meta = (ONE_METAS64 if dtype is _FLOAT64 else ONE_METAS32)[data.shape]
            node._attrs = ()
            t._requires_grad = True
            t._node = node
            if saves_result:
                node._saved = ((out, version, 0, None, None),)
            elif saves_self:
                if input._is_inference:
                    raise RuntimeError(errors.INFERENCE_SAVED)
                counter = input._version_counter
                node._saved = ((data, counter, counter[0], input, fn),)
            else:
                node._saved = ()
            if observers.checker is not None and observers.checker.node_made(node, _SKIP):
                observers.checker.forward_made(node, (input,), (t,))
        if mode is not DEFAULT_MODES:  # observers listen in this context
            tell_observers(op, (input,), (t,))
        return t

    return _named_like(own_code(function), general)


def with_number(op: Primitive, general, trailing: tuple = ()):
    """`general(input, number)` with the common case of a one-input op whose params are a Python number
    and then `trailing` (`x ** 2`: pow's exponent; `1 - x`: rsub's other, then alpha 1) in one frame."""
    if not op.simple or len(op.inputs) != 1 or op.attrs or len(op.params) != 1 + len(trailing):
        raise ValueError(f"{op.name}: no one-frame forward for it (needs one input, one output, no derived "
                         "attributes, a number and then the given params)")
    cls = node_class(op)
    forward = op.forward
    plan = op.save_plan
    saves_self = bool(plan) and not plan[0][0]
    if len(plan) > 1 or plan and plan[0][0]:
        raise ValueError(f"{op.name}: no one-frame forward for it (saves more than its input)")
    extra = trailing[0] if trailing else None
    if len(trailing) > 1:
        raise ValueError(f"{op.name}: no one-frame forward for it (more than one trailing param)")

    def function(input, number):
        if not ((type(input) is Tensor or isinstance(input, Tensor)) and observers.idle
                and ((mode := modes.get()) is DEFAULT_MODES or mode.plain)
                and (type(number) is float or type(number) is int)):
            return general(input, number)
        data = input._data
        dtype = data.dtype
        if not (dtype is _FLOAT64 or dtype is _FLOAT32):
            return general(input, number)
        if type(number) is float:  # the node keeps the number; NumPy computes with its 0-dim array
            scalars = FLOAT64_SCALARS if dtype is _FLOAT64 else FLOAT32_SCALARS
            operand = scalars.get(number)
            if operand is None:
                operand = scalar_array(number, dtype, scalars)
        elif -_INT64_LIMIT <= number < _UINT64_LIMIT:  # NumPy keeps the tensor's dtype, as PyTorch's wrapped number
            operand = number
        else:  # beyond 64 bits: the general path raises PyTorch's OverflowError (NumPy would make a float of it)
            return general(input, number)
        try:
            out = QUIET_RUN(forward, data, operand, extra) if trailing else QUIET_RUN(forward, data, operand)
        except RuntimeError:  # another thread is in the quiet context (or forward raised it, and will again)
            return general(input, number)
        if type(out) is not _ndarray:
            out = np.asarray(out)
        t = _new(Tensor)
        t._data = out
        t._output_nr = 0
        t._version_counter = [0]
        t._base = None
        if not (input._requires_grad or input._base is not None and _stale_view_requires_grad(input)):
            t._requires_grad = False
            t._node = None
            if observers.checker is not None and observers.checker.check_forward:  # no node: checked here
                observers.checker.op_computed(op, (input,), (t,))
        else:
            node = cls()
            if input._base is not None:
                _sync_view(input)
            fn = input._node
            node._next = ((fn, input._output_nr) if fn is not None else input._leaf_edge(),)
            node._seq = next(_sequence)
            node._input_meta = (ONE_METAS64 if dtype is _FLOAT64 else ONE_METAS32)[data.shape]
            node._attrs = (number, extra) if trailing else (number,)
            t._requires_grad = True
            t._node = node
            if saves_self:
                if input._is_inference:
                    raise RuntimeError(errors.INFERENCE_SAVED)
                counter = input._version_counter
                node._saved = ((data, counter, counter[0], input, fn),)
            else:
                node._saved = ()
            if observers.checker is not None and observers.checker.node_made(node, _SKIP):
                observers.checker.forward_made(node, (input,), (t,))
        if mode is not DEFAULT_MODES:  # observers listen in this context
            tell_observers(op, (input,), (t,))
        return t

    return _named_like(own_code(function), general)


def binary(op: Primitive, general, params: tuple = (), bound=None):
    """`general(input, other)` with the common case of a two-input op in one frame, `params` its params
    (alpha=1 for `a + b`); `bound(a, b)`, if given, is the op's forward with them bound (np.add for alpha 1:
    NumPy's call without the forward's Python frame)."""
    _check(op, 2, params)
    cls = node_class(op)
    forward = op.forward if bound is None else bound
    plan = op.save_plan
    param = params[0] if params and bound is None else None
    takes_param = bool(params) and bound is None
    # `other` a Python number, so only the input needs a gradient: a plan of two entries each the number or None
    # (mul, div: `(other, None)`, the number for the input's rule) is built without the loop below
    number_pair = len(plan) == 2 and all(not readers & 1 or index == 1 for _, index, readers in plan)
    first_is_number, second_is_number = (bool(readers & 1) for _, _, readers in plan) if number_pair else (0, 0)

    def function(input, other):
        if not ((type(input) is Tensor or isinstance(input, Tensor)) and observers.idle
                and ((mode := modes.get()) is DEFAULT_MODES or mode.plain)):
            return general(input, other)
        data = input._data
        dtype = data.dtype
        if not (dtype is _FLOAT64 or dtype is _FLOAT32):
            return general(input, other)
        if type(other) is float:  # the node keeps the number: `_saved_other` shows it as PyTorch does
            scalars = FLOAT64_SCALARS if dtype is _FLOAT64 else FLOAT32_SCALARS
            operand = scalars.get(other)
            if operand is None:
                operand = scalar_array(other, dtype, scalars)
            tensor = None
        elif type(other) is int and -_INT64_LIMIT <= other < _UINT64_LIMIT:  # kept dtype, as with_number's
            operand = other
            tensor = None
        elif (type(other) is Tensor or isinstance(other, Tensor)) and other._data.dtype is dtype:
            operand = other._data
            tensor = other
        else:
            return general(input, other)
        try:
            out = QUIET_RUN(forward, data, operand, param) if takes_param else QUIET_RUN(forward, data, operand)
        except (ValueError, RuntimeError):  # shapes that don't broadcast (the general path raises PyTorch's
            return general(input, other)  # error), or another thread is in the quiet context
        if type(out) is not _ndarray:
            out = np.asarray(out)
        t = _new(Tensor)
        t._data = out
        t._output_nr = 0
        t._version_counter = version = [0]
        t._base = None
        live = 1 if input._requires_grad or input._base is not None and _stale_view_requires_grad(input) else 0
        if tensor is not None and (
                tensor._requires_grad or tensor._base is not None and _stale_view_requires_grad(tensor)):
            live |= 2
        if not live:
            t._requires_grad = False
            t._node = None
            if observers.checker is not None and observers.checker.check_forward:  # no node: checked here
                observers.checker.op_computed(op, (input, other), (t,))
            if mode is not DEFAULT_MODES:  # observers listen in this context
                tell_observers(op, (input, other), (t,))
            return t
        node = cls()
        if live & 1:
            if input._base is not None:
                _sync_view(input)
            fn = input._node
            edge = (fn, input._output_nr) if fn is not None else input._leaf_edge()
            meta = (data.shape, dtype)
        else:
            edge, meta = _NO_EDGE, None
        if live & 2:
            if tensor._base is not None:
                _sync_view(tensor)
            fn = tensor._node
            node._next = (edge, (fn, tensor._output_nr) if fn is not None else tensor._leaf_edge())
            node._input_meta = (meta, (operand.shape, dtype))
        else:
            node._next = (edge, _NO_EDGE)
            node._input_meta = (meta, None)
        node._seq = next(_sequence)
        node._attrs = params
        t._requires_grad = True
        t._node = node
        if not plan:
            node._saved = ()
        elif tensor is None and number_pair:  # the number is kept as it is
            node._saved = (other if first_is_number else None, other if second_is_number else None)
        else:
            saved = []
            for is_output, index, readers in plan:
                if not readers & live:  # no rule that reads it will run (its input needs no gradient)
                    saved.append(None)
                elif is_output:
                    saved.append((out, version, 0, None, None))
                else:  # dispatch._light, inline
                    x = tensor if index else input
                    if x is None:
                        saved.append(other)  # a Python number is kept as it is
                    elif x._is_inference:
                        raise RuntimeError(errors.INFERENCE_SAVED)
                    else:
                        counter = x._version_counter
                        saved.append((x._data, counter, counter[0], x, x._node))
            node._saved = tuple(saved)
        if observers.checker is not None and observers.checker.node_made(node, _SKIP):
            observers.checker.forward_made(node, (input, other), (t,))
        if mode is not DEFAULT_MODES:  # observers listen in this context
            tell_observers(op, (input, other), (t,))
        return t

    return _named_like(own_code(function), general)
