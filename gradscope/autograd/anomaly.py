"""Anomaly detection: PyTorch's `detect_anomaly` / `set_detect_anomaly`, plus gradscope's extensions.

PyTorch behaviour, exactly: entering `detect_anomaly` warns; every node records the forward call
stack (`node.metadata['traceback_']`); when a backward node fails the engine warns "Error detected
in X. Traceback of forward call that caused the error: …" and re-raises; with `check_nan` a node
that returns NaN raises "Function 'X' returned nan values in its 0th output.". The mode is
process-wide.

gradscope adds, off by default: `check_inf` (Inf counts too), `check_forward` (raise at the first op
whose forward output turns non-finite from finite inputs), `allow` (op, node-name or scope patterns
whose non-finite values are intended, e.g. '-inf' attention masks), and an `AnomalyReport` on the
raised error: the culprit node as opposed to the nodes that only propagate, its forward op, the
user's source line, its module scope, and statistics of its saved tensors and gradients.

The mode costs little (issue 15): it is no engine observer, so recording and the engine keep their fast
paths and call its checker directly; stacks are kept as links shared between nodes and formatted only
when someone looks (stacks.py); a gradient is checked in one BLAS pass.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import sys
import warnings
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np

from gradscope._diagnosis import describe, forward_origin, role, why_backward, why_forward
from gradscope._quiet import loud, quiet
from gradscope._stats import TensorStats, compute_stats
from gradscope.autograd import errors, observers, stacks
from gradscope.autograd.grad_mode import AnomalyMode as _Mode
from gradscope.autograd.grad_mode import anomaly_mode, set_anomaly_mode
from gradscope.autograd.node import _validate_all, padded
from gradscope.autograd.saved import SavedTensor
from gradscope.autograd.stacks import capture_stack, forget_stacks, format_stack, stack_out, user_location
from gradscope.ops.namespace import NUMPY


def _set(mode: _Mode) -> None:
    set_anomaly_mode(mode)
    _CHECKER.set_mode(mode)  # (both: a backward running in another thread keeps the one it began with)
    _EXTENDED.set_mode(mode)
    observers.set_checker((_EXTENDED if mode.check_inf or mode.check_forward else _CHECKER) if mode.enabled else None)
    if not mode.enabled:
        forget_stacks()


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly detection on or off now; as a context manager, restore the previous state on exit."""

    def __init__(self, mode: bool, check_nan: bool = True, *, check_inf: bool = False, check_forward: bool = False,
                 allow=()) -> None:
        self.previous = anomaly_mode()
        _set(_Mode(bool(mode), check_nan, check_inf, check_forward, tuple(allow)))

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        _set(self.previous)


class detect_anomaly:  # noqa: N801
    """Context manager / decorator enabling anomaly detection (warns, as PyTorch does, that it costs time).

    >>> with detect_anomaly(check_inf=True, check_forward=True, allow=["masked_fill"]):
    ...     loss.backward()
    """

    def __init__(self, check_nan: bool = True, *, check_inf: bool = False, check_forward: bool = False,
                 allow=()) -> None:
        self.mode = _Mode(True, check_nan, check_inf, check_forward, tuple(allow))
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self.previous = anomaly_mode()
        _set(self.mode)

    def __exit__(self, *exc) -> None:
        _set(self.previous)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper


# --------------------------------------------------------------------------------------- reports
@dataclass
class AnomalyReport:
    """What went non-finite, where, and why: attached to the error anomaly mode raises (`error.report`)."""

    phase: str  # "forward" or "backward"
    role: str  # "culprit": finite in, non-finite out; "propagator": non-finite already came in
    node: object = field(repr=False)  # None for an op outside the autograd graph (no input requires grad)
    node_name: str | None
    op: str
    output_index: int
    scope: str | None
    location: str | None  # the user's file.py:LINE that created the node
    reason: str
    outputs: list[TensorStats | None]
    incoming: list[TensorStats | None]
    saved: dict[str, TensorStats]

    def __str__(self) -> str:
        lines = [f"gradscope anomaly report: {self.role} in the {self.phase} pass"]
        if self.node_name is None:
            lines.append(f"  op        {self.op} (outside the autograd graph: none of its inputs requires grad)")
        else:
            lines.append(f"  node      {self.node_name} (op {self.op})")
        if self.location:
            lines.append(f"  created   {self.location}")
        if self.scope:
            lines.append(f"  scope     {self.scope}")
        lines.append(f"  why       {self.reason}")
        for i, stats in enumerate(self.outputs):
            if stats is not None:
                lines.append(f"  output {i}  {_summary(stats)}")
        for i, stats in enumerate(self.incoming):
            if stats is not None:
                lines.append(f"  {'input ' if self.phase == 'forward' else 'grad in'} {i}  {_summary(stats)}")
        for name, stats in self.saved.items():
            lines.append(f"  saved {name}  {_summary(stats)}")
        return "\n".join(lines)


