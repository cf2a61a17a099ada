"""In-place operations: version bumps, PyTorch's in-place errors, and graph surgery.

An in-place op on a tensor in a graph is computed out of place on a snapshot of the old value, then
written back; the tensor takes the new node as its grad_fn. On a view, the base's grad_fn becomes a
`CopySlices` node that routes the gradient of the written region through the op, and the view's
grad_fn becomes an `AsStridedBackward0` replay of the view on the base.
"""

from __future__ import annotations

import re
import warnings
import weakref

import numpy as np

from gradscope import _dtypes
from gradscope._quiet import QUIET_RUN, loud, quiet
from gradscope._shapes import broadcast_error, is_expandable_to, overlaps, sum_to
from gradscope.autograd import errors, factories, observers, writes
from gradscope.autograd import functions as F
from gradscope.autograd.dispatch import _edge, apply, hold, replay_view
from gradscope.autograd.generator import fill_in_memory_order
from gradscope.autograd.grad_mode import enable_grad, grad_enabled, inference_enabled, no_grad
from gradscope.autograd.node import Node, _sequence
from gradscope.autograd.numpy_names import past_wrappers
from gradscope.autograd.saved import SavedTensor
from gradscope.autograd.shape_functions import (
    basic_index,
    bounds_error,
    expand,
    held_indices,
    index_items,
    is_advanced,
    masked_fill,
    reshape,
    split_index,
)
from gradscope.autograd.tensor import Tensor
from gradscope.ops import elementwise as E


def _check(target: Tensor) -> bool:
    """Raise PyTorch's errors for forbidden in-place ops; return whether the graph must record it."""
    if target._is_inference and not inference_enabled.get():
        if target._requires_grad and grad_enabled.get():  # PyTorch's autograd check comes first (not for restrides)
            raise RuntimeError(errors.LEAF_INPLACE)
        raise RuntimeError(errors.INFERENCE_INPLACE)
    if not grad_enabled.get():
        return False
    base = target._base
    if base is not None and target._view_chain and (base._requires_grad or target._requires_grad):
        _refuse_view_change(target)
    if target._requires_grad and target._node is None:  # a leaf: itself, or a view made one (x[1:].requires_grad_())
        raise RuntimeError(errors.LEAF_VIEW_INPLACE if base is not None and target._view_chain else errors.LEAF_INPLACE)
    # NOTE: also a view taken before its base was set to require grad (b = a[:]; a.requires_grad = True)
    if base is not None and base._requires_grad and base._node is None and target._view_chain:
        raise RuntimeError(errors.LEAF_VIEW_INPLACE)
    return True


_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")  # PyTorch names a node in these messages without it: "Output 0 of View"


def _refuse_view_change(target: Tensor) -> None:
    """PyTorch's refusals to record an in-place change of a view (its handle_view_on_rebase): one a custom Function
    returned, one made under no_grad, an output of a multi-output view. The message names the view's node when it
    has one; one made under no_grad, or of a base that doesn't require grad, has none."""
    custom = target._custom_function_view
    if custom is not None:
        name, index, reason = custom  # name None: no node was made for the Function
    elif target._view_made_in_inference:
        raise RuntimeError(errors.INFERENCE_VIEW_INPLACE)
    elif target._view_made_without_grad:
        name, index, reason = None, None, errors.NO_GRAD_VIEW
    elif target._multi_output_view is not None:
        has_node = target._requires_grad or target._base._requires_grad
        name, index, reason = target._multi_output_view if has_node else None, target._view_chain[-1][2], (
            errors.MULTI_OUTPUT_VIEW)
    elif any(index is not None for _, _, index in target._view_chain):  # a view of one: named by its own node
        has_node = target._requires_grad or target._base._requires_grad
        name = _BACKWARD_SUFFIX.sub("", target.grad_fn.name()) if has_node and target.grad_fn is not None else None
        index, reason = 0, errors.MULTI_OUTPUT_VIEW
    else:
        return
    opening = errors.VIEW_WITHOUT_GRAD_FN if name is None else (
        f"Output {index} of {name} is a view and is being modified inplace.")
    raise RuntimeError(f"{opening} {reason}")


_DEPRECATED_ON_EXPANDED = {
    op: f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor before performing this operation. "
        f"This also applies to advanced indexing e.g. {example}"
    for op, example in (("masked_fill_", "tensor[mask] = scalar"), ("index_put_", "tensor[indices] = tensor"))
}


