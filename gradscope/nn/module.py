"""nn.Module: the base class of layers and models, with PyTorch's registration rules and names."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterator

from gradscope import _dtypes
from gradscope.autograd import observers, stacks, writes
from gradscope.autograd.grad_mode import DEFAULT_MODES, modes
from gradscope.autograd.tensor import DeviceError, Tensor, check_device
from gradscope.nn import _hooks, _registry, _state
from gradscope.nn._hooks import (  # noqa: F401 (the global hooks: PyTorch has them in its module.py)
    HookedCall,
    ModuleHookDict,
    _global_module_hooks,
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
from gradscope.nn.parameter import Buffer, Parameter, reset_grad

# the module calls' context variable's methods, bound once (a call under anomaly mode or observers uses them)
_CALLS_GET, _CALLS_SET, _CALLS_RESET = observers.calls.get, observers.calls.set, observers.calls.reset


def typename(obj) -> str:
    """torch.typename: `torch.FloatTensor` for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "") else f"{module}.{cls.__qualname__}"


def _add_indent(text: str, spaces: int) -> str:
    """Indent every line after the first (a child's repr inside its parent's)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


_PACKAGE = __name__.split(".")[0]  # gradscope
_HOOK_DICTS = frozenset(("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks"))
# attributes whose rebinding changes what parameters() lists (see _registry)
_LISTING = frozenset(("_parameters", "_modules", "__class__"))
_CHILDREN_DONE = object()  # in Module._walk's stack, below a module's children


def _joined(names: list[str]) -> str:
    """A module's qualified name from the names on the way down to it, as named_modules forms it."""
    prefix = ""
    for name in names:
        prefix = f"{prefix}.{name}" if prefix else name
    return prefix


def _cast(tensor: Tensor, dtype: _dtypes.dtype) -> Tensor:
    """`tensor.to(dtype)`, whose new memory (a cast's copy) is gradscope's own as a factory's is: private until
    handed out (writes.allocated), so that a recording holds it rather than copying it. The same dtype gives
    the tensor back, in memory that may be the caller's."""
    cast = tensor.to(dtype)
    if cast._data is not tensor._data:
        writes.allocated(cast._data)  # (no-op for a view)
    return cast


