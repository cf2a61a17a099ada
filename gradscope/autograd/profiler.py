"""torch.autograd.profiler, the profiler's older home: `profile` (torch.profiler's under the older signature) and
`record_function`, handed out on first use (the profiler sits above autograd)."""

from gradscope._lazy import lazy_exports as _lazy_exports

__getattr__, __dir__ = _lazy_exports(__name__, globals(), names={
    "gradscope.profiler.legacy": ("profile",),
    "gradscope.profiler": ("record_function",),
    "gradscope.profiler._events": ("EventList", "FunctionEvent"),
})