def _inplace(target: Tensor, function, *others, overlapping: str = "refuse") -> Tensor:
    """Run `function(target, *others)` and write its result into `target`. `overlapping` says what an
    expanded target gets: PyTorch's error ("refuse"), the write ("allow": fill_, zero_), or the write
    with PyTorch's deprecation warning ("masked_fill_", "index_put_")."""
    record = _check(target)
    if target._base is not None and overlaps(target._data) and overlapping != "allow":
        if overlapping == "refuse":
            raise RuntimeError(errors.OVERLAP)
        warnings.warn(_DEPRECATED_ON_EXPANDED[overlapping], UserWarning, stacklevel=past_wrappers(3))
    if record and (target.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)):
        return _inplace_recorded(target, function, others)
    with no_grad():
        result = function(target, *others)
    _write(target, result._data)
    if observers.dual_level is not None:  # forward AD: the new tangent goes into the target's
        observers.dual_level.written(target, result)
    return target


def _write(target: Tensor, data: np.ndarray) -> None:
    if data.shape != target._data.shape:
        raise RuntimeError(f"output with shape {list(target._data.shape)} doesn't match the broadcast shape "
                           f"{list(np.broadcast_shapes(data.shape, target._data.shape))}")
    # NOTE: an expanded target (fill_, masked_fill_, index_put_ may write one) gets only the elements that
    # changed, as PyTorch's kernels write in place: copying every element would undo some through the others
    where = data != target._data if target._base is not None and overlaps(target._data) else True
    writes.before_write(target._data)
    try:
        np.copyto(target._data, data, casting="same_kind", where=where)
    except TypeError:
        result, desired = (_dtypes.from_numpy_dtype(d).legacy_name[:-6] for d in (data.dtype, target._data.dtype))
        raise RuntimeError(f"result type {result} can't be cast to the desired output type {desired}") from None
    target._version_counter[0] += 1


def _inplace_recorded(target: Tensor, function, others) -> Tensor:
    if target._base is not None and target._view_chain:  # a view of a base without grad, recorded for another input
        _refuse_view_change(target)
    old = Tensor._make(target._data.copy())
    old._requires_grad = target._requires_grad
    old._node = target.grad_fn
    old._output_nr = target._output_nr
    if old._requires_grad and old._node is None:  # a base that doesn't require grad becomes part of a graph
        old._accumulator_ref = None
    if observers.dual_level is not None:
        observers.dual_level.carry(target, old)
    result = function(old, *others)
    _write(target, result._data)
    if observers.dual_level is not None:
        observers.dual_level.written(target, result)
    node = result._node
    if node is None:
        return target
    outputs = []
    for i in range(len(getattr(node, "_saved", ()))):  # saved outputs are the target itself, version-checked
        entry = node._entry_at(i)
        if isinstance(entry, SavedTensor) and entry._is_output:
            entry._array, entry._counter, entry._version = target._data, target._version_counter, target._version
            outputs.append(entry)
    if target._base is None or not target._view_chain:
        if target._retains_grad:
            _move_retained_grad(target, old._node, old._output_nr, node)
        target._node, target._output_nr, target._requires_grad = node, 0, True
    else:
        _copy_slices(target, node)
        # the saved output is the view: unpacked (double backward), its grad_fn is the view's, through CopySlices,
        # as PyTorch's (is_inplace_on_view), not `node`, which runs inside CopySlices. NOTE: weakly, as PyTorch's
        # (node -> entry -> view's node -> CopySlices -> node would be a cycle); once the view is gone, `node`
        for entry in outputs:
            entry._view_node = weakref.ref(target._node)
    return target


def _move_retained_grad(target: Tensor, previous, output_nr: int, node) -> None:
    """PyTorch moves a tensor's retain_grad to the node an in-place op gives it: `.grad` is then the gradient of
    the tensor as modified (a hook from register_hook stays with the old node, and sees the old version's)."""
    retained = previous._retain_grad
    if retained is not None and output_nr in retained:
        del retained[output_nr]
    if node._retain_grad is None:
        node._retain_grad = {}
    node._retain_grad[0] = weakref.ref(target)
    node._has_hooks = True
    node._vjp = None  # the engine's general path retains it


