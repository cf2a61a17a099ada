"""grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd, hessian: function transforms on the reverse-mode engine.

Each transform runs the function on fresh differentiable copies of its inputs and differentiates with
`autograd.grad`. Inside another transform (or when an input already has a graph) the derivatives are
built with `create_graph=True`, so transforms nest: `grad(grad(f))`, `jacfwd(jacrev(f))`. Forward mode
(`jvp`, `jacfwd`) uses the double-backward trick: J v = ∂/∂u ⟨u, J⟩ · v; values equal true forward mode.
"""

from __future__ import annotations

import contextvars
import functools

from gradscope.autograd import observers
from gradscope.autograd.engine import grad as autograd_grad
from gradscope.autograd.factories import zeros_like
from gradscope.autograd.grad_mode import enable_grad
from gradscope.autograd.shape_functions import stack
from gradscope.autograd.tensor import Tensor
from gradscope.func._pytree import tree_flatten, tree_map, tree_unflatten, treespec_repr

_depth = contextvars.ContextVar("gradscope_func_depth", default=0)


class _Level:
    """One transform's scope: nested transforms (and graphs the caller already has) keep derivative graphs."""

    def __init__(self, flat_inputs: list) -> None:
        self.create_graph = _depth.get() > 0 or any(isinstance(t, Tensor) and t.requires_grad for t in flat_inputs)

    def __enter__(self) -> _Level:
        self._token = _depth.set(_depth.get() + 1)
        self._grad_mode = enable_grad()
        self._grad_mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._grad_mode.__exit__(*exc)
        _depth.reset(self._token)

    def differentiable(self, t):
        if not isinstance(t, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
        return t.view_as(t) if t.requires_grad else t.detach().requires_grad_(True)

    def result(self, t):
        return t if self.create_graph or not isinstance(t, Tensor) else t.detach()


def _grads(outputs: list, inputs: list, grad_outputs=None, create_graph=True) -> list:
    """autograd.grad over the outputs that have a graph; zeros for inputs they don't reach."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs or [None] * len(outputs)) if o.requires_grad]
    if not pairs:
        return [zeros_like(t) for t in inputs]
    outs, gouts = zip(*pairs)
    with observers.passes_made_by("torch.func"):
        found = autograd_grad(outs, inputs, gouts, allow_unused=True, create_graph=create_graph, retain_graph=True)
    return [zeros_like(t) if g is None else g for g, t in zip(found, inputs)]


def _argnums(argnums, num_args: int):
    def one(argnum):
        if not isinstance(argnum, int):
            raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
        if -num_args <= argnum < num_args:
            return argnum % num_args
        raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")

    if isinstance(argnums, int):
        return one(argnums)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if not argnums:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(one(a) for a in argnums)


def _with_differentiable(level: _Level, args: tuple, argnums):
    """args with those at argnums replaced by differentiable copies, and those copies (a pytree)."""
    args = list(args)
    picked = argnums if isinstance(argnums, tuple) else (argnums,)
    for i in picked:
        args[i] = tree_map(level.differentiable, args[i])
    diff = tuple(args[i] for i in picked) if isinstance(argnums, tuple) else args[argnums]
    return tuple(args), diff


def _split_aux(output, has_aux: bool, api: str):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (∂func/∂args[argnums], func(*args)); func returns a scalar tensor."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        with _Level(tree_flatten(args)[0]) as level:
            args, diff = _with_differentiable(level, args, nums)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(output)}")
            if output.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                                   "APIs instead?")
            flat_diff, spec = tree_flatten(diff)
            found = _grads([output], flat_diff, create_graph=level.create_graph)
            grads = tree_unflatten(spec, [level.result(g) for g in found])
            value = level.result(output)
            if has_aux:
                return grads, (value, tree_map(level.result, aux))
            return grads, value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """∂func/∂args[argnums] as a function; func returns a scalar tensor.

        grad(lambda x: (x ** 3).sum())(torch.tensor([1.0, 2.0]))  # tensor([ 3., 12.])
    """
    value_and_grad = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = value_and_grad(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn) where vjp_fn(cotangents) gives one gradient per primal, as a tuple."""
    level = _Level(tree_flatten(primals)[0])
    with level:
        diff = tree_map(level.differentiable, primals)
        output, aux = _split_aux(func(*diff), has_aux, "vjp(f, *primals)")
    flat_out, out_spec = tree_flatten(output)
    flat_diff, diff_spec = tree_flatten(diff)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        flat_cot, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {cot_spec}, primal output: {out_spec}")
        with level:
            found = _grads(flat_out, flat_diff, flat_cot, create_graph=True)
            return tree_unflatten(diff_spec, [level.result(g) for g in found])

    result = tree_map(level.result, output)
    return (result, vjp_fn, tree_map(level.result, aux)) if has_aux else (result, vjp_fn)


def _jvp(func, primals, tangents, has_aux: bool, api: str):
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_primals, primals_spec = tree_flatten(primals)
    flat_tangents, tangents_spec = tree_flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python structure. For example, "
                           "if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{primals_spec} and tangents with structure {tangents_spec}")
    with _Level(flat_primals + flat_tangents) as level:
        diff = tree_map(level.differentiable, primals)
        output, aux = _split_aux(func(*diff), has_aux, api)
        flat_out, out_spec = tree_flatten(output)
        # NOTE: the double-backward trick; `dummy` is a cotangent that the VJP is linear in
        dummies = [zeros_like(o, requires_grad=True) for o in flat_out]
        vjps = _grads(flat_out, tree_flatten(diff)[0], dummies)
        flat_jvp = _grads(vjps, dummies, flat_tangents, create_graph=level.create_graph)
        out = tree_map(level.result, output), tree_unflatten(out_spec, [level.result(t) for t in flat_jvp])
        return (*out, tree_map(level.result, aux)) if has_aux else out


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J · tangents), computed with two reverse passes (the double-backward trick)."""
    return _jvp(func, primals, tangents, has_aux, "jvp(f, primals, tangents)")


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) gives J · tangents at `primals` from one graph, made when
    linearize is called (func runs a second time to make it, as PyTorch's runs it again to trace it).

    >>> out, jvp_fn = linearize(gradscope.sin, x)
    >>> jvp_fn(gradscope.ones_like(x))  # cos(x)
    """
    output = func(*primals)
    out_spec = tree_flatten(output)[1]
    flat_primals, primals_spec = tree_flatten(primals)
    level = _Level(flat_primals)
    with level:
        diff = tree_map(level.differentiable, primals)
        flat_out = tree_flatten(func(*diff))[0]
        # NOTE: the double-backward trick (as jvp's), its first pass made once: vjps are linear in the dummies
        dummies = [zeros_like(o, requires_grad=True) for o in flat_out if isinstance(o, Tensor)]
        vjps = _grads([o for o in flat_out if isinstance(o, Tensor)], tree_flatten(diff)[0], dummies)

    def jvp_fn(*tangents):
        flat_tangents, tangents_spec = tree_flatten(tangents)
        if tangents_spec != primals_spec:
            raise RuntimeError(f"Expected the tangents {treespec_repr(tangents_spec)} to have the same argspec as "
                               f"the primals {treespec_repr(primals_spec)}")
        for i, (tangent, primal) in enumerate(zip(flat_tangents, flat_primals, strict=True)):
            for what in ("shape", "dtype"):
                if getattr(tangent, what) != getattr(primal, what):
                    raise RuntimeError(f"tangent:{i} with {what} {getattr(tangent, what)} in flattened pytree doesn't "
                                       f"match the {what} {getattr(primal, what)} of the corresponding primal.")
        with level:
            found = iter(_grads(vjps, dummies, flat_tangents, create_graph=level.create_graph))
            return tree_unflatten(out_spec, [level.result(next(found)) if isinstance(o, Tensor) else o
                                             for o in flat_out])

    return output, jvp_fn


