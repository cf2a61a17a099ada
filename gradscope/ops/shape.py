"""Views, indexing and joining. View ops return NumPy views: the output shares the input's memory."""

from __future__ import annotations

import operator

import numpy as np

from gradscope.ops.registry import primitive


def _view(a, shape):
    return np.reshape(a, shape, copy=False)


def _back_to_input_shape(g, s):
    return s.xp.reshape(g, s.self_sym_sizes)


def _unsqueezed(dims):
    """A squeeze's VJP: PyTorch's unsqueeze_to, one unsqueeze per squeezed dim (of size 1) in `dims(s)`, so that a
    second derivative records UnsqueezeBackward0 nodes (a reshape, on arrays)."""
    def vjp(g, s):
        if not s.xp.is_tensor:
            return s.xp.reshape(g, s.self_sym_sizes)
        sizes = s.self_sym_sizes
        if not sizes:  # a 0-dim tensor: its dim 0 (or -1) squeezed nothing
            return g
        for d in sorted({d % len(sizes) for d in dims(s)}):
            if sizes[d] == 1:
                g = s.xp.apply(unsqueeze, (g,), (d,))
        return g
    return vjp


def _squeezed(g, s):
    """An unsqueeze's VJP: PyTorch's squeeze(dim) (a reshape, on arrays)."""
    return s.xp.apply(squeeze_dim, (g,), (s.dim,)) if s.xp.is_tensor else s.xp.reshape(g, s.self_sym_sizes)


_all_dims = _unsqueezed(lambda s: range(len(s.self_sym_sizes)))
_some_dims = _unsqueezed(lambda s: s.dim if isinstance(s.dim, (tuple, list)) else (s.dim,))


view = primitive("view", _view, "ViewBackward0", inputs=("self",), params=("size",), attrs=("self_sym_sizes",),
                 unsaved=("size",), view=True, vjp=(_back_to_input_shape,))
# reshape of a tensor that is not contiguous but can be viewed: PyTorch's _reshape_alias
reshape_alias = primitive("reshape_alias", _view, "ReshapeAliasBackward0", inputs=("self",), params=("size",),
                          attrs=("self_sym_sizes",), unsaved=("size",), view=True, vjp=(_back_to_input_shape,))
# _unsafe_view: reshape's step after its contiguous clone (not a view of its input)
unsafe_view = primitive("reshape_copy", np.reshape, "UnsafeViewBackward0", inputs=("self",), params=("size",),
                        attrs=("self_sym_sizes",), unsaved=("size",), vjp=(_back_to_input_shape,))
alias = primitive("alias", lambda a: a.view(), "AliasBackward0", inputs=("self",), view=True,
                  vjp=(lambda g, s: g,), keeps_meta=True)
t = primitive("t", lambda a: a.T, "TBackward0", inputs=("self",), view=True, vjp=(lambda g, s: s.xp.t(g),),
              keeps_meta=True, array_vjp=operator.attrgetter("T"))
def _swapaxes(a, dim0, dim1):
    return np.swapaxes(a, dim0, dim1) if a.ndim else a.view()  # a 0-dim tensor's dims 0 and -1 are no axes to NumPy


def _transposed_back(g, s):
    return s.xp.transpose(g, s.dim0, s.dim1) if g.ndim else g


transpose = primitive("transpose", _swapaxes, "TransposeBackward0", inputs=("self",), params=("dim0", "dim1"),
                      view=True, vjp=(_transposed_back,))
permute = primitive("permute", np.transpose, "PermuteBackward0", inputs=("self",), params=("dims",), view=True,
                    vjp=(lambda g, s: s.xp.permute(g, tuple(np.argsort(s.dims))),))
unsqueeze = primitive("unsqueeze", np.expand_dims, "UnsqueezeBackward0", inputs=("self",), params=("dim",),
                      attrs=("self_sym_sizes",), unsaved=("self_sym_sizes",), view=True, vjp=(_squeezed,))
squeeze_all = primitive("squeeze", np.squeeze, "SqueezeBackward0", inputs=("self",), attrs=("self_sym_sizes",),
                        view=True, vjp=(_all_dims,))
def _squeeze_given(a, dim):
    """squeeze(dim) as given (a negative int too, as PyTorch's node keeps it): only a dim of size 1 goes."""
    dims = tuple(d for d in (dim if isinstance(dim, tuple) else (dim,)) if a.ndim and a.shape[d] == 1)
    return np.squeeze(a, dims) if dims else a.view()


squeeze_dim = primitive("squeeze_dim", _squeeze_given, "SqueezeBackward1", inputs=("self",), params=("dim",),
                        attrs=("self_sym_sizes",), view=True, vjp=(_some_dims,))
# squeeze((0, 2)): a tuple of dims is an op of its own in PyTorch
# the in-place squeeze_(dim) that ends PyTorch's vector @ matrix: not a view, the squeezed tensor is fresh
squeeze_ = primitive("squeeze_", np.squeeze, "SqueezeBackward4", inputs=("self",), params=("dim",),
                     attrs=("self_sym_sizes",), vjp=(_some_dims,))
