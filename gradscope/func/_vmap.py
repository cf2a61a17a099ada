"""vmap by running the function once per batch element and stacking the results.

Not vectorized: `vmap(f)(x)` costs a Python loop over the batch, but gives the same values as
PyTorch's vmap, and composes with grad/jacrev the same way (per-sample gradients, batched Jacobians).
"""

from __future__ import annotations

import functools

from gradscope.autograd.factories import as_tensor
from gradscope.autograd.shape_functions import stack
from gradscope.autograd.tensor import Tensor
from gradscope.func._pytree import tree_flatten, tree_unflatten


def _broadcast_dims(dims, tree, what: str, name: str):
    """One dim per leaf of `tree`: an int or None applies to every leaf below it."""
    if dims is None or isinstance(dims, int):
        return [dims] * len(tree_flatten(tree)[0])
    if isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list)) and len(dims) == len(tree):
        return [d for sub_dims, sub in zip(dims, tree) for d in _broadcast_dims(sub_dims, sub, what, name)]
    if isinstance(dims, dict) and isinstance(tree, dict) and dims.keys() == tree.keys():
        return [d for key in tree for d in _broadcast_dims(dims[key], tree[key], what, name)]
    raise ValueError(f"vmap({name}, {what}={dims}, ...)(<inputs>): {what} is not compatible with the structure "
                     f"of `inputs`.")


def _select(t: Tensor, dim: int, index: int) -> Tensor:
    return t[(slice(None),) * (dim % t.dim()) + (index,)]


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension `in_dims` of its inputs; results stacked along `out_dims`.

        vmap(torch.dot)(torch.randn(5, 3), torch.randn(5, 3))  # shape (5,)

    gradscope runs `func` once per batch element (same results as PyTorch, not vectorized).
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    name = getattr(func, "__name__", repr(func))

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not isinstance(in_dims, (int, tuple)):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                             "(potentially nested) tuple matching the structure of inputs, got: "
                             f"{type(in_dims)}.")
        flat_args, args_spec = tree_flatten(args)
        flat_dims = _broadcast_dims(in_dims, args, "in_dims", name)
        sizes = []
        for dim, arg in zip(flat_dims, flat_args):
            if dim is None:
                continue
            if not isinstance(arg, Tensor):
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input "
                                 f"but the input is of type {type(arg)}. We cannot vmap over non-Tensor arguments, "
                                 "please use None as the respective in_dim")
            sizes.append(arg.size(dim))
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if any(size != sizes[0] for size in sizes):
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        results = []
        for b in range(sizes[0]):
            sliced = [arg if dim is None else _select(arg, dim, b) for dim, arg in zip(flat_dims, flat_args)]
            results.append(func(*tree_unflatten(args_spec, sliced), **kwargs))
        flat_first, out_spec = tree_flatten(results[0])
        flat_out_dims = _broadcast_dims(out_dims, results[0], "out_dims", name)
        columns = zip(*(tree_flatten(r)[0] for r in results))
        stacked = [column[0] if dim is None else stack([as_tensor(v) for v in column], dim)
                   for dim, column in zip(flat_out_dims, columns)]
        return tree_unflatten(out_spec, stacked)

    return wrapper
