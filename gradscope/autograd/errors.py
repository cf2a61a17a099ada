"""PyTorch's exact autograd error texts, built in one place."""

from __future__ import annotations

import warnings

import numpy as np

from gradscope._dtypes import legacy_type_name
from gradscope.autograd.numpy_names import past_wrappers

FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)
DETACHED_SAVED = (  # sic: no space after the first sentence
    "Trying to use a saved tensor that has been detached in-place, i.e. with .detach_().This is not supported, "
    "please use out-of-place `.detach()` instead"
)
OVERLAP = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
    "Please clone() the tensor before performing the operation."
)
NO_GRAD_FN = "element {} of tensors does not require grad and does not have a grad_fn"
NOT_SCALAR = "grad can be implicitly created only for scalar outputs"
NOT_REAL_SCALAR = "grad can be implicitly created only for real scalar outputs but got {}"
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
# how PyTorch refuses an in-place change of a view a custom Function returned: as a multi-output node's view when the
# Function has more than one differentiable output, else as a view made inside it
PACK_HOOK_IN_PLACE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack hook cannot be "
    "modified by in-place operations as this can lead to unexpected side-effects. Please open an issue if you need to "
    "perform in-place operations on the input to a pack hook.")
DIRTY_VIEW_MULTIPLE_OUTPUTS = (
    "If your Function modifies inplace an input that is a view of another Tensor, your Function cannot return more "
    "than one Tensor. This is not supported by the current autograd engine. You should either make sure the input is "
    "not a view (using .clone() for example) or make your Function only return one Tensor (potentially splitting it "
    "into two Functions: one doing the inplace that returns a single Tensor and a second one that does the other "
    "operations). You can ask on the forum https://discuss.pytorch.org/ if you need help to do this change.")
LEAF_DIRTY = "a leaf Variable that requires grad has been used in an in-place operation."  # a Function's mark_dirty
DIRTY_NOT_RETURNED = ("Some elements marked as dirty during the forward method were not returned as output. The "
                      "inputs that are modified inplace must all be outputs of the Function.")
DIRTY_NOT_INPUT = ("ctx.mark_dirty() received a tensor that was not an input. Only input Tensors that have been "
                   "mutated should be passed to ctx.mark_dirty().")
MULTI_OUTPUT_VIEW = ("This view is the output of a function that returns multiple views. Such functions do not allow "
                     "the output views to be modified inplace. You should replace the inplace operation by an "
                     "out-of-place one.")
CUSTOM_FUNCTION_VIEW = ("This view was created inside a custom Function (or because an input was returned as-is) and "
                        "the autograd logic to handle view+inplace would override the custom backward associated with "
                        "the custom Function, leading to incorrect gradients. This behavior is forbidden. You can fix "
                        "this by cloning the output of the custom Function.")
NO_GRAD_VIEW = ("Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
                "inplace to be tracked) or both outside (if you want the inplace to be tracked).")
VIEW_WITHOUT_GRAD_FN = "A view was created in no_grad mode and is being modified inplace with grad mode enabled."
VIEW_NO_GRAD_INPLACE = f"{VIEW_WITHOUT_GRAD_FN} {NO_GRAD_VIEW}"
NO_GRAD_VIEW_REBASED = (
    "A view was created in no_grad mode and its base or another view of its base has been modified inplace with grad "
    f"mode enabled. {NO_GRAD_VIEW}")
INFERENCE_VIEW_REBASED = (
    "A view was created in inference mode and its base or another view of its base has been modified inplace in "
    "normal mode. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
    "moving both the view and the inplace either both inside the inference_mode block (if you don't want the inplace "
    "to be tracked) or both outside (if you want the inplace to be tracked).")
INFERENCE_VIEW_INPLACE = (
    "A view was created in inference mode and is being modified inplace in normal mode. Given that this use case is "
    "ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace "
    "either both inside the inference_mode block (if you don't want the inplace to be tracked) or both outside (if "
    "you want the inplace to be tracked).")
LEAF_VIEW_INPLACE = "a view of a leaf Variable that requires grad is being used in an in-place operation."
INT_REQUIRES_GRAD = "Only Tensors of floating point and complex dtype can require gradients"
INT_REQUIRES_GRAD_ = "only Tensors of floating point dtype can require gradients"
INT_REQUIRES_GRAD_ATTRIBUTE = "only Tensors of floating point and complex dtype can require gradients"
NON_LEAF_REQUIRES_GRAD = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a "
    "subgraph that doesn't require differentiation use var_no_grad = var.detach()."
)
INFERENCE_INPLACE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a "
    "normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details."
)
INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode in "
    "computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and use "
    "it in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`."
)
INFERENCE_REQUIRES_GRAD = "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."
NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)
CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
    "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid "
    "this. If you have to use this function, make sure to reset the .grad fields of your parameters to None "
    "after use to break the cycle and avoid the leak."
)
INPLACE_HINT = (
    "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
    "torch.autograd.set_detect_anomaly(True, check_nan=False)."
)
INPLACE_HINT_ANOMALY = (
    "Hint: the backtrace further above shows the operation that failed to compute its gradient. The variable "
    "in question was changed in there or anywhere later. Good luck!"
)


def modified_inplace(dtype, shape, creator: str | None, output_nr: int, version: int, expected: int,
                     anomaly: bool = False) -> str:
    """E4: a saved tensor was changed in place after it was saved."""
    which = f", which is output {output_nr} of {creator}," if creator else ""
    hint = INPLACE_HINT_ANOMALY if anomaly else INPLACE_HINT
    # NOTE: PyTorch's toString() of a bool tensor is its dispatch type's name, no legacy name
    name = "CPUBoolType" if dtype == np.bool_ else legacy_type_name(dtype)
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{name} [{', '.join(map(str, shape))}]]{which} is at version {version}; "
        f"expected version {expected} instead. {hint}"
    )


def shape_mismatch(index: int, grad_shape, out_shape) -> str:
    return (
        f"Mismatch in shape: grad_output[{index}] has a shape of torch.Size({list(grad_shape)}) and "
        f"output[{index}] has a shape of torch.Size({list(out_shape)})."
    )


def add_note(error: BaseException, text: str) -> None:
    """error.add_note(text), shown under the traceback; Python 3.10 has no notes, so only keep them."""
    if hasattr(error, "add_note"):
        error.add_note(text)
    else:
        error.__notes__ = [*getattr(error, "__notes__", []), text]


_WARNED: set[str] = set()
WARN_ONCE = {"always": False}  # torch.set_warn_always(True) makes every warn_once warn every time


def warn_once(key: str, message: str, stacklevel: int = 3) -> None:
    """PyTorch's TORCH_WARN_ONCE: a deprecation warns once per process, or every time under
    `torch.set_warn_always(True)`."""
    if key not in _WARNED or WARN_ONCE["always"]:
        _WARNED.add(key)
        warnings.warn(message, UserWarning, stacklevel=past_wrappers(stacklevel))
