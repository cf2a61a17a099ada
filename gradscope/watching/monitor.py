"""The monitor: a light engine watcher (see `gradscope.autograd.observers`) that measures every step of
a training run cheaply and decides when the run must stop.

A **step** is one backward pass, numbered from 0. Its forward part is every op computed since the
previous pass ended; every floating output is checked for non-finite values, ops outside the autograd
graph included, and the first op that turns finite inputs into non-finite outputs is the forward
culprit. When the pass ends the parameters' gradients are measured; when an optimiser steps (its step
hooks, as in `torch.optim`), the update/weight ratios and the parameters' values. The step *closes*
at that optimiser step, or else when the next step's graph begins, or when the run ends; then the
rules run, the record goes to `on_step`, and an anomalous step raises `WatchStop` unless
`keep_going`.
"""

from __future__ import annotations

import math
import sys
from collections import deque
from collections.abc import Callable

import numpy as np

from gradscope._diagnosis import describe, forward_origin
from gradscope._quiet import loud, quiet
from gradscope._stats import compute_stats
from gradscope.autograd import observers
from gradscope.autograd.engine import current_pass
from gradscope.autograd.node import AccumulateGrad
from gradscope.autograd.tensor import Tensor
from gradscope.nn.module import Module
from gradscope.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from gradscope.trace.diagnosis import forgivable, mask_array, user_frame
from gradscope.trace.recorder import named_parameters, rename_scope
from gradscope.watching.metrics import Finding, ParameterStep, StepRecord, norm, norm_and_nonfinite
from gradscope.watching.rules import Rules, RuleState

RECENT_STEPS = 32  # closed steps kept in memory, for the report's "what came before"
_SCALARS_KEPT = 16


class WatchStop(BaseException):  # noqa: N818 - named for what it does, like StopIteration
    """The watched run stopped: at its first anomalous step, or after `max_steps`. `report` says why.

    A BaseException, so that a training loop's `except Exception` does not swallow it.
    """

    def __init__(self, report) -> None:
        super().__init__(report.headline())
        self.report = report


