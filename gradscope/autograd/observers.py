"""Observers of the engine: the recorder and anomaly mode plug in here.

An observer is any object with some of these methods (missing ones are skipped):
`node_created(node, inputs, outputs)`, `tensor_saved(node, name, saved_tensor)`,
`backward_begin(root_nodes, root_grads)`, `backward_node_start(node, grad_outputs)`,
`backward_node_end(node, grad_inputs)`, `backward_node_failed(node, error)`, `grad_accumulated(tensor, grad)`,
`backward_end()`, and `op_computed(op, inputs, outputs)`: after every primitive `dispatch.apply` runs,
in the graph or not (after `node_created` when it made a node; `outputs` is a tuple of Tensors, whose
`_node` is the node if one was made, their grad_fn). The stack is context-local (plus process-wide ones, for
anomaly mode); with none active the engine pays one check per op. An observer may also have
`op_recorded(op, node, inputs, outputs)`: the fast paths (`dispatch.tell_observers`) then tell it each node they
make in that one event instead of `node_created`, `tensor_saved` (no SavedTensor made: the node's saved entries
are light, `(array, version counter, version, input tensor or None for an output, its grad_fn)` or a Python
number, each the input or output `op.save_plan` names) and `op_computed`.

Anomaly mode is no observer but the *checker* (`checker`, process-wide): dispatch, the one-frame forwards and
custom Functions hand it each node they make (and, with check_forward, each op that made none), the engine each
node it runs and the one that failed; it takes no per-saved-tensor event, so nodes keep their light saved entries
and the engine its fast path.

Observers listening in a context (`observing`, a Recorder) keep the fast paths too, in `Modes.plain`: the
one-frame forwards and apply's light recorders tell them with `dispatch.tell_observers`, the engine runs its plain
path with their backward events around each node. Process-wide observers (`add_global`) take the general paths.
A backward pass tells its per-node events to the observers listening as it began (`PassListeners`).

*Watchers* are light, process-wide observers (`gradscope watch`): they receive only `op_computed`,
`backward_begin` and `backward_end`, so the engine keeps its fast paths (no SavedTensor objects, no
per-node events) while they listen.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

from gradscope.autograd.grad_mode import ModeSwitch, modes

active = ModeSwitch("observers")  # a tuple, innermost last; hot paths read it as `modes.get().observers`
# process-wide observers (anomaly mode is global in PyTorch: new threads see it too)
GLOBAL: tuple = ()
# anomaly mode's checker while the mode is on, else None (see above)
checker = None
# light observers: op_computed and the pass boundaries only
WATCHERS: tuple = ()
# the entered forward-AD level (forward_ad.py), else None: while there is one it is also a process-wide observer,
# so every op takes the dispatcher's general path, which hands it the op after notifying the observers
dual_level = None
# no process-wide observer nor watcher is set: the one-frame forwards' single check (fused.py). Anomaly mode's
# checker doesn't count: those forwards hand it their nodes as dispatch does
idle = True
# the innermost module call running (ModuleCall, pushed by nn.Module.__call__ while observers or anomaly mode
# listen), None outside any
calls: ContextVar[ModuleCall | None] = ContextVar("gradscope_module_calls", default=None)
# the library call making the backward passes now running ("torch.func"), None for the user's own
# backward()/autograd.grad: a recording tells the user's passes from the ones a transform makes
made_by: ContextVar[str | None] = ContextVar("gradscope_made_by", default=None)


@contextlib.contextmanager
def passes_made_by(name: str):
    """Mark the backward passes run inside the block as made by `name`, unless an outer call already did."""
    token = made_by.set(made_by.get() or name)
    try:
        yield
    finally:
        made_by.reset(token)


@contextlib.contextmanager
def observing(observer):
    """Notify `observer` of engine events while the block runs."""
    token = active.set(active.get() + (observer,))
    try:
        yield observer
    finally:
        active.reset(token)


@contextlib.contextmanager
def muted(keep):
    """Only process-wide observer `keep` hears the engine while the block runs: no other one, no watcher, no
    observer of this context, and anomaly mode's checker checks nothing. For forward AD's own computations
    (forward_ad.py), which are no ops nor passes of the user's. NOTE: process-wide: another thread's ops go
    unobserved meanwhile."""
    global GLOBAL, WATCHERS, checker
    saved = GLOBAL, WATCHERS, checker
    GLOBAL, WATCHERS, checker = tuple(o for o in GLOBAL if o is keep), (), None
    token = active.set(())
    try:
        yield
    finally:
        active.reset(token)
        GLOBAL, WATCHERS, checker = saved


def any_active() -> bool:
    """True when some observer listens: the engine's one check per op."""
    return bool(GLOBAL or modes.get().observers)


def current() -> tuple:
    return GLOBAL + active.get()


def add_global(observer) -> None:
    global GLOBAL
    if observer not in GLOBAL:
        GLOBAL = GLOBAL + (observer,)
    _update_idle()


def remove_global(observer) -> None:
    global GLOBAL
    GLOBAL = tuple(o for o in GLOBAL if o is not observer)
    _update_idle()


def replace_global(old, new) -> None:
    """Put `new` in the place of process-wide observer `old` (it takes the events from the next one on)."""
    global GLOBAL
    GLOBAL = tuple(new if o is old else o for o in GLOBAL)


def set_checker(new_checker) -> None:
    global checker
    checker = new_checker


