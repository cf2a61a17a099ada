"""NumPy's argument names, where PyTorch accepts them: `x.sum(axis=0, keepdims=True)`, `torch.cat(xs, axis=1)`.

PyTorch's C++ argument parser, which parses every native torch.* function and Tensor method, takes `axis` for
`dim`, `keepdims` for `keepdim`, `x`, `a` or `x1` for `input` and `x2` for `other`; functions PyTorch writes in
Python (torch.split, torch.norm, Tensor.unflatten, nn.functional.softmax …) take only their own names. Here each
function with a `dim` or `keepdim` parameter is bound under its public name wrapped once, where the namespaces are
filled (tensor_methods.py, gradscope/__init__.py, linalg, fft, special), and a call names its arguments as it
likes. Functions whose only such parameters are `input` and `other` (torch.tanh(x=t), x.add(x2=y)) stay unwrapped:
nobody writes those, and the wrapper's frame would cost every call of the hottest ops (a known difference).

A call without keyword arguments, or with only the function's own names, pays one frame and a subset check.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types

# each of PyTorch's parameter names, and the NumPy names it also answers to, in the order PyTorch looks for them
ALIASES = {"dim": ("axis",), "keepdim": ("keepdims",), "input": ("x", "a", "x1"), "other": ("x2",)}
_WRAPPED_FOR = frozenset(("dim", "keepdim"))  # a function with one of these takes NumPy's names


def accepting_numpy_names(function, *, method: bool = False, name: str | None = None):
    """`function` taking NumPy's names for its parameters as PyTorch's parser does, or `function` itself when it
    has no `dim` or `keepdim`. A method (`method=True`) is called with the tensor first: its `input` is the
    tensor, which takes no keyword (PyTorch's methods have no `input` parameter). `name` is the one PyTorch's
    errors give it (its ATen name: "fft_rfft", "concat"), the function's own by default."""
    parameters = _parameters(function)
    if parameters is None or _WRAPPED_FOR.isdisjoint(parameters[0]):
        return function
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

    @functools.wraps(function)
    def with_numpy_names(*args, **kwargs):
        if kwargs and not own.issuperset(kwargs):
            kwargs = renamed(args, kwargs)
        return function(*args, **kwargs)

    with_numpy_names.numpy_names = aliases
    return with_numpy_names


def past_wrappers(stacklevel: int) -> int:
    """`stacklevel` for a warnings.warn in the caller, one more for each wrapper of this module's among the frames
    it counts out: the warning names the user's line, as PyTorch's does (its parser is no Python frame)."""
    frame, level = sys._getframe(2), 2  # the caller's caller: stacklevel 2
    while frame is not None and level <= stacklevel:
        if frame.f_code is _WRAPPER_CODE:
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


def bind_numpy_names(namespace: dict, written_in_python: tuple = (), prefix: str = "") -> None:
    """Rebind each public function of a module's globals `namespace` to its NumPy-name-taking form
    (accepting_numpy_names), but those PyTorch writes in Python (`written_in_python`). `prefix` begins the ATen
    names of the namespace's functions ("linalg_")."""
    for name, value in list(namespace.items()):
        if isinstance(value, types.FunctionType) and not name.startswith("_") and name not in written_in_python:
            namespace[name] = _homed(accepting_numpy_names(value, name=prefix + name), value, namespace["__name__"],
                                     name)


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


_WRAPPER_CODE = accepting_numpy_names(lambda dim: dim).__code__  # every wrapper's (closures share their code)
