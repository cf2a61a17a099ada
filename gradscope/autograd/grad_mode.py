"""The modes: grad mode and inference mode (thread-local switches usable as context managers and
decorators), the context-local observers and saved-tensor hooks, and whether anomaly mode is on
(process-wide, as in PyTorch; anomaly.py does the checking)."""

from __future__ import annotations

import functools
import inspect
import warnings
from contextvars import ContextVar
from dataclasses import dataclass
from typing import NamedTuple


class Modes(NamedTuple):
    """Every thread-local switch the dispatcher reads, in one value: one `modes.get()` per op instead of
    one read per switch."""

    grad: bool = True
    inference: bool = False
    observers: tuple = ()  # context-local observers (observers.py)
    saved_hooks: tuple | None = None  # the innermost saved_tensors_hooks (pack, unpack) pair
    # grad mode on, no inference mode and no saved-tensor hooks: the fast paths serve (fused.py, dispatch's light
    # recorders), nodes keep their saved values light, and observers, if any, are told from there
    plain: bool = True


# A ContextVar starts at its default in every new thread, which is PyTorch's thread-local behaviour:
# a thread started under no_grad still has grad mode on.
# a NamedTuple: immutable, so safe to share as every thread's default. Switches set back to the defaults
# set this very object again, so one identity test tells the dispatcher it may take its shortest path
DEFAULT_MODES = Modes()
modes: ContextVar[Modes] = ContextVar("gradscope_modes", default=DEFAULT_MODES)
_GRAD, _INFERENCE, _SAVED_HOOKS, _PLAIN = (Modes._fields.index(name)
                                           for name in ("grad", "inference", "saved_hooks", "plain"))
_tuple_new = tuple.__new__


class ModeSwitch:
    """One field of `modes` with a ContextVar's `get`/`set`/`reset`, so each switch reads as a variable of
    its own. `reset` restores only its own field: a switch set meanwhile (a plain `set_grad_enabled(False)`
    inside an observer's block) keeps its value, as with separate variables."""

    __slots__ = ("_index", "_off")

    def __init__(self, field: str) -> None:
        self._index = Modes._fields.index(field)
        self._off = self._switched(DEFAULT_MODES, False)  # set False from the defaults: no_grad, a backward pass

    def get(self):
        return modes.get()[self._index]

    def _switched(self, current: Modes, value) -> Modes:
        values = list(current)
        values[self._index] = value
        values[_PLAIN] = values[_GRAD] and not values[_INFERENCE] and values[_SAVED_HOOKS] is None
        new = _tuple_new(Modes, values)
        return DEFAULT_MODES if new == DEFAULT_MODES else new  # the dispatcher tests `is DEFAULT_MODES`

    def set(self, value):
        """Set the switch; returns the token for `reset`: (its previous value, the ContextVar's token, the
        modes set)."""
        current = modes.get()
        new = self._off if value is False and current is DEFAULT_MODES else self._switched(current, value)
        return current[self._index], modes.set(new), new

    def reset(self, token) -> None:
        """Give the switch back its value before `set`. When no switch changed since, the context is restored
        exactly, with `modes` unset again where it was: NumPy's error state, which every op sets and resets,
        costs more to set while the context holds more variables (~750 instructions per op for this one)."""
        value, var_token, new = token
        if modes.get() is new:
            try:
                modes.reset(var_token)
                return
            except (ValueError, RuntimeError):  # set in another context (a task), or already reset
                pass
        self.set(value)


grad_enabled = ModeSwitch("grad")
inference_enabled = ModeSwitch("inference")


def is_grad_enabled() -> bool:
    """True when operations record a graph in this thread."""
    return modes.get().grad


def is_inference_mode_enabled() -> bool:
    return modes.get().inference


@dataclass(frozen=True)
class AnomalyMode:
    """What anomaly mode checks: PyTorch's nan check, and gradscope's extensions (see anomaly.py)."""

    enabled: bool = False
    check_nan: bool = True
    check_inf: bool = False
    check_forward: bool = False
    allow: tuple[str, ...] = ()


_anomaly = AnomalyMode()


def anomaly_mode() -> AnomalyMode:
    return _anomaly


def set_anomaly_mode(mode: AnomalyMode) -> None:
    global _anomaly
    _anomaly = mode


def is_anomaly_enabled() -> bool:
    return _anomaly.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _anomaly.check_nan


class _DecoratorContextManager:
    """A context manager that also decorates functions (and generator functions)."""

    def __call__(self, func):
        if inspect.isclass(func):  # as PyTorch: a warning, and the class becomes a function building it in the mode
            warnings.warn("Decorating classes is deprecated and will be disabled in future versions. You should only "
                          "decorate functions or methods. To preserve the current behavior of class decoration, you "
                          "can directly decorate the `__init__` method and nothing else.", FutureWarning, stacklevel=2)
            cls = func

            def func(*args, **kwargs):
                return cls(*args, **kwargs)
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as thrown:  # gen.throw(): into the generator, in the mode, as PyTorch's
                            with self.clone():
                                response = gen.throw(thrown)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return generator

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Allows `@no_grad` as well as `@no_grad()`."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecoratorContextManager):  # noqa: N801 - PyTorch's name
    """Disable graph recording: outputs of operations don't require grad.

    >>> with no_grad():
    ...     y = x * 2          # y.requires_grad is False
    """

    def __enter__(self) -> None:
        self._token = grad_enabled.set(False)

    def __exit__(self, *exc) -> None:
        grad_enabled.reset(self._token)


class enable_grad(_NoParamDecoratorContextManager):  # noqa: N801
    """Re-enable graph recording, e.g. inside a `no_grad` block."""

    def __enter__(self) -> None:
        self._token = grad_enabled.set(True)

    def __exit__(self, *exc) -> None:
        grad_enabled.reset(self._token)


class set_grad_enabled(_DecoratorContextManager):  # noqa: N801
    """Set grad mode now (a plain call takes effect at once) and restore it when used with `with`."""

    def __init__(self, mode: bool) -> None:
        self.prev = grad_enabled.get()
        self.mode = bool(mode)
        grad_enabled.set(self.mode)

    def __call__(self, func):
        grad_enabled.set(self.prev)
        return super().__call__(func)

    def __enter__(self) -> None:
        grad_enabled.set(self.mode)

    def __exit__(self, *exc) -> None:
        grad_enabled.set(self.prev)

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):  # noqa: N801
    """Like no_grad, and tensors created inside are inference tensors (never part of a graph)."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        self._tokens = (inference_enabled.set(self.mode), grad_enabled.set(not self.mode and grad_enabled.get()))

    def __exit__(self, *exc) -> None:
        inference_token, grad_token = self._tokens
        grad_enabled.reset(grad_token)
        inference_enabled.reset(inference_token)

    def clone(self):
        return self.__class__(self.mode)


multithreading_enabled: ContextVar[bool] = ContextVar("gradscope_multithreading", default=True)


class set_multithreading_enabled(_DecoratorContextManager):  # noqa: N801
    """PyTorch's switch for running backward on its device worker threads (thread-local; a plain call takes effect
    at once, `with` restores it). gradscope's engine always runs on the calling thread, so the switch is only kept:
    code that sets and reads it runs as under PyTorch."""

    def __init__(self, mode: bool) -> None:
        self.prev = multithreading_enabled.get()
        multithreading_enabled.set(bool(mode))
        self.mode = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        multithreading_enabled.set(self.prev)

    def clone(self):
        return self.__class__(self.mode)


def is_multithreading_enabled() -> bool:
    return multithreading_enabled.get()
