"""Graph nodes (`grad_fn`s) with PyTorch's Node API, and the per-op node classes."""

from __future__ import annotations

import itertools
import threading
import types
import weakref

import numpy as np

from gradscope._shapes import is_expandable_to
from gradscope.autograd import errors
from gradscope.autograd.hooks import HookDict
from gradscope.autograd.saved import _NUMBERS, FLOAT32_SCALARS, FLOAT64_SCALARS, SavedTensor, scalar_array
from gradscope.autograd.stacks import format_stack
from gradscope.ops.namespace import HALF_NUMPY, NUMPY
from gradscope.ops.registry import ANALYTIC, AS_WRITTEN, Primitive, to_input

_sequence = itertools.count()


class _Freed(tuple):
    """A node's saved entries after a backward without retain_graph freed them: all None."""

    __slots__ = ()


class _FreedByLength(dict):
    def __missing__(self, n: int) -> _Freed:
        self[n] = entries = _Freed((None,) * n)
        return entries


FREED = _FreedByLength()  # FREED[n]: what a node that saved n entries keeps once they are freed


class HeldTensors(tuple):
    """A held param that is a list of tensors (PyTorch's `Tensor?[] indices` of index and index_put): one light
    entry per tensor, None where the list has None (a dim taken whole). Each is version-checked, as PyTorch saves
    each; `_saved_indices` shows them as a tuple."""

    __slots__ = ()
ACCUMULATE_SEQUENCE_NR = 2**64 - 1
_FLOAT64, _FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)  # NumPy's own instances: `is` finds them
_FLOAT16 = np.dtype(np.float16)


