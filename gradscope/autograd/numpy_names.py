"""NumPy's argument names, where PyTorch accepts them: `x.sum(axis=0, keepdims=True)`, `torch.cat(xs, axis=1)`.

PyTorch's C++ argument parser, which parses every native torch.* function and Tensor method, takes `axis` for
`dim`, `keepdims` for `keepdim`, `x`, `a` or `x1` for `input` and `x2` for `other`; functions PyTorch writes in
Python (torch.split, torch.norm, Tensor.unflatten, nn.functional.softmax …) take only their own names. Here each
function with a `dim` or `keepdim` parameter is bound under its public name wrapped once, where the namespaces are
filled (tensor_methods.py, gradscope/__init__.py, linalg, fft, special), and a call names its arguments as it
likes. Functions whose only such parameters are `input` and `other` (torch.tanh(x=t), x.add(x2=y)) stay unwrapped:
nobody writes those, and the wrapper's frame would cost every call of the hottest ops (a known difference).

A call without keyword arguments, or with only the function's own names, pays one frame and a subset check.

The same wrapper gives a torch.* function its `out=` (`torch.sum(x, 0, out=o)`, the tensors tutorial's
`torch.matmul(t, t.T, out=y3)`) when the namespace's binding says how it writes one (an OutForm, from
gradscope.autograd.out_forms): one frame for both, and none for the tensor methods, which take no `out` in PyTorch.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable
from typing import NamedTuple

# each of PyTorch's parameter names, and the NumPy names it also answers to, in the order PyTorch looks for them
ALIASES = {"dim": ("axis",), "keepdim": ("keepdims",), "input": ("x", "a", "x1"), "other": ("x2",)}
_WRAPPED_FOR = frozenset(("dim", "keepdim"))  # a function with one of these takes NumPy's names


class OutForm(NamedTuple):
    """How a torch.* function takes `out=`: `write(result, out)` writes its result into `out` and returns what the
    call returns. A factory's (`factory=True`) values are made in out's dtype unless the call names one."""

    write: Callable
    factory: bool = False


def accepting_numpy_names(function, *, method: bool = False, name: str | None = None, out: OutForm | None = None):
    """`function` taking NumPy's names for its parameters as PyTorch's parser does, or `function` itself when it
    has no `dim` or `keepdim` (and no `out`). A method (`method=True`) is called with the tensor first: its
    `input` is the tensor, which takes no keyword (PyTorch's methods have no `input` parameter). `name` is the one
    PyTorch's errors give it (its ATen name: "fft_rfft", "concat"), the function's own by default. `out`: the
    function also takes `out=`, written as it says."""
    parameters = _parameters(function)
    if parameters is None or _WRAPPED_FOR.isdisjoint(parameters[0]):
        if out is None or _is_wrapper(function):
            return function
        return _named_as(_taking_out(function, out), function, {})
    names, by_position = parameters
    positions = {parameter: index for index, parameter in enumerate(names[:by_position])}
    own = frozenset(names[1:] if method and names[:1] == ["input"] else names)
    aliases = {alias: parameter for parameter in own for alias in ALIASES.get(parameter, ())}
    name = name or function.__name__

    def renamed(args: tuple, kwargs: dict) -> dict:
        """`kwargs` under the function's own names, or PyTorch's TypeError: its parser names the first keyword
        that isn't one of the function's own when any keyword is left over (an unknown name, or an alias of an
        argument given already, by keyword or by position)."""
        result = {}
        for key, value in kwargs.items():
            target = aliases.get(key, key)
            taken = target in result or (target != key and (target in kwargs or positions.get(target, len(args))
                                                             < len(args)))
            if target not in own or taken:
                first = next(k for k in kwargs if k not in own)
                raise TypeError(f"{name}() got an unexpected keyword argument '{first}'")
            result[target] = value
        return result

    if out is not None:
        return _named_as(_taking_names_and_out(function, own, renamed, out.write), function, aliases)

    def with_numpy_names(*args, **kwargs):
        if kwargs and not own.issuperset(kwargs):
            kwargs = renamed(args, kwargs)
        return function(*args, **kwargs)

    return _named_as(with_numpy_names, function, aliases)


def _taking_names_and_out(function, own: frozenset, renamed: Callable, write: Callable):
    def with_numpy_names_and_out(*args, out=None, **kwargs):
        if kwargs and not own.issuperset(kwargs):
            kwargs = renamed(args, kwargs)
        if out is None:
            return function(*args, **kwargs)
        return write(function(*args, **kwargs), out)

    return with_numpy_names_and_out


def _taking_out(function, form: OutForm):
    """`function` taking `out=` (it has no parameter NumPy names otherwise)."""
    write = form.write
    if form.factory:
        def made_in_out(*args, out=None, **kwargs):
            if out is None:
                return function(*args, **kwargs)
            if kwargs.get("dtype") is None:
                kwargs["dtype"] = out.dtype
            return write(function(*args, **kwargs), out)

        return made_in_out

    def with_out(*args, out=None, **kwargs):
        if out is None:
            return function(*args, **kwargs)
        return write(function(*args, **kwargs), out)

    return with_out


def _named_as(wrapper, function, aliases: dict):
    """`wrapper` named and documented as `function` (functools.wraps), marked as one of this module's (the aliases
    it takes)."""
    functools.update_wrapper(wrapper, function)
    wrapper.numpy_names = aliases
    return wrapper


def _is_wrapper(function) -> bool:
    return getattr(function, "__code__", None) in _WRAPPER_CODES


def past_wrappers(stacklevel: int) -> int:
    """`stacklevel` for a warnings.warn in the caller, one more for each wrapper of this module's among the frames
    it counts out: the warning names the user's line, as PyTorch's does (its parser is no Python frame)."""
    frame, level = sys._getframe(2), 2  # the caller's caller: stacklevel 2
    while frame is not None and level <= stacklevel:
        if frame.f_code in _WRAPPER_CODES:
            stacklevel += 1
        frame, level = frame.f_back, level + 1
    return stacklevel


def _parameters(function) -> tuple[list[str], int] | None:
    """The names of `function`'s parameters and how many of the first come by position (a decorated function's
    are its wrapped function's); None for one taking **kwargs (it reads its keywords itself), one wrapped here
    already, or one that isn't Python's. NOTE: read off the code object: inspect.signature would cost `import
    gradscope` tens of ms over its ~1,000 functions."""
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    if code.co_flags & inspect.CO_VARKEYWORDS:
        inner = getattr(function, "__wrapped__", None)
        return None if inner is None or hasattr(function, "numpy_names") else _parameters(inner)
    return list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]), code.co_argcount


def bind_numpy_names(namespace: dict, written_in_python: tuple = (), prefix: str = "",
                     out_forms: dict[str, OutForm] | None = None) -> None:
    """Rebind each public function of a module's globals `namespace` to its NumPy-name-taking form
    (accepting_numpy_names), but those PyTorch writes in Python (`written_in_python`: they take only their own
    names, and out= where they have an out form, torch.norm's). `prefix` begins the ATen names of the namespace's
    functions ("linalg_"). `out_forms`: the functions that take `out=`, by name."""
    out_forms = out_forms or {}
    for name, value in list(namespace.items()):
        if not isinstance(value, types.FunctionType) or name.startswith("_"):
            continue
        if name not in written_in_python:
            wrapped = accepting_numpy_names(value, name=prefix + name, out=out_forms.get(name))
        elif name in out_forms and not _is_wrapper(value):
            wrapped = _named_as(_taking_out(value, out_forms[name]), value, {})
        else:
            continue
        namespace[name] = _homed(wrapped, value, namespace["__name__"], name)


def bind_numpy_method_names(cls: type, written_in_python: tuple = ()) -> None:
    """bind_numpy_names for the public methods of class `cls`."""
    for name, value in list(vars(cls).items()):
        if isinstance(value, types.FunctionType) and not name.startswith("_") and name not in written_in_python:
            wrapped = accepting_numpy_names(value, method=True, name=name)
            if wrapped is not value:
                setattr(cls, name, _homed(wrapped, value, cls.__module__, f"{cls.__qualname__}.{name}"))


def binding_in(module: str):
    """A module's `lazy_exports(bind=…)`: each function loaded on first use bound as bind_numpy_names binds."""
    def bind(name: str, value):
        return _homed(accepting_numpy_names(value), value, module, name)
    return bind


def _homed(wrapped, function, module: str, qualified_name: str):
    """`wrapped` (a wrapper of `function`, or `function` itself) named by where it is bound, so that pickle finds
    it there (the function's own module holds the unwrapped function)."""
    if wrapped is not function:
        wrapped.__module__, wrapped.__qualname__ = module, qualified_name
    return wrapped


# every wrapper's code (a closure shares its code with every other closure of the same def)
_WRAPPER_CODES = frozenset(wrapper.__code__ for wrapper in (
    accepting_numpy_names(lambda dim: dim), accepting_numpy_names(lambda dim: dim, out=OutForm(print)),
    _taking_out(print, OutForm(print)), _taking_out(print, OutForm(print, factory=True))))