# the in-place view ops (x.transpose_(0, 1) …): ops of their own in PyTorch, whose nodes the tensor itself takes
transpose_ = primitive("transpose_", _swapaxes, "TransposeBackward1", inputs=("self",), params=("dim0", "dim1"),
                       vjp=(_transposed_back,))
t_ = primitive("t_", np.transpose, "TBackward1", inputs=("self",),
               vjp=(lambda g, s: s.xp.permute(g, tuple(range(g.ndim))[::-1]),))
squeeze_all_ = primitive("squeeze_all_", np.squeeze, "SqueezeBackward3", inputs=("self",), attrs=("self_sym_sizes",),
                         vjp=(_all_dims,))
squeeze_dims_ = primitive("squeeze_dims_", np.squeeze, "SqueezeBackward5", inputs=("self",), params=("dim",),
                          attrs=("self_sym_sizes",), vjp=(_some_dims,))
unsqueeze_ = primitive("unsqueeze_", np.expand_dims, "UnsqueezeBackward1", inputs=("self",), params=("dim",),
                       attrs=("self_sym_sizes",), vjp=(_squeezed,))
squeeze_dims = primitive("squeeze_dims", np.squeeze, "SqueezeBackward2", inputs=("self",), params=("dim",),
                         attrs=("self_sym_sizes",), view=True, vjp=(_some_dims,))
def _expand(a, size):
    # NOTE: a writeable view, as PyTorch's expand: in-place ops on it write through to the input (the
    # autograd layer refuses those that would write one element through several, as PyTorch does)
    lead = len(size) - a.ndim
    strides = (0,) * lead + tuple(0 if n == 1 and want != 1 else stride
                                  for n, want, stride in zip(a.shape, size[lead:], a.strides))
    return np.lib.stride_tricks.as_strided(a, tuple(size), strides)


expand = primitive("expand", _expand, "ExpandBackward0", inputs=("self",), params=("size",),
                   attrs=("self_sym_sizes",), unsaved=("size",), view=True,
                   vjp=(lambda g, s: s.xp.sum_to(g, s.self_sym_sizes),))


def _select(a, dim, index):
    # NOTE: slice then squeeze, so even a[i] of a 1-D array is a (0-d) view, not a copy
    return a[(slice(None),) * dim + (slice(index, index + 1),)].squeeze(dim)


def _slice(a, dim, start, end, step):
    return a[(slice(None),) * dim + (slice(start, end, step),)]


select = primitive("select", _select, "SelectBackward0", inputs=("self",), params=("dim", "index"),
                   attrs=("self_sym_sizes",), view=True,
                   vjp=(lambda g, s: s.xp.index_scatter(g, s.self_sym_sizes, (slice(None),) * s.dim + (s.index,),
                                                        False),))
slice_ = primitive("slice", _slice, "SliceBackward0", inputs=("self",), params=("dim", "start", "end", "step"),
                   attrs=("self_sym_sizes",), view=True,
                   vjp=(lambda g, s: s.xp.index_scatter(
                       g, s.self_sym_sizes, (slice(None),) * s.dim + (slice(s.start, s.end, s.step),), False),))
# advanced indexing copies; repeated indices accumulate their gradients
index = primitive("index", lambda a, indices: a[indices], "IndexBackward0", inputs=("self",), params=("indices",),
                  attrs=("self_sym_sizes",), held=("indices",),
                  vjp=(lambda g, s: s.xp.index_scatter(g, s.self_sym_sizes, s.indices, True),))


def _cat(arrays, dim, sizes):
    if None in sizes:  # a legacy empty 1-D tensor among others: PyTorch skips it
        arrays = [a for a, size in zip(arrays, sizes, strict=True) if size is not None]
    return np.concatenate(arrays, axis=dim)


def _cat_vjp(g, s):
    if None not in s.sizes:
        return s.xp.split(g, s.sizes, s.dim)
    # a skipped legacy empty tensor gets an empty gradient, as PyTorch's cat_tensors_backward gives it
    parts = iter(s.xp.split(g, [size for size in s.sizes if size is not None], s.dim))
    return [next(parts) if size is not None else s.xp.zeros((0,), s.xp.dtype_of(g)) for size in s.sizes]


# sizes: each tensor's along dim, None for a legacy empty 1-D tensor skipped (it still is an input of the node)
cat = primitive("cat", _cat, "CatBackward0", inputs=("tensors",), params=("dim", "sizes"), unsaved=("sizes",),
                variadic=True, vjp=(_cat_vjp,))


def _stack_vjp(g, s):
    parts = s.xp.split(g, (1,) * g.shape[s.dim], s.dim)
    return [s.xp.reshape(p, p.shape[:s.dim] + p.shape[s.dim + 1:]) for p in parts]


stack = primitive("stack", lambda arrays, dim: np.stack(arrays, axis=dim), "StackBackward0",
                  inputs=("tensors",), params=("dim",), variadic=True, vjp=(_stack_vjp,))