class Node:
    """A backward function in the graph (torch.autograd.graph.Node).

    `next_functions` holds one `(node | None, input_nr)` edge per forward input (`_next` inside the graph, where a
    leaf's edge holds the leaf in place of its input_nr: see Tensor._leaf_edge). Rarely used
    state (hooks, metadata) lives in the instance dict and costs nothing until set. What observers and
    anomaly mode keep of every node they see, the module call that made it and its forward stack, has
    slots: a dict of its own per node cost them more than anything else they do per node. Unset on nodes
    nobody saw, read with a default (`getattr(node, "frames", None)`).
    """

    __slots__ = ("_next", "_seq", "module_call", "frames", "__dict__", "__weakref__")

    _metadata = None
    _has_hooks = False  # any of the four below
    # the engine's one read per node: `_vjp(node, grads, free)`, an op's first-order backward, or None for
    # its general path, which nodes that are not an op's (leaves, custom Functions, in-place bookkeeping)
    # take, and any node once it has hooks or handed out a `_raw_saved_*` (an instance attribute then)
    _vjp = None
    _pre_hooks = None  # HookDict of fn(grad_outputs)
    _post_hooks = None  # HookDict of fn(grad_inputs, grad_outputs)
    _tensor_hooks = None  # output_nr -> HookDict of fn(grad), tensor hooks bound to this node
    _retain_grad = None  # output_nr -> weakref of the tensor that retains its grad
    _raw_handed_out = False  # some `_raw_saved_*` entry was given to user code
    _runs_without_grads = False  # called even when every incoming gradient is None (custom Functions are)
    _input_meta = ()  # per input: (shape, dtype) its gradient must have, or None (no edge)

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def __dir__(self) -> list[str]:
        """The names PyTorch's nodes list: the public ones, `_saved_*`/`_raw_saved_*` and `_sequence_nr`, not
        the engine's private state (`[a for a in dir(node) if a.startswith("_saved")]` finds saved values only)."""
        return sorted(name for name in super().__dir__()
                      if not name.startswith("_") or name.startswith(("__", "_saved_", "_raw_saved_"))
                      or name == "_sequence_nr")

    def _forward_name(self) -> str:
        """How PyTorch's in-place error names this node: name() without "Backward" and a 0 ("Sigmoid"),
        or without "Backward" before another number ("Clamp1", "Fill2"); other names stay whole
        ("torch::autograd::CopySlices", "torch::autograd::CopyBackwards")."""
        name = self.name()
        head, backward, number = name.rpartition("Backward")
        if not backward or not (number == "" or number.isdigit()):
            return name
        return head if number in ("", "0") else head + number

    @property
    def scope(self) -> str | None:
        """The module path of the call that made it ("model.encoder.fc1"), when observers or anomaly mode saw it."""
        # the module call that made it, kept by observers and anomaly mode (an observers.ModuleCall)
        call = getattr(self, "module_call", None)
        if type(call) is tuple:  # (a call, the module whose forward it ran inline): see ModuleCall.inline
            return call[0].scope_of(call[1])
        return call.scope if call is not None else None

    @property
    def next_functions(self) -> tuple:
        """A fresh tuple at each read, as PyTorch's. A leaf's edge, `(its AccumulateGrad, the leaf)` inside the
        graph (see Tensor._leaf_edge), shows as `(the AccumulateGrad, 0)`, handed out (AccumulateGrad._handed_out)."""
        return tuple((child._handed_out(), 0) if type(child) is AccumulateGrad else (child, nr)
                     for child, nr in self._next)

    @property
    def metadata(self) -> dict:
        if self._metadata is None:
            self._metadata = {}
            frames = getattr(self, "frames", None)  # the forward stack (stacks.capture_stack) anomaly mode kept
            if frames is not None:  # formatted on first look
                self._metadata["traceback_"] = format_stack(frames)
        return self._metadata

    @property
    def requires_grad(self) -> bool:
        return True

    def _sequence_nr(self) -> int:
        return self._seq

    def register_hook(self, fn):
        """Post-hook `fn(grad_inputs, grad_outputs) -> tuple | None`, after the node ran."""
        if self._post_hooks is None:
            self._post_hooks = HookDict()
        self._has_hooks = True
        self._vjp = None
        return self._post_hooks.add(fn)

    def register_prehook(self, fn):
        """Pre-hook `fn(grad_outputs) -> tuple | None`, before the node runs."""
        if self._pre_hooks is None:
            self._pre_hooks = HookDict()
        self._has_hooks = True
        self._vjp = None
        return self._pre_hooks.add(fn)

    def _add_tensor_hook(self, output_nr: int, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        self._has_hooks = True
        self._vjp = None
        return self._tensor_hooks.setdefault(output_nr, HookDict()).add(fn)

    def __call__(self, *grads):
        """This node's backward on `grads` (one per output, None for none), as PyTorch's Node.__call__: its inputs'
        gradients, one tensor or a tuple (None where an input has no edge), building a graph where grad mode is on.

        >>> (x * 3).grad_fn(gradscope.ones(2))
        """
        if len(grads) != self.n_outputs:
            raise TypeError(f"expected {self.n_outputs} arguments, got {len(grads)} instead")
        from gradscope.autograd.tensor_namespace import TENSOR  # lazy: the namespace builds on the function library
        if all(g is None for g in grads) and not self._runs_without_grads:
            outputs = [None] * len(self._next)
        else:
            outputs = self._apply(list(grads), TENSOR, None)
        outputs = [None if child is None else g for (child, _), g in zip(self._next, outputs)]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    # engine interface -------------------------------------------------------------------------
    n_outputs = 1

    def _apply(self, grads: list, xp, needs: list | None) -> list:
        """Gradients for each input; `needs[i]` says whether input i's is wanted (None: every input
        that has an edge)."""
        raise NotImplementedError

    def _release(self) -> None:
        """Free saved tensors after a backward without retain_graph."""


class OpNode(Node):
    """Base of the generated node classes, one per primitive (`MulBackward0` …)."""

    __slots__ = ("_saved", "_attrs", "_input_meta")
    op: Primitive
    # per held param (op.held), the light entry of the tensor it came from, or None (an array made here): set by
    # dispatch.apply_holding, so only nodes of ops that hold tensors (targets, indices, masks) have their own
    _held = ()

    def _apply(self, grads, xp, needs, rules=None):
        """`rules`: the VJP rules to run instead of the op's own (a complex node's, see complex_node_class)."""
        op = self.op
        saved = self._saved
        if type(saved) is _Freed:
            raise RuntimeError(errors.FREED)
        if self._held:
            _check_held(self)
        if not saved:
            s = op.Saved((xp,) + self._attrs)
        else:
            values = []
            if xp.is_tensor:  # create_graph: rules see tensors, inputs as themselves
                for i, entry in enumerate(saved):
                    if entry is None or type(entry) in _NUMBERS:
                        values.append(entry)
                    else:
                        entry = self._entry_at(i)
                        entry.check_attached()
                        values.append(entry.unpack(self))
            else:
                for entry in saved:  # plain loops: this runs once per node in every backward
                    if type(entry) is tuple:  # a light entry (see dispatch._record_simple)
                        if entry[1][0] != entry[2] or (entry[4] is not None and entry[3]._node is None):
                            _light_to_saved(entry).array(self)  # raises PyTorch's "modified"/"detached" error
                        values.append(entry[0])
                    elif entry is None or type(entry) in _NUMBERS:  # a Python number is saved as it is
                        values.append(entry)
                    elif entry._unpack is None and not entry._freed and (
                            entry._counter is None or entry._counter[0] == entry._version) and (
                            entry._creator is None or entry._tensor._node is not None):
                        values.append(entry._array)  # SavedTensor.array's fast path, inlined
                    else:
                        values.append(entry.array(self))
            if op.variadic and op.saved_names:
                values = [values]  # one saved name holding every operand
            s = op.Saved((xp, *values) + self._attrs)
        if op.n_outputs == 1:
            g = grads[0]
        else:  # None for an output that got no gradient (PyTorch's undefined one): each rule knows what it means
            g = tuple(padded(self, grads))
        vjp = op.vjp if rules is None else rules
        if op.variadic:
            return list(vjp[0](g, s))
        if op.joint_vjp is not None and rules is None:
            metas = self._input_meta
            return op.joint_vjp(g, s, metas if needs is None else [meta if need else None
                                                                  for meta, need in zip(metas, needs)])
        if needs is None:  # every input with an edge
            edges = self._next
            if len(vjp) == 1:  # a node exists only if some input needs a gradient: this one
                return [vjp[0](g, s)]
            if len(vjp) == 2:
                return [None if edges[0][0] is None else vjp[0](g, s), None if edges[1][0] is None else vjp[1](g, s)]
            return [None if child is None else rule(g, s) for rule, (child, _) in zip(vjp, edges)]
        return [rule(g, s) if need else None for rule, need in zip(vjp, needs)]

    def _entry_at(self, index: int):
        """Saved entry `index` as a SavedTensor (or None, or a Python number): a light tuple entry is
        turned into one, and kept, the first time user code or a debugger asks for it."""
        entry = self._saved[index]
        if type(entry) is tuple:
            entry = _light_to_saved(entry)
            saved = list(self._saved)
            saved[index] = entry
            self._saved = tuple(saved)
        return entry

    def _rule_arrays(self):
        """The op's Saved namespace on ndarrays, as its first-order rules see it (lazy `_saved_*` values are
        computed from it)."""
        values = []
        for index, entry in enumerate(self._saved):
            entry = self._entry_at(index)
            values.append(entry if entry is None or type(entry) in _NUMBERS else entry.array(self))
        return self.op.Saved((NUMPY, *values) + self._attrs)

    @property
    def _released(self) -> bool:
        """Whether a backward without retain_graph freed the saved values (a node that saved nothing
        can run again, as in PyTorch)."""
        return type(self._saved) is _Freed

    def _release(self):  # NOTE: _first_order_vjp frees as this does
        saved = self._saved
        if saved or self.op.held:
            if self._raw_handed_out:  # a user holds a _raw_saved_* entry: it must learn it was freed
                for entry in saved:
                    if isinstance(entry, SavedTensor):
                        entry.free()
            self._saved = FREED[len(saved)]  # dropping the entries frees what they held

def _check_held(node) -> None:
    """Backward may not use a held tensor (a target, indices) changed in place since the forward: PyTorch's error."""
    for entry in node._held:
        if entry is not None and (type(entry) is not tuple or entry[1][0] != entry[2] or (
                entry[4] is not None and entry[3]._node is None)):
            _refuse_changed(node, entry)


def _refuse_changed(node, held) -> None:
    """Raise PyTorch's "modified by an inplace"/"detached" error for the first of a held param's tensors (one, or a
    HeldTensors list) changed since the forward; nothing if none was."""
    for entry in held if type(held) is HeldTensors else (held,):
        if type(entry) is SavedTensor:  # held under saved-tensor hooks: unpacked, not version-checked (PyTorch's)
            entry.array(node)
        elif entry is not None and (entry[1][0] != entry[2] or (
                entry[4] is not None and entry[3]._node is None)):
            _light_to_saved(entry).array(node)


def _light_to_saved(entry: tuple) -> SavedTensor:
    """The SavedTensor a light entry `(array, version counter, version, input tensor or None, its grad_fn
    when saved)` stands for; `(array, counter, version, TBackward0, None)`: F.linear's view of a leaf weight, not yet
    made (fused_products.weight_view)."""
    array, counter, version, tensor, creator = entry
    if isinstance(tensor, Node):
        from gradscope.autograd.fused_products import weight_view  # lazy: it imports this module
        tensor, creator = weight_view(tensor, array, counter, version), tensor
    saved = _new_saved(SavedTensor)
    saved._freed = False
    saved._unpack = saved._owner = saved._accumulator = None
    saved._array, saved._counter, saved._version = array, counter, version
    saved._tensor = tensor
    if tensor is None:  # the output of a one-output node
        saved._is_output, saved._creator, saved._output_nr, saved._requires_grad = True, None, 0, True
    else:
        saved._is_output, saved._creator = False, creator
        saved._output_nr, saved._requires_grad = tensor._output_nr, tensor._requires_grad
    return saved


_new_saved = object.__new__


def _saved_tensor_property(index: int):
    def get(self):
        if self._released:
            raise RuntimeError(errors.FREED)
        entry = self._entry_at(index)
        if type(entry) in _NUMBERS:  # PyTorch shows a saved number as a 0-dim tensor: tensor(2)
            return SavedTensor(entry).unpack(self)
        return None if entry is None else entry.unpack(self)
    return property(get)


def _raw_saved_property(index: int):
    def get(self):
        if self._released:  # a freed entry: using it raises PyTorch's "after it has been freed" errors
            freed = SavedTensor(0)
            freed.free()
            return freed
        entry = self._entry_at(index)
        if type(entry) in _NUMBERS:
            return SavedTensor(entry)
        if entry is None:  # not saved: no rule that reads it runs (its input needs no gradient), or not given
            return _undefined_saved()
        self._raw_handed_out = True
        self._vjp = None
        if entry._is_output:
            entry._owner = weakref.ref(self)  # register_hooks may need to unpack it
        return entry
    return property(get)


def _attr_property(index: int, shown=None):
    """A param or derived size (readable after the saved tensors are freed, as in PyTorch); `shown` maps it to
    what PyTorch shows (see _SHOWN)."""
    if shown is None:
        return property(lambda self: self._attrs[index])
    return property(lambda self: shown(self._attrs[index]))


def _as_unsigned(value):
    """PyTorch shows an int64 attribute as an unsigned 64-bit number: ignore_index -100 as 2**64 - 100."""
    return value % 2**64 if type(value) is int else value


# params PyTorch's nodes show other than as gradscope keeps them
_SHOWN = {"ignore_index": _as_unsigned, "padding_idx": _as_unsigned, "dim": _as_unsigned, "dim0": _as_unsigned,
          "dim1": _as_unsigned}


def _held_saved(node, index: int, held_index: int):
    """A held param as the SavedTensor PyTorch keeps: of the tensor it came from, or of its array (made here)."""
    if node._released:
        raise RuntimeError(errors.FREED)
    entry = node._held[held_index] if node._held else None
    if type(entry) is HeldTensors:  # PyTorch's list of optional tensors: a tuple, None unpacked as None
        return tuple([_undefined_saved() if item is None else _held_entry(item) for item in entry])
    if entry is not None:
        return _held_entry(entry)
    value = node._attrs[index]
    if value is None:
        return _undefined_saved()
    return _saved_of_array(value)


def _held_entry(entry) -> SavedTensor:
    return entry if type(entry) is SavedTensor else _light_to_saved(entry)


def _held_property(index: int, held_index: int):
    """A param PyTorch saves as a tensor (a target, indices, a mask): that tensor, version-checked, or None."""
    def get(self):
        saved = _held_saved(self, index, held_index)
        if type(saved) is tuple:
            return tuple([entry.unpack(self) for entry in saved])
        return saved.unpack(self)
    return property(get)


def _raw_held_property(index: int, held_index: int):
    return property(lambda self: _held_saved(self, index, held_index))


def _lazy_property(compute):
    """A value PyTorch saves that no rule here needs, computed from the saved values when read."""
    def get(self):
        if self._released:
            raise RuntimeError(errors.FREED)
        return _tensor_of(compute(self._rule_arrays()))
    return property(get)


def _raw_lazy_property(compute):
    def get(self):
        if self._released:
            freed = SavedTensor(0)
            freed.free()
            return freed
        return _saved_of_array(compute(self._rule_arrays()))
    return property(get)


def _tensor_of(array):
    from gradscope.autograd.tensor import Tensor  # lazy: tensors import nodes
    return Tensor._make(array)


def _saved_of_array(array) -> SavedTensor:
    """A SavedTensor of a new tensor of `array` (no saved-tensor hooks: nothing is being saved now)."""
    tensor = _tensor_of(array)
    return _light_to_saved((array, tensor._version_counter, tensor._version_counter[0], tensor, None))


def _undefined_saved() -> SavedTensor:
    """What PyTorch's `_raw_saved_*` gives for an optional tensor that was not given (a weight): unpacks to None."""
    saved = SavedTensor(0)
    saved._array = None
    return saved


def _first_order_vjp(op: Primitive):
    """The `_vjp(node, grads, free)` of `op`'s node kind: first-order gradients on ndarrays for every input that has
    an edge, the engine's common case (`_apply(grads, NUMPY, None)` with fewer steps), then, when `free`,
    the saved values dropped (a backward without retain_graph). The op's Saved class and rules are bound
    here once per kind: a node's own attributes are slow to read (nodes of many classes pass the same
    line, so Python can't specialise it)."""
    Saved, rules, plain, held, checks_meta = op.Saved, op.vjp, op.plain_rules, bool(op.held), not op.keeps_meta
    weak_numbers, joint = op.weak_numbers, op.joint_vjp
    n_rules = len(rules)
    rule0 = rules[0] if rules else None
    rule1 = rules[1] if n_rules > 1 else None
    # the Saved of the last node of this kind that saved nothing, with the params it was built from: a node that
    # saved nothing and holds the same params object (a fused forward's: `x + 0.1`'s alpha) sees the same
    # Saved, a tuple not built again. One pair, replaced whole: threads read a consistent one. Not for ops that
    # hold arrays in their params (targets, indices): the pair would keep one alive.
    shared = [(object(), None)]
    # likewise for a node of a weak-numbers op that saved a Python float and nothing else (`x * 0.5`, `x / 2.0`:
    # `(other, None)`, its input alone needing a gradient): the Saved of the last such node, reused when it saved
    # the same float object (`is`: -0.0 == 0.0, yet their products differ), for a gradient of the same dtype and
    # the same params object. The entries of a weak-numbers op are (other, self).
    number_shared = [(object(), None, None, None)]
    if weak_numbers and len(op.saved_names) != 2:
        raise ValueError(f"{op.name}: weak_numbers is for ops that save (other, self)")

    def _vjp(self, grads: list, free: bool) -> list:
        saved = self._saved
        if not plain:
            outputs = _validate_all(self, self._apply(padded(self, grads), NUMPY, None), NUMPY)
        else:
            s = None
            if not saved:
                if held and type(saved) is _Freed:  # its held params (targets, indices) went with an earlier backward
                    raise RuntimeError(errors.FREED)
                attrs = self._attrs
                last = shared[0]
                if last[0] is attrs:
                    s = last[1]
                else:
                    s = Saved((NUMPY,) + attrs)
                    if not held:
                        shared[0] = (attrs, s)
            elif len(saved) == 1 and type(saved[0]) is tuple:  # one light entry (see dispatch._record_simple)
                entry = saved[0]
                if entry[1][0] != entry[2] or (entry[4] is not None and entry[3]._node is None):
                    _light_to_saved(entry).array(self)  # raises PyTorch's "modified by an inplace"/"detached" error
                s = Saved((NUMPY, entry[0]) + self._attrs)
            elif weak_numbers and type(saved[0]) is float and saved[1] is None:
                number, dtype, attrs = saved[0], grads[0].dtype, self._attrs
                last = number_shared[0]
                if last[0] is number and last[1] is dtype and last[2] is attrs:
                    s = last[3]
                else:
                    scalars = FLOAT64_SCALARS if dtype is _FLOAT64 else FLOAT32_SCALARS if dtype is _FLOAT32 else None
                    array = number if scalars is None else scalars.get(number)
                    if array is None:
                        array = scalar_array(number, dtype, scalars)
                    s = Saved((NUMPY, array, None) + attrs)
                    number_shared[0] = (number, dtype, attrs, s)
            else:
                if type(saved) is _Freed:
                    raise RuntimeError(errors.FREED)
                values = [NUMPY]
                for entry in saved:
                    kind = type(entry)
                    if kind is tuple:
                        if entry[1][0] != entry[2] or (entry[4] is not None and entry[3]._node is None):
                            _light_to_saved(entry).array(self)
                        entry = entry[0]
                    elif kind is float and weak_numbers:  # see Primitive.weak_numbers
                        dtype = grads[0].dtype
                        scalars = FLOAT64_SCALARS if dtype is _FLOAT64 else FLOAT32_SCALARS if (
                            dtype is _FLOAT32) else None
                        if scalars is not None:
                            array = scalars.get(entry)
                            entry = array if array is not None else scalar_array(entry, dtype, scalars)
                    elif entry is not None and kind not in _NUMBERS:  # a SavedTensor (hooks, observers, user code's)
                        break
                    values.append(entry)
                else:
                    values += self._attrs
                    s = Saved(values)
            if held and s is not None and self._held:  # _check_held, inlined (else _apply checks them)
                for entry in self._held:
                    if entry is not None and (type(entry) is not tuple or entry[1][0] != entry[2] or (
                            entry[4] is not None and entry[3]._node is None)):
                        _refuse_changed(self, entry)
            # a rule may return the broadcast of several inputs, or another dtype: each result goes back to its
            # input's shape and dtype (`is`: the common case, cheaply), checked inline for one or two rules
            if s is None:
                outputs = _validate_all(self, self._apply(grads, NUMPY, None), NUMPY)
            elif joint is not None:  # every gradient at once, each already in its input's shape and dtype
                outputs = joint(grads[0], s, self._input_meta)
            elif n_rules == 1:  # a node exists only if some input needs a gradient: this one
                g = rule0(grads[0], s)
                if checks_meta and g is not None:
                    meta = self._input_meta[0]
                    if g.shape != meta[0] or g.dtype is not meta[1]:
                        g = _validate(self, meta, g, NUMPY, 0)
                outputs = [g]
            elif n_rules == 2:  # an input's meta is None exactly when it has no edge (nothing to compute)
                meta, meta1 = self._input_meta
                g = None if meta is None else rule0(grads[0], s)
                if g is not None and (g.shape != meta[0] or g.dtype is not meta[1]):
                    g = _validate(self, meta, g, NUMPY, 0)
                g1 = None if meta1 is None else rule1(grads[0], s)
                if g1 is not None and (g1.shape != meta1[0] or g1.dtype is not meta1[1]):
                    g1 = _validate(self, meta1, g1, NUMPY, 1)
                outputs = [g, g1]
            else:  # NOTE: a loop, not a comprehension: one would make `grads` and `s` cells, built on every call
                outputs = []
                metas = self._input_meta
                index = 0
                for rule, (child, _) in zip(rules, self._next):
                    g = None if child is None else rule(grads[0], s)
                    if g is not None:
                        meta = metas[index]
                        if g.shape != meta[0] or g.dtype is not meta[1]:
                            g = _validate(self, meta, g, NUMPY, index)
                    outputs.append(g)
                    index += 1
        if free and (saved or held):
            self._saved = FREED[len(saved)]  # dropping the entries frees what they held
        return outputs

    if joint is not None and plain and not held and not weak_numbers:  # addmm: a linear layer's, every step

        def _vjp_joint(self, grads: list, free: bool) -> list:
            saved = self._saved
            if type(saved) is not tuple:  # freed: the general path raises
                return _vjp(self, grads, free)
            values = [NUMPY]
            for entry in saved:  # light entries (see dispatch._record_simple), or None (no rule reads it)
                if type(entry) is tuple:
                    array, counter, version, tensor, creator = entry
                    if counter[0] != version or creator is not None and tensor._node is None:
                        return _vjp(self, grads, free)  # modified in place or detached: the general path's errors
                    values.append(array)
                elif entry is None:
                    values.append(None)
                else:  # a SavedTensor, a number: the general path
                    return _vjp(self, grads, free)
            values += self._attrs
            outputs = joint(grads[0], Saved(values), self._input_meta)
            if free and saved:
                self._saved = FREED[len(saved)]
            return outputs

        array_joint = op.array_joint_vjp
        if array_joint is None:
            return _vjp_joint
        freed = FREED[2]

        def _vjp_joint_arrays(self, grads: list, free: bool) -> list:  # addmm, mm: `_vjp_joint` on the bare arrays
            saved = self._saved
            if saved is not freed:  # (a node's saved entries are a tuple, or FREED[n] once freed)
                first, second = saved  # light entries, or None (no rule reads it)
                try:  # NOTE: free (3.11's exception table) unless an entry is a SavedTensor, which doesn't unpack
                    if first is not None:
                        array, counter, version, tensor, creator = first
                        if counter[0] != version or creator is not None and tensor._node is None:
                            raise _Stale  # modified in place or detached: the general path's errors
                        first = array
                    if second is not None:
                        array, counter, version, tensor, creator = second
                        if counter[0] != version or creator is not None and tensor._node is None:
                            raise _Stale
                        second = array
                except (TypeError, _Stale):  # or a SavedTensor (saved-tensor hooks, a `_raw_saved_*` handed out)
                    return _vjp(self, grads, free)
                outputs = array_joint(grads[0], first, second, self._attrs, self._input_meta)
                if free:
                    self._saved = freed
                return outputs
            return _vjp(self, grads, free)  # freed: the general path raises

        return _vjp_joint_arrays
    if not op.saved_names and n_rules == 2 and plain and not held and not weak_numbers and not op.variadic:

        def _vjp_of_params(self, grads: list, free: bool) -> list:  # add, sub: rules reading params alone
            attrs = self._attrs  # NOTE: nothing saved, nothing to free: the node may run again, as in PyTorch
            last = shared[0]
            if last[0] is attrs:
                s = last[1]
            else:
                s = Saved((NUMPY,) + attrs)
                shared[0] = (attrs, s)
            g0 = grads[0]
            meta, meta1 = self._input_meta  # as _vjp's two rules
            g = None if meta is None else rule0(g0, s)
            if g is not None and (g.shape != meta[0] or g.dtype is not meta[1]):
                g = _validate(self, meta, g, NUMPY, 0)
            g1 = None if meta1 is None else rule1(g0, s)
            if g1 is not None and (g1.shape != meta1[0] or g1.dtype is not meta1[1]):
                g1 = _validate(self, meta1, g1, NUMPY, 1)
            return [g, g1]

        return _vjp_of_params
    array_rule = op.array_vjp
    if array_rule is None:
        return _vjp
    if not op.saved_names:  # t: the gradient's transpose, no Saved, no rule frame

        def _vjp_of_gradient(self, grads: list, free: bool) -> list:
            return [array_rule(grads[0])]

        return _vjp_of_gradient

    freed = FREED[1]
    if held:  # nll_loss: from its one saved value and its params, the held ones checked as the saved one

        def _vjp_of_saved_and_held(self, grads: list, free: bool) -> list:
            entry = self._saved[0]
            if type(entry) is tuple:
                array, counter, version, tensor, creator = entry
                if counter[0] == version and (creator is None or tensor._node is not None):
                    for entry in self._held:  # as _vjp's _check_held
                        if entry is not None and (type(entry) is not tuple or entry[1][0] != entry[2] or (
                                entry[4] is not None and entry[3]._node is None)):
                            return _vjp(self, grads, free)  # a held value changed: the general path's error
                    g = array_rule(grads[0], array, self._attrs)
                    if g is not None:  # else a case the rules take
                        meta = self._input_meta[0]
                        if g.shape != meta[0] or g.dtype is not meta[1]:
                            g = _validate(self, meta, g, NUMPY, 0)
                        if free:
                            self._saved = freed
                        return [g]
            return _vjp(self, grads, free)  # freed, a SavedTensor, modified in place or detached: the general path's

        return _vjp_of_saved_and_held
    if op.params:  # log_softmax: from its result and its one param (dim), checked against its input's metadata

        def _vjp_of_saved_and_param(self, grads: list, free: bool) -> list:
            try:  # NOTE: free unless the entry is freed (None) or a SavedTensor: neither unpacks
                array, counter, version, tensor, creator = self._saved[0]
            except TypeError:
                return _vjp(self, grads, free)
            if counter[0] == version and (creator is None or tensor._node is not None):
                g = array_rule(grads[0], array, self._attrs[0])
                meta = self._input_meta[0]
                if g.shape != meta[0] or g.dtype is not meta[1]:
                    g = _validate(self, meta, g, NUMPY, 0)
                if free:
                    self._saved = freed
                return [g]
            return _vjp(self, grads, free)  # modified in place or detached: the general path's errors

        return _vjp_of_saved_and_param

    def _vjp_of_saved(self, grads: list, free: bool) -> list:  # tanh: from its result, a light entry
        try:  # NOTE: free (3.11's exception table) unless the entry is freed (None) or a SavedTensor: neither unpacks
            array, counter, version, tensor, creator = self._saved[0]
        except TypeError:
            return _vjp(self, grads, free)  # the general path's errors, or its saved-tensor hooks
        if counter[0] == version and (creator is None or tensor._node is not None):
            g = array_rule(grads[0], array)
            if free:
                self._saved = freed
            return [g]
        return _vjp(self, grads, free)  # modified in place or detached: the general path's errors

    return _vjp_of_saved


class _Stale(Exception):
    """A saved value changed in place, or its tensor detached, since it was saved (`_vjp_joint_arrays`)."""


def padded(node, grads: list) -> list:
    """A node's incoming gradients, one per output: the engine hands a node whose only gradient is output 0's
    `[g]`, without reading how many outputs it has (a read on every node; most have one)."""
    n = node.n_outputs
    return grads if len(grads) == n else grads + [None] * (n - len(grads))


def _validate_all(node, outputs: list, xp) -> list:
    """`outputs` (a node's input gradients), each summed to its input's shape and cast to its dtype, in place."""
    for i, (meta, g) in enumerate(zip(node._input_meta, outputs)):
        if g is None or meta is None:
            continue
        dtype = g.dtype
        if g.shape != meta[0] or dtype is not meta[1] and dtype != meta[1]:  # `is`: the common case, cheaply
            outputs[i] = _validate(node, meta, g, xp, i)
    return outputs


def _validate(node, meta, g, xp, index: int):
    """Sum a broadcast gradient back to input `index`'s shape and cast it to the input's dtype."""
    if meta is None:
        return g
    shape = meta[0]
    if g.shape != shape and not is_expandable_to(shape, tuple(g.shape)):
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {index} - got "
                           f"{list(g.shape)} but expected shape compatible with {list(shape)}")
    return to_input(g, meta, xp)