class Monitor:
    """Measures each step (see the module docstring). `namespace()` gives the variables parameters are
    named after (default: the user's frame that called backward); `recordings` keeps full recordings
    of recent steps (`StepRecordings`), or None."""

    def __init__(self, rules: Rules | None = None, *, keep_going: bool = False, max_steps: int | None = None,
                 on_step: Callable[[StepRecord], None] | None = None, recordings=None,
                 names: Callable[[], dict] | None = None, make_report: Callable | None = None) -> None:
        self.keep_going, self.max_steps = keep_going, max_steps
        self.on_step, self.recordings, self._names = on_step, recordings, names
        self._make_report = make_report
        self.rules = RuleState(rules or Rules())
        self.steps_run = 0
        self.optimizer_steps = 0
        self.recent: deque[StepRecord] = deque(maxlen=RECENT_STEPS)
        self.anomalous: list[StepRecord] = []  # closed steps with findings (each kept whole)
        self.stopped_by: str | None = None  # "anomaly" or "max-steps"
        self._forward: list[Finding] = []  # findings of the forward part of the step to come
        self._forward_nan = False  # whether one of them is a NaN
        self._masks_only = True  # whether all of them may be masks (diagnosis.forgivable)
        self._masks = False  # the step's forward findings may all be masks (judged when the gradients are known)
        self._culprit_seen = False
        self._current: StepRecord | None = None  # the step whose pass is running
        self._pending: StepRecord | None = None  # the step whose pass ended, not yet closed
        self._pass_leaves: list[Tensor] = []
        self._leaf_names: dict[int, str] = {}
        self._rank: dict[int, tuple[int, int]] = {}  # a parameter's place in its model (unnamed ones after)
        self._leaves_seen: dict[int, Tensor] = {}  # every parameter seen in a graph, in order
        self._scalars: dict = {}  # node → the scalar it made (the loss is one of them)
        self._before: dict[int, np.ndarray] = {}  # parameter values before the optimiser step
        self._hooks = []

    # ------------------------------------------------------------------------------- lifetime
    def start(self) -> Monitor:
        self._hooks = [register_optimizer_step_pre_hook(self._before_update),
                       register_optimizer_step_post_hook(self._after_update)]
        if self.recordings is not None:
            self.recordings.start()
        observers.add_watcher(self)
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        observers.remove_watcher(self)
        if self.recordings is not None:
            self.recordings.stop()
        for handle in self._hooks:
            handle.remove()
        self._hooks = []

    def finish(self) -> None:
        """The run ended: close the last step (which may raise WatchStop) and stop listening."""
        try:
            if self._pending is not None and self.stopped_by is None:
                self._close(self._pending)
        finally:
            self.stop()

    # ------------------------------------------------------------------------------- forward
    def op_computed(self, op, inputs, outputs) -> None:
        if current_pass() is not None:  # run by a backward pass (create_graph, hooks): not the forward
            return
        first = outputs[0]
        if first._node is not None:
            if self._pending is not None:  # the next step's graph begins: the previous step is over
                self._close(self._pending)
            if first._data.size == 1:
                self._note_scalar(first)
        if self._culprit_seen:
            return
        for output in outputs:
            data = output._data
            if data.dtype.kind in "fc" and not np.isfinite(data).all():
                self._forward_finding(op, inputs, output)
                return

    def _note_scalar(self, tensor: Tensor) -> None:
        scalars = self._scalars
        scalars[tensor._node] = tensor._data
        if len(scalars) > _SCALARS_KEPT:
            del scalars[next(iter(scalars))]

    def _forward_finding(self, op, inputs, output: Tensor) -> None:
        """Name the op that made a non-finite value: the first culprit of the step (the rules are the
        recorder's, `forward_origin`), or the first propagator while no culprit has shown up. Infinities may
        be a mask (`masked_fill(mask, -inf)`), which the step's close drops if the loss and gradients stayed
        finite, so the watch goes on until the first op that makes a NaN."""
        nan = bool(np.isnan(output._data).any())
        message = forward_origin(op.name, inputs, (output,))
        role = "culprit" if message is not None else "propagator"
        masks = forgivable(role, op.name, nan, mask_array(output._data))
        if self._forward and not (nan and not self._forward_nan):  # nothing new, unless the first NaN
            if masks or (role == "propagator" or not self._masks_only):
                return
        if message is None:  # its inputs were already non-finite
            message = f"{op.name} passed on non-finite values ({describe(compute_stats(output._data))})"
        frame = user_frame(sys._getframe())
        node = output._node
        finding = Finding(-1, "forward", "nonfinite", message, role=role,
                          op=op.name, node=None if node is None else node.name(),
                          file=frame.f_code.co_filename if frame else None, line=frame.f_lineno if frame else None,
                          scope=scope_of_stack(sys._getframe()))  # named after variables at backward
        if not masks and self._masks_only:  # an accident: whatever looked like a mask before it is not news
            self._forward = []
        self._forward = [f for f in self._forward if f.role == "culprit"] + [finding]
        self._forward_nan = self._forward_nan or nan
        self._masks_only = self._masks_only and masks
        self._culprit_seen = not masks and role == "culprit"

    # ------------------------------------------------------------------------------- backward
    def backward_begin(self, roots, root_grads) -> None:
        if self._pending is not None:
            self._close(self._pending)
        if self.max_steps is not None and self.steps_run >= self.max_steps:
            self.stopped_by = "max-steps"
            raise WatchStop(self._report())
        step = self.steps_run
        loss = self._scalars.get(roots[0]) if len(roots) == 1 else None
        namespace = self._namespace(user_frame(sys._getframe()))
        self._current = StepRecord(step, None if loss is None else float(loss.reshape(())),
                                   findings=[_at(f, step, namespace) for f in self._forward])
        self._masks = bool(self._forward) and self._masks_only
        self._forward, self._forward_nan, self._masks_only, self._culprit_seen = [], False, True, False
        self._pass_leaves = self._leaves_of(roots)

    def backward_end(self) -> None:
        record, self._current = self._current, None
        if record is None:
            return
        self._scalars.clear()
        bad_grad = None
        for tensor in self._pass_leaves:
            grad = tensor._grad
            if grad is None:
                continue
            name = self._leaf_names[id(tensor)]
            norm, nonfinite = norm_and_nonfinite(grad._data)
            record.parameters[name] = ParameterStep(norm, nonfinite)
            if nonfinite and bad_grad is None:
                bad_grad = Finding(record.step, "backward", "nonfinite",
                                   f"the gradient of {name} holds {nonfinite} non-finite value(s)", parameter=name)
        if self._masks and bad_grad is None and record.loss is not None and math.isfinite(record.loss):
            # only a mask's infinities in the forward, kept out of the loss and the gradients
            record.findings = [f for f in record.findings if f.phase != "forward"]
        self._masks = False
        if bad_grad is not None:
            record.findings.append(bad_grad)
        self._pass_leaves = []
        self.steps_run += 1
        self._pending = record
        if self.recordings is not None:
            self.recordings.pass_ended(record.step, self._namespace(user_frame(sys._getframe())))

    def _leaves_of(self, roots) -> list[Tensor]:
        """The parameters the graph reaches from `roots` (named when first seen)."""
        leaves, seen, stack = [], set(), list(roots)
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            if type(node) is AccumulateGrad:
                leaves.append(node.variable)
            else:
                stack.extend(child for child, _ in node._next)
        unnamed = [t for t in leaves if id(t) not in self._leaf_names]
        if unnamed:
            self._name_leaves(unnamed)
        rank = self._rank
        return sorted(leaves, key=lambda t: rank[id(t)])

    def _name_leaves(self, tensors: list[Tensor]) -> None:
        """Name parameters after the variables that hold them; rank them in their model's order."""
        namespace = self._namespace(user_frame(sys._getframe()))
        known = {id(tensor): (index, name) for index, (name, _, tensor) in enumerate(named_parameters(namespace))}
        for tensor in tensors:
            index, name = known.get(id(tensor), (None, None))
            self._leaf_names[id(tensor)] = name or f"param{len(self._leaf_names)}{list(tensor.shape)}"
            self._rank[id(tensor)] = (0, index) if index is not None else (1, len(self._rank))
            self._leaves_seen[id(tensor)] = tensor

    def _namespace(self, frame) -> dict:
        if self._names is not None:
            return self._names()
        if frame is None:
            return {}
        return {**frame.f_globals, **frame.f_locals}

    # ------------------------------------------------------------------------------- update
    def _before_update(self, optimizer, args, kwargs) -> None:
        self._before = {id(p): p._data.copy() for group in optimizer.param_groups for p in group["params"]
                        if p._grad is not None}

    def _after_update(self, optimizer, args, kwargs) -> None:
        self.optimizer_steps += 1
        record, before, self._before = self._pending, self._before, {}
        if record is None:
            return
        bad_value = None
        for group in optimizer.param_groups:
            for tensor in group["params"]:
                old = before.get(id(tensor))
                name = self._leaf_names.get(id(tensor))
                if old is None or name is None:
                    continue
                measured = record.parameters.setdefault(name, ParameterStep())
                weight = norm(old)
                token = quiet()
                change = norm(tensor._data - old)
                loud(token)
                measured.update_ratio = change / weight if weight else (0.0 if change == 0 else math.inf)
                # a finite weight plus a finite change is finite: only otherwise is the value read again
                finite = math.isfinite(weight) and math.isfinite(change)
                nonfinite = measured.value_nonfinite = 0 if finite else norm_and_nonfinite(tensor._data)[1]
                if nonfinite and bad_value is None:
                    bad_value = Finding(record.step, "update", "nonfinite",
                                        f"the optimizer step left {nonfinite} non-finite value(s) in {name}",
                                        parameter=name)
        if bad_value is not None:
            record.findings.append(bad_value)
        self._close(record)

    # ------------------------------------------------------------------------------- closing a step
    def _close(self, record: StepRecord) -> None:
        self._pending = None
        record.optimizer_steps = self.optimizer_steps
        record.findings += self.rules.check(record)
        self.recent.append(record)
        if record.findings:
            self.anomalous.append(record)
            if self.recordings is not None:
                self.recordings.keep(record.step)
        if self.on_step is not None:
            self.on_step(record)
        if record.findings and not self.keep_going:
            self.stopped_by = "anomaly"
            raise WatchStop(self._report())

    def _report(self):
        return self._make_report(self) if self._make_report is not None else _Headline(self)

    @property
    def leaf_names(self) -> list[str]:
        return [self._leaf_names[key] for key in self._leaves_seen]


