"""functional_call: run a module with some parameters and buffers replaced for the duration of one call."""

from __future__ import annotations


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with the named tensors in place of its own parameters and buffers.

        params = {name: p.detach() for name, p in model.named_parameters()}
        grad(lambda p: functional_call(model, p, (x,)).sum())(params)
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        replacements = dict(parameter_and_buffer_dicts)
    else:
        replacements = {}
        for mapping in parameter_and_buffer_dicts:
            duplicates = replacements.keys() & mapping.keys()
            if duplicates:
                raise ValueError(f"{sorted(duplicates)} appeared in multiple dictionaries; behavior of "
                                 "functional call is ambiguous")
            replacements.update(mapping)
    if strict:
        _check_strict(module, replacements)
    if tie_weights:
        replacements = _tie(module, replacements)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    saved = []
    try:
        for name, value in replacements.items():
            owner, leaf = _owner(module, name)
            registry = owner._parameters if leaf in owner._parameters else owner._buffers
            saved.append((registry, leaf, registry.get(leaf, _MISSING)))
            registry[leaf] = value
        return module(*args, **(kwargs or {}))
    finally:
        for registry, leaf, old in reversed(saved):
            if old is _MISSING:
                del registry[leaf]
            else:
                registry[leaf] = old


_MISSING = object()


def _owner(module, name: str):
    *path, leaf = name.split(".")
    return (module.get_submodule(".".join(path)) if path else module), leaf


def _tie(module, replacements: dict) -> dict:
    """A replacement for one name of a tied (shared) parameter applies to all its names."""
    names_of = {}
    for name, tensor in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(
            remove_duplicate=False)]:
        names_of.setdefault(id(tensor), []).append(name)
    tied = dict(replacements)
    for names in names_of.values():
        given = [n for n in names if n in replacements]
        for name in names:
            if given and name not in tied:
                tied[name] = replacements[given[0]]
    return tied


def _check_strict(module, replacements: dict) -> None:
    expected = {name for name, _ in module.named_parameters()} | {name for name, _ in module.named_buffers()}
    missing = sorted(expected - replacements.keys())
    unexpected = sorted(replacements.keys() - expected)
    if missing or unexpected:
        parts = []
        if unexpected:
            parts.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
        if missing:
            parts.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
        raise RuntimeError("Error(s) in reparametrizing for " f"{type(module).__name__}:\n\t" + "\n\t".join(parts))