class Module(HookedCall, _state.StateDictMethods):
    """Base class for all layers and models.

    Assigning a Parameter, a Module or a Buffer to an attribute registers it, which gives
    `parameters()`, `state_dict()`, `train()/eval()` and a repr listing the children:

    >>> class MLP(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(4, 3)
    ...     def forward(self, x):
    ...         return self.fc1(x).relu()
    >>> [name for name, _ in MLP().named_parameters()]
    ['fc1.weight', 'fc1.bias']

    Calling a module runs `forward` inside its scope, so every graph node created there records
    where it came from ("MLP.encoder.fc1"): a module's scope name is its attribute name in its
    parent ("layers.0" for an item of a ModuleList), or its class name for a root module.
    """

    training: bool
    _scope_name: str | None = None  # the attribute name this module was registered under in its parent
    # whether only gradscope's code makes ops in a call of this module (outside the module calls it makes):
    # gradscope's own modules, unless their forward may call functions it was given (they say so)
    _closed_forward = False
    # True for containers that are never called (ModuleList, ModuleDict): no scope of their own is
    # pushed, so their children's scope names carry the container's ("layers.0")
    _scope_passthrough = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "_closed_forward" not in cls.__dict__:  # a subclass made elsewhere (the user's) runs its code in the call
            cls._closed_forward = cls.__module__.startswith(_PACKAGE + ".")

    def __init__(self) -> None:
        set_attribute = object.__setattr__
        set_attribute(self, "training", True)
        set_attribute(self, "_parameters", _registry.Registry())
        set_attribute(self, "_buffers", {})
        set_attribute(self, "_non_persistent_buffers_set", set())
        set_attribute(self, "_modules", _registry.Registry())
        set_attribute(self, "_forward_pre_hooks", ModuleHookDict())
        set_attribute(self, "_forward_hooks", ModuleHookDict())
        set_attribute(self, "_forward_pre_hooks_with_kwargs", set())
        set_attribute(self, "_forward_hooks_with_kwargs", set())
        set_attribute(self, "_forward_hooks_always_called", set())
        set_attribute(self, "_backward_pre_hooks", ModuleHookDict())
        set_attribute(self, "_backward_hooks", ModuleHookDict())
        _state.new_hook_dicts(self)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # calling ------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        # the scope is only read by observers and anomaly mode: while none listens and grad mode is on, the call is
        # its hooks and forward alone (three checks, then the global hooks', then, once any module has had a hook,
        # one per hook dict of its own)
        hooked = _global_module_hooks or _hooks.module_hooks_registered and (
            self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks)
        if observers.idle and modes.get() is DEFAULT_MODES:
            if observers.checker is None:
                if hooked:
                    return self._call_with_hooks(args, kwargs)
                return self.forward(*args, **kwargs)
            # anomaly mode alone: the call's scope, and the stack of the ops made inside. A closed call (the module's
            # own forward is gradscope's, and no hook is the user's) finds it now, once for all of them; another
            # keeps its frame, from which each op's is found (its forward's or hooks' own ops have their own lines)
            outer = _CALLS_GET()
            if outer is not None and outer.inline is not None:
                outer = outer.inner()
            if self._closed_forward and not hooked:
                call = observers.ModuleCall(self, outer, None, None, True)
                # (outside any call: the stack of the caller's frame, as stacks.call_stack finds it, one call fewer)
                call.stack = stacks.stack_out(sys._getframe(1)) if outer is None else stacks.call_stack(outer)
            else:
                # NOTE: held by the call alone, never by a local: a frame whose local refers to the frame is a
                # cycle, and it would keep this frame and its callers' (their locals: inputs, outputs) until a
                # collection
                call = observers.ModuleCall(self, outer, None, sys._getframe(), False)
        else:
            observing = observers.GLOBAL or modes.get().observers
            if not observing and observers.checker is None:
                if hooked:
                    return self._call_with_hooks(args, kwargs)
                return self.forward(*args, **kwargs)  # no hooks, no observer: the call is the forward alone
            outer = observers.calls.get()
            if outer is not None and outer.inline is not None:
                outer = outer.inner()
            if observing and (outer is None or outer.module is None):  # a model's own call: recorders name its
                observers.notify("root_module_called", self)         # parameters after it
            # whether the call is closed (every op made inside has the call's stack and source line), and this frame,
            # from which anomaly mode finds the stack of the ops made inside once per call, and observers their
            # source line; not needed in a closed call inside a closed call (gradscope's code called it: it has that
            # call's stack). NOTE: the frame is held by the call alone (see above)
            closed = self._closed_forward and not hooked
            needs_frame = (closed or observers.checker is not None) and not (closed and outer is not None
                                                                                and outer.closed)
            call = observers.ModuleCall(self, outer, None, sys._getframe() if needs_frame else None, closed)
            if closed and not needs_frame:  # in a closed call: its stack (stacks._call_stack), once found
                call.stack = outer.stack
        token = _CALLS_SET(call)
        try:
            if hooked:
                return self._call_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            _CALLS_RESET(token)
            call.frame = None  # the frame, its locals with it, is let go as it returns

    def _scope_relative_to(self, caller: Module | None) -> str:
        """This module's path below the module whose forward calls it ("encoder.layers.0" when the
        caller reaches through modules it does not call); its own name when it is not a descendant."""
        if caller is not None:
            for name, child in caller._modules.items():  # a direct child: the common case, found without a search
                if child is self:
                    return name
            pending, seen = deque([("", caller)]), {id(caller)}
            while pending:  # breadth first: a direct child is found at once
                prefix, owner = pending.popleft()
                for name, child in owner._modules.items():
                    if child is self:
                        return prefix + name
                    if child is not None and id(child) not in seen:
                        seen.add(id(child))
                        pending.append((f"{prefix}{name}.", child))
        return self._scope_name or type(self).__name__

    # registration -------------------------------------------------------------------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a `None` placeholder) under `name`."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter; persistent buffers go into state_dict()."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module; its parameters are then this module's too, under `name.`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._set_child(name, module)

    register_module = add_module

    def _check_name(self, name, kind: str, registry: dict) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {typename(name)}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def _set_child(self, name: str, module: Module | None) -> None:
        self._modules[name] = module
        if module is not None:
            module._set_scope_name(f"{self._scope_name}.{name}" if self._scope_passthrough and self._scope_name
                                   else name)

    def _set_scope_name(self, name: str) -> None:
        object.__setattr__(self, "_scope_name", name)
        if self._scope_passthrough:
            for key, child in self._modules.items():
                if child is not None:
                    child._set_scope_name(f"{name}.{key}")

    def _forget(self, name: str, keep: dict) -> None:
        """Drop `name` from every place an attribute can live except `keep`, where it is about to be
        registered (so reassigning a parameter keeps its place in the order)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent_buffers_set.discard(name)

    def __setattr__(self, name: str, value) -> None:
        registries = self.__dict__
        parameters = registries.get("_parameters")
        modules = registries.get("_modules")
        buffers = registries.get("_buffers")
        if isinstance(value, Parameter):
            if parameters is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=parameters)
            self.register_parameter(name, value)
        elif parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=modules)
            self._set_child(name, value)
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            self._set_child(name, value)
        elif isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{typename(value)}' as buffer '{name}' "
                                "(torch.nn.Buffer, torch.Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            if buffers is not None:
                self._forget(name, keep=buffers)
            self.register_buffer(name, value, persistent)
        else:
            if name in _HOOK_DICTS:  # a hook dict of one's own, filled elsewhere
                _hooks.mark_module_hooks()
            elif name in _LISTING:
                _registry.forget()
            object.__setattr__(self, name, value)

    def __setstate__(self, state: dict) -> None:
        """What unpickling and copy.copy give a new module: its attributes (hook dicts among them, as they are)."""
        self.__dict__.update(state)
        _registry.forget()
        _state.new_hook_dicts(self)  # a module pickled without them
        if any(state.get(name) for name in _HOOK_DICTS):
            _hooks.mark_module_hooks()

    def __getattr__(self, name: str):
        registries = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in registries and name in registries[registry]:
                return registries[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _registered(self, name: str):
        """`self.<name>` for a parameter, buffer or child that a built-in forward reads on every call, from its
        registry (in __getattr__'s order): the attribute read first fails the ordinary lookup, making and dropping
        an AttributeError, then runs __getattr__ (~1 µs in all). A name in no registry (a parametrization's property,
        a plain tensor set in its place) is read as the attribute."""
        parameters = self._parameters
        if name in parameters:
            return parameters[name]
        buffers = self._buffers
        if name in buffers:
            return buffers[name]
        modules = self._modules
        return modules[name] if name in modules else getattr(self, name)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            if name in _LISTING:
                _registry.forget()
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        attributes = set(super().__dir__())
        attributes.update(self._parameters, self._buffers, self._modules)
        return sorted(name for name in attributes if not name[:1].isdigit())

    # traversal ----------------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every descendant, with qualified names ("" for this module), depth first.

        Walked with a stack, not a generator per module (every zero_grad() and parameters() walks the
        model); a descendant that overrides named_modules walks its own subtree, as when recursing.
        """
        if memo is None:
            memo = set()
        pending = [(prefix, self)]
        while pending:
            prefix, module = pending.pop()
            if module is not self and type(module).named_modules is not Module.named_modules:
                yield from module.named_modules(memo, prefix, remove_duplicate)
                continue
            if module in memo:
                continue
            if remove_duplicate:
                memo.add(module)
            yield prefix, module
            if module._modules:
                children = [(f"{prefix}.{name}" if prefix else name, child)
                            for name, child in module._modules.items() if child is not None]
                pending += reversed(children)

    def modules(self) -> Iterator[Module]:
        if type(self).named_modules is Module.named_modules:
            return self._walk()
        return (module for _, module in self.named_modules())

    def _walk(self) -> Iterator[Module]:
        """The modules named_modules() lists, in its order, without formatting their names (every zero_grad()
        and parameters() walks the model). A descendant that overrides named_modules walks its own subtree,
        as there, given the prefix it would have had: only then are the names on the way down joined."""
        memo = set()
        names = []  # of this module and of each module whose children are being walked, outermost first
        pending = [("", self)]
        while pending:
            entry = pending.pop()
            if entry is _CHILDREN_DONE:
                names.pop()
                continue
            name, module = entry
            if module is None:
                continue
            if module is not self and type(module).named_modules is not Module.named_modules:
                for _, found in module.named_modules(memo, _joined([*names, name]), True):
                    yield found
                continue
            if module in memo:
                continue
            memo.add(module)
            yield module
            if module._modules:
                names.append(name)
                pending.append(_CHILDREN_DONE)
                pending += reversed(module._modules.items())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool):
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        seen = set()  # ids: a tensor's own __hash__ is Python code
        for owner_prefix, owner in owners:
            for name, value in getattr(owner, registry).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (f"{owner_prefix}.{name}" if owner_prefix else name), value

    def _members(self, registry: str, recurse: bool) -> Iterator[Tensor]:
        """The values named_parameters() or named_buffers() list, in their order, without their names."""
        if not recurse:
            owners = (self,)
        elif type(self).named_modules is Module.named_modules:
            owners = self._walk()
        else:
            owners = (module for _, module in self.named_modules(prefix="", remove_duplicate=True))
        seen = set()  # ids: a tensor's own __hash__ is Python code
        for owner in owners:
            for value in getattr(owner, registry).values():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Parameters with qualified names ("encoder.fc1.weight"), each shared one once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        if type(self).named_parameters is Module.named_parameters:
            return self._members("_parameters", recurse)
        return (param for _, param in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        if type(self).named_buffers is Module.named_buffers:
            return self._members("_buffers", recurse)
        return (buffer for _, buffer in self.named_buffers(recurse=recurse))

    def get_submodule(self, target: str) -> Module:
        """The descendant at a dotted path ("encoder.fc1")."""
        module = self
        for item in target.split(".") if target else ():
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call `fn` on every descendant (children first), then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # modes and gradients ------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set the training flag on this module and every descendant."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the parameters' gradients: to None by default, else to zeros in place."""
        cls = type(self)
        params = None
        # the list parameters() gives, kept between steps (`kept` checks named_modules, this class's too)
        if cls.parameters is Module.parameters and cls.named_parameters is Module.named_parameters:
            params = _registry.kept(self, self._walk, Module.named_modules)
        if params is None:
            params = self.parameters()
        if set_to_none:
            for param in params:
                if param._node is None:  # reset_grad for a leaf, without its frame (once per parameter and step)
                    if param._grad is not None:
                        param._grad = None
                else:
                    reset_grad(param, True)
        else:
            for param in params:
                reset_grad(param, False)

    # dtype conversion ---------------------------------------------------------------------------
    def to(self, *args, **kwargs) -> Module:
        """`module.to(torch.float64)`, `.to("cpu")`, `.to(tensor)`: converts floating-point parameters and
        buffers in place (the Parameter objects stay the same); CPU is the only device."""
        dtype = kwargs.get("dtype")
        for arg in args:
            if isinstance(arg, _dtypes.dtype):
                dtype = arg
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            else:
                check_device(arg)
        check_device(kwargs.get("device"))
        if dtype is None:
            return self
        if not dtype.is_floating_point and not dtype.is_complex:
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={dtype}")
        return self._convert_floating(dtype)

    def double(self) -> Module:
        return self._convert_floating(_dtypes.float64)

    def float(self) -> Module:
        return self._convert_floating(_dtypes.float32)

    def half(self) -> Module:
        return self._convert_floating(_dtypes.float16)

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        raise DeviceError("cuda" if device is None else device)

    def _convert_floating(self, dtype: _dtypes.dtype) -> Module:
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and param.is_floating_point():
                    param.data = _cast(param.data, dtype)
                    if param.grad is not None:
                        param.grad.data = _cast(param.grad.data, dtype)
            for name, buffer in module._buffers.items():
                if buffer is not None and buffer.is_floating_point():
                    module._buffers[name] = _cast(buffer, dtype)
        return self

    # printing -----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (subclasses override it)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_add_indent(repr(module), 2)}" for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        if not lines:
            return f"{self._get_name()}()"
        if len(extra_lines) == 1 and not child_lines:
            return f"{self._get_name()}({extra_lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
