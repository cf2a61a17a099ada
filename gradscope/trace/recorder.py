"""The Recorder: an engine observer that turns a live run into a `Trace`.

    with Recorder() as rec:
        loss = model(x).sum()
        loss.backward()
    trace = rec.trace
"""

from __future__ import annotations

import itertools
import sys
import threading
import weakref
from functools import partial

import numpy as np

import gradscope
from gradscope.autograd import engine, observers, writes
from gradscope.autograd.engine import current_pass
from gradscope.autograd.node import AccumulateGrad, OpNode
from gradscope.autograd.tensor import Tensor
from gradscope.autograd.writes import memory_owner
from gradscope.nn import _registry
from gradscope.trace import snapshots
from gradscope.trace.diagnosis import (
    BackwardChecks,
    ForwardCheck,
    ForwardOrigins,
    OutsideCheck,
    mask_array,
    user_source,
)
from gradscope.trace.model import Anomaly, NodeRecord, Parameter, PassRecord, SourceLocation, TensorRecord, Trace

DEFAULT_KEEP = 4096  # elements: arrays up to this size keep their values, larger ones only statistics
# bytes of snapshots (larger arrays' copies, summarised when first read) one recorder leaves pending;
# past this it summarises them at once, so a long or large recording holds statistics, not copies
SNAPSHOT_BYTES = 64 << 20
PRUNE_AT = 4096  # entries a recorder keeps of arrays it met before it drops those of arrays gone (Recorder._prune)


class _Known(weakref.ref):
    """What a recording knows of an ndarray it met, by identity (it is a weak reference to it: an id may be another
    array's once this one is gone): the record it was last captured as (`record`, at its tensor's `version`; None
    when only its memory was met), and when it owns memory, whether gradscope made that while recording (`made`:
    only tensors reach it, and gradscope announces their writes, so it may be held, not copied). When it is a
    view's base, `whole` is the record of all its memory at `whole_version`: a view covering all of it (a
    transpose or reshape) is recorded as a view of that. Made by `_met`."""

    __slots__ = ("record", "version", "made", "whole", "whole_version")


def _met(array: np.ndarray, made: bool, record: TensorRecord | None = None, version: int | None = None,
         whole: TensorRecord | None = None) -> _Known:
    """The entry of an array met now. NOTE: the entry is the weak reference, made without a Python __init__ (a
    weakref's takes no more arguments): a recorded step meets a few dozen arrays."""
    known = _Known(array)
    known.made = made
    known.record = record
    known.version = known.whole_version = version
    known.whole = whole
    return known


_ndarray = np.ndarray
_new_object = object.__new__
_as_view = TensorRecord.as_view
_pass_running = engine._current_pass.get  # current_pass(), without its frame (op_recorded: every op)
# the forward origins of ops without a node (ops with one are judged in node_created): its check keeps no state, so
# every recorder shares it
_ORIGINS = ForwardOrigins(in_graph=False)
_MADE = itertools.repeat(True)  # `made` for each output captured (map's second argument)


def _render(value) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 60 else text[:57] + "..."


_shown: dict[tuple, dict[str, str]] = {}  # (op, its params' types, their reprs) -> how they are shown (see _params)
# id(params) -> (params, op, how they are shown) for params made only of ints and tuples of ints (immutable all the
# way down), kept by the entry (so the id is theirs): a linear layer's nodes share one tuple at every call
_shown_by_identity: dict[int, tuple] = {}
SHOWN_AT_MOST = 1024  # entries _shown and _shown_by_identity keep (each is emptied when it grows past)


def _params(op, attrs: tuple) -> dict[str, str]:
    """A node's params by name, each shown as `_render` shows it: made once for each op and params of the same
    types and reprs (how a value is shown follows from those), since most nodes repeat a few (a layer's at every
    step, and an addmm has six)."""
    known = _shown_by_identity.get(id(attrs))
    if known is not None and known[0] is attrs and known[1] is op:
        return known[2].copy()
    # ints and tuples of ints (shapes, strides) show alike when equal: keyed by their values, without the reprs (an
    # addmm's six took ~2 µs)
    whole = _whole_numbers(attrs)
    key = (op, attrs) if whole else (op, tuple(map(type, attrs)), tuple(map(repr, attrs)))
    shown = _shown.get(key)
    if shown is None:
        if len(_shown) >= SHOWN_AT_MOST:
            _shown.clear()
        shown = _shown[key] = {name: _render(value) for name, value in zip(op.params + op.attrs, attrs)}
    if whole:
        if len(_shown_by_identity) >= SHOWN_AT_MOST:
            _shown_by_identity.clear()
        _shown_by_identity[id(attrs)] = (attrs, op, shown)
    return shown.copy()


