"""torch.profiler on gradscope's engine: `profile`, `record_function`, `schedule`, `key_averages().table()`,
`export_chrome_trace`, `tensorboard_trace_handler`.

What is measured, in wall time: each `record_function` region and each backward node (as
"autograd::engine::evaluate_function: MmBackward0" around "MmBackward0", as PyTorch lists them) exactly, from its
start to its end. A forward op has no start event in gradscope, so an op ("aten::mm") is given the time since
the previous op, region boundary or node ended: the op itself, the framework's work for it, and any Python the
script ran between two ops. Totals add up to the time the block took. While profiling, the engine takes its
general (observed) paths, which are slower than its fast ones.

    >>> with profiler.profile() as prof:
    ...     with profiler.record_function("forward"):
    ...         loss = model(x).sum()
    ...     loss.backward()
    >>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
"""

from __future__ import annotations

import enum
import functools
import json
import os
import socket
import time

from gradscope.autograd import observers
from gradscope.profiler._events import EventList, FunctionEvent

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule", "supported_activities",
           "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set:
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """The action at each step: skip `skip_first` steps, then cycles of `wait` idle, `warmup`, `active` recorded
    steps (the last one saves: on_trace_ready), `repeat` times (0: for ever), as PyTorch's schedule."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError("Invalid profiler schedule arguments")

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


_current: list = []  # the profiles recording now, innermost last (record_function reports to them)


class record_function:  # noqa: N801 - torch's name
    """A named region in the profile (a context manager or a decorator)."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._events = []

    def __enter__(self):
        self._events = [(profile, profile._open(self.name)) for profile in _current if profile._recording]
        return self

    def __exit__(self, *exc) -> bool:
        for profile, event in self._events:
            profile._close(event)
        self._events = []
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return function(*args, **kwargs)
        return wrapper


class profile:  # noqa: N801 - torch's name
    """Record the block's regions, backward nodes and ops (see the module docstring for what each time means)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda=None) -> None:
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.step_num = 0
        self._action = schedule(0) if schedule else ProfilerAction.RECORD
        self._events: list[FunctionEvent] = []
        self._open_events: list[FunctionEvent] = []
        self._last = 0.0
        self._nodes: list = []

    @property
    def _recording(self) -> bool:
        return self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    # ---------------------------------------------------------------- the context manager
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    def start(self) -> None:
        _current.append(self)
        observers.add_global(self)
        self._last = time.perf_counter()

    def stop(self) -> None:
        observers.remove_global(self)
        if self in _current:
            _current.remove(self)
        if self.on_trace_ready is not None and self._recording:
            self.on_trace_ready(self)

    def step(self) -> None:
        """The end of a training step: the schedule's next action (saving the finished cycle first)."""
        previous = self._action
        self.step_num += 1
        self._action = self.schedule(self.step_num) if self.schedule else ProfilerAction.RECORD
        if previous == ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
            self.on_trace_ready(self)
        if previous == ProfilerAction.RECORD_AND_SAVE or (self._recording and previous not in (
                ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)):
            self._events = []  # a new cycle records afresh

    # ---------------------------------------------------------------- events
    def _open(self, name: str) -> FunctionEvent:
        now = time.perf_counter()
        event = FunctionEvent(name, now, None, len(self._open_events))
        self._events.append(event)
        self._open_events.append(event)
        self._last = now
        return event

    def _close(self, event: FunctionEvent) -> None:
        event.end = self._last = time.perf_counter()
        if event in self._open_events:
            self._open_events.remove(event)

    def op_computed(self, op, inputs, outputs) -> None:
        if not self._recording:
            return
        now = time.perf_counter()
        shapes = [list(t.shape) if hasattr(t, "shape") else [] for t in inputs] if self.record_shapes else []
        self._events.append(FunctionEvent(f"aten::{op.name}", self._last, now, len(self._open_events), shapes))
        self._last = now

    def backward_node_start(self, node, grad_outputs) -> None:
        if self._recording:
            self._nodes.append((self._open(f"autograd::engine::evaluate_function: {node.name()}"),
                                self._open(node.name())))

    def backward_node_end(self, node, grad_inputs) -> None:
        if self._nodes:
            inner, outer = self._nodes.pop()[::-1]
            self._close(inner)
            self._close(outer)

    backward_node_failed = backward_node_end

    # ---------------------------------------------------------------- results
    def events(self) -> EventList:
        return EventList(self._events)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self.events().key_averages(group_by_input_shape)

    def export_chrome_trace(self, path) -> None:
        trace = [{"name": e.name, "ph": "X", "ts": e.start * 1e6, "dur": e.cpu_time_total, "pid": os.getpid(),
                  "tid": 0, "cat": "cpu_op"} for e in self._events if e.end is not None]
        with open(path, "w") as handle:
            json.dump({"traceEvents": trace}, handle)


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False):
    """An on_trace_ready writing each saved cycle as a Chrome trace into `dir_name`."""
    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(dir_name, f"{name}.{time.time_ns()}.pt.trace.json"))
    if use_gzip:
        raise NotImplementedError("gradscope.profiler.tensorboard_trace_handler writes plain JSON traces only")
    return handler
