"""torch.view_copy, select_copy … : the view functions' arguments and checks, the result copied (the copy op of
the view's primitive, ops.view_copies)."""

from __future__ import annotations

from gradscope._shapes import normalize_dim
from gradscope.autograd import placement_functions, rearrange, shape_functions
from gradscope.autograd.dispatch import apply
from gradscope.autograd.grad_mode import no_grad
from gradscope.ops import shape as S
from gradscope.ops.view_copies import COPIES


def _copy_variant(view_function, name: str):
    def function(input, *args, **kwargs):
        with no_grad():  # the view only names the op and its params (its recipe step); the copy op records
            view = view_function(input, *args, **kwargs)
        first = view[0] if isinstance(view, tuple) else view
        op, params, _ = first._view_chain[-1]
        return apply(COPIES[op], (input,), params)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"{view_function.__name__} as a copy ({name})."
    function.__wrapped__ = view_function  # its signature, for inspect and for NumPy's argument names (numpy_names)
    return function


def _view(input, size):
    return shape_functions.view(input, size)


def _slice(input, dim=0, start=None, end=None, step=1):
    d = normalize_dim(dim, input._data.ndim)
    return shape_functions.basic_index(input, (slice(None),) * d + (slice(start, end, step),), keep_full_slice=True)


def _expand(input, size, *, implicit=False):
    return shape_functions.expand(input, size)


def _alias(input):
    return apply(S.alias, (input,))

view_copy = _copy_variant(_view, "view_copy")
alias_copy = _copy_variant(_alias, "alias_copy")
t_copy = _copy_variant(shape_functions.t, "t_copy")
transpose_copy = _copy_variant(shape_functions.transpose, "transpose_copy")
permute_copy = _copy_variant(shape_functions.permute, "permute_copy")
unsqueeze_copy = _copy_variant(shape_functions.unsqueeze, "unsqueeze_copy")
squeeze_copy = _copy_variant(shape_functions.squeeze, "squeeze_copy")
expand_copy = _copy_variant(_expand, "expand_copy")
select_copy = _copy_variant(rearrange.select, "select_copy")
slice_copy = _copy_variant(_slice, "slice_copy")
unbind_copy = _copy_variant(shape_functions.unbind, "unbind_copy")
split_copy = _copy_variant(shape_functions.split, "split_copy")
split_with_sizes_copy = _copy_variant(lambda input, sizes, dim=0: shape_functions.split(input, list(sizes), dim),
                                      "split_with_sizes_copy")
diagonal_copy = _copy_variant(rearrange.diagonal, "diagonal_copy")
unfold_copy = _copy_variant(rearrange.unfold, "unfold_copy")
as_strided_copy = _copy_variant(placement_functions.as_strided, "as_strided_copy")

FUNCTIONS = ("view_copy", "alias_copy", "t_copy", "transpose_copy", "permute_copy", "unsqueeze_copy", "squeeze_copy",
             "expand_copy", "select_copy", "slice_copy", "unbind_copy", "split_copy", "split_with_sizes_copy",
             "diagonal_copy", "unfold_copy", "as_strided_copy")
METHODS: dict = {}