def _whole_numbers(values: tuple) -> bool:
    """Whether `values` holds only ints (not bools) and tuples of them."""
    for value in values:
        kind = type(value)
        if kind is tuple:
            for item in value:
                if type(item) is not int:
                    return False
        elif kind is not int:
            return False
    return True


def _new_trace(meta: dict) -> Trace:
    """`Trace(meta=meta)`, the rest empty, made without the dataclass `__init__`'s test of each default (a recording
    makes one)."""
    trace = _new_object(Trace)
    trace.__dict__.update(nodes={}, passes=[], parameters=[], meta=meta, _anomalies=[], _masks=[], _unjudged=[],
                          _first_uses=None)
    return trace


class Recorder:
    """Records every node, saved tensor and gradient while active (an engine observer).

    Arrays above `keep_values` elements are summarised when first read (`TensorRecord.stats`). Until then
    the ones no code outside gradscope can reach are held by reference, copied only before something
    writes into them (every such write is announced: gradscope.autograd.writes): what gradscope made while
    recording (ops' outputs, gradients), and what its factories made and never handed out (parameters,
    inputs made with `tensor` or `randn`). Any other (`from_numpy`'s, or after `numpy()`: the caller may
    write into it) is copied as it is recorded. At most `snapshot_bytes` of held arrays and copies wait at
    any time.

    NOTE: entering a Recorder tells glibc, for the rest of the process, to keep up to 256 MB of freed
    memory mapped for reuse (`snapshots.keep_freed_memory`): the held arrays are let go together, and
    handing them back to the OS would make every later step fault its pages in again. The CLI records in
    a child process, so this stays there."""

    def __init__(self, keep_values: int = DEFAULT_KEEP, max_passes: int | None = None,
                 snapshot_bytes: int = SNAPSHOT_BYTES) -> None:
        self.keep_values = keep_values
        self.max_passes = max_passes
        self.snapshot_bytes = snapshot_bytes
        self._snapshots: list[TensorRecord] = []  # records whose copies may still wait to be summarised
        self._snapshot_total = 0
        self.trace = _new_trace({"gradscope_version": gradscope.__version__, "keep_values": keep_values})
        # a live node → its record (keyed by the node itself, which it keeps alive: nodes hash by identity)
        self._records: dict[object, NodeRecord] = {}
        self._leaves: dict[int, Tensor] = {}  # AccumulateGrad record id → its variable
        self._arrays: dict[int, _Known] = {}  # id → what is known of each array recorded and of its memory
        self._prune_at = PRUNE_AT  # entries of arrays gone are dropped when _arrays grows past this (see _prune)
        self._created: set[int] = set()  # ids of the nodes made while recording (their arrays are all seen)
        self._inline_scopes: dict[tuple, str] = {}  # a pair of ModuleCall.inline → the scope of its nodes
        self._pass: PassRecord | None = None
        self._roots: dict[int, object] = {}  # id → every module called from outside any module (models)
        self._judged_past_last_pass = False  # a forward check queued since the last pass began (see finish)
        self._token = None
        # held from __enter__ to __exit__: one block at a time records into this trace, so a second
        # entry (nested, or from another thread) can't push it twice or overwrite the token __exit__ resets
        self._active = threading.Lock()

    # context manager --------------------------------------------------------------------------
    def __enter__(self) -> Recorder:
        if not self._active.acquire(blocking=False):
            raise RuntimeError("this Recorder is already recording (entered and not yet exited, in this thread "
                               "or another): a Recorder records one block at a time; use a new Recorder for a "
                               "nested or concurrent block")
        snapshots.keep_freed_memory()  # the arrays held until read are let go at once (see there)
        self._token = observers.active.set(observers.active.get() + (self,))
        return self

    def __exit__(self, *exc) -> None:
        token, self._token = self._token, None
        try:
            observers.active.reset(token)
        finally:
            self._active.release()

    # node bookkeeping -----------------------------------------------------------------------
    def _capture(self, value, made: bool = False) -> TensorRecord | None:
        """One record per array and version: a node's inputs are earlier nodes' outputs, saved tensors are
        inputs or outputs; each is captured (copied) once. `made`: gradscope just made `value` (an op's
        output, a rule's gradient, a new .grad), so its memory, unless met before (an input's, a view of
        one), is reachable only through tensors and may be held, not copied (see `_record`)."""
        if isinstance(value, Tensor):
            array = value._data
            version = value._version_counter[0]
        elif value is None:
            return None
        else:
            array = value if type(value) is _ndarray else np.asarray(value)
            version = None
        key = id(array)
        known = self._arrays.get(key)
        if known is not None and known() is array:
            record = known.record
            # a bare array (a saved output) is the output captured just before, whatever its version; gradients
            # are bare arrays: the one a node passes down is the one its input's node receives
            if record is not None and (known.version == version or version is None):
                return record
            # a view of a held record still held (its memory unwritten since: a write would have copied it), as a
            # gradient passed down is met again as the .grad it became: a view of the same record, as _record makes it
            # (the record of the whole memory it would find recorded the same values)
            source = None if record is None else record._source
            if source is not None and source._held is not None:
                record = known.record = _as_view(source, record._shape)
                known.version = version
                return record
            record = known.record = self._record(array, version, made, known)
            known.version = version
            return record
        # met for the first time (or the id is another's now)
        if (base := array.base) is not None or type(array) is not _ndarray:
            known = self._arrays[key] = _Known(array)  # _met(array, False), inline
            known.made = False
            known.record = known.version = known.whole_version = known.whole = None
            # a view of all the memory of an array recorded whole and still held or unwritten since (a weight's
            # transpose, a gradient's): a view of that record, as _record finds it, without its walk
            if type(base) is _ndarray and base.base is None and (memory := self._arrays.get(id(base))) is not None and (
                    held := memory.whole) is not None and memory() is base and (
                    memory.whole_version == version or version is None or held._held is not None) and (
                    size := array.size) == base.size and size > self.keep_values and (
                    (dtype := base.dtype) is array.dtype or dtype == array.dtype) and (
                    (flags := array.flags).c_contiguous or flags.f_contiguous):
                record = known.record = _as_view(held, tuple(array.shape))
            else:
                record = known.record = self._record(array, version, made, known)
            known.version = version
        else:  # owns its memory: no record of the same memory to be a view of. Its entry, as _met makes it
            known = _Known(array)
            known.made = made
            known.version = known.whole_version = version
            if array.size <= self.keep_values:
                record = known.record = TensorRecord.capture(array, self.keep_values)
                known.whole = None
                if record._snapshot is not None:  # pending_bytes, read directly: a dtype trace files don't store
                    self._hold(record, array.nbytes)
            else:
                flags = array.flags
                dense = flags.c_contiguous or flags.f_contiguous  # all of its memory (see _record)
                if made or writes.is_private(array):
                    record = TensorRecord.hold(array, dense, array)
                else:
                    record = TensorRecord.capture(array, self.keep_values)
                known.record = record
                known.whole = record if dense else None
                self._snapshots.append(record)  # held or copied, the same bytes (see _hold)
                self._snapshot_total += array.nbytes
                if self._snapshot_total > self.snapshot_bytes:
                    self._summarise_waiting()
            self._arrays[key] = known
        if len(self._arrays) > self._prune_at:
            self._prune()
        return record

    def _record(self, array: np.ndarray, version: int | None, made: bool, known: _Known) -> TensorRecord:
        """A new record of `array` (`known` is its entry): a view of a record of the same memory (a weight and
        then its transpose, a gradient and then its transpose), else one of its own: held when gradscope
        made its memory while recording (`made` when first met) or it is private to gradscope
        (`writes.is_private`), else copied."""
        base = array.base
        if base is None:
            memory_array = array
            memory = owner = known if type(array) is np.ndarray else None
        else:  # the entries of the memory (met now, if not before) and of the array `array` is a view of
            memory_array = base if type(base) is _ndarray and base.base is None else memory_owner(array)
            if type(memory_array) is _ndarray:  # self._known(memory_array, made), inline
                memory = self._arrays.get(id(memory_array))
                if memory is None or memory() is not memory_array:
                    memory = self._arrays[id(memory_array)] = _Known(memory_array)  # _met(memory_array, made)
                    memory.made = made
                    memory.record = memory.version = memory.whole_version = memory.whole = None
            else:
                memory = None
            owner = memory if memory_array is base else self._known(base, False)
        if array.size <= self.keep_values:  # its values copied (a snapshot for a dtype trace files don't store)
            record = TensorRecord.capture(array, self.keep_values)
            if record._snapshot is not None:  # (see _capture)
                self._hold(record, array.nbytes)
            return record
        whole = dense = None
        # whether `array` covers all the memory of its owner's entry (the array itself, or the ndarray it is a view
        # of) in one dense block: it is that array, or a transpose or reshape of it. Arrays with the same whole
        # buffer hold the same values in the same memory order; a slice or a strided view doesn't cover its base's
        if owner is not None:
            flags = array.flags
            dense = flags.c_contiguous or flags.f_contiguous
            if dense and ((target := owner()) is array or target.size == array.size and (
                    (dtype := target.dtype) is array.dtype or dtype == array.dtype)):
                whole = owner
                held = owner.whole
                # the same memory, unwritten since: at the same version, or still held (a write would have copied it)
                if held is not None and (owner.whole_version == version or version is None or held._held is not None):
                    return _as_view(held, tuple(array.shape))
        if memory is not None and memory.made or writes.is_private(memory_array):
            record = TensorRecord.hold(array, dense, memory_array)
        else:
            record = TensorRecord.capture(array, self.keep_values)
        self._snapshots.append(record)  # held or copied, the same bytes (see _hold)
        self._snapshot_total += array.nbytes
        if self._snapshot_total > self.snapshot_bytes:
            self._summarise_waiting()
        if whole is not None:
            whole.whole = record
            whole.whole_version = version
        return record

    def _known(self, array, made: bool) -> _Known | None:
        """The entry of an ndarray `array`, made now when it is met for the first time (None for any other
        object)."""
        if type(array) is not np.ndarray:
            return None
        known = self._arrays.get(id(array))
        if known is None or known() is not array:
            known = self._arrays[id(array)] = _met(array, made)
        return known

    def _prune(self) -> None:
        """Drop the entries of arrays gone (no array can be met again once gone), so that a long recording
        keeps entries for the arrays alive and not for every one it ever met. NOTE: in bulk when the entries
        double, not by a weakref callback each: an entry then costs one plain weakref."""
        self._arrays = {key: known for key, known in self._arrays.items() if known() is not None}
        self._prune_at = max(PRUNE_AT, 2 * len(self._arrays))

    def _hold(self, record: TensorRecord, nbytes: int) -> None:
        """Keep track of a snapshot (or held array) of `nbytes`; past the budget, summarise every one still waiting."""
        self._snapshots.append(record)
        self._snapshot_total += nbytes
        if self._snapshot_total > self.snapshot_bytes:
            self._summarise_waiting()

    def _summarise_waiting(self) -> None:
        for waiting in self._snapshots:
            waiting.keep_statistics_only()
        self._snapshots.clear()
        self._snapshot_total = 0

    def node_id(self, node) -> int:
        """The trace id of a live node, registering nodes made before recording began."""
        return self._node_record(node).id

    def _node_record(self, node) -> NodeRecord:
        """The record of a live node, made when first met (with those of the nodes it leads to: a graph made
        before recording began is registered by the first event that names one of its nodes)."""
        record = self._records.get(node)
        if record is not None:
            return record
        node_id = len(self._records)
        if type(node) is AccumulateGrad:  # NodeRecord.named(node_id, "AccumulateGrad", "leaf", "leaf"), inline
            record = self._records[node] = _new_object(NodeRecord)
            record.id, record.name, record.op, record.kind = node_id, "AccumulateGrad", "leaf", "leaf"
            record.scope = record.source = record.leaf_name = None
            record.params, record.next, record.inputs, record.saved, record.hooks = {}, [], [], {}, []
            variable = node.variable
            record.outputs = [self._capture(variable)]
            self._leaves[node_id] = variable
        else:
            op, kind = (node.op.name, "op") if isinstance(node, OpNode) else (_op_name(node), _kind(node))
            call = getattr(node, "module_call", None)  # its scope, as Node.scope names it (unset: made unseen)
            if call is None:
                scope = None
            elif type(call) is not tuple:
                scope = call.scope
            else:  # (a call, the module it runs inline): a layer's ops share the pair, named once
                scope = self._inline_scopes.get(call)
                if scope is None:
                    scope = self._inline_scopes[call] = call[0].scope_of(call[1])
            record = self._records[node] = NodeRecord.named(node_id, node.name(), op, kind, scope)
            records = self._records
            # NOTE: a leaf's edge holds the leaf where its input number would be: 0 (see Tensor._leaf_edge)
            record.next = [(None if child is None else (records.get(child) or self._node_record(child)).id,
                            nr if type(child) is not AccumulateGrad else 0) for child, nr in node._next]
        self.trace.nodes[node_id] = record  # after the nodes it leads to, as the ids were given
        return record

    # observer events --------------------------------------------------------------------------
    def node_created(self, node, inputs, outputs) -> None:
        self._made(node, inputs, outputs)

    def op_recorded(self, op, node, inputs, outputs) -> None:
        """`node_created`, the saved values' events and `op_computed` of a node a fast path made, in one
        (dispatch.tell_observers): a value saved is an input's tensor or the output's array (`op.save_plan` says
        which), whose record `node_created` has just made. An op that made a node is no forward origin (see
        `op_computed`). NOTE: `_node_record` and `_made` inline, for an op's node just made (never met before, an
        OpNode of `op`, its module call set): the same record, made in the same order (its id, then the nodes it
        leads to), without their tests."""
        records = self._records
        node_id = len(records)
        call = node.module_call
        if call is None:
            scope = None
            source = user_source(sys._getframe(1))
        elif type(call) is tuple:  # (a call, the module it runs inline): a layer's ops share the pair, named once
            scope = self._inline_scopes.get(call)
            if scope is None:
                scope = self._inline_scopes[call] = call[0].scope_of(call[1])
            source = _call_source(call[0])  # made inline by a closed call (ModuleCall.inline): that call's line
        else:
            scope = call.scope
            source = _call_source(call) if call.closed else user_source(sys._getframe(1))
        # NodeRecord.named(node_id, node.name(), op.name, "op", scope), with its source and edges, inline
        record = records[node] = _new_object(NodeRecord)
        record.id, record.name, record.op, record.kind, record.scope = node_id, node.name(), op.name, "op", scope
        record.source, record.leaf_name = source, None
        attrs = node._attrs
        record.params = _params(op, attrs) if attrs else {}
        record.inputs, record.outputs, record.saved, record.hooks = [], [], {}, []
        record.next = [(None if child is None else (records.get(child) or self._node_record(child)).id,
                        nr if type(child) is not AccumulateGrad else 0) for child, nr in node._next]
        self.trace.nodes[node_id] = record  # after the nodes it leads to, as the ids were given
        record.inputs.extend(map(self._capture, inputs))  # into its own empty lists: none made to drop
        self._created.add(node_id)
        record.outputs.extend(map(self._capture, outputs, _MADE))
        if _pass_running() is None:  # (see _made). NOTE: its ForwardCheck made and queued (Trace.judge_later) inline
            trace = self.trace
            check = _new_object(ForwardCheck)
            check.node = record
            check.pass_index = len(trace.passes)
            trace._unjudged.append(check)
            self._judged_past_last_pass = True
        saved = record.saved
        for name, (is_output, index, _), entry in zip(op.saved_names, op.save_plan, node._saved):
            if type(entry) is tuple:  # a light entry: (array, version counter, version, input tensor or None, grad_fn)
                if is_output and outputs[index]._data is entry[0]:
                    saved[name] = record.outputs[index]
                elif not is_output and inputs[index] is entry[3]:
                    saved[name] = record.inputs[index]
                else:
                    saved[name] = self._capture(entry[0] if entry[3] is None else entry[3])

    def _made(self, node, inputs, outputs) -> NodeRecord:
        """The record of a node just made: its identity, source line (of who told the event: two frames out),
        inputs, outputs and params, and its forward check queued."""
        record = self._node_record(node)
        call = node.module_call
        if call is None:
            record.source = user_source(sys._getframe(2))
        elif type(call) is tuple:  # made inline by a closed call (ModuleCall.inline): that call's line
            record.source = _call_source(call[0])
        else:
            record.source = _call_source(call) if call.closed else user_source(sys._getframe(2))
        record.inputs.extend(map(self._capture, inputs))  # into its own empty lists: none made to drop
        if isinstance(node, OpNode):  # gradscope's own op: what it returns is its inputs' memory, or new
            self._created.add(record.id)
            record.outputs.extend(map(self._capture, outputs, _MADE))
            op = node.op
            if node._attrs:
                record.params = _params(op, node._attrs)
        else:
            record.outputs.extend(map(self._capture, outputs))
        # a node made by a backward pass (create_graph) is not the forward's: the pass judges its gradients
        if current_pass() is None:  # its anomaly belongs to the pass this forward feeds (settled in finish)
            self.trace.judge_later(ForwardCheck(record, len(self.trace.passes)))
            self._judged_past_last_pass = True
        return record

    def op_computed(self, op, inputs, outputs) -> None:
        """An op outside the autograd graph (its inputs don't require grad) has no node: it is recorded
        only when it is where a non-finite value was born."""
        for output in outputs:  # ForwardOrigins.check's first test, inline: most ops made a node
            if output._node is not None:
                return
        origin = _ORIGINS.check(op, inputs, outputs)
        if origin is not None:
            anomaly = Anomaly("forward", "culprit", None, len(self.trace.passes), origin.message, origin.op,
                              origin.source, origin.scope)
            nan = any(output._data.dtype.kind in "fc" and np.isnan(output._data).any() for output in outputs)
            mask_values = all(mask_array(output._data) for output in outputs if not np.isfinite(output._data).all())
            self.trace.judge_later(OutsideCheck(anomaly, bool(nan), mask_values))
            self._judged_past_last_pass = True

    def tensor_saved(self, node, name, saved) -> None:
        value = saved._tensor if saved._tensor is not None else saved._array
        if value is not None and not isinstance(value, (int, float, bool, complex)):
            self._node_record(node).saved[name] = self._capture(value)

    def backward_begin(self, roots, grads) -> None:
        self._close_pass()  # a pass run inside the one recorded (from a hook) takes its place
        if self.max_passes is not None and len(self.trace.passes) >= self.max_passes:
            return
        self._pass = PassRecord(index=len(self.trace.passes), roots=[self.node_id(node) for node in roots],
                                made_by=observers.made_by.get())
        self.trace.passes.append(self._pass)
        self._judged_past_last_pass = False

    def backward_node_start(self, node, grads) -> None:
        if self._pass is not None:
            node_id = (self._records.get(node) or self._node_record(node)).id
            if node._has_hooks:
                self._note_hooks(node_id, describe_hooks(node))
            self._pass.order.append(node_id)
            self._pass.grad_outputs[node_id] = list(map(self._capture, grads))

    def backward_node_end(self, node, grads) -> None:
        if self._pass is None:
            return
        node_id = (self._records.get(node) or self._node_record(node)).id
        made = node_id in self._created  # an op's rule, all of whose saved values were recorded
        self._pass.grad_inputs[node_id] = list(map(self._capture, grads, _MADE) if made else map(self._capture, grads))

    def grad_accumulated(self, tensor, grad) -> None:
        if self._pass is None:
            return
        accumulator = tensor._grad_accumulator()
        node_id = (self._records.get(accumulator) or self._node_record(accumulator)).id
        if accumulator._has_hooks or tensor._backward_hooks or tensor._post_accumulate_hooks:
            self._note_hooks(node_id, describe_hooks(accumulator))
        self._pass.order.append(node_id)
        # a .grad just made (accumulating into one bumps its version)
        self._pass.leaf_grads[node_id] = self._capture(grad, grad._version_counter[0] == 0)

    def _note_hooks(self, node_id: int, hooks: list[str]) -> None:
        record = self.trace.nodes[node_id]
        record.hooks.extend(h for h in hooks if h not in record.hooks)

    def backward_end(self) -> None:
        self._close_pass()

    def _close_pass(self) -> None:
        """The pass recorded is over, or stops being recorded: its nodes' checks are queued, in the order they ran
        (`BackwardChecks`), after the anomalies of the forward that fed it (nothing else is queued during a pass)."""
        if self._pass is not None:
            if self._pass.grad_inputs:
                self.trace.judge_later(BackwardChecks(self._pass))
            self._pass = None

    def root_module_called(self, module) -> None:
        self._roots.setdefault(id(module), module)

    # naming -----------------------------------------------------------------------------------
    def name_parameters(self, namespace: dict) -> None:
        """Name leaves after the script's variables: `model.fc1.weight` for module parameters, `w` for
        tensors; list module parameters that never joined a graph too (they got no gradient)."""
        named = root_module_parameters(self._roots.values())  # each tensor once
        if namespace:  # the script's variables first, then models the script's globals don't hold
            by_id = {id(tensor): (name, module, tensor) for name, module, tensor in named_parameters(namespace)}
            for entry in named:
                by_id.setdefault(id(entry[2]), entry)
            named = by_id.values()
        self._rename_scopes(namespace)
        nodes, parameters = self.trace.nodes, self.trace.parameters
        leaves = self._leaves
        unnamed = dict(zip(map(id, leaves.values()), leaves))  # id -> node id; leaves named below leave it
        for name, module, tensor in named:
            node_id = unnamed.pop(id(tensor), None)
            if node_id is not None:
                nodes[node_id].leaf_name = name
            parameters.append(Parameter(name, node_id, self._capture(tensor), module))
        if not unnamed:
            return
        in_user_passes = {node_id for record in self.trace.passes if record.made_by is None for node_id in record.order}
        for node_id, tensor in self._leaves.items():
            # a transform's own copies of its inputs (torch.func, autograd.functional) are no parameters
            if id(tensor) in unnamed and (node_id in in_user_passes or not in_user_passes):
                name = f"leaf{node_id}{list(tensor.shape)}"
                nodes[node_id].leaf_name = name
                parameters.append(Parameter(name, node_id, self._capture(tensor)))

    def _rename_scopes(self, namespace: dict) -> None:
        if not namespace:  # no variable to name a scope after
            return
        renamed: dict[str | None, str | None] = {}  # scope -> renamed (a trace has a few scopes, many nodes)
        for node in self.trace.nodes.values():
            scope = node.scope
            if scope not in renamed:
                renamed[scope] = rename_scope(scope, namespace)
            node.scope = renamed[scope]
        for anomaly in self.trace.found_and_queued():  # checks queued take their node's scope
            if isinstance(anomaly, OutsideCheck):
                anomaly = anomaly.anomaly
            if isinstance(anomaly, Anomaly):
                anomaly.scope = rename_scope(anomaly.scope, namespace)

    def _settle_forward_passes(self) -> None:
        """A forward anomaly belongs to the pass that ran after it; none when no pass did."""
        for item in self.trace.found_and_queued():  # anomalies and their checks (ForwardCheck) alike
            if isinstance(item, (Anomaly, ForwardCheck, OutsideCheck)) and item.pass_index is not None and (
                    item.pass_index >= len(self.trace.passes)):
                item.pass_index = None

    def finish(self, namespace: dict | None = None) -> Trace:
        """Name the leaves and drop every reference to live engine objects."""
        self.name_parameters(namespace or {})
        if self._judged_past_last_pass:  # else every forward check queued is a pass's that ran
            self._settle_forward_passes()
        self._roots.clear()
        self._leaves.clear()
        self._records.clear()
        self._arrays.clear()
        self._created.clear()
        self._inline_scopes.clear()
        self._snapshots.clear()  # the trace's records summarise themselves when read
        self._snapshot_total = 0
        return self.trace


