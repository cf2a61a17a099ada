"""`torch.jit`: TorchScript's entry points, run eagerly.

A script that scripts or traces a function or a module (`@torch.jit.script` on a fused activation,
`torch.jit.trace(model, example)`) gets it back as it was: gradscope has no TorchScript compiler, and what a
debugger needs is the code run op by op, every node in the graph, as `torch.compile` is run here too. The
decorators that steer the compiler (`ignore`, `unused`, `export`, `interface`) return what they decorate;
`is_scripting()` and `is_tracing()` are False, as in eager PyTorch. Saving or loading a TorchScript archive
has no eager meaning and says so: save the `state_dict` instead.
"""

from __future__ import annotations

import contextlib
from typing import Final  # noqa: F401 - re-exported: torch.jit.Final

__all__ = ["Error", "Final", "Future", "RecursiveScriptModule", "ScriptFunction", "ScriptModule", "annotate",
           "enable_onednn_fusion", "export", "fork", "freeze", "fuser", "ignore", "interface", "is_scripting",
           "is_tracing", "load", "onednn_fusion_enabled", "optimize_for_inference", "optimized_execution", "save",
           "script", "script_if_tracing", "set_fusion_strategy", "strict_fusion", "trace", "trace_module", "unused",
           "wait"]

Error = RuntimeError  # torch.jit.Error: what a scripted function raises


class ScriptModule:
    """TorchScript's module types: nothing here is one (`isinstance(m, torch.jit.ScriptModule)` is False)."""


class RecursiveScriptModule(ScriptModule):
    pass


class ScriptFunction:
    """TorchScript's function type: nothing here is one."""


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """The function, module or class itself, run eagerly (see the module docstring)."""
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True, check_inputs=None,
          check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs=None, _store_inputs: bool = True):
    """The function or module itself, run eagerly: no trace is recorded, so nothing is frozen to the example's
    control flow."""
    return func


def trace_module(mod, inputs, *args, **kwargs):
    return mod


def script_if_tracing(fn):
    return fn


def ignore(drop=False, **kwargs):
    """`@torch.jit.ignore` and `@torch.jit.ignore(drop=True)` alike leave the function as it is."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def interface(obj):
    return obj


def is_scripting() -> bool:
    """False: code here always runs eagerly (TorchScript-only branches are skipped, as in eager PyTorch)."""
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type, the_value):
    """`the_value`: a type annotation for the TorchScript compiler, which eager code ignores."""
    return the_value


def freeze(mod, preserved_attrs=None, optimize_numerics: bool = True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


class Future:
    """The result of `fork`: the call has already run (eagerly, in this thread)."""

    def __init__(self, value) -> None:
        self._value = value

    def wait(self):
        return self._value

    def done(self) -> bool:
        return True

    def value(self):
        return self._value


def fork(func, *args, **kwargs) -> Future:
    """Run `func(*args, **kwargs)` now; `wait` gives its result."""
    return Future(func(*args, **kwargs))


def wait(future: Future):
    return future.wait()


def save(m, f, _extra_files=None) -> None:
    raise RuntimeError("torch.jit.save writes a TorchScript archive, which gradscope (running models eagerly) can't "
                       "make: save the weights with torch.save(model.state_dict(), f) instead")


def load(f, map_location=None, _extra_files=None, _restore_shapes: bool = False):
    raise RuntimeError("torch.jit.load reads a TorchScript archive (compiled code), which gradscope can't run: load a "
                       "state_dict saved with torch.save into the model's class instead")


@contextlib.contextmanager
def optimized_execution(should_optimize: bool):
    yield


@contextlib.contextmanager
def fuser(name: str):
    yield


@contextlib.contextmanager
def strict_fusion():
    yield


_FUSION_STRATEGY = [("STATIC", 2), ("DYNAMIC", 10)]


def set_fusion_strategy(strategy):
    """Returns the previous strategy, as PyTorch does; fusion doesn't happen here either way."""
    global _FUSION_STRATEGY
    previous, _FUSION_STRATEGY = _FUSION_STRATEGY, list(strategy)
    return previous


def enable_onednn_fusion(enabled: bool) -> None:
    pass


def onednn_fusion_enabled() -> bool:
    return False
