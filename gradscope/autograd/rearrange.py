"""torch.* functions that rearrange elements: flip, roll, rot90, movedim, narrow, select, diagonals and
triangles, repeat/tile, unfold, stacking helpers, broadcasting."""

from __future__ import annotations

from gradscope._shapes import normalize_dim
from gradscope.autograd.dispatch import apply
from gradscope.autograd.shape_functions import permute
from gradscope.ops import rearrange as R


def _dims(dims, ndim: int) -> tuple[int, ...]:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dims has duplicates, original flip dims size={len(dims)}, but unique flip dims "
                           f"size={len(set(out))}")
    return out


def flip(input, dims):
    """A copy with the order of elements along `dims` reversed (node FlipBackward0)."""
    ndim = input._data.ndim
    return apply(R.flip, (input,), (_dims(dims, ndim) if ndim else (),))


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def movedim(input, source, destination):
    """A view with dims `source` moved to `destination`, the others keeping their order (PermuteBackward0)."""
    ndim = input._data.ndim
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(source)} dims) should "
                           f"contain the same number of dims as destination ({list(destination)} dims)")
    source = tuple(normalize_dim(d, ndim) for d in source)
    destination = tuple(normalize_dim(d, ndim) for d in destination)
    order = [None] * max(ndim, 1)
    for s, d in zip(source, destination):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in source)
    order = tuple(d if d is not None else next(rest) for d in order[:ndim])
    return permute(input, order)


moveaxis = movedim

FUNCTIONS = ("flip", "fliplr", "flipud", "movedim", "moveaxis")
METHODS = {name: globals()[name] for name in FUNCTIONS}
