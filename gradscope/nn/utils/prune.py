"""torch.nn.utils.prune: zero out parts of a parameter through a mask, the way PyTorch's pruning tutorial does it.

Pruning `name` of a module moves the parameter to `name_orig`, keeps a buffer `name_mask`, and makes `name` a
plain attribute, `name_orig * name_mask`, recomputed by a forward pre-hook (the pruning method itself) before every
call. Pruning the same tensor again combines the masks in a `PruningContainer`: the new method only sees what the
old masks kept. `remove` makes the pruning permanent: the parameter is back under `name`, holding the masked values.

    >>> prune.l1_unstructured(model.fc, "weight", amount=0.3)   # the 30% smallest |weights| are zeroed
    >>> prune.remove(model.fc, "weight")
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import gradscope
from gradscope.nn.utils.convert_parameters import parameters_to_vector

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured", "PruningContainer",
           "RandomStructured", "RandomUnstructured", "custom_from_mask", "global_unstructured", "identity",
           "is_pruned", "l1_unstructured", "ln_structured", "random_structured", "random_unstructured", "remove"]


class BasePruningMethod(ABC):
    """A way to compute a mask: `compute_mask(t, default_mask)` gives the new mask of `t`, starting from the mask it
    has. Subclasses set PRUNING_TYPE to "unstructured", "structured" (with a `dim`) or "global"."""

    _tensor_name: str

    def __call__(self, module, inputs) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The mask of `t`, given the mask it already has (ones when it has none)."""

    def apply_mask(self, module):
        """`name_orig * name_mask` of `module`, the pruned tensor."""
        assert self._tensor_name is not None, f"Module {module} has to be pruned"  # noqa: S101 - PyTorch's check
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune `module`'s tensor `name` with `cls(*args, **kwargs)` (in a container with the methods already on
        it), ranking its entries by `importance_scores` (the tensor itself by default)."""
        method = _compose(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            assert importance_scores.shape == orig.shape, (  # noqa: S101 - PyTorch's check
                f"importance_scores should have the same shape as parameter {name} of {module}")
        else:
            importance_scores = orig
        first = not isinstance(method, PruningContainer)
        if first:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = gradscope.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone(memory_format=gradscope.contiguous_format)
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # the parameter goes back where it was
                module.register_parameter(name, getattr(module, name + "_orig"))
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """`t` with this method's mask applied (the module isn't touched)."""
        if importance_scores is not None:
            assert importance_scores.shape == t.shape, (  # noqa: S101 - PyTorch's check
                "importance_scores should have the same shape as tensor t")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else gradscope.ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module) -> None:
        """Make the pruning permanent: `name` is a parameter again, holding `name_orig * name_mask`."""
        assert self._tensor_name is not None, (  # noqa: S101 - PyTorch's check
            f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _compose(cls, module, name, *args, **kwargs) -> BasePruningMethod:
    """The new method, or the container of the methods already pruning `name` with the new one added (their hook
    leaves the module: the result is registered again)."""
    found = [(key, hook) for key, hook in module._forward_pre_hooks.items()
             if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    assert len(found) <= 1, (  # noqa: S101 - PyTorch's check
        f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. Use a PruningContainer.")
    for key, _ in found:
        del module._forward_pre_hooks[key]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if found:
        old = found[0][1]
        if isinstance(old, PruningContainer):
            old.add_pruning_method(method)
            return old
        container = PruningContainer(old)
        container.add_pruning_method(method)
        return container
    return method


class PruningContainer(BasePruningMethod):
    """The methods applied in turn to one tensor: the last one prunes what the earlier masks kept."""

    def __init__(self, *args) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                             f"PruningContainer {self}. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, index):
        return self._pruning_methods[index]

    def compute_mask(self, t, default_mask):
        """`default_mask` with the last method's mask written into the part of `t` it still keeps: the entries
        left (unstructured), the channels along its dim not all zero (structured), or all of it (global)."""
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        if method.PRUNING_TYPE == "unstructured":
            kept = default_mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` "
                                     "defined.")
            ndim, dim = t.dim(), method.dim
            dim = ndim + dim if dim < 0 else dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {ndim}")
            kept = [slice(None)] * ndim
            kept[dim] = default_mask.sum(dim=[d for d in range(ndim) if d != dim]) != 0
            kept = tuple(kept)
        elif method.PRUNING_TYPE == "global":
            kept = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(t[kept], default_mask=default_mask[kept])
        mask[kept] = partial.to(dtype=mask.dtype)
        return mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Zeroes `amount` entries (a count, or a fraction of the tensor) picked at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        count = _count(self.amount, t.nelement())
        _check_count(count, t.nelement())
        mask = default_mask.clone(memory_format=gradscope.contiguous_format)
        if count != 0:
            chosen = gradscope.topk(gradscope.rand_like(t).view(-1), k=count).indices
            mask.view(-1)[chosen] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Zeroes the `amount` entries (a count, or a fraction of the tensor) of smallest magnitude."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        count = _count(self.amount, t.nelement())
        _check_count(count, t.nelement())
        mask = default_mask.clone(memory_format=gradscope.contiguous_format)
        if count != 0:
            smallest = gradscope.topk(gradscope.abs(t).view(-1), k=count, largest=False).indices
            mask.view(-1)[smallest] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Zeroes `amount` whole channels along `dim` (a count, or a fraction of them), picked at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        channels = _channels(t, self.dim)
        count = _count(self.amount, channels)
        _check_count(count, channels)
        if count == 0:
            return default_mask
        draw = gradscope.rand(channels)
        threshold = gradscope.kthvalue(draw, k=count).values
        mask = _channel_mask(t, self.dim, draw > threshold)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Zeroes the `amount` channels along `dim` (a count, or a fraction of them) of smallest L`n` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        channels = _channels(t, self.dim)
        count = _count(self.amount, channels)
        _check_count(count, channels)
        dims = list(range(t.dim()))
        dims.remove(dims[self.dim])
        largest = gradscope.topk(gradscope.norm(t, p=self.n, dim=dims), k=channels - count, largest=True).indices
        if count == 0:
            return default_mask
        mask = _channel_mask(t, self.dim, largest)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes with a mask given."""

    PRUNING_TYPE = "global"

    def __init__(self, mask) -> None:
        self.mask = mask

    def compute_mask(self, t, default_mask):
        assert default_mask.shape == self.mask.shape  # noqa: S101 - PyTorch's check
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Prune nothing, but leave `name` pruned-shaped: `name_orig`, a mask of ones, the hook."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune the (module, name) pairs of `parameters` together: `pruning_method(**kwargs)` (an unstructured one)
    ranks all their entries at once, and each tensor gets its part of the mask."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    parameters = list(parameters)
    scores = parameters_to_vector([importance_scores.get((module, name), getattr(module, name))
                                   for module, name in parameters])
    masks = parameters_to_vector([getattr(module, name + "_mask", gradscope.ones_like(getattr(module, name)))
                                  for module, name in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    mask = container.compute_mask(scores, masks)
    start = 0
    for module, name in parameters:
        tensor = getattr(module, name)
        custom_from_mask(module, name, mask=mask[start:start + tensor.numel()].view_as(tensor))
        start += tensor.numel()


def remove(module, name):
    """Make the pruning of `name` permanent (see BasePruningMethod.remove) and drop its hook."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module) -> bool:
    """Whether `module` or a module in it has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for _, submodule in module.named_modules() for hook in submodule._forward_pre_hooks.values())


def _check_amount(amount) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if amount < 0 if isinstance(amount, numbers.Integral) else float(amount) > 1.0 or float(amount) < 0.0:
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _count(amount, size: int) -> int:
    """How many of `size` entries (or channels) `amount` prunes: a count as it is, a fraction rounded (half to
    even, Python's round, as PyTorch)."""
    return amount if isinstance(amount, numbers.Integral) else round(amount * size)


def _check_count(count: int, size: int) -> None:
    if count > size:
        raise ValueError(f"amount={count} should be smaller than the number of parameters to prune={size}")


def _channels(t, dim: int) -> int:
    """The number of channels along `dim` of `t`, a tensor structured pruning can apply to."""
    if t.dim() <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
                         f"{t.shape} with {t.dim()} dims")
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")
    return t.shape[dim]


def _channel_mask(t, dim: int, channels):
    """Ones on the chosen channels along `dim` (a boolean mask or indices), zeros elsewhere."""
    mask = gradscope.zeros_like(t)
    chosen = [slice(None)] * t.dim()
    chosen[dim] = channels
    mask[tuple(chosen)] = 1
    return mask
