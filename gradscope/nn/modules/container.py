"""torch.nn.modules.container: PyTorch's home of these layers, which scripts import (and subclass) from here."""

from __future__ import annotations

from gradscope.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential

__all__ = [
    "ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"
]