def own_code(function):
    """`function` with a code object of its own. CPython specialises each attribute read and write of a code
    object for the one class it meets there; nodes of many classes passing through one shared code object
    defeat that (each `self._saved` takes the generic lookup, ~4x dearer), so each node class gets its copy."""
    return types.FunctionType(function.__code__.replace(), function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)


# nodes PyTorch implements in C++ by hand report a qualified name() (their type name stays short)
_QUALIFIED_NAMES = {"CopyBackwards": "torch::autograd::CopyBackwards",
                    "NotImplemented": "torch::autograd::NotImplemented"}


def _edges_requiring_grad(node) -> tuple:
    """A node that only refuses a backward lists, as PyTorch's NotImplemented node does, only the inputs that
    require grad (its positional edges stay as they are: its rules raise before reading any)."""
    return tuple(edge for edge in Node.next_functions.fget(node) if edge[0] is not None)


def node_class(op: Primitive) -> type:
    """The node class of `op`, named as PyTorch names it, with `_saved_*` and `_raw_saved_*` attributes."""
    if op.node_class is None:
        namespace = {"__slots__": (), "op": op, "n_outputs": op.n_outputs and len(op.differentiable_outputs),
                     "_vjp": staticmethod(own_code(_first_order_vjp(op)))}
        for i, name in enumerate(op.saved_names):
            namespace[f"_saved_{name}"] = _saved_tensor_property(i)
            namespace[f"_raw_saved_{name}"] = _raw_saved_property(i)
        for i, name in enumerate(op.params + op.attrs):
            if name in op.unsaved:
                continue
            if name in op.held:
                held_index = op.held.index(name)
                namespace[f"_saved_{name}"] = _held_property(i, held_index)
                namespace[f"_raw_saved_{name}"] = _raw_held_property(i, held_index)
            else:
                namespace[f"_saved_{name}"] = _attr_property(i, _SHOWN.get(name))
        for name, compute in op.lazy.items():
            namespace[f"_saved_{name}"] = _lazy_property(compute)
            namespace[f"_raw_saved_{name}"] = _raw_lazy_property(compute)
        if op.node_name in _QUALIFIED_NAMES:
            qualified = _QUALIFIED_NAMES[op.node_name]
            namespace["name"] = lambda self: qualified
        if op.node_name == "NotImplemented":
            namespace["next_functions"] = property(_edges_requiring_grad)
        op.node_class = type(op.node_name, (OpNode,), namespace)
    return op.node_class


