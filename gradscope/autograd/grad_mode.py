"""The modes: grad mode and inference mode (thread-local switches usable as context managers and
decorators), and whether anomaly mode is on (process-wide, as in PyTorch; anomaly.py does the checking)."""

from __future__ import annotations

import functools
import inspect
from contextvars import ContextVar
from dataclasses import dataclass

# ContextVars start at their default in every new thread, which is PyTorch's thread-local behaviour:
# a thread started under no_grad still has grad mode on.
grad_enabled: ContextVar[bool] = ContextVar("gradscope_grad_enabled", default=True)
inference_enabled: ContextVar[bool] = ContextVar("gradscope_inference_mode", default=False)


def is_grad_enabled() -> bool:
    """True when operations record a graph in this thread."""
    return grad_enabled.get()


def is_inference_mode_enabled() -> bool:
    return inference_enabled.get()


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
        if inspect.isclass(func):
            raise RuntimeError("Decorating classes is deprecated and will be disabled in future versions.")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator(*args, **kwargs):
                gen = func(*args, **kwargs)
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    try:
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
