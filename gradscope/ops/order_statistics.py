"""Order statistics along a dim with the index each value came from: kthvalue, mode, nanmedian; and aminmax.

Which of several equal elements PyTorch's CPU kernels return is whatever their algorithms leave behind:
kthvalue runs ATen's own quickselect, mode `std::sort` and a scan of its runs. Rows whose answer the values
alone decide (no ties, no nans) take a vectorised stable order; the others are replayed element by element
as those algorithms run, so that the indices are PyTorch's.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.reduction import _value_selecting_vjp
from gradscope.ops.registry import primitive
from gradscope.ops.selection import nth_element, std_sort
from gradscope.ops.sorting import _median_all, _median_all_vjp, stable_order


def _rows(a: np.ndarray, dim: int) -> np.ndarray:
    """`a` with `dim` moved last, as a 2-D array of rows."""
    moved = np.moveaxis(a, dim, -1)
    return moved.reshape(-1, moved.shape[-1])


def _undecided(rows: np.ndarray) -> np.ndarray:
    """Rows where the answer depends on the algorithm: some value repeats, or there is a nan."""
    ordered = np.sort(rows, axis=-1)
    repeats = (ordered[:, 1:] == ordered[:, :-1]).any(axis=-1)
    return repeats | np.isnan(ordered[:, -1]) if rows.dtype.kind == "f" else repeats


def _by_row(pick):
    """The forward of a (values, indices) op that picks one element of each row by `pick(rows) -> indices`."""
    def forward(a, dim, keepdim, *args):
        if a.ndim == 0:
            return a.copy(), np.zeros((), dtype=np.int64)
        rows = _rows(a, dim)
        chosen = pick(rows, *args).reshape(np.delete(a.shape, dim)).astype(np.int64)
        indices = np.expand_dims(chosen, dim)
        values = np.take_along_axis(a, indices, axis=dim)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return values, indices
    return forward


# ------------------------------------------------------------------------------- kthvalue
def _kth_indices(rows: np.ndarray, k: int) -> np.ndarray:
    chosen = stable_order(rows, -1, False)[:, k - 1].copy()
    for row in np.flatnonzero(_undecided(rows)):
        chosen[row] = _quick_select(rows[row].tolist(), k - 1)
    return chosen


def _greater_or_nan(x, y) -> bool:
    """ATen's comparator for kthvalue: nans sort as the largest values."""
    return (x != x and y == y) or x > y


def _quick_select(values: list, k: int) -> int:
    """The index ATen's quick_select_template leaves at position k (median-of-three pivot, Hoare partition)."""
    pairs = list(zip(values, range(len(values))))
    left, right = 0, len(pairs) - 1
    while right > left:
        if right == left + 1:
            if _greater_or_nan(pairs[left][0], pairs[right][0]):
                pairs[left], pairs[right] = pairs[right], pairs[left]
            break
        middle = left + (right - left) // 2
        pairs[middle], pairs[left + 1] = pairs[left + 1], pairs[middle]
        if _greater_or_nan(pairs[left + 1][0], pairs[right][0]):
            pairs[left + 1], pairs[right] = pairs[right], pairs[left + 1]
        if _greater_or_nan(pairs[left][0], pairs[right][0]):
            pairs[left], pairs[right] = pairs[right], pairs[left]
        if _greater_or_nan(pairs[left + 1][0], pairs[left][0]):
            pairs[left + 1], pairs[left] = pairs[left], pairs[left + 1]
        i, j, pivot = left + 1, right, pairs[left][0]
        while True:
            i += 1
            while _greater_or_nan(pivot, pairs[i][0]):
                i += 1
            j -= 1
            while _greater_or_nan(pairs[j][0], pivot):
                j -= 1
            if j < i:
                break
            pairs[i], pairs[j] = pairs[j], pairs[i]
        pairs[left], pairs[j] = pairs[j], pairs[left]
        if j <= k:
            left = i
        if j >= k:
            right = j - 1
    return pairs[k][1]


