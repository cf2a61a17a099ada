"""functional_call: run a module with some parameters and buffers replaced for the duration of one call, and
stack_module_state for ensembles under vmap. As in PyTorch (nn.utils.stateless), a name that is neither a
parameter nor a buffer is set as an attribute for the call; tied tensors take the one value given for any of
their names; and a tensor the module put in place of a replaced one during the call is written back to the
dict passed in."""

from __future__ import annotations

from collections.abc import Sequence

from gradscope.autograd.shape_functions import stack
from gradscope.autograd.tensor import Tensor

_MISSING = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with the named tensors in place of its own parameters and buffers.

        params = {name: p.detach() for name, p in model.named_parameters()}
        grad(lambda p: functional_call(model, p, (x,)).sum())(params)
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        replacements = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts: dict[str, int] = {}
        for mapping in parameter_and_buffer_dicts:
            for key in mapping:
                counts[key] = counts.get(key, 0) + 1
        repeated = [key for key, count in counts.items() if count > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        replacements = {key: value for mapping in parameter_and_buffer_dicts for key, value in mapping.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    return call_reparametrized(module, replacements, args, kwargs, tie_weights=tie_weights, strict=strict)


def call_reparametrized(module, replacements: dict, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """The call itself (PyTorch's nn.utils.stateless._functional_call): one dict of replacements."""
    if type(module).__name__ == "DataParallel":
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
    kwargs = {} if kwargs is None else kwargs
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    untied = _untie(module, replacements) if tie_weights else replacements
    if strict:
        _check_keys(module, untied)
    submodules: dict[str, object] = {}
    originals = _swap_all(module, submodules, untied)
    try:
        return module(*args, **kwargs)
    finally:
        current = _swap_all(module, submodules, originals)
        # a module that replaced a tensor during the call (not in place): the new one goes back to the caller
        replacements.update({key: current[key] for key in replacements if key in current})


def stack_module_state(models) -> tuple[dict, dict]:
    """The parameters and buffers of same-class models stacked along a new first dim (leaves of their own)."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(model.named_parameters()) for model in models]
    all_buffers = [dict(model.named_buffers()) for model in models]
    params = {key: _stacked_leaf([p[key] for p in all_params], key) for key in all_params[0]}
    buffers = {key: _stacked_leaf([b[key] for b in all_buffers], key) for key in all_buffers[0]}
    return params, buffers


def _stacked_leaf(tensors: list, name: str) -> Tensor:
    requiring = [t.requires_grad for t in tensors]
    if any(requiring) and not all(requiring):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack(tensors)
    return result.detach().requires_grad_() if all(requiring) else result


def _untie(module, replacements: dict) -> dict:
    """A value given for one name of a tied (shared) tensor goes to all its names; different values for
    names of one tensor are an error."""
    names_of: dict[int, set[str]] = {}
    for name, tensor in [*module.named_parameters(remove_duplicate=False),
                         *module.named_buffers(remove_duplicate=False)]:
        names_of.setdefault(id(tensor), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given = {name for name in replacements if name in tied}
    for name in given:
        names = tied[name]
        if len(names & given) > 1 and len({id(replacements[other]) for other in names}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                             "Consider using tie_weights=False")
    untied = dict(replacements)
    for name in given:
        for other in tied[name]:
            untied[other] = replacements[name]
    return untied


def _check_keys(module, replacements: dict) -> None:
    valid = {name for name, _ in [*module.named_parameters(remove_duplicate=False),
                                  *module.named_buffers(remove_duplicate=False)]}
    missing, unexpected = sorted(valid - replacements.keys()), sorted(replacements.keys() - valid)
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(errors))


def _swap_all(module, submodules: dict, named: dict) -> dict:
    """Put each tensor in place of its name; returns what was there (all put back if one swap fails)."""
    originals = {}
    try:
        for name, tensor in named.items():
            prefix, _, attribute = name.rpartition(".")
            originals[name] = _swap(_submodule(module, submodules, prefix), attribute, tensor)
    except Exception:
        for name, original in originals.items():
            prefix, _, attribute = name.rpartition(".")
            _swap(_submodule(module, submodules, prefix), attribute, original)
        raise
    return originals


def _submodule(module, memo: dict, path: str):
    if not path:
        return module
    if path not in memo:
        prefix, dot, attribute = path.rpartition(".")
        parent = _submodule(module, memo, prefix) if dot else module
        try:
            child = getattr(parent, attribute)
        except AttributeError as error:
            raise AttributeError(f"{parent._get_name()} has no attribute `{attribute}`") from error
        if not hasattr(child, "_parameters"):
            raise TypeError(f"submodule `{path}`: {child} is not an instance of torch.nn.Module")
        memo[path] = child
    return memo[path]


def _swap(module, name: str, tensor):
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    if "." in name:
        raise KeyError('tensor name can\'t contain "."')
    if name == "":
        raise KeyError('tensor name can\'t be empty string ""')
    for registry in (module._parameters, module._buffers):
        if name in registry:
            original = registry[name]
            if tensor is _MISSING:
                del registry[name]
            else:
                registry[name] = tensor
            return original
    original = getattr(module, name) if hasattr(module, name) else _MISSING
    if original is not _MISSING and original is not None and not isinstance(original, Tensor):
        raise TypeError(f"attribute `{name}`: {original} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return original
