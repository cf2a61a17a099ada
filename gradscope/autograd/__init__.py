"""torch.autograd for gradscope: tensors, the graph, the engine, custom Functions, grad modes."""

from gradscope._lazy import lazy_exports as _lazy_exports
from gradscope.autograd import engine as _engine
from gradscope.autograd import (
    forward_ad,
    tensor_methods,  # noqa: F401 - binds Tensor's methods (tensor.py defines none that compute)
)
from gradscope.autograd.anomaly import AnomalyReport, detect_anomaly, set_detect_anomaly
from gradscope.autograd.constructors import Variable
from gradscope.autograd.function import Function, FunctionCtx, once_differentiable
from gradscope.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    is_multithreading_enabled,
    no_grad,
    set_grad_enabled,
    set_multithreading_enabled,
)
from gradscope.autograd.gradcheck import gradcheck, gradgradcheck
from gradscope.autograd.tensor import Tensor

__all__ = [
    "AnomalyReport", "Function", "FunctionCtx", "Tensor", "backward", "detect_anomaly", "enable_grad", "forward_ad",
    "functional", "grad", "gradcheck", "gradgradcheck", "graph", "inference_mode", "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled", "is_grad_enabled", "is_inference_mode_enabled", "is_multithreading_enabled", "no_grad",
    "once_differentiable", "set_detect_anomaly", "set_grad_enabled", "set_multithreading_enabled", "Variable",
]



def _holds_edges(values) -> bool:
    """Whether `values` may hold a GradientEdge: anything but None, a tensor, a dict or a list or tuple of tensors."""
    if values is None or isinstance(values, (Tensor, dict)):
        return False
    if type(values) is list or type(values) is tuple:
        return not all(isinstance(value, Tensor) for value in values)
    return True  # an edge (a named tuple), a generator …


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """d(outputs)/d(inputs) without touching any `.grad` (torch.autograd.grad); outputs and inputs may be gradient
    edges (torch.autograd.graph.get_gradient_edge), as PyTorch's."""
    if _holds_edges(outputs) or _holds_edges(inputs):
        from gradscope.autograd import graph  # noqa: PLC0415 - lazy on purpose: loaded by the first edge met
        outputs = graph.as_differentiable(outputs, outputs=True, like=grad_outputs)
        inputs = graph.as_differentiable(inputs, materialize=materialize_grads)
    return _engine.grad(outputs, inputs, grad_outputs, retain_graph, create_graph, only_inputs, allow_unused,
                        is_grads_batched, materialize_grads)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate the gradients of `tensors` into the leaves' `.grad` (torch.autograd.backward); tensors and inputs
    may be gradient edges, as PyTorch's."""
    if _holds_edges(tensors) or _holds_edges(inputs):
        from gradscope.autograd import graph  # noqa: PLC0415 - lazy on purpose: loaded by the first edge met
        tensors = graph.as_differentiable(tensors, outputs=True, like=grad_tensors)
        inputs = inputs if inputs is None else graph.as_differentiable(inputs)
    _engine.backward(tensors, grad_tensors, retain_graph, create_graph, grad_variables, inputs)


# torch.autograd.functional (jacobian, hessian, …) and torch.autograd.graph (saved-tensor hooks) load on first use
__getattr__, __dir__ = _lazy_exports(__name__, globals(), submodules=("functional", "graph", "profiler", "variable"))