class CopySlices(Node):
    """The base's node after an in-place op on one of its views."""

    __slots__ = ("_layout", "_chain", "_op_node", "_input_meta")

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def _apply(self, grads, xp, needs):
        if self._op_node is None:
            raise RuntimeError(errors.FREED)
        wanted = [child is not None for child, _ in self._next] if needs is None else needs
        if xp.is_tensor:
            return self._apply_differentiably(grads[0], xp, wanted)
        result = np.empty_like(self._layout)
        result[...] = grads[0]
        region = replay_view(self._chain, result)
        fn_grads = self._op_node._apply([np.array(region)], xp, wanted)
        first = fn_grads[0]
        region[...] = 0 if first is None else sum_to(first, region.shape)
        return [result, *fn_grads[1:]]

    def _release(self) -> None:
        # NOTE: as PyTorch's CopySlices, the op's node goes with the saved values: a second backward raises
        self._op_node._release()
        self._op_node = None

    def _apply_differentiably(self, g: Tensor, xp, wanted) -> list:
        """The same under create_graph: the base's gradient outside the region, plus the op's gradient
        scattered into the region (the scatter is the view chain's own VJP, so it is differentiable)."""
        outside = np.ones(self._layout.shape, dtype=g._data.dtype)
        replay_view(self._chain, outside)[...] = 0
        fn_grads = self._op_node._apply([_replay_tensor(self._chain, g)], xp, wanted)
        result = g * Tensor._make(outside)
        if fn_grads[0] is not None:
            result = result + _scatter(self._chain, self._layout, fn_grads[0])
        return [result, *fn_grads[1:]]


class AsStridedBackward0(Node):
    """A view's node after its base changed in place: the view's gradient lands in the base's region."""

    __slots__ = ("_layout", "_chain", "_input_meta")

    def _apply(self, grads, xp, needs):
        if xp.is_tensor:
            return [_scatter(self._chain, self._layout, grads[0])]
        result = np.zeros_like(self._layout)
        replay_view(self._chain, result)[...] = grads[0]
        return [result]


def _replay_tensor(chain, tensor: Tensor) -> Tensor:
    """The view chain applied to a Tensor with the view ops themselves, so it stays differentiable."""
    for op, params, index in chain:
        tensor = apply(op, (tensor,), params)
        if index is not None:
            tensor = tensor[index]
    return tensor


def _scatter(chain, layout: np.ndarray, values: Tensor) -> Tensor:
    """Zeros shaped like the base with `values` in the view's region: the view chain's VJP, taken with
    create_graph so that it can be differentiated again."""
    # lazy: a backward inside a backward (the engine is the layer above), only under create_graph
    from gradscope.autograd import engine

    base = Tensor._make(np.zeros(layout.shape, dtype=values._data.dtype), True)
    with enable_grad():
        region = _replay_tensor(chain, base)
    (scattered,) = engine.grad((region,), (base,), (values,), create_graph=True)
    return scattered


def _copy_slices(view: Tensor, fn) -> None:
    base = view._base
    node = CopySlices()
    node._next = (_edge(base) if base._requires_grad else (None, 0),) + fn._next[1:]
    node._seq = next(_sequence)
    node._layout, node._chain, node._op_node = base._data, view._view_chain, fn
    node._input_meta = ((base._data.shape, base._data.dtype),) + fn._input_meta[1:]  # input 0: the base
    if base._retains_grad:
        _move_retained_grad(base, base._node, base._output_nr, node)
    base._node, base._output_nr, base._requires_grad = node, 0, True
    replay = view_replay_node(base, view)
    if view._retains_grad and view._node is not None:
        _move_retained_grad(view, view._node, view._output_nr, replay)
    view._node = replay
    view._output_nr, view._requires_grad, view._view_base_fn = 0, True, node
    view._view_version = view._version_counter[0]


def view_replay_node(base: Tensor, view: Tensor) -> AsStridedBackward0:
    node = AsStridedBackward0()
    fn = base._node  # NOTE: a base detached in place since leaves the view's gradient nowhere to go
    node._next = ((fn, base._output_nr) if fn is not None else
                  base._leaf_edge() if base._requires_grad else (None, 0),)
    node._seq = next(_sequence)
    node._layout, node._chain = base._data, view._view_chain
    node._input_meta = ((base._data.shape, base._data.dtype),)
    return node