def _gather(a, dim, indices, sparse_grad):
    if not indices.size:  # nothing read: the other dims need not match (PyTorch checks none)
        return np.empty(indices.shape, a.dtype)
    if a.ndim == 0:  # a 0-dim tensor is gathered as one element, into the index's shape
        return a.reshape(1)[indices]
    return np.take_along_axis(a, indices, axis=dim)


def _gather_vjp(g, s):
    shape = tuple(s.self.shape)
    if not s.index.size:  # nothing was read (the index's dims need not match)
        return s.xp.index_scatter(s.xp.reshape(g, (-1,)), shape, (np.zeros(0, np.int64),) * len(shape), True)
    if not shape:
        return s.xp.sum(g, tuple(range(g.ndim)))
    grid = list(np.indices(s.index.shape, sparse=True))
    grid[s.dim] = s.index
    return s.xp.index_scatter(g, shape, tuple(grid), True)


# NOTE: gradscope's gradients are dense whatever sparse_grad is (PyTorch's node saves it, so this one shows it)
gather = primitive("gather", _gather, "GatherBackward0", inputs=("self",), params=("dim", "index", "sparse_grad"),
                   saves=("self",), held=("index",), vjp=(_gather_vjp,))
masked_fill = primitive("masked_fill", lambda a, mask, value: np.where(mask, value, a).astype(a.dtype, copy=False),
                        "MaskedFillBackward0", inputs=("self",), params=("mask", "value"), held=("mask",),
                        unsaved=("value",), vjp=(lambda g, s: s.xp.where(s.mask, 0.0, g),))
# a 0-dim tensor value gets the sum of the gradient where the mask is set
masked_fill_tensor = primitive("masked_fill_tensor",
                               lambda a, value, mask: np.where(mask, value, a).astype(a.dtype, copy=False),
                               "MaskedFillBackward1", inputs=("self", "value"), params=("mask",), held=("mask",),
                               vjp=(lambda g, s: s.xp.where(s.mask, 0.0, g), lambda g, s: s.xp.where(s.mask, g, 0.0)))


def _index_scatter(g, shape, indices, accumulate):
    out = np.zeros(shape, dtype=g.dtype)
    if accumulate:
        np.add.at(out, indices, g)
    else:
        out[indices] = g
    return out


# the VJP of indexing as an op of its own, so indexing is differentiable twice
index_scatter = primitive("index_scatter", _index_scatter, "IndexPutBackward0", inputs=("values",),
                          params=("shape", "indices", "accumulate"),
                          vjp=(lambda g, s: s.xp.getitem(g, s.indices),))
copy_backwards = primitive("copy_backwards", np.copy, "CopyBackwards", inputs=("self",), vjp=(lambda g, s: g,))
clone_contiguous = primitive("contiguous", np.ascontiguousarray, "CloneBackward0", inputs=("self",),
                             vjp=(lambda g, s: g,))


def _unbind(a, dim):
    return tuple(_select(a, dim, i) for i in range(a.shape[dim]))


def _split(a, dim, sizes):
    bounds = np.cumsum((0,) + tuple(sizes))
    return tuple(_slice(a, dim, int(start), int(end), 1) for start, end in zip(bounds[:-1], bounds[1:], strict=True))


def filled(xp, grads: tuple, dim: int, sizes=None) -> list:
    """The pieces' gradients with zeros for those that got none (None), as PyTorch's split and unbind backward fill
    them: each shaped as a given one, with `dim` `sizes[i]` long (split's pieces; unbind's all share one shape)."""
    like = next(g for g in grads if g is not None)
    shape, dtype = tuple(like.shape), xp.dtype_of(like)
    if sizes is None:
        return [xp.zeros(shape, dtype) if g is None else g for g in grads]
    axis = dim % len(shape)
    return [xp.zeros(shape[:axis] + (size,) + shape[axis + 1:], dtype) if g is None else g
            for g, size in zip(grads, sizes, strict=True)]


def _unbind_vjp(g, s):
    return s.xp.stack(filled(s.xp, g, s.dim), s.dim)


def split_vjp(g, s):
    return s.xp.concat(filled(s.xp, g, s.dim, s.split_sizes), s.dim)


# multi-output views: one node for all outputs; outputs with no gradient count as zeros (see filled)
unbind = primitive("unbind", _unbind, "UnbindBackward0", inputs=("self",), params=("dim",), outputs=None,
                   view=True, vjp=(_unbind_vjp,))
split = primitive("split", _split, "SplitBackward0", inputs=("self",), params=("dim", "split_sizes"), outputs=None,
                  view=True, vjp=(split_vjp,))
# split([1, 2]): explicit sizes are an op of their own in PyTorch
split_with_sizes = primitive("split_with_sizes", _split, "SplitWithSizesBackward0", inputs=("self",),
                             params=("dim", "split_sizes"), outputs=None, view=True, vjp=(split_vjp,))