def _conjugated_apply(self, grads, xp, needs):
    """An analytic op's rules on a complex node: PyTorch's grad · conj(f'(z)) is conj(rule(conj(grad))) for an f
    with real Taylor coefficients, the op's constants (a complex alpha, a saved complex operand) conjugated with it."""
    conj = xp.conj
    grads = [None if g is None else conj(g) for g in grads]
    return [None if g is None else conj(g) for g in OpNode._apply(self, grads, xp, needs)]


def _own_rules_apply(self, grads, xp, needs):
    """A complex node of an op with rules of its own for complex tensors (PyTorch's formulas)."""
    return OpNode._apply(self, grads, xp, needs, self.op.complex_vjp)


def complex_node_class(op: Primitive) -> type:
    """The node class of `op` for a node with a complex input or output: its node class where the rules are right
    as written (AS_WRITTEN), else a subclass of the same name that runs them conjugated (ANALYTIC) or runs the op's
    complex rules, on the engine's general path. An op without complex support raises PyTorch's error."""
    how = op.complex_vjp
    if how is None:
        raise RuntimeError(f"{op.name} does not support automatic differentiation for outputs with complex dtype.")
    if op.complex_node_class is None:
        base = node_class(op)
        if how == AS_WRITTEN:
            op.complex_node_class = base
        else:
            apply = _conjugated_apply if how == ANALYTIC else _own_rules_apply
            op.complex_node_class = type(op.node_name, (base,), {"__slots__": (), "_vjp": None, "_apply": apply,
                                                                  "__module__": base.__module__})
    return op.complex_node_class