def _call_source(call) -> SourceLocation | None:
    """The user's line a closed module call's ops come from: the one that made the call, or the closed call
    around it (only gradscope's code runs in a closed call), found once per call."""
    while call.frame is None and call.outer is not None and call.outer.closed:
        call = call.outer
    if call.source is None:
        call.source = user_source(call.frame)
    return call.source


def _hook_name(hook) -> str:
    return getattr(hook, "__qualname__", None) or getattr(hook, "__name__", None) or type(hook).__name__


def describe_hooks(node) -> list[str]:
    """The hooks registered on a live node (and, for a leaf, on its tensor), as short descriptions."""
    hooks = []
    for nr, registered in (node._tensor_hooks or {}).items():
        hooks += [f"tensor hook {_hook_name(h)} on output {nr}" for h in registered.values()]
    hooks += [f"pre-hook {_hook_name(h)}" for h in (node._pre_hooks or {}).values()]
    hooks += [f"retain_grad on output {nr}" for nr, ref in (node._retain_grad or {}).items() if ref() is not None]
    hooks += [f"post-hook {_hook_name(h)}" for h in (node._post_hooks or {}).values()]
    variable = getattr(node, "variable", None)
    if variable is not None:
        hooks += [f"tensor hook {_hook_name(h)}" for h in (variable._backward_hooks or {}).values()]
        hooks += [f"post-accumulate hook {_hook_name(h)}" for h in (variable._post_accumulate_hooks or {}).values()]
    return hooks