def _summary(stats: TensorStats) -> str:
    text = f"{list(stats.shape)} {stats.dtype}: {describe(stats)}"
    if stats.numel:
        text += f", min {stats.min:.4g}, max {stats.max:.4g}, zeros {stats.zero_fraction:.0%}"
    return text


def _stats(value) -> TensorStats | None:
    if value is None:
        return None
    array = value._data if hasattr(value, "_data") else np.asarray(value)
    return compute_stats(array)


def _op_name(node) -> str:
    op = getattr(node, "op", None)
    if op is not None:
        return op.name
    fn = getattr(node, "_fn", None)
    return fn.__name__ if fn is not None else node.name()


def _saved_stats(node, saved=None) -> dict[str, TensorStats]:
    """Statistics of the tensors `node` saved; `saved`: its entries as they were before its rules ran (running
    them may free them), else the node's own."""
    op = getattr(node, "op", None)
    if saved is None:
        saved = getattr(node, "_saved", None) or getattr(node, "_saved_for_backward", None) or ()
    names = op.saved_names if op is not None and not op.variadic else [f"saved_tensors[{i}]" for i in range(len(saved))]
    result = {}
    for name, entry in zip(names, saved):
        if type(entry) is tuple:  # a light entry (see dispatch._record_simple): the array first
            result[name] = compute_stats(np.asarray(entry[0]))
        elif isinstance(entry, SavedTensor) and entry._array is not None and not entry._freed:
            result[name] = compute_stats(np.asarray(entry._array))
    return result


def _allowed(node, mode: _Mode) -> bool:
    if not mode.allow:
        return False
    candidates = [_op_name(node), node.name(), node.scope or ""]
    return any(fnmatch.fnmatchcase(text, pattern) for pattern in mode.allow for text in candidates)


def _surely_finite(array) -> bool:
    """True if `array` holds no nan and no inf, for most arrays in one BLAS pass without a temporary; False
    means "look closer" (`_nonfinite_kind`)."""
    kind = array.dtype.kind
    if kind != "f":
        return kind != "c"  # complex: look closer; integers and booleans are finite
    flat = array if array.ndim == 1 else array.ravel("K")  # a view of any dense array, transposed ones too
    # NOTE: squares are never negative, so they can't cancel: their sum is nan only if a nan is in, and
    # finite unless an inf is in or the sum overflowed. Compared as a Python float: a NumPy scalar compared
    # with one is converted to an array first
    return float(flat.dot(flat)) < _INF


def _uncast(node, outputs) -> bool:
    """Whether routing casts none of `outputs` (a cast may overflow to inf)."""
    for g, meta in zip(outputs, node._input_meta):
        if g is not None and meta is not None and g.dtype is not meta[1]:
            return False
    return True


def _nonfinite_kind(array, mode: _Mode) -> str | None:
    """"nan" or "inf" if `array` holds a value `mode` checks for, else None."""
    if _surely_finite(array):
        return None
    if mode.check_nan and np.isnan(array).any():
        return "nan"
    if mode.check_inf and np.isinf(array).any():
        return "inf"
    return None


# the backward nodes running in this context (thread), innermost last; None until one runs here
_RUNNING: ContextVar[list | None] = ContextVar("gradscope_anomaly_running", default=None)
# one entry per node in any context's list: while it is empty, no context's list need be read (a node made then is
# no backward node's). NOTE: a list, as list.append and list.pop are atomic (a count's `+= 1` is not)
_RUNNING_ANYWHERE: list = []


