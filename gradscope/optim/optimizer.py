"""Optimizer: parameter groups, per-parameter state, zero_grad and state_dict, as in torch.optim."""

from __future__ import annotations

import copy
import functools
import itertools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable

from gradscope.autograd.grad_mode import enable_grad, no_grad
from gradscope.autograd.hooks import HookDict, RemovableHandle
from gradscope.autograd.tensor import Tensor
from gradscope.nn.module import typename
from gradscope.nn.parameter import reset_grad


class _RequiredParameter:
    """The default of a hyper-parameter every param group must give (`lr` of a custom optimizer)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

# hooks every optimizer calls around its step (what `gradscope watch` listens to), as PyTorch's
_global_optimizer_pre_hooks = HookDict()
_global_optimizer_post_hooks = HookDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Call `hook(optimizer, args, kwargs)` before every optimizer's step (`args` begins with the
    optimizer); it may return `(new_args, new_kwargs)` for the step to use instead."""
    return _global_optimizer_pre_hooks.add(hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Call `hook(optimizer, args, kwargs)` after every optimizer's step."""
    return _global_optimizer_post_hooks.add(hook)


def _hooked_step(step: Callable) -> Callable:
    """`step` with the pre-hooks (global ones first) before it and the post-hooks (global ones last) after it."""

    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]  # as PyTorch's, the hooks' `args` start with the optimizer
        for hook in (*_global_optimizer_pre_hooks.values(), *self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                                       f"{result}.")
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in (*self._optimizer_step_post_hooks.values(), *_global_optimizer_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


class Optimizer:
    """Base class: holds `param_groups` (dicts with "params" and hyper-parameters, missing ones filled
    from `defaults`) and `state` (a dict per parameter). Subclasses implement `step`.

    >>> opt = optim.SGD([{"params": model.fc1.parameters()}, {"params": model.fc2.parameters(), "lr": 1.0}],
    ...                 lr=0.1)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks = HookDict()
        self._optimizer_step_post_hooks = HookDict()
        # as PyTorch: the class's step is wrapped once, by its first instance, to run the step hooks
        if not getattr(type(self).step, "hooked", False):
            type(self).step = _hooked_step(type(self).step)
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {typename(params)}")
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group (e.g. layers to unfreeze); hyper-parameters it leaves out come from `defaults`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {typename(param)}")
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          UserWarning, stacklevel=3)
        existing = {param for group in self.param_groups for param in group["params"]}
        if not existing.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(optimizer, args, kwargs)` before this optimizer's step; it may return
        `(new_args, new_kwargs)` for the step to use instead."""
        return self._optimizer_step_pre_hooks.add(hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(optimizer, args, kwargs)` after this optimizer's step."""
        return self._optimizer_step_post_hooks.add(hook)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None by default, else to zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none and param._node is None:  # reset_grad for a leaf, without its frame
                    if param._grad is not None:
                        param._grad = None
                else:
                    reset_grad(param, set_to_none)

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient; returns what `closure` (if given) returns.
        Each optimizer says how in `_update(param, group)`, or overrides `step` as PyTorch's subclasses do."""
        return self._step_each(closure, self._update)

    def _update(self, param: Tensor, group: dict) -> None:
        raise NotImplementedError

    def _step_each(self, closure: Callable | None, update: Callable[[Tensor, dict], None]):
        """Run `closure` (with grad enabled) for the loss, then `update(param, group)` for every
        parameter that has a gradient; returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        update(param, group)
        return loss

    def state_dict(self) -> dict:
        """`{"state": {index: state}, "param_groups": [...]}` with parameters replaced by their index
        (counted across groups); the state tensors are the optimizer's own, not copies."""
        index_of: dict[int, int] = {}
        packed_groups = []
        for group in self.param_groups:
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            packed_groups.append(packed)
        packed_state = {(index_of[id(key)] if isinstance(key, Tensor) else key): value
                        for key, value in self.state.items()}
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by `state_dict` into an optimizer over the same
        parameters; floating-point state is cast to its parameter's dtype."""
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if [len(g["params"]) for g in saved_groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        param_of = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                            itertools.chain.from_iterable(g["params"] for g in self.param_groups), strict=True))
        state: defaultdict[Tensor, dict] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                param = param_of[key]
                state[param] = {name: _cast_like(param, name, item) for name, item in value.items()}
            else:
                state[key] = value
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            saved["params"] = group["params"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for position, group in enumerate(self.param_groups):
            text += f"\nParameter Group {position}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def _cast_like(param: Tensor, name: str, value):
    """State tensors take a floating parameter's dtype; the step counter stays as saved."""
    if isinstance(value, Tensor) and name != "step" and param.is_floating_point():
        return value.to(param.dtype)
    return value