def rename_scope(scope: str | None, namespace: dict) -> str | None:
    """Scopes start with the root module's class name ("MLP.fc1"); use the script's variable name
    ("model.fc1") when exactly one variable holds a module of that class."""
    if not scope:
        return scope
    root, dot, rest = scope.partition(".")
    variables = [var for var, value in namespace.items()
                 if not var.startswith("_") and isinstance(value, gradscope.nn.Module) and type(value).__name__ == root]
    return variables[0] + dot + rest if len(variables) == 1 else scope


def named_parameters(namespace: dict) -> list[tuple[str, str | None, Tensor]]:
    """(name, module, tensor) for every leaf requiring grad a script's globals hold: `model.fc1.weight`
    (module `model.fc1`) for module parameters, `w` for plain tensors. Biggest modules first, so a
    layer also held in a loop variable is named by its model."""
    variables = sorted(((var, value) for var, value in namespace.items() if not var.startswith("_")),
                       key=lambda item: -len(list(item[1].parameters()))
                       if isinstance(item[1], gradscope.nn.Module) else 0)
    found: dict[int, tuple[str, str | None, Tensor]] = {}
    for var, value in variables:
        if isinstance(value, gradscope.nn.Module):
            for entry in model_parameters(var, value):
                found.setdefault(id(entry[2]), entry)
        elif isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
            found.setdefault(id(value), (var, None, value))
    return list(found.values())