_SELECTED = dict(inputs=("self",), attrs=("self_sym_sizes",), outputs=2, differentiable_outputs=(0,),
                 output_names=("values", "indices"), saves=("indices",), vjp=(_value_selecting_vjp,))
kthvalue = primitive("kthvalue", _by_row(_kth_indices), "KthvalueBackward0", params=("dim", "keepdim", "k"),
                     unsaved=("k",), **_SELECTED)


# ------------------------------------------------------------------------------- mode
def _mode_indices(rows: np.ndarray) -> np.ndarray:
    chosen = stable_order(rows, -1, False)[:, 0].copy()  # all values distinct: the smallest
    for row in np.flatnonzero(_undecided(rows)):
        chosen[row] = _most_frequent(rows[row].tolist())
    return chosen


def _most_frequent(values: list) -> int:
    """PyTorch's CPU mode: std::sort the (value, index) pairs by value, then the last pair of the first
    longest run of equal values."""
    pairs = std_sort(values)
    best, best_count, count = 0, 0, 0
    for i, (value, index) in enumerate(pairs):
        count += 1
        if i == len(pairs) - 1 or value != pairs[i + 1][0]:
            if count > best_count:
                best, best_count = index, count
            count = 0
    return best


mode = primitive("mode", _by_row(_mode_indices), "ModeBackward0", params=("dim", "keepdim"), **_SELECTED)


# ------------------------------------------------------------------------------- nanmedian
def _nanmedian_all(a):
    kept = a.reshape(-1)
    kept = kept[~np.isnan(kept)] if a.dtype.kind == "f" else kept
    return _median_all(kept) if kept.size else np.asarray(np.nan, dtype=a.dtype)


nanmedian = primitive("nanmedian", _nanmedian_all, "NanmedianBackward0", inputs=("self",),
                      saves=(("self", "result"),), vjp=(_median_all_vjp,))


def _nanmedian_indices(rows: np.ndarray) -> np.ndarray:
    """The lower median of each row's non-nan values. PyTorch's std::nth_element breaks ties by index, so
    that is the stable order's; but in a row of nans only (the median at (0 - 1) / 2 = 0, as C++ divides),
    which nan it leaves first is the algorithm's."""
    nans = np.isnan(rows) if rows.dtype.kind == "f" else np.zeros(rows.shape, dtype=bool)
    middle = np.maximum(rows.shape[-1] - nans.sum(axis=-1) - 1, 0) // 2
    chosen = np.take_along_axis(stable_order(rows, -1, False), middle[:, None], axis=-1)[:, 0]
    for row in np.flatnonzero(nans.all(axis=-1)):
        chosen[row] = nth_element(rows[row], 0)
    return chosen


nanmedian_dim = primitive("nanmedian_dim", _by_row(_nanmedian_indices), "NanmedianBackward1",
                          params=("dim", "keepdim"), **_SELECTED)


# ------------------------------------------------------------------------------- aminmax
def _aminmax(a, dim, keepdim):
    axis = None if dim is None else dim
    return np.amin(a, axis=axis, keepdims=keepdim), np.amax(a, axis=axis, keepdims=keepdim)


def _aminmax_vjp(g, s):
    """Each extreme's gradient shared evenly among the elements equal to it (PyTorch's scale_grad_by_count)."""
    xp = s.xp
    dims = tuple(range(s.self.ndim)) if s.dim is None else (s.dim,)
    total = None
    for grad, extreme in zip(g, (s.min, s.max), strict=True):
        if grad is None:
            continue
        if not s.keepdim and s.self.ndim:
            grad, extreme = xp.unsqueeze_dims(grad, dims), xp.unsqueeze_dims(extreme, dims)
        mask = xp.cast(s.self == extreme, grad.dtype)
        part = grad * mask / xp.sum(mask, dims, True)
        total = part if total is None else total + part
    return total


aminmax = primitive("aminmax", _aminmax, "AminmaxBackward0", inputs=("self",), params=("dim", "keepdim"), outputs=2,
                    output_names=("min", "max"), saves=(("self", "min", "max"),), vjp=(_aminmax_vjp,))
