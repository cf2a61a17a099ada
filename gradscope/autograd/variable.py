"""torch.autograd.variable: the home of the legacy Variable wrapper that old scripts import from here."""

from __future__ import annotations

from gradscope.autograd.constructors import Variable

__all__ = ["Variable"]