class AnomalyChecker:
    """Anomaly mode's work, done for the engine while the mode is on (`observers.checker`): dispatch hands
    it each node it makes, the engine each node it runs."""

    def __init__(self) -> None:
        self.set_mode(anomaly_mode())

    def set_mode(self, mode: _Mode) -> None:
        """What it checks: kept in step with the mode by _set."""
        self.mode = mode
        self.check_forward = mode.check_forward
        self.checks = mode.check_nan or mode.check_inf
        self.check_inf = mode.check_inf

    def in_backward(self) -> bool:
        """Whether a backward node is running in this thread (ops it runs are its, not the user's)."""
        return bool(_RUNNING_ANYWHERE) and bool(_RUNNING.get())

    def node_made(self, node, skip: int = 4) -> bool:
        """Keep the forward stack (and the module scope) that made `node`; True if its outputs are to be checked too
        (check_forward's: the caller then calls `forward_made`, so that the tuples of inputs and outputs are made only
        for a mode that reads them, ~100 ns a node otherwise). `skip`: the innermost frames surely gradscope's, from
        capture_stack's out: it, this one, and the recorder and its caller (dispatch's), or the one-frame forward
        (fused.py passes 3)."""
        call = _CALLS_GET()
        if call is None:
            node.frames = stack_out(_GETFRAME(skip - 1))  # capture_stack(skip), one call fewer
        else:
            if call.closed and (stack := call.stack) is not None:  # capture_stack's commonest case
                node.frames = stack
            else:
                node.frames = capture_stack(skip, call)
            node.module_call = call.inline or call  # (a module's forward the call runs inline made it: its call)
        if _RUNNING_ANYWHERE and (running := _RUNNING.get()):  # made by a backward node (create_graph): remember
            node.anomaly_parent = running[-1]                   # which, for double-backward errors
        return False  # (the default mode's checker checks no forward: see _ExtendedChecker)

    def nodes_made(self, view_node, node, skip: int = 4) -> bool:
        """node_made for two nodes made in one frame, so with one stack, module call and parent; one call, not two. A
        linear layer's one-frame forward (fused_products.linear) hands it weight.t()'s TBackward0 (`view_node`) and the
        product's `node`; True if their outputs are to be checked too: the caller then calls forward_made for each, the
        view's first, as the general path does (after the product, not before it: a transpose turns no finite value
        non-finite, so the view's check never raises). Under the default checks alone, cross_entropy's (fused_losses)
        hands it log_softmax's node and nll_loss's, and the RNN cell's step (fused_cells) its six nodes in pairs."""
        call = _CALLS_GET()
        if call is None:
            view_node.frames = node.frames = stack_out(_GETFRAME(skip - 1))
        else:
            if call.closed and (stack := call.stack) is not None:
                view_node.frames = node.frames = stack
            else:
                view_node.frames = node.frames = capture_stack(skip, call)
            view_node.module_call = node.module_call = call.inline or call
        if _RUNNING_ANYWHERE and (running := _RUNNING.get()):
            view_node.anomaly_parent = node.anomaly_parent = running[-1]
        return False

    def node_created(self, node, inputs, outputs, skip: int = 4) -> None:
        """node_made, then forward_made if asked: for callers that have the tuples at hand (dispatch's general
        recorder, Function.apply)."""
        if self.node_made(node, skip + 1):  # (one frame more: this one)
            self.forward_made(node, inputs, outputs)

    def forward_made(self, node, inputs, outputs) -> None:
        """With check_forward: raise if `node` (just made, see node_made) turned finite inputs into a non-finite
        output."""
        if _allowed(node, self.mode):
            return
        for index, out in enumerate(outputs):
            data = out._data
            token = quiet()
            try:
                kind = _nonfinite_kind(data, _CHECK_ALL)
            finally:
                loud(token)
            if kind is None:
                continue
            incoming = [_stats(x) if hasattr(x, "_data") else None for x in inputs]
            if role(incoming, [compute_stats(data)]) != "culprit":
                return  # non-finite inputs: the culprit was reported (or allowed) upstream
            report = AnomalyReport("forward", "culprit", node, node.name(), _op_name(node), index, node.scope,
                                   user_location(node.frames), why_forward(_op_name(node), incoming),
                                   [_stats(o) for o in outputs], incoming, {})
            error = RuntimeError(f"Function '{node.name()}' returned {kind} values in its {index}th output "
                                 f"during the forward pass (op {_op_name(node)}).")
            raise _with_report(error, report)

    def op_computed(self, op, inputs, outputs) -> None:
        """With check_forward, an op that made no node (its inputs don't require grad) is checked too: data
        preprocessing on tensors that don't require grad is where non-finite values are often born. The fast
        paths (fused.py, fused_products, apply) and `dispatch._finish` hand it every op that made no node
        (views can't make a non-finite value), only while `check_forward` is on."""
        mode = self.mode
        if self.in_backward() or any(out._node is not None for out in outputs):
            return
        scope = observers.current_scope()
        if mode.allow and any(fnmatch.fnmatchcase(text, pattern) for pattern in mode.allow
                              for text in (op.name, scope or "")):
            return
        if forward_origin(op.name, inputs, outputs) is None:
            return
        token = quiet()
        try:
            index, kind = next((i, kind) for i, out in enumerate(outputs)
                               if (kind := _nonfinite_kind(out._data, _CHECK_ALL)) is not None)
        finally:
            loud(token)
        incoming = [_stats(x) if hasattr(x, "_data") else None for x in inputs]
        report = AnomalyReport("forward", "culprit", None, None, op.name, index, scope,
                               user_location(capture_stack()), why_forward(op.name, incoming),
                               [_stats(o) for o in outputs], incoming, {})
        error = RuntimeError(f"Op '{op.name}' returned {kind} values in its {index}th output during the forward "
                             "pass (outside the autograd graph: none of its inputs requires grad).")
        raise _with_report(error, report)

    # the engine begins a backward pass in this thread: the forward stacks let go of the step's frame
    backward_begins = staticmethod(stacks.let_go_of_the_step)

    def node_started(self, node) -> None:
        """`node` is about to run and may make nodes (create_graph, hooks, custom Functions): they are its."""
        running = _RUNNING.get()
        if running is None:
            running = []
            _RUNNING.set(running)
        running.append(node)
        _RUNNING_ANYWHERE.append(None)

    def run_node(self, node, grads: list, free: bool) -> list:
        """The engine's plain path: run `node`'s rules on `grads` and check what they return, not yet summed to its
        inputs' shapes nor cast to their dtypes (routing does that), as routing will give it to its inputs.

        NOTE: a float output whose squares sum to a finite number holds no nan and no inf, and summed to a
        shape it gets none (each sum is at most sqrt(n) times the square root of that one), and cast it gets
        no nan; so it is cleared as it is (unless inf is checked too and it is to be cast: _ExtendedChecker's).
        An output the screen doesn't clear is validated first and looked at closely.
        """
        saved = node._saved  # for the report: the rules may free them
        outputs = node._vjp(node, grads, free)
        try:  # (screened whatever the mode checks: a mode that checks neither nan nor inf is rare)
            for g in outputs:
                if g is None:
                    continue
                flat = g.ravel("K")  # a view of any dense array, transposed ones too
                # NOTE: only a sum of float32 or float64 squares clears an output (its type: cheaper than testing
                # the array's dtype): others are looked at closely (a float16 sum to a shape may overflow, complex
                # squares may cancel). math.isfinite, not a comparison: a NumPy scalar compared with a float
                # becomes an array first
                squares = flat.dot(flat)
                if (type(squares) is _FLOAT32 or type(squares) is _FLOAT64) and _ISFINITE(squares):
                    continue
                break
            else:
                return outputs
        except (AttributeError, TypeError):  # an output without ravel (a Python number), or of objects: looked at
            pass                               # closely
        if self.checks:
            _validate_all(node, outputs, NUMPY)
            self.node_finished(node, padded(node, grads), outputs, saved)
        return outputs

    def node_finished(self, node, grads, outputs, saved=None) -> None:
        """`node` turned `grads` into `outputs` (summed and cast to its inputs'): check them. `saved`: its saved
        entries before it ran, for the report (else its own)."""
        running = _RUNNING.get()
        if running and running[-1] is node:
            running.pop()
            _RUNNING_ANYWHERE.pop()
        mode = self.mode
        if not (mode.check_nan or mode.check_inf):
            return
        for index, g in enumerate(outputs):
            if g is None:
                continue
            data = g if type(g) is np.ndarray else getattr(g, "_data", g)  # a Tensor (create_graph), or a NumPy scalar
            if _surely_finite(data):
                continue
            kind = _nonfinite_kind(data, mode)
            if kind is not None and not _allowed(node, mode):
                raise _backward_error(node, grads, outputs, index, kind, saved)

    def node_failed(self, node, error) -> None:
        """`node` raised `error` (now on its way to the user): warn with the forward stacks that led to it."""
        running = _RUNNING.get()
        if running and running[-1] is node:
            running.pop()
            _RUNNING_ANYWHERE.pop()
        frames = getattr(node, "frames", None)  # (a node made outside anomaly mode has none)
        if frames is None:  # made outside anomaly mode (and a leaf's AccumulateGrad, for now)
            _warn_while_failing(f"Error detected in {node.name()}. No forward pass information available. Enable "
                                "detect anomaly during forward pass for more information.")
            return
        _warn_while_failing(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                            + "".join(format_stack(frames)).rstrip("\n"))
        parent = getattr(node, "anomaly_parent", None)
        while parent is not None and getattr(parent, "frames", None) is not None:
            _warn_while_failing(f"\n\nPrevious calculation was induced by {parent.name()}. Traceback of forward call "
                                "that induced the previous calculation:\n"
                                + "".join(format_stack(parent.frames)).rstrip("\n"))
            parent = getattr(parent, "anomaly_parent", None)