def add_watcher(watcher) -> None:
    global WATCHERS
    if watcher not in WATCHERS:
        WATCHERS = WATCHERS + (watcher,)
    _update_idle()


def remove_watcher(watcher) -> None:
    global WATCHERS
    WATCHERS = tuple(w for w in WATCHERS if w is not watcher)
    _update_idle()


def _update_idle() -> None:
    global idle
    idle = not GLOBAL and not WATCHERS


def notify_watchers(event: str, *args) -> None:
    for watcher in WATCHERS:
        method = getattr(watcher, event, None)
        if method is not None:
            method(*args)


def notify(event: str, *args) -> None:
    for observer in GLOBAL + modes.get().observers:
        method = getattr(observer, event, None)
        if method is not None:
            method(*args)


def listeners(event: str) -> list:
    """The methods for `event` of the observers listening now, in `notify`'s order."""
    methods = (getattr(observer, event, None) for observer in GLOBAL + modes.get().observers)
    return [method for method in methods if method is not None]


class PassListeners:
    """What the observers listening as a backward pass began are told of its nodes: their methods for each
    per-node event, fetched once (a pass tells them for every node). Observers that start or stop listening
    during the pass (in a hook) take or leave the next pass's."""

    __slots__ = ("start", "end", "failed", "accumulated")

    def __init__(self) -> None:
        self.start, self.end, self.failed, self.accumulated = start, end, failed, accumulated = [], [], [], []
        for observer in GLOBAL + modes.get().observers:  # `listeners` of each event, in one loop
            if (method := getattr(observer, "backward_node_start", None)) is not None:
                start.append(method)
            if (method := getattr(observer, "backward_node_end", None)) is not None:
                end.append(method)
            if (method := getattr(observer, "backward_node_failed", None)) is not None:
                failed.append(method)
            if (method := getattr(observer, "grad_accumulated", None)) is not None:
                accumulated.append(method)


class ModuleCall:
    """A module call running: the module (the innermost one running, for a named scope), the call around it,
    its name (None for a module's call: its path below the module of the call around it), and for anomaly
    mode's stacks and observers' source lines the frame of the call (kept only while it runs), whether it is closed,
    the stack found for it (stacks.capture_stack) and the source line an observer found for it (the recorder's
    `user_source`). The module path its nodes record (`scope`) is made when first read: most are never.

    `inline`: while this call's own forward runs a module's forward without a call of its own (a closed child
    without children of a closed call, under anomaly mode or observers of this context: see Sequential.forward), the
    pair (this call, that module), else None. The ops made there are the module's: their nodes keep the pair as their
    module call (`node_call`; `scope_of` names it), and a module call made there has `inner()` around it. NOTE: the
    pair is made only while no process-wide observer listens (an observer that another thread adds meanwhile is told
    the pair, as they are); a call that is its forward alone, with nothing listening, pushes no scope at all."""

    __slots__ = ("module", "outer", "name", "frame", "closed", "stack", "source", "_scope", "inline")

    def __init__(self, module, outer: ModuleCall | None, name: str | None = None, frame=None,
                 closed: bool = False) -> None:
        self.module = module
        self.outer = outer
        self.name = name
        self.frame = frame  # set to None when the call returns
        self.closed = closed  # only gradscope's code makes ops in the call (outside the module calls it makes)
        self.stack = self.source = self._scope = self.inline = None

    @property
    def scope(self) -> str:
        """The module path its nodes record ("model.encoder.fc1")."""
        scope = self._scope
        if scope is None:
            outer = self.outer
            if outer is None:
                scope = self.name if self.name is not None else self.module._scope_relative_to(None)
            elif self.name is None:
                scope = outer.scope_of(self.module)
            else:
                scope = _joined(outer.scope, self.name)
            self._scope = scope
        return scope

    def inner(self) -> ModuleCall:
        """The call of the module its forward runs inline now (`inline`), as Module.__call__ would have made it:
        closed, with this call's stack."""
        call = ModuleCall(self.inline[1], self, None, None, True)
        call.stack = self.stack
        return call

    def scope_of(self, module) -> str:
        """The module path of a call of `module` inside this one (its path below this call's module)."""
        return _joined(self.scope, module._scope_relative_to(self.module))


def _joined(outer_scope: str | None, name: str) -> str:
    """A scope inside `outer_scope` (None or "" outside any) named `name` ("" adds nothing)."""
    return name if not outer_scope else f"{outer_scope}.{name}" if name else outer_scope


def innermost() -> ModuleCall | None:
    """The innermost module call running, None outside any."""
    call = calls.get()
    return call.inner() if call is not None and call.inline is not None else call


def node_call():
    """What a node made now keeps as its module call (`Node.module_call`): the innermost module call running, or
    the pair (that call, the module whose forward it runs inline now: see ModuleCall.inline); None outside any."""
    call = calls.get()
    return call if call is None or call.inline is None else call.inline


def current_scope() -> str | None:
    """The module path of the innermost module call running ("model.encoder.fc1"), None outside any."""
    call = innermost()
    return call.scope if call is not None else None


def enter_scope(name: str):
    """Push a qualified name (nested scopes joined with dots) inside the innermost module call; `calls.reset(token)`
    pops it."""
    outer = innermost()
    return calls.set(ModuleCall(outer.module if outer is not None else None, outer, name))


@contextlib.contextmanager
def module_scope(name: str):
    """Push a qualified name while the block runs."""
    token = enter_scope(name)
    try:
        yield
    finally:
        calls.reset(token)
