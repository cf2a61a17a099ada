"""PyTorch's CPU top-k order, ties and unsorted results included.

PyTorch's CPU `topk` selects with the C++ standard library: `std::partial_sort` when k is small
(k * 64 <= n), otherwise `std::nth_element`, then `std::sort` of the first k - 1 when sorted=True.
Which of several equal elements it returns, and in what order, is whatever those algorithms leave
behind, and so is the whole order of an unsorted result. To give the same indices, a row whose answer
the values alone don't decide is replayed here step by step as libstdc++ (the library PyTorch's Linux
wheels use) implements those algorithms: introselect, introsort with a final insertion sort, and
heap select. Rows without ties among the selected values take a vectorised stable order instead.

Elements are (key, index) pairs compared by key only: keys are dense ranks in the comparator's order
(nan first for the largest, last for the smallest, as PyTorch's comparator puts them).
"""

from __future__ import annotations

import numpy as np

_THRESHOLD = 16  # libstdc++'s _S_threshold: below it, introsort leaves the range to insertion sort


def topk_indices(a: np.ndarray, k: int, largest: bool, sorted: bool) -> np.ndarray:
    """Indices of the top k along the last axis of a 2-D array (rows × n), as PyTorch's CPU kernel picks them."""
    rows, n = a.shape
    keys = _ranks(a, largest)
    order = np.argsort(keys, axis=-1, kind="stable")
    if k == 0:
        return order[:, :0]
    head = np.take_along_axis(keys, order[:, :min(k + 1, n)], axis=-1)
    order = order[:, :k]
    partial_sort = k * 64 <= n
    # ties among the first k + 1 leave the choice (or the order) to the algorithm
    undecided = (head[:, 1:] == head[:, :-1]).any(axis=-1)
    if not sorted and not partial_sort:
        undecided[:] = True  # nth_element's unsorted order depends on every element
    for row in np.flatnonzero(undecided):
        order[row] = _select_row(keys[row].tolist(), k, sorted, partial_sort)
    return order


def nth_element(values: np.ndarray, nth: int) -> int:
    """The index `std::nth_element` leaves at position `nth` of a 1-D array's (value, index) pairs, nans
    comparing as the largest values (PyTorch's median kernels)."""
    q = list(zip(_ranks(values[None], largest=False)[0].tolist(), range(values.size)))
    _nth_element(q, 0, nth, len(q))
    return q[nth][1]


def std_sort(values: list) -> list[tuple]:
    """The (value, index) pairs in the order `std::sort` leaves them, compared by value with `<` (as C++
    compares floats: a nan is neither less nor greater than anything)."""
    q = list(zip(values, range(len(values))))
    _sort(q, 0, len(q))
    return q


def _ranks(a: np.ndarray, largest: bool) -> np.ndarray:
    """Dense ranks in the order the comparator wants first; equal values (and all nans) share a rank."""
    nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, dtype=bool)
    distinct = np.unique(a[~nan])
    position = np.searchsorted(distinct, np.where(nan, distinct[0] if distinct.size else 0, a))
    if largest:
        return np.where(nan, -1, distinct.size - 1 - position)
    return np.where(nan, distinct.size, position)


def _select_row(keys: list, k: int, sorted: bool, partial_sort: bool) -> list[int]:
    q = list(zip(keys, range(len(keys))))
    n = len(q)
    if partial_sort:
        _partial_sort(q, 0, k, n)
    else:
        _nth_element(q, 0, k - 1, n)
        if sorted:
            _sort(q, 0, k - 1)
    return [index for _, index in q[:k]]


def _lg(n: int) -> int:
    return n.bit_length() - 1


# ------------------------------------------------------------------------------- std::nth_element
def _nth_element(q, first, nth, last):
    if first == last or nth == last:
        return
    depth = _lg(last - first) * 2
    while last - first > 3:
        if depth == 0:
            _heap_select(q, first, nth + 1, last)
            q[first], q[nth] = q[nth], q[first]
            return
        depth -= 1
        cut = _partition_pivot(q, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(q, first, last)


def _partition_pivot(q, first, last):
    """The median of three moved to `first`, then the rest partitioned around it."""
    _move_median_to_first(q, first, first + 1, first + (last - first) // 2, last - 1)
    pivot = q[first][0]
    first, last = first + 1, last
    while True:
        while q[first][0] < pivot:
            first += 1
        last -= 1
        while pivot < q[last][0]:
            last -= 1
        if not first < last:
            return first
        q[first], q[last] = q[last], q[first]
        first += 1


def _move_median_to_first(q, result, a, b, c):
    ka, kb, kc = q[a][0], q[b][0], q[c][0]
    if ka < kb:
        median = b if kb < kc else c if ka < kc else a
    else:
        median = a if ka < kc else c if kb < kc else b
    q[result], q[median] = q[median], q[result]


# ------------------------------------------------------------------------------- std::sort
def _sort(q, first, last):
    if first == last:
        return
    _introsort_loop(q, first, last, _lg(last - first) * 2)
    if last - first > _THRESHOLD:
        _insertion_sort(q, first, first + _THRESHOLD)
        for i in range(first + _THRESHOLD, last):
            _linear_insert(q, i)
    else:
        _insertion_sort(q, first, last)


def _introsort_loop(q, first, last, depth):
    while last - first > _THRESHOLD:
        if depth == 0:
            _partial_sort(q, first, last, last)
            return
        depth -= 1
        cut = _partition_pivot(q, first, last)
        _introsort_loop(q, cut, last, depth)
        last = cut


def _insertion_sort(q, first, last):
    for i in range(first + 1, last):
        if q[i][0] < q[first][0]:
            q[first:i + 1] = [q[i]] + q[first:i]
        else:
            _linear_insert(q, i)


def _linear_insert(q, last):
    value = q[last]
    while value[0] < q[last - 1][0]:
        q[last] = q[last - 1]
        last -= 1
    q[last] = value


# ------------------------------------------------------------------------------- heaps (std::partial_sort)
def _partial_sort(q, first, middle, last):
    _heap_select(q, first, middle, last)
    while middle - first > 1:  # sort_heap
        middle -= 1
        _pop_heap(q, first, middle, middle)


def _heap_select(q, first, middle, last):
    length = middle - first
    if length >= 2:  # make_heap
        for parent in range((length - 2) // 2, -1, -1):
            _adjust_heap(q, first, parent, length, q[first + parent])
    for i in range(middle, last):
        if q[i][0] < q[first][0]:
            _pop_heap(q, first, middle, i)


def _pop_heap(q, first, last, result):
    value = q[result]
    q[result] = q[first]
    _adjust_heap(q, first, 0, last - first, value)


def _adjust_heap(q, first, hole, length, value):
    top = child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if q[first + child][0] < q[first + child - 1][0]:
            child -= 1
        q[first + hole] = q[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        q[first + hole] = q[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2  # push_heap
    while hole > top and q[first + parent][0] < value[0]:
        q[first + hole] = q[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    q[first + hole] = value