def root_module_parameters(roots) -> list[tuple[str, str, Tensor]]:
    """(name, module, tensor) for the parameters of models called during a run but held by no global
    (built inside `main()`, say), named as their nodes' scopes are: `Net.fc1.weight`, module `Net.fc1`.
    Biggest models first, as in `named_parameters`."""
    listed = [model_parameters(root._scope_name or type(root).__name__, root) for root in roots]
    if len(listed) == 1:  # (each tensor once already: see model_parameters)
        return listed[0]
    found: dict[int, tuple[str, str, Tensor]] = {}
    for named in sorted(listed, key=lambda named: -len(named)) if len(listed) > 1 else listed:
        for entry in named:
            found.setdefault(id(entry[2]), entry)
    return list(found.values())


def model_parameters(prefix: str, model) -> list[tuple[str, str, Tensor]]:
    """(name, module, tensor) for each of `model.named_parameters()`, each tensor once (the first of a
    named_parameters overridden to list one twice), named under `prefix`: `prefix.fc1.weight`, module
    `prefix.fc1`. Kept between recordings while the model's parameters stay the same (nn._registry): every
    recording names its model's parameters, and walking a model costs as much as a few of its ops."""
    Module = gradscope.nn.Module
    cls = type(model)
    if cls.named_parameters is Module.named_parameters and cls._named_members is Module._named_members and (
            cls.named_modules is Module.named_modules):
        return _registry.kept_with(model, model._walk, Module.named_modules, prefix,
                                   partial(_named_under, prefix, model))
    return _named_under(prefix, model)


def _named_under(prefix: str, model) -> list[tuple[str, str, Tensor]]:
    named, seen = [], set()  # ids: a tensor's own __hash__ is Python code
    for name, param in model.named_parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        module = name.rpartition(".")[0]
        named.append((f"{prefix}.{name}", f"{prefix}.{module}" if module else prefix, param))
    return named


def _op_name(node) -> str:
    if isinstance(node, OpNode):
        return node.op.name
    fn = getattr(node, "_fn", None)
    if fn is not None:
        return fn.__name__
    return node.name()


def _kind(node) -> str:
    if isinstance(node, OpNode):
        return "op"
    if getattr(node, "_fn", None) is not None:
        return "function"
    return "other"
