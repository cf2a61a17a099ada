"""The trace data model: what a recording holds, independent of live engine objects.

The CLI, the TUI and the checks work on a `Trace` only, so a trace read back from a file behaves
exactly like one just recorded.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from gradscope._quiet import loud, quiet
from gradscope._stats import TensorStats, compute_stats, compute_stats_each
from gradscope.autograd import writes
from gradscope.trace import snapshots

_summarising = threading.Lock()  # held while a snapshot is read and given back (TensorRecord._summarise)
_judging = threading.Lock()  # held while a trace runs the checks of its anomalies (Trace.anomalies)


def _finite_array(array: np.ndarray) -> bool:
    """No NaN or inf in `array`: a finite sum proves it in one pass (NaN and inf survive any sum);
    only a sum that overflowed, or a non-finite array, needs the element-wise check. A dense float32 or
    float64 array is summed as its sum of squares, by BLAS (a dot product: ~2.5x faster than NumPy's
    pairwise sum; the terms are never negative, so an inf can't cancel)."""
    if array.dtype.kind not in "fc":
        return True
    token = quiet()
    try:
        flags = array.flags
        if array.dtype in _BLAS_REALS and (flags.c_contiguous or flags.f_contiguous):
            flat = array.reshape(-1, order="A")  # a view, in memory order
            total = np.dot(flat, flat)
        else:
            total = np.add.reduce(array, axis=None)
        return bool(np.isfinite(total) or np.isfinite(array).all())
    finally:
        loud(token)


_BLAS_REALS = (np.dtype(np.float32), np.dtype(np.float64))


def _storable(dtype: np.dtype) -> bool:
    """Whether trace files keep values of this dtype (bool, integers, float16/32/64); others
    (complex …) are kept as statistics, which is all a trace reader accepts of them."""
    return dtype.kind in "biu" or (dtype.kind == "f" and dtype.itemsize <= 8)


# the type codes of those dtypes (a code fixes kind and size, whatever the byte order): one test per record captured
_STORABLE_CODES = frozenset(code for code in np.typecodes["All"] if _storable(np.dtype(code)))


class TensorRecord:
    """Statistics of one tensor, and its values when small enough to keep (read lazily from files).

    Statistics are computed the first time someone asks for them, never before: a tensor whose values
    are kept has them computed from the values then; a bigger one is recorded as a *snapshot*, a private
    copy of its values (one pass over memory, where the statistics take a dozen), summarised and dropped
    on first access. An array no one can write unannounced (gradscope.autograd.writes) is *held* instead:
    referenced, and copied into a snapshot only if a write into its memory comes before the first read.
    Either way readers see the statistics of the tensor as it was when recorded, and a recording pays
    at most for copies. A view of a snapshotted array covering the same memory (a weight and
    its transpose) is recorded `as_view` of it: no second copy, the same statistics under its own shape.
    One read from a file knows its `shape` without reading the values."""

    __slots__ = ("_stats", "_values", "_loader", "_shape", "_snapshot", "_held", "_source", "_finite", "__weakref__")

    def __init__(self, stats: TensorStats | None = None, values: np.ndarray | None = None,
                 loader: Callable[[], np.ndarray] | None = None, shape: tuple[int, ...] | None = None,
                 snapshot: np.ndarray | None = None, source: TensorRecord | None = None,
                 held: np.ndarray | None = None) -> None:
        self._stats = stats
        self._values = values
        self._loader = loader
        self._shape = shape
        self._snapshot = snapshot
        self._held = held  # the recorded array itself, until read or about to be written
        self._source = source
        self._finite: bool | None = None
        if snapshot is not None:
            self.__class__ = _Snapshotted
        derived = shape is not None and (loader is not None or source is not None)
        if stats is None and values is None and snapshot is None and held is None and not derived:
            raise ValueError("a tensor record needs statistics, values, a snapshot, or a loader or source and a "
                             "shape")

    @classmethod
    def capture(cls, array: np.ndarray, keep_limit: int) -> TensorRecord:
        """Record `array` as it is now: a copy of its values, kept when it has at most `keep_limit`
        elements, else a snapshot that only ever shows as statistics (computed on demand either way)."""
        record = _new_object(cls)  # as cls(...) makes it, without its checks: a few dozen per training step
        record._stats = record._loader = record._shape = record._source = record._finite = record._held = None
        if array.size <= keep_limit and array.dtype.char in _STORABLE_CODES:
            record._values = np.array(array, copy=True)
            record._snapshot = None
        else:
            record._values = None
            record._snapshot = snapshots.snapshot(array)
            record.__class__ = _Snapshotted
        return record

    @classmethod
    def hold(cls, array: np.ndarray, dense: bool | None = None, owner: np.ndarray | None = None) -> TensorRecord:
        """Record `array` by reference: its statistics as they are now, copied only before a write into its
        memory changes them. The caller knows no one holds it who writes unannounced (the recorder: an
        array gradscope made while recording). Falls back to a snapshot for memory that can't be held. A caller
        that knows may say whether `array` is C or Fortran contiguous (`dense`) and the owner of its memory
        (`writes.hold`)."""
        record = _new_object(cls)
        record._stats = record._loader = record._shape = record._source = record._finite = record._values = None
        record._held = array
        record._snapshot = None
        if dense is None:
            flags = array.flags
            dense = flags.c_contiguous or flags.f_contiguous
        # (a strided array's copy is contiguous: its sums could differ in the last bit)
        if not (dense and writes.hold(array, record, owner)):
            record._held, record._snapshot = None, snapshots.snapshot(array)
            record.__class__ = _Snapshotted
        return record

    @property
    def held(self) -> np.ndarray | None:
        """The recorded array itself while it is held (gradscope.autograd.writes counts this reference)."""
        return self._held

    def preserve(self) -> None:
        """A write into the held array's memory is coming: copy it first (gradscope.autograd.writes calls this)."""
        with _summarising:
            if self._held is not None:
                if self._stats is None:
                    self._snapshot = snapshots.snapshot(self._held)
                    self.__class__ = _Snapshotted
                self._held = None

    @classmethod
    def as_view(cls, source: TensorRecord, shape: tuple[int, ...]) -> TensorRecord:
        """A record of the values `source` recorded, seen with another `shape` in the same memory order
        (statistics don't depend on the order: the same figures, the same bits)."""
        record = _new_object(cls)
        record._stats = record._loader = record._finite = record._values = record._snapshot = record._held = None
        record._source = source
        record._shape = shape
        return record

    @property
    def stats(self) -> TensorStats:
        if self._stats is None:
            if self._source is not None:
                self._stats = replace(self._source.stats, shape=self._shape)
                self._source = None
            elif self._snapshot is not None or self._held is not None:
                self._summarise()
            else:
                self._stats = compute_stats(self.values)
        return self._stats

    @staticmethod
    def compute_all_stats(records: Iterable[TensorRecord]) -> None:
        """Compute now the statistics the records with values don't have yet: tensors of one dtype and
        shape together (`compute_stats_each`: the same figures, without a call per tensor), identical
        tensors (the zero gradient of every layer of a deep model) once, sharing one TensorStats."""
        groups: dict[tuple, list[list[TensorRecord]]] = {}  # (dtype, shape) → records alike in values
        for alike in _alike([record for record in records if record._stats is None and record.has_values]):
            values = alike[0]._values
            groups.setdefault((values.dtype, values.shape), []).append(alike)
        for group in groups.values():
            for alike, stats in zip(group, compute_stats_each([alike[0]._values for alike in group])):
                for record in alike:
                    record._stats = stats

    def _summarise(self) -> None:
        """Statistics from the held array or the snapshot, whose memory then goes back to the pool: once,
        whichever thread asks first (a second release of the same memory would hand it to two later
        snapshots); a held array can't be written meanwhile (`preserve` waits)."""
        with _summarising:
            if self._stats is None:
                if self._held is not None:
                    self._stats = compute_stats(self._held)
                else:
                    self._stats = compute_stats(self._snapshot)
                    snapshots.release(self._snapshot)
            self._held = self._snapshot = None

    def __getstate__(self) -> tuple:
        """What a copy (or pickle) holds: never the snapshot, whose memory goes back to the pool (two
        records sharing it would give it back twice), nor a held array, so it is summarised first."""
        self.stats  # noqa: B018 - computed for the side effect
        return None, {name: getattr(self, name) for name in TensorRecord.__slots__ if name != "__weakref__"}

    @property
    def pending_bytes(self) -> int:
        """The memory a snapshot or held array not yet summarised keeps (0 once its statistics are computed)."""
        array = self._snapshot if self._held is None else self._held
        return 0 if array is None else array.nbytes

    @property
    def finite(self) -> bool:
        """No NaN or inf in it: read from the values or snapshot while no statistics were computed (far
        cheaper), once (they don't change)."""
        if self._finite is None:
            if self._stats is None and self._source is not None:
                self._finite = self._source.finite
            elif self._stats is None and self._values is not None:
                self._finite = _finite_array(self._values)
            elif self._stats is None and (self._snapshot is not None or self._held is not None):
                with _summarising:  # not while another thread gives the snapshot back or writes the held array
                    array = self._snapshot if self._held is None else self._held
                    self._finite = _finite_array(array) if array is not None else self._stats.finite
            else:
                self._finite = self.stats.finite
        return self._finite

    def keep_statistics_only(self) -> None:
        """Drop the values (and any snapshot), keeping their statistics (computed now if they weren't yet)."""
        self._stats = self.stats
        self._values = self._loader = None

    @property
    def has_values(self) -> bool:
        return self._values is not None or self._loader is not None

    @property
    def values(self) -> np.ndarray | None:
        if self._values is None and self._loader is not None:
            self._values = self._loader()
            self._loader = None
        return self._values

    @property
    def shape(self) -> tuple[int, ...]:
        array = self._values if self._values is not None else self._snapshot if self._held is None else self._held
        if array is not None:
            return tuple(array.shape)
        return self._shape if self._shape is not None else self.stats.shape


class _Snapshotted(TensorRecord):
    """A record that made a snapshot: dropped unread, it gives the snapshot's memory back to the pool. NOTE: only
    these have a finaliser, which every record would run when dropped (a step's trace drops dozens, most held)."""

    __slots__ = ()

    def __del__(self) -> None:
        if self._snapshot is not None:  # dropped unread: its memory serves the next recording
            snapshots.release(self._snapshot)


_new_object = object.__new__


def _alike(records: list[TensorRecord]) -> list[list[TensorRecord]]:
    """Records with values grouped by them: the same dtype, shape and bytes (a checksum of the memory
    finds the candidates without copying it, a comparison decides)."""
    found: dict[tuple, list[list[TensorRecord]]] = {}
    for record in records:
        values = record.values
        candidates = found.setdefault((values.dtype, values.shape, zlib.crc32(np.ascontiguousarray(values))), [])
        for alike in candidates:
            if alike[0]._values.tobytes() == values.tobytes():
                alike.append(record)
                break
        else:
            candidates.append([record])
    return [alike for candidates in found.values() for alike in candidates]


@dataclass
class SourceLocation:
    """Where the user's code created a node: the first stack frame outside gradscope."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(slots=True)  # no instance dict: a trace holds one per node, and a recording makes one per node and step
class NodeRecord:
    """One backward node with what its forward op saw."""

    id: int
    name: str  # PyTorch's node name: MulBackward0, AccumulateGrad, MyFnBackward
    op: str  # the forward op: mul, exp, leaf, MyFn
    kind: str  # "op", "leaf", "function" (custom autograd.Function) or "other"
    scope: str | None = None
    source: SourceLocation | None = None
    params: dict[str, str] = field(default_factory=dict)
    next: list[tuple[int | None, int]] = field(default_factory=list)
    inputs: list[TensorRecord | None] = field(default_factory=list)
    outputs: list[TensorRecord | None] = field(default_factory=list)
    saved: dict[str, TensorRecord] = field(default_factory=dict)
    leaf_name: str | None = None  # the parameter or variable name of a leaf
    hooks: list[str] = field(default_factory=list)  # hooks seen on the node during backward

    @property
    def label(self) -> str:
        return self.leaf_name or self.name

    @classmethod
    def named(cls, id: int, name: str, op: str, kind: str, scope: str | None = None) -> NodeRecord:
        """`NodeRecord(id, name, op, kind, scope=scope)`: its identity, the rest empty, made without the
        dataclass `__init__`'s test of each default (the recorder makes one per node)."""
        record = _new_object(cls)
        record.id, record.name, record.op, record.kind, record.scope = id, name, op, kind, scope
        record.source = record.leaf_name = None
        record.params, record.next, record.inputs, record.outputs, record.saved, record.hooks = {}, [], [], [], {}, []
        return record


@dataclass
class PassRecord:
    """One backward pass: the gradients that flowed through each node."""

    index: int
    roots: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # nodes in the order they ran
    grad_outputs: dict[int, list[TensorRecord | None]] = field(default_factory=dict)  # into each node
    grad_inputs: dict[int, list[TensorRecord | None]] = field(default_factory=dict)  # out of each node
    leaf_grads: dict[int, TensorRecord] = field(default_factory=dict)  # .grad after accumulation
    made_by: str | None = None  # "torch.func", "torch.autograd.functional": a pass the user didn't call directly


@dataclass
class Anomaly:
    """A non-finite value: where it started (culprit) or where it only passed through (propagator).

    `node` is the backward node of the op, or None for an op outside the autograd graph (none of its
    inputs required grad: data preprocessing, a mask, a no_grad block), which is recorded by its
    op, source line and scope alone. `pass_index` is the backward pass the value belongs to: the pass
    it was found in (backward), or the pass the forward op fed (the next one to run; None when no
    backward ran after it).
    """

    phase: str  # "forward" or "backward"
    role: str  # "culprit" or "propagator"
    node: int | None
    pass_index: int | None
    message: str
    op: str | None = None  # the forward op (`log`), the node's op for anomalies in the graph
    source: SourceLocation | None = None
    scope: str | None = None

    @property
    def in_graph(self) -> bool:
        return self.node is not None


@dataclass
class Masked:
    """A check's verdict that a forward anomaly was a mask (`masked_fill(mask, -inf)` before a softmax; see
    `gradscope.trace.diagnosis.absorbed`): no anomaly, kept in `Trace.masks` to say where masks were."""

    anomaly: Anomaly


@dataclass(slots=True)  # no instance dict: a recording makes one per parameter and step
class Parameter:
    """A leaf that requires grad, with the name the script knows it by."""

    name: str
    node: int | None  # its AccumulateGrad node, if it took part in a graph
    value: TensorRecord
    module: str | None = None


@dataclass
class Trace:
    """A recording: its nodes, backward passes, parameters and anomalies.

    A recording finds its anomalies when they are first read, as it computes statistics: it queues each
    check (`judge_later`), which reads the recorded values (as they were when recorded, see `TensorRecord`),
    and a read of `anomalies` runs the checks waiting, in the order they were queued. Forward infinities a
    check found to be masks (`Masked`) go to `masks` instead: not counted, but not hidden either."""

    nodes: dict[int, NodeRecord] = field(default_factory=dict)
    passes: list[PassRecord] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    _anomalies: list[Anomaly] = field(default_factory=list, repr=False)
    _masks: list[Anomaly] = field(default_factory=list, repr=False)
    # anomalies found already, and checks (`check(trace) -> Anomaly | Masked | None`, or the anomalies of several
    # checks in a list), in the order queued
    _unjudged: list[Anomaly | Callable[[Trace], Anomaly | Masked | list[Anomaly] | None]] = field(
        default_factory=list, repr=False)
    _first_uses: tuple[int, dict] | None = field(default=None, repr=False, compare=False)  # (len(nodes), found)

    @property
    def anomalies(self) -> list[Anomaly]:
        if self._unjudged:
            with _judging:  # another thread reading them waits for the list to be whole
                unjudged = self._unjudged
                done = 0
                for item in unjudged:  # NOTE: by index: a recording may queue more meanwhile
                    verdict = item if isinstance(item, Anomaly) else item(self)
                    if isinstance(verdict, Masked):
                        self._masks.append(verdict.anomaly)
                    elif isinstance(verdict, list):
                        self._anomalies += verdict
                    elif verdict is not None:
                        self._anomalies.append(verdict)
                    done += 1
                del unjudged[:done]
        return self._anomalies

    @anomalies.setter
    def anomalies(self, anomalies: list[Anomaly]) -> None:
        self._anomalies = anomalies
        self._unjudged = []

    @property
    def masks(self) -> list[Anomaly]:
        """The forward anomalies that were masks, in the order found: ops that wrote infinities on purpose
        (culprits) or handed them on (propagators), which the pass kept out of its loss and gradients."""
        self.anomalies  # noqa: B018 - judging the checks queued sorts out the masks
        return self._masks

    @masks.setter
    def masks(self, masks: list[Anomaly]) -> None:
        self._masks = masks

    def first_uses(self) -> dict[int, SourceLocation]:
        """Node id → the source line of the first node (by id) that took it as an input: where a leaf was
        first used. Computed once for all passes (again only if nodes were added since)."""
        if self._first_uses is None or self._first_uses[0] != len(self.nodes):
            found: dict[int, SourceLocation] = {}
            for node in sorted(self.nodes.values(), key=lambda node: node.id):
                if node.source is not None:
                    for child, _ in node.next:
                        if child is not None:
                            found.setdefault(child, node.source)
            self._first_uses = (len(self.nodes), found)
        return self._first_uses[1]

    def judge_later(self, item: Anomaly | Callable[[Trace], Anomaly | Masked | list[Anomaly] | None]) -> None:
        """Queue an anomaly found, or a check that finds one or None (or a list of anomalies: several checks in
        one), for the next read of `anomalies`."""
        self._unjudged.append(item)

    def found_and_queued(self) -> list[Anomaly | Callable[[Trace], Anomaly | Masked | list[Anomaly] | None]]:
        """The anomalies found so far, then what is queued (see `judge_later`), without running any check."""
        return [*self._anomalies, *self._unjudged]

    def children(self, node_id: int) -> list[int]:
        return [child for child, _ in self.nodes[node_id].next if child is not None]

    def parameter_grad(self, parameter: Parameter, pass_index: int = -1) -> TensorRecord | None:
        """The parameter's `.grad` after the given pass (the last by default)."""
        if not self.passes or parameter.node is None:
            return None
        return self.passes[pass_index].leaf_grads.get(parameter.node)

    def user_passes(self) -> list[int]:
        """The indices of the passes the script asked for itself (backward(), autograd.grad), not those a
        transform (torch.func, autograd.functional) made on its behalf."""
        return [record.index for record in self.passes if record.made_by is None]

    def culprits(self) -> list[Anomaly]:
        return [a for a in self.anomalies if a.role == "culprit"]

