"""Shape helpers shared by the ops and the engine: the inverse of broadcasting, dim normalisation."""

from __future__ import annotations

import numpy as np


def sum_to(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` down to `shape`, undoing NumPy/PyTorch broadcasting (the engine calls this once per edge)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead > 0 and shape and grad.shape[lead:] == shape:  # only leading dims were broadcast (a bias): one reduction
        return grad.sum(axis=0 if lead == 1 else tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(
        i + lead for i, size in enumerate(shape) if size == 1 and grad.shape[i + lead] != 1
    )
    summed = grad.sum(axis=axes, keepdims=True) if axes else grad
    if lead:
        summed = summed.reshape(summed.shape[lead:])
    if summed.shape != shape:
        raise ValueError(f"can't sum gradient of shape {grad.shape} to shape {shape}")
    return summed


def is_expandable_to(shape: tuple, desired: tuple) -> bool:
    """True when `shape` broadcasts to `desired` (PyTorch's is_expandable_to)."""
    if len(shape) > len(desired):
        return False
    for size, target in zip(reversed(shape), reversed(desired)):
        if size != target and size != 1:
            return False
    return True


def normalize_dim(dim: int, ndim: int) -> int:
    """Wrap a negative dim, raising PyTorch's IndexError when out of range."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})"
        )
    return dim % rank


def normalize_dims(dim, ndim: int) -> tuple[int, ...]:
    """`None` or `()` means every dim; an int or a sequence of ints is wrapped and sorted."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (normalize_dim(int(dim), ndim),) if ndim else ()
    dims = tuple(normalize_dim(int(d), ndim) for d in dim) if ndim else ()
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return tuple(sorted(dims)) if dims or dim else tuple(range(ndim))


def broadcast_shapes(*shapes: tuple) -> tuple:
    """Broadcast shapes with PyTorch's error text."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(broadcast_error(shapes)) from None


def broadcast_error(shapes) -> str:
    """PyTorch's message for shapes that don't broadcast (the first mismatching dimension of the first two)."""
    a, b = shapes[0], shapes[1] if len(shapes) > 1 else ()
    for i, (x, y) in enumerate(zip(reversed(a), reversed(b))):
        if x != y and x != 1 and y != 1:
            return (
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                f"at non-singleton dimension {max(len(a), len(b)) - 1 - i}"
            )
    return f"shapes {list(a)} and {list(b)} are not broadcastable"


def overlaps(array: np.ndarray) -> bool:
    """PyTorch's internal overlap: a dim of size > 1 with stride 0 (an expand), so that several elements are
    one memory location. An empty array has no elements to overlap (NumPy gives it stride 0 all the same)."""
    return (0 in array.strides and array.size > 1
            and any(stride == 0 and n > 1 for n, stride in zip(array.shape, array.strides)))