# ------------------------------------------------------------------------------- the methods
def _binary_inplace(function):
    def method(self, other, **kwargs):
        if not isinstance(other, Tensor) and not kwargs and not _needs_slow_path(self):
            return _fast(self, function, other)
        return _inplace(self, lambda t, o: function(t, o, **kwargs), other)
    method.__name__ = function.__name__ + "_"
    return method


def _needs_slow_path(target: Tensor) -> bool:
    """True when the slow (graph-recording or checking) path is needed."""
    return target._is_inference or (grad_enabled.get() and (target._requires_grad or target._base is not None))


_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}


def _fast(target: Tensor, function, scalar) -> Tensor:
    """Scalar in-place arithmetic outside any graph (optimizer updates): one ufunc, no temporary, silent on
    `x.div_(0)` as PyTorch is. While anything listens (observers, `gradscope watch`'s watchers, anomaly mode's
    check_forward) it runs as the op itself, so that they see it: `x.div_(0)` can make the inf a loss goes NaN
    from, and `gradscope watch` names that line."""
    ufunc = _UFUNCS[function.__name__]
    checker = observers.checker
    data = target._data
    if type(scalar) is not float and isinstance(scalar, np.number):  # a weak number, as PyTorch's (see F._number)
        scalar = scalar.item()
    if data.dtype.kind not in "fc":
        if isinstance(scalar, float) or ufunc is np.true_divide or type(scalar) is not int or data.dtype.kind == "b":
            return _inplace(target, function, scalar)
        scalar = _dtypes.wrapped_int(scalar, data.dtype)  # int8.add_(300) adds 44, as PyTorch's wrapped number
    elif type(scalar) is int:
        _dtypes.scalar_int(scalar)  # beyond 64 bits PyTorch's OverflowError: NumPy would make a float of it
    if (target._base is not None and overlaps(data)) or not observers.idle or observers.active.get() or (
            checker is not None and checker.check_forward):
        return _inplace(target, function, scalar)
    writes.before_write(data)
    try:
        QUIET_RUN(ufunc, data, scalar, data)  # the third argument is the output
    except RuntimeError:  # another thread is in the quiet context
        token = quiet()
        try:
            ufunc(data, scalar, data)
        finally:
            loud(token)
    target._version_counter[0] += 1
    return target


add_ = _binary_inplace(F.add)
sub_ = _binary_inplace(F.sub)
mul_ = _binary_inplace(F.mul)
div_ = _binary_inplace(F.div)


def _unary_inplace(function):
    def method(self, *args, **kwargs):
        return _inplace(self, lambda t: function(t, *args, **kwargs))
    method.__name__ = function.__name__ + "_"
    return method


pow_ = _unary_inplace(F.pow)
exp_ = _unary_inplace(F.exp)
log_ = _unary_inplace(F.log)
sqrt_ = _unary_inplace(F.sqrt)
tanh_ = _unary_inplace(F.tanh)
sigmoid_ = _unary_inplace(F.sigmoid)
relu_ = _unary_inplace(F.relu)
neg_ = _unary_inplace(F.neg)
_abs_ = _unary_inplace(F.abs)


def abs_(self):
    if self._data.dtype.kind == "c":  # |z| is real: PyTorch won't write it into the complex tensor
        raise RuntimeError("In-place abs is not supported for complex tensors.")
    return _abs_(self)


clamp_ = clip_ = _unary_inplace(F.clamp)
sign_ = _unary_inplace(F.sign)
floor_ = _unary_inplace(F.floor)
round_ = _unary_inplace(F.round)
reciprocal_ = _unary_inplace(F.reciprocal)


def masked_fill_(self, mask, value) -> Tensor:
    return _inplace(self, lambda t: masked_fill(t, mask, value), overlapping="masked_fill_")


def zero_(self) -> Tensor:
    return _inplace(self, lambda t: apply(E.zero, (t,)), overlapping="allow")


def fill_(self, value) -> Tensor:
    if isinstance(value, Tensor):  # differentiable in the value (FillBackward3)
        if value._data.ndim:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        return _inplace(self, lambda t, v: apply(E.fill_tensor, (t, v), (), [t._data, v._data]), value)
    value = _dtypes.checked_scalar(value, self._data.dtype)
    return _inplace(self, lambda t: apply(E.fill, (t,), (value,)), overlapping="allow")


