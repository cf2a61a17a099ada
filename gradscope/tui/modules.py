"""What the browser says about a module (a folded scope in the tree): its parameters and their gradients."""

from __future__ import annotations

from gradscope.trace.model import Parameter

MODULE_ROWS = 40  # parameters listed in the detail pane; the parameters table (p) has them all


def inside(scope: str | None, module: str) -> bool:
    """Whether `scope` is `module` or one of its submodules.

    >>> inside("model.head.proj", "model.head"), inside("model.header", "model.head")
    (True, False)
    """
    return scope is not None and (scope == module or scope.startswith(module + "."))


def belongs(parameter: Parameter, module: str) -> bool:
    """Whether `parameter` is one of `module`'s or its submodules' (by its name when its module is unknown)."""
    return inside(parameter.module, module) or parameter.module is None and inside(parameter.name, module)


def relative_name(name: str, module: str) -> str:
    """A parameter's name inside `module`: `fc.weight` for `model.blocks.3.fc.weight` in `model.blocks.3`."""
    return name[len(module) + 1:] if name.startswith(module + ".") else name
