"""torch.nn.modules.module: Module, the global module hooks, and `_addindent`, which custom `__repr__`s import."""

from __future__ import annotations

from gradscope.nn._hooks import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
from gradscope.nn._state import IncompatibleKeys as _IncompatibleKeys  # noqa: F401 - what load_state_dict returns
from gradscope.nn.module import Module

__all__ = ["Module", "register_module_forward_hook", "register_module_forward_pre_hook",
           "register_module_full_backward_hook", "register_module_full_backward_pre_hook"]


def _addindent(text: str, spaces: int) -> str:
    """`text` with every line after the first indented by `spaces` (a child's repr inside its parent's)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest]) if rest else text