class _ExtendedChecker(AnomalyChecker):
    """The checker while gradscope's extensions are on (check_inf, check_forward): the default mode's, and what they
    add to each node (the default mode's checker tests neither, per node)."""

    def node_made(self, node, skip: int = 4) -> bool:
        AnomalyChecker.node_made(self, node, skip + 1)  # (one frame more: this one)
        return self.check_forward

    def nodes_made(self, view_node, node, skip: int = 4) -> bool:
        AnomalyChecker.nodes_made(self, view_node, node, skip + 1)
        return self.check_forward

    def run_node(self, node, grads: list, free: bool) -> list:
        saved = node._saved  # for the report: the rules may free them
        outputs = AnomalyChecker.run_node(self, node, grads, free)
        if self.check_inf and not _uncast(node, outputs):  # cleared as they are, but a cast may overflow to inf
            _validate_all(node, outputs, NUMPY)
            self.node_finished(node, padded(node, grads), outputs, saved)
        return outputs


def _backward_error(node, grads, outputs, index: int, kind: str, saved_entries) -> RuntimeError:
    """PyTorch's error for a node that returned `kind` values in output `index`, with gradscope's report."""
    incoming_stats = [_stats(x) for x in grads]
    outgoing = [_stats(o) for o in outputs]
    saved = _saved_stats(node, saved_entries)
    verdict = role(incoming_stats, outgoing) or "culprit"
    reason = (why_backward(_op_name(node), saved) if verdict == "culprit"
              else "the incoming gradient was already non-finite")
    report = AnomalyReport("backward", verdict, node, node.name(), _op_name(node), index, node.scope,
                           user_location(getattr(node, "frames", None)), reason, outgoing, incoming_stats, saved)
    error = RuntimeError(f"Function '{node.name()}' returned {kind} values in its {index}th output.")
    return _with_report(error, report)


def _warn_while_failing(message: str) -> None:
    """Warn while a backward node's error is on its way up. NOTE: as PyTorch's warning handler does then, a
    warning the filters turn into an error is printed instead, so that the node's own error surfaces."""
    try:
        warnings.warn(message, UserWarning, stacklevel=3)  # the engine's line
    except Warning as warning:
        print(f"{type(warning).__name__}: {warning}", file=sys.stderr)


def _with_report(error: RuntimeError, report: AnomalyReport) -> RuntimeError:
    error.report = report
    errors.add_note(error, str(report))
    return error


_CHECK_ALL = _Mode(check_nan=True, check_inf=True)
_INF = np.inf
_ISFINITE = math.isfinite
_FLOAT32, _FLOAT64 = np.float32, np.float64  # the types of the sums of squares that clear a gradient (run_node)
_CALLS_GET = observers.calls.get
_GETFRAME = sys._getframe
_CHECKER = AnomalyChecker()  # the default mode's (PyTorch's)
_EXTENDED = _ExtendedChecker()
