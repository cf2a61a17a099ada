"""Loading a state dict into a module: key matching, shape checks and PyTorch's error report."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

from gradscope.autograd.grad_mode import no_grad
from gradscope.autograd.tensor import Tensor
from gradscope.nn.parameter import Parameter


class IncompatibleKeys(namedtuple("_IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys the module has but the dict lacks, and the reverse."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


def load_state_dict(module, state_dict: Mapping, strict: bool, assign: bool) -> IncompatibleKeys:
    """Copy (or with `assign`, install) every matching entry; raise PyTorch's report of what went wrong."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    for prefix, submodule in module.named_modules():
        lazy_load_hook = getattr(submodule, "_lazy_load_hook", None)  # lazy modules take the loaded shapes
        if lazy_load_hook is not None:
            lazy_load_hook(state_dict, f"{prefix}." if prefix else "")
    expected = module.state_dict(keep_vars=True)
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    errors = []
    for key, target in expected.items():
        if key not in state_dict:
            continue
        value = state_dict[key]
        if not isinstance(value, Tensor):
            errors.append(f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like object '
                          f"from checkpoint but received {type(value)}")
        elif value.shape != target.shape:
            errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, the "
                          f"shape in current model is {target.shape}.")
        elif assign:
            _install(module, key, target, value)
        else:
            with no_grad():
                target.copy_(value)
    if strict and unexpected:
        errors.insert(0, f"Unexpected key(s) in state_dict: {_quoted(unexpected)}. ")
    if strict and missing:
        errors.insert(0, f"Missing key(s) in state_dict: {_quoted(missing)}. ")
    if errors:
        raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n\t" + "\n\t".join(errors))
    return IncompatibleKeys(missing, unexpected)


def _quoted(keys: list[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)


def _install(module, key: str, target: Tensor, value: Tensor) -> None:
    """`assign=True`: the loaded tensor replaces the old one (a Parameter keeps requires_grad)."""
    module_path, _, name = key.rpartition(".")
    owner = module.get_submodule(module_path)
    if isinstance(target, Parameter):
        owner._parameters[name] = value if isinstance(value, Parameter) else Parameter(value, target.requires_grad)
    else:
        owner._buffers[name] = value
