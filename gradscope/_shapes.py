"""Shape helpers shared by the ops and the engine: the inverse of broadcasting, dim normalisation; and PyTorch's
memory-layout rules on shapes and strides (in elements) alone: the strides a view gets, and the layout an
elementwise op gives its output. NumPy's rules are close but not the same, and a few PyTorch composites (kron)
succeed or fail by them."""

from __future__ import annotations

import math
import operator

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


def first_non_int(size) -> tuple[int, str]:
    """The position and type name of the first element of `size` that isn't an int (has no __index__): what
    PyTorch's parser names when a size, shape or dims argument holds one. `size` must hold one."""
    for position, element in enumerate(size):
        try:
            operator.index(element)
        except TypeError:
            return position, type(element).__name__
    raise ValueError("every element of the size is an int")


def argument_type_name(value) -> str:
    """A value's type as PyTorch's parser names it: `float`, `Tensor`, `numpy.float64`."""
    kind = type(value)
    if kind.__module__ == "builtins" or kind.__module__.startswith("gradscope."):
        return kind.__name__
    return f"{kind.__module__}.{kind.__name__}"


def int_argument(value, function: str, argument: str, position: int) -> int:
    """An int argument (a dim, a count, an offset) as PyTorch's parser takes one: anything with __index__ (an int, a
    NumPy integer, an integer 0-dim tensor); anything else is its TypeError, where int() truncated a float.
    `position`: the argument's in torch.<function>'s signature (a method's is one less in PyTorch's words)."""
    try:
        if type(value) is not bool:  # an int to Python, not to PyTorch's parser
            return operator.index(value)
    except TypeError:
        pass
    raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be int, not "
                    f"{argument_type_name(value)}")


def ints_argument(values, function: str, argument: str, position: int) -> tuple[int, ...]:
    """A tuple-of-ints argument (pad widths, split sizes) as PyTorch's parser takes one: a sequence of ints, else its
    TypeError: the first element decides whether it is one at all, a later one fails to unpack."""
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be tuple of ints, not "
                        f"{argument_type_name(values)}")
    try:
        return tuple(map(operator.index, values))
    except TypeError:
        index, _ = first_non_int(values)
    kind = argument_type_name(values[index])
    if index == 0:
        raise TypeError(f"{function}(): argument '{argument}' (position {position}) must be tuple of ints, but found "
                        f"element of type {kind} at pos 0")
    raise TypeError(f"{function}(): argument '{argument}' failed to unpack the object at pos {index + 1} with error "
                    f'"type must be tuple of ints,but got {kind}"')


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
    # NOTE: operator.index, not int(): a float dim is a TypeError (PyTorch's parser refuses it), never truncated
    dims = tuple(normalize_dim(operator.index(d), ndim) for d in dim) if ndim else ()
    if len(set(dims)) != len(dims):
        refuse_repeated_dims(dims)
    return tuple(sorted(dims)) if dims or dim else tuple(range(ndim))


def refuse_repeated_dims(dims: tuple) -> None:
    """PyTorch's error for a dim listed twice (after wrapping), naming the first one met again."""
    seen = set()
    for d in dims:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)


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


def view_strides(shape: tuple, strides: tuple, new_shape: tuple) -> tuple | None:
    """The strides of `new_shape` viewing memory laid out as (`shape`, `strides`), or None when no view can
    (PyTorch's computeStride: each run of dims that are contiguous with one another is split or merged alone)."""
    if not shape:
        return (1,) * len(new_shape)
    if math.prod(shape) == 0:
        return tuple(strides) if tuple(shape) == tuple(new_shape) else contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_stride = strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        if d == 0 or shape[d - 1] != 1 and strides[d - 1] != tensor_numel * chunk_stride:
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk_stride = strides[d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def contiguous_strides(shape: tuple) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def elementwise_strides(operands: list[tuple[tuple, tuple]]) -> tuple:
    """The strides of an elementwise op's new output over inputs given as (shape, strides): PyTorch's
    TensorIterator orders the broadcast dims by the inputs' strides (a broadcast dim is ignored, equal strides
    put the smaller dim first, the first input that tells decides) and lays the output out densely in that
    order."""
    ndim = max(len(shape) for shape, _ in operands)
    shape = [1] * ndim
    for op_shape, _ in operands:
        for i, n in enumerate(op_shape, ndim - len(op_shape)):
            shape[i] = n if shape[i] == 1 else shape[i]
    if all(tuple(op_shape) == tuple(shape) for op_shape, _ in operands):  # PyTorch's fast setup
        contiguous = contiguous_strides(shape)
        if all(_same_layout(shape, s, contiguous) for _, s in operands):
            return contiguous
        first = tuple(operands[0][1])
        if all(tuple(s) == first for _, s in operands) and _dense(shape, first):
            return first
    spans = []  # each operand's strides over the broadcast shape, 0 where it is broadcast
    for op_shape, op_strides in operands:
        lead = ndim - len(op_shape)
        spans.append([0] * lead + [0 if n == 1 and want != 1 else s
                                   for n, want, s in zip(op_shape, shape[lead:], op_strides)])

    def should_swap(dim0: int, dim1: int) -> int:
        for span in spans:
            stride0, stride1 = span[dim0], span[dim1]
            if stride0 == 0 or stride1 == 0:
                continue
            if stride0 != stride1:
                return -1 if stride0 < stride1 else 1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    perm = list(range(ndim - 1, -1, -1))  # fastest-moving dim first
    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    strides, step = [0] * ndim, 1
    for d in perm:
        strides[d] = step
        step *= shape[d]
    return tuple(strides)


def _same_layout(shape, strides, other) -> bool:
    """Equal strides wherever the dim has more than one element."""
    return all(a == b or n < 2 for a, b, n in zip(strides, other, shape))


def _dense(shape, strides) -> bool:
    """PyTorch's non-overlapping-and-dense: the elements fill a block of memory exactly, in some dim order."""
    step = 1
    for d in sorted((d for d in range(len(shape)) if shape[d] > 1), key=lambda d: strides[d]):
        if strides[d] != step:
            return False
        step *= shape[d]
    return True