def _single_precision_apply(self, grads, xp, needs):
    """A float16 node's rules: the op's half_vjp where PyTorch's backward kernel computes in float32, else its rules
    with sums in float32 (HALF_NUMPY's; under create_graph the sum op's own); each gradient then summed to its
    input's shape so too, as PyTorch's sum_to (NumPy's float16 sums over a leading dim round at every row)."""
    op = self.op  # its rules, never its joint_vjp, whose sums come in its inputs' dtypes
    if xp is NUMPY:
        xp = HALF_NUMPY
    outputs = OpNode._apply(self, grads, xp, needs, op.half_vjp or op.vjp)
    if xp is HALF_NUMPY:
        for index, (g, meta) in enumerate(zip(outputs, self._input_meta)):
            if g is not None and meta is not None and g.shape != meta[0]:
                outputs[index] = xp.sum_to(g, meta[0])
    return outputs


def _single_precision_vjp(self, grads: list, free: bool) -> list:
    """A float16 node's first-order `_vjp`: `_single_precision_apply` on arrays, then freed as `_vjp` frees."""
    outputs = _validate_all(self, _single_precision_apply(self, padded(self, grads), NUMPY, None), NUMPY)
    if free:
        self._release()
    return outputs


def half_node_class(op: Primitive) -> type:
    """The node class of `op` for a node with a float16 input or output: a subclass of the same name that runs
    `_single_precision_apply` (chosen where the node is made, so that float32 and float64 nodes pay nothing)."""
    if op.half_node_class is None:
        base = node_class(op)
        op.half_node_class = type(op.node_name, (base,), {"__slots__": (), "_vjp": staticmethod(_single_precision_vjp),
                                                           "_apply": _single_precision_apply,
                                                           "__module__": base.__module__})
    return op.half_node_class


