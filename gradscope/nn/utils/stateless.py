"""torch.nn.utils.stateless: the functional_call that torch.func.functional_call replaced (it warns so, and
calls the same code).

>>> layer = nn.Linear(2, 1)
>>> nn.utils.stateless.functional_call(layer, {"bias": gradscope.zeros(1)}, gradscope.zeros(1, 2))
tensor([[0.]], grad_fn=<AddmmBackward0>)
"""

from __future__ import annotations

import warnings

import gradscope

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers: dict, args=None, kwargs=None, *, tie_weights: bool = True,
                    strict: bool = False):
    """module(*args, **kwargs) with the named tensors in place of its own parameters and buffers (deprecated in
    PyTorch 2.0 for torch.func.functional_call)."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
                  "in a future version of PyTorch. Please use `torch.func.functional_call` instead which is a "
                  "drop-in replacement.", FutureWarning, stacklevel=2)
    return gradscope.func._functional_call.call_reparametrized(module, parameters_and_buffers, args, kwargs,
                                                                tie_weights=tie_weights, strict=strict)