def _jacobian(func, argnums, has_aux: bool, api: str):
    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums(argnums, len(args))
        with _Level(tree_flatten(args)[0]) as level:
            args, diff = _with_differentiable(level, args, nums)
            output, aux = _split_aux(func(*args), has_aux, api)
            flat_out, out_spec = tree_flatten(output)
            flat_diff, diff_spec = tree_flatten(diff)
            per_output = []
            for out in flat_out:
                flat = out.reshape(-1)
                rows = [_grads([flat[j]], flat_diff, create_graph=level.create_graph)
                        for j in range(out.numel())]
                per_output.append(tree_unflatten(diff_spec, [
                    level.result(_stack_rows([row[k] for row in rows], out.shape + inp.shape, inp))
                    for k, inp in enumerate(flat_diff)]))
            jac = tree_unflatten(out_spec, per_output)
            return (jac, tree_map(level.result, aux)) if has_aux else jac

    return wrapper


def _stack_rows(rows: list, shape, inp):
    if not rows:
        return zeros_like(inp).reshape(-1)[:0].reshape(shape)
    return stack(rows, 0).reshape(shape)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func w.r.t. args[argnums], one reverse pass per output element."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, "jacrev(f, ...)(*args)")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of func w.r.t. args[argnums]; the same values as jacrev (computed in reverse mode)."""
    return _jacobian(func, argnums, has_aux, "jacfwd(f, ...)(*args)")


def hessian(func, argnums=0):
    """jacfwd(jacrev(func, argnums), argnums): the Hessian of a scalar function."""
    return jacfwd(jacrev(func, argnums), argnums)