def copy_(self, src, non_blocking=False) -> Tensor:
    src = src if isinstance(src, Tensor) else Tensor._make(np.asarray(src))
    shape, source_shape = self._data.shape, src._data.shape
    if source_shape != shape:
        try:
            broadcast = np.broadcast_shapes(shape, source_shape)
        except ValueError:
            raise RuntimeError(broadcast_error([shape, source_shape])) from None
        if broadcast != shape:
            raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(broadcast)}")
    return _inplace(self, lambda t, s: apply(E.copy, (t, s)), src)


def _index_put(target, value, items: tuple, held: list):
    """index_put of `value` at the index `items` (arrays, slices) of `target`; its node holds `held`, the index
    tensors PyTorch's IndexPutBackward0 saves (see shape_functions.held_indices)."""
    indices = items if len(items) > 1 else items[0]
    mask = np.ones(target._data.shape, dtype=bool)
    try:
        mask[indices] = False
    except IndexError as error:  # NumPy's words for an index out of range: PyTorch's instead
        raise bounds_error(mask.shape, items) or error from None
    values = value if isinstance(value, Tensor) else Tensor._make(np.asarray(value, dtype=target._data.dtype))
    selected = mask[indices].shape
    shape = values._data.shape
    while shape and shape[0] == 1:  # PyTorch drops the value's leading 1s before broadcasting it
        shape = shape[1:]
    if not is_expandable_to(shape, selected):
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values._data.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(selected)}")
    out = apply(E.index_put, (target, values), (indices, mask, False),
                [target._data, values._data.astype(target._data.dtype, copy=False)])
    if out._node is not None:
        hold(out._node, (held,))
    return out


def setitem(self, index, value) -> None:
    """`x[index] = value` as PyTorch does it: integers, slices and None select a view (so the base's node
    becomes CopySlices), tensor indices then index_put into it; without them the value is copied in."""
    given, items = index_items(index)
    if len(items) == 1 and items[0] is False:  # selects nothing
        return
    # a 0-dim bool tensor is a Python bool to PyTorch's setitem (a view, then CopySlices), a False one included
    items = tuple(bool(item) if isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype == np.bool_ else item
                  for item in items)
    if any(is_advanced(item) for item in items):
        view, rest = split_index(self, items)
        held = held_indices(given, items, view._data.ndim)
        _inplace(view, lambda t, v: _index_put(t, v, rest, held), value, overlapping="index_put_")
        return
    _copy_to(basic_index(self, items), value)


def _copy_to(target: Tensor, value) -> None:
    """PyTorch's setitem copy: a value of the target's shape is copied (CopyBackwards), a 0-dim one (a Python
    number is one) fills it (FillBackward3), any other is broadcast, leading 1s dropped, then copied."""
    if not isinstance(value, Tensor):
        value = F._checked_number(value, target)
        value = Tensor._make(np.asarray(value, dtype=target._data.dtype))
    shape = value._data.shape
    if shape == target._data.shape:
        copy_(target, value)
    elif not shape:
        fill_(target, value)
    else:
        while shape and shape[0] == 1:
            shape = shape[1:]
        copy_(target, expand(value if shape == value._data.shape else reshape(value, shape), target._data.shape))


INPLACE_METHODS = (
    "add_", "sub_", "mul_", "div_", "pow_", "exp_", "log_", "sqrt_", "tanh_", "sigmoid_", "relu_", "neg_", "abs_",
    "clamp_", "clip_", "sign_", "floor_", "round_", "reciprocal_", "masked_fill_", "zero_", "fill_", "copy_",
)


def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from U(a, b): after the same manual_seed, PyTorch's values."""
    rng, data = generator or factories.default_generator, self._data
    values = fill_in_memory_order(data, lambda shape: rng.uniform_fill(shape, data.dtype, a, b))
    return _inplace(self, lambda t: apply(E.uniform, (t,), (values,)))


def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from N(mean, std²): after the same manual_seed, PyTorch's values (float32 within ulps)."""
    factories.check_std(std)
    rng, data = generator or factories.default_generator, self._data
    contiguous = data.flags.c_contiguous  # PyTorch's block Box-Muller is for contiguous tensors only
    values = fill_in_memory_order(data, lambda shape: rng.normal_fill(shape, data.dtype, mean, std, contiguous))
    return _inplace(self, lambda t: apply(E.normal, (t,), (values,)))


INPLACE_METHODS += ("uniform_", "normal_")