_MODULE_CALL = Module.__call__.__code__


def scope_of_stack(frame) -> str | None:
    """The module scope of the code running at `frame` ("MLP.encoder.fc1"), read from the modules being
    called on the stack: the monitor finds it only for an anomaly, so modules need not push their
    scope on every call (as they do for full observers)."""
    called = []
    while frame is not None:
        if frame.f_code is _MODULE_CALL:
            called.append(frame.f_locals["self"])
        frame = frame.f_back
    if not called:
        return None
    called.reverse()  # outermost first
    names = [called[0]._scope_relative_to(None)]
    names += [module._scope_relative_to(caller) for caller, module in zip(called, called[1:])]
    return ".".join(name for name in names if name)


def _at(finding: Finding, step: int, namespace: dict) -> Finding:
    """A forward finding placed in its step, its scope named after the code that calls backward
    ("model.encoder" rather than the root module's class, "MLP.encoder")."""
    finding.step = step
    finding.scope = rename_scope(finding.scope, namespace)
    return finding


class _Headline:
    """The smallest report: what WatchStop says when no report maker was given."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def headline(self) -> str:
        if self.monitor.stopped_by == "max-steps":
            return f"stopped after {self.monitor.steps_run} steps (max steps)"
        record = self.monitor.anomalous[-1]
        return f"step {record.step}: {record.findings[0].message}"
