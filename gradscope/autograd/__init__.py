"""torch.autograd for gradscope: tensors, the graph, the engine, custom Functions, grad modes."""

from gradscope._lazy import lazy_exports as _lazy_exports
from gradscope.autograd import (
    forward_ad,
    tensor_methods,  # noqa: F401 - binds Tensor's methods (tensor.py defines none that compute)
)
from gradscope.autograd.anomaly import AnomalyReport, detect_anomaly, set_detect_anomaly
from gradscope.autograd.constructors import Variable
from gradscope.autograd.engine import backward, grad
from gradscope.autograd.function import Function, FunctionCtx, once_differentiable
from gradscope.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from gradscope.autograd.gradcheck import gradcheck, gradgradcheck
from gradscope.autograd.tensor import Tensor

__all__ = [
    "AnomalyReport", "Function", "FunctionCtx", "Tensor", "backward", "detect_anomaly", "enable_grad", "forward_ad",
    "functional", "grad", "gradcheck", "gradgradcheck", "graph", "inference_mode", "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled", "is_grad_enabled", "is_inference_mode_enabled", "no_grad", "once_differentiable",
    "set_detect_anomaly", "set_grad_enabled", "Variable",
]

# torch.autograd.functional (jacobian, hessian, …) and torch.autograd.graph (saved-tensor hooks) load on first use
__getattr__, __dir__ = _lazy_exports(__name__, globals(), submodules=("functional", "graph"))