# taken to make a leaf's AccumulateGrad and to hand one out (Tensor._leaf_edge, AccumulateGrad._handed_out)
ACCUMULATOR_LOCK = threading.Lock()


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: adds incoming gradients into `variable.grad`.

    A leaf has one at a time. It is made at the leaf's first edge and, until user code gets it (next_functions, a
    gradient edge, a hook on it), kept by the leaf from graph to graph: the graph holds the leaf itself in the
    edge (Tensor._leaf_edge), and this node refers to it weakly, so there is no reference cycle. Nobody could tell
    it from the fresh one PyTorch makes for each graph when the last has gone. Once handed out it is PyTorch's: it
    holds its leaf, the leaf refers to it weakly, and it lives as long as a graph or the user holds it (hooks
    registered on it die with it).
    """

    __slots__ = ("_leaf", "_held")  # a weak reference to the leaf; the leaf itself once handed out, else None
    # the same for every leaf: class attributes, so that making one stores only its own state, without an
    # __init__ frame
    _next = ()
    _seq = ACCUMULATE_SEQUENCE_NR
    # whether more than one edge may lead to it: an edge already held it when another was made (Tensor._leaf_edge).
    # Until then the edge being made is its only one, and the engine gives it its gradient as it arrives; once
    # shared, it counts the edges that reach it, and runs it with their sum
    _shared = False

    @property
    def variable(self):
        """The leaf (alive: only graphs holding it, or the leaf itself, reach a node not handed out)."""
        return self._leaf()

    def _handed_out(self) -> AccumulateGrad:
        """This node, as user code may keep it: from now on it holds its leaf, as PyTorch's holds its variable,
        and the leaf refers to it weakly (`_accumulator_ref`), as PyTorch's leaf does."""
        if self._held is None:
            ACCUMULATOR_LOCK.acquire()
            try:
                leaf = self._leaf()
                if self._held is None and leaf is not None:
                    self._held = leaf
                    leaf._accumulator_ref = weakref.ref(self)
                    if leaf._accumulator is self:
                        leaf._accumulator = None
            finally:
                ACCUMULATOR_LOCK.release()
        return self

    @property
    def metadata(self) -> dict:
        return Node.metadata.fget(self._handed_out())

    def register_hook(self, fn):
        return Node.register_hook(self._handed_out(), fn)

    def register_prehook(self, fn):
        return Node.register_prehook(self._handed_out(), fn)

    def __call__(self, grad):
        """Accumulate `grad` into the leaf's `.grad`, as PyTorch's AccumulateGrad does when called."""
        from gradscope.autograd.engine import _accumulate_into  # lazy: the engine imports nodes
        _accumulate_into(self.variable, grad, False)
        return ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"
