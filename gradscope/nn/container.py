"""Containers: Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from gradscope.autograd import observers
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.tensor import Tensor
from gradscope.nn import _hooks
from gradscope.nn._hooks import _global_module_hooks
from gradscope.nn.module import Module, _add_indent
from gradscope.nn.parameter import Parameter

_MODULE_CALL = Module.__call__
_CALLS_GET = observers.calls.get  # (bound once: the inline test below runs per child under anomaly mode)


class _Numbered(Module):
    """Shared by Sequential and ModuleList: children keyed "0", "1", … addressed by position."""

    def _absolute_index(self, index) -> int:
        index = operator.index(index)
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range")
        return index % size

    def _key_at(self, index) -> str:
        return list(self._modules)[self._absolute_index(index)]

    def _renumber(self, modules: Iterable[Module]) -> None:
        """Key the children 0..n-1 again after a deletion or insertion, as PyTorch does."""
        self._modules.clear()
        for position, module in enumerate(modules):
            self._set_child(str(position), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, self._key_at(index), module)

    def __delitem__(self, index) -> None:
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [self._key_at(index)]
        for key in doomed:
            del self._modules[key]
        self._renumber(list(self._modules.values()))

    def append(self, module: Module):
        """Add `module` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        modules = list(self._modules.values())
        size = len(modules)
        if not -size <= index <= size:
            raise IndexError(f"Index out of range: {index}")
        modules.insert(index if index >= 0 else index + size, module)
        self._renumber(modules)

    def pop(self, key):
        module = self[key]
        del self[key]
        return module


class Sequential(_Numbered):
    """Runs its modules in order, each on the previous one's output.

    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    >>> model
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): ReLU()
    )

    An OrderedDict argument names the children; a slice is a Sequential keeping those names.
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for position, module in enumerate(args):
                self.add_module(str(position), module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key_at(index)]

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for module in modules:
            self.append(module)
        return self

    def forward(self, input):
        for module in self:
            # NOTE: when a call of the child would be its forward alone (Module.__call__'s first branch: no hook
            # anywhere, nothing listening, the default grad modes), the forward is called here: a model of many
            # small layers pays the call's own frame (args tuple, kwargs dict, C-level call) once per layer. So is
            # a closed child's without children in a closed call under anomaly mode, or observers of this context
            # (a Recorder: `plain` modes), inline in this call (ModuleCall.inline: no call of its own to make and
            # push, its ops have this call's stack, source line and the child's scope): no frame of its call is in
            # any stack (a child's call could make ops of the user's code, whose stacks show the calls around them)
            if (type(module).__call__ is _MODULE_CALL and observers.idle and not _hooks.module_hooks_registered
                    and not _global_module_hooks):
                if observers.checker is None and modes.get() is DEFAULT_MODES:  # (anomaly mode: one modes.get())
                    input = module.forward(input)
                    continue
                outer = _CALLS_GET()
                if (module._closed_forward and not module._modules and outer is not None and outer.closed
                        and outer.inline is None and modes.get().plain):
                    outer.inline = (outer, module)
                    try:
                        input = module.forward(input)
                    finally:
                        outer.inline = None
                    continue
            input = module(input)
        return input


class ModuleList(_Numbered):
    """A list of modules whose parameters belong to the owner; it has no forward.

    Its repr folds runs of identical modules: `(0-2): 3 x Linear(...)`.
    """

    _scope_passthrough = True

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[self._key_at(index)]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def __repr__(self) -> str:
        if not self._modules:
            return f"{self._get_name()}()"
        runs: list[list] = []  # [first index, last index, repr]
        for position, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = position
            else:
                runs.append([position, position, text])
        lines = []
        for first, last, text in runs:
            label = f"({first}): {text}" if first == last else f"({first}-{last}): {last - first + 1} x {text}"
            lines.append(_add_indent(label, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules (insertion-ordered) whose parameters belong to the owner; it has no forward."""

    _scope_passthrough = True

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value pairs, but got "
                            + type(modules).__name__)
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for position, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{position} has length {len(pair)}; 2 is "
                                 "required")
            self[pair[0]] = pair[1]


def _parameter_line(key, value, type_name) -> str:
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(size) for size in value.shape)
        return f"  ({key}): {kind} containing: [{type_name(value)} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


def _as_parameter(value):
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


class ParameterList(Module):
    """A list of parameters registered as "0", "1", …; plain tensors are made Parameters."""

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList([self[i] for i in range(len(self))[index]])
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range")
        return getattr(self, str(index % len(self)))

    def __setitem__(self, index: int, value) -> None:
        index = operator.index(index) % len(self)
        setattr(self, str(index), _as_parameter(value))

    def __iadd__(self, values: Iterable) -> ParameterList:
        return self.extend(values)

    def append(self, value) -> ParameterList:
        object.__setattr__(self, "_size", self._size + 1)
        setattr(self, str(self._size - 1), _as_parameter(value))
        return self

    def extend(self, values: Iterable) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(position, value, lambda t: t.dtype) for position, value in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters registered under their keys; plain tensors are made Parameters."""

    def __init__(self, parameters: Mapping | Iterable | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def values(self):
        return (self[key] for key in self._keys)

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def update(self, parameters: Mapping | Iterable) -> None:
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        # NOTE: PyTorch prints the dtype in a ParameterList but the tensor type in a ParameterDict
        return "\n".join(_parameter_line(key, value, lambda t: t.type()) for key, value in self.items())
