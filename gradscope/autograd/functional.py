"""torch.autograd.functional: Jacobians, Hessians and their products, from reverse mode.

Same signatures, results and strict-mode errors as PyTorch. Forward-mode products (`jvp`, `hvp`) use
the double-backward trick, as PyTorch's versions do: the VJP is linear in its cotangent `u`, so
differentiating ⟨u, J⟩ with respect to `u` in the direction `v` gives J v. `vectorize=True` is
accepted and gives the same values, computed one output element at a time.

    jacobian(lambda x: x ** 2, torch.tensor([1.0, 2.0]))   # diag(2, 4)
    hvp(lambda x: (x ** 3).sum(), x, v)                     # (f(x), H v)
"""

from __future__ import annotations

from gradscope.autograd import observers
from gradscope.autograd.engine import grad as autograd_grad
from gradscope.autograd.factories import zeros_like
from gradscope.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from gradscope.autograd.shape_functions import stack
from gradscope.autograd.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(inp, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"the {where} has type {type(el)}.")
    return is_tuple, items


def _unpack(res, to_unpack):
    """Undo `_as_tuple`: one flag for a flat tuple, two (outer, inner) for a nested one."""
    if isinstance(to_unpack, tuple):
        outer, inner = to_unpack
        if not inner:
            res = tuple(el[0] for el in res)
        return res if outer else res[0]
    return res if to_unpack else res[0]


def _grad_preprocess(inputs, create_graph: bool, need_graph: bool) -> tuple:
    # always a new tensor object, so the inputs are told apart from the same tensors captured by `func`
    return tuple(inp.view_as(inp) if create_graph and inp.requires_grad
                 else inp.detach().requires_grad_(need_graph) for inp in inputs)


def _grad_postprocess(inputs, create_graph: bool) -> tuple:
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.")


_NO_GRAD_MESSAGES = {
    "hessian": ("The hessian of the user-provided function with respect to input {i} is independent of the input. "
                "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
                "and that the hessian depends on the inputs."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided function with respect "
                 "to input {i} is independent of the input. This is not allowed in strict mode. You should ensure "
                 "that your function is twice differentiable and that the jacobian depends on the inputs (this "
                 "would be violated by a linear function for example)."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of the user-provided "
                    "function. This is not allowed in strict mode."),
    "outputs": ("Output {i} of the user-provided function does not require gradients. The outputs must be computed "
                "in a differentiable manner from the input when running in strict mode."),
}


def _check_requires_grad(inputs, input_type: str, strict: bool) -> None:
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode.")
        if not inp.requires_grad:
            raise RuntimeError(_NO_GRAD_MESSAGES[input_type].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None) -> tuple:
    """autograd.grad that skips outputs without a graph and answers None for unreached inputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs) if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    new_outputs, new_grad_outputs = zip(*pairs)
    with observers.passes_made_by("torch.autograd.functional"):
        return autograd_grad(new_outputs, inputs, new_grad_outputs, allow_unused=True, create_graph=create_graph,
                             retain_graph=retain_graph)


_MISSING_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in strict "
                  "mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict: bool, create_graph: bool, stage: str) -> tuple:
    """None (a symbolic zero) becomes zeros shaped like `refs[i]`, or a strict-mode error."""
    res = []
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                raise RuntimeError(_MISSING_MESSAGES[stage].format(i=i))
            grads_i = zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode when create_graph=True.")
        res.append(grads_i)
    return tuple(res)


def _prepare(func, inputs, v, create_graph: bool, strict: bool, name: str, v_matches: str):
    """Run `func` on fresh copies of `inputs` with grad enabled; check `v` against inputs or outputs."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v_matches == "inputs":
        v = _check_v(v, inputs, is_inputs_tuple, create_graph, name,
                     "The vector v can only be None if the input to the user-provided function is a single Tensor "
                     "with a single element.")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if v_matches == "outputs":
        v = _check_v(v, outputs, is_outputs_tuple, create_graph, name,
                     "The vector v can only be None if the user-provided function returns a single Tensor with a "
                     "single element.")
    return is_inputs_tuple, inputs, is_outputs_tuple, outputs, v


def _check_v(v, other, is_other_tuple: bool, create_graph: bool, name: str, none_message: str):
    if v is None:
        if len(other) != 1 or other[0].nelement() != 1:
            raise RuntimeError(none_message)
        return None
    _, v = _as_tuple(v, "v", name)
    v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
    _validate_v(v, other, is_other_tuple)
    return v


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ J): the vector-Jacobian product at `inputs`."""
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, v = _prepare(
            func, inputs, v, create_graph, strict, "vjp", "outputs")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    return (_unpack(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_grad_postprocess(result, create_graph), is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, v = _prepare(
            func, inputs, v, create_graph, strict, "jvp", "inputs")
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    return (_unpack(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_grad_postprocess(result, create_graph), is_outputs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`: shape `output.shape + input.shape`, nested per output and input.

        jacobian(torch.sin, torch.zeros(3))  # the 3×3 identity
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` and "
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
                               'are not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, _ = _prepare(
            func, inputs, None, create_graph, strict, "jacobian", "")
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        jacobians = tuple(_jacobian_of_output(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
        jacobians = _grad_postprocess(jacobians, create_graph)
        return _unpack(jacobians, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_of_output(i: int, out, inputs, create_graph: bool, strict: bool) -> tuple:
    rows = tuple([] for _ in inputs)
    flat = out.reshape(-1)
    for j in range(out.nelement()):
        vj = _autograd_grad((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
        for el_idx, (row, vj_el, inp_el) in enumerate(zip(rows, vj, inputs)):
            if vj_el is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input {el_idx}. "
                                       "This is not allowed in strict mode.")
                vj_el = zeros_like(inp_el)
            elif strict and create_graph and not vj_el.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                   "This is not allowed in strict mode when create_graph=True.")
            row.append(vj_el)
    return tuple(_stack_rows(row, out.size() + inp.size(), inp) for row, inp in zip(rows, inputs))


def _stack_rows(row: list, shape, inp):
    if not row:  # an output with no elements has an empty Jacobian
        return zeros_like(inp).reshape(-1)[:0].reshape(shape)
    return stack(row, dim=0).view(shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar `func` at `inputs` (nested per pair of inputs when `inputs` is a tuple)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_gradient(func, inputs, v, create_graph: bool, strict: bool, name: str):
    """Shared start of vhp and hvp: run `func`, check it is one scalar, and take its gradient with a graph."""
    is_inputs_tuple, inputs, is_outputs_tuple, outputs, v = _prepare(
        func, inputs, v, create_graph, strict, name, "inputs")
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, inputs, is_outputs_tuple, outputs, v, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ H) for a scalar `func`."""
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, v, jac = _scalar_gradient(
            func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    return (_unpack(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_grad_postprocess(result, create_graph), is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar `func`, by the double-backward trick."""
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, v, jac = _scalar_gradient(
            func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    return (_unpack(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_grad_postprocess(result, create_graph), is_inputs_tuple))
