"""cosine_similarity and pairwise_distance, composed as PyTorch's C++ composes them (SumBackward1 and
NormBackward1 on top)."""

from __future__ import annotations

import gradscope
from gradscope import _dtypes
from gradscope._shapes import normalize_dims
from gradscope.autograd.dispatch import apply
from gradscope.autograd.numpy_names import accepting_numpy_names
from gradscope.autograd.reductions import linalg_vector_norm
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import plus
from gradscope.nn._functional._reduction import broadcast
from gradscope.ops import distance as D


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1, x2> / (‖x1‖·‖x2‖) along `dim`, as <x1 / max(‖x1‖, eps), x2 / max(‖x2‖, eps)>; the clamp
    happens without grad, as in PyTorch, so the gradient is that of the unclamped norms.

    >>> F.cosine_similarity(gradscope.tensor([[1.0, 0.0]]), gradscope.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    common = _dtypes.from_numpy_dtype(_dtypes.result_type((x1._data, x2._data)))
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{common.legacy_name[:-len('Tensor')]}")
    x1, x2 = (x if x.is_floating_point() else x.to(common) for x in (x1, x2))
    x1, x2 = broadcast(x1, x2)
    norms = []
    for x in (x1, x2):
        norm = linalg_vector_norm(x, 2, dim, keepdim=True).clone()
        with gradscope.no_grad():
            norm.clamp_(min=eps)
        norms.append(norm)
    return ((x1 / norms[0]) * (x2 / norms[1])).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p over the last dim (NormBackward1).

    >>> F.pairwise_distance(gradscope.tensor([[3.0, 0.0]]), gradscope.tensor([[0.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    difference = plus(x1 - x2, eps)
    innermost = max(x1.dim(), x2.dim()) - 1
    return apply(D.norm, (difference,), (float(p), normalize_dims(innermost, difference.dim()), keepdim))


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distance between every pair of rows i < j of an (N, M) input: N·(N−1)/2 values
    (PdistBackward0).

    >>> F.pdist(gradscope.tensor([[0., 0.], [3., 4.], [6., 8.]]))
    tensor([ 5., 10.,  5.])
    """
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if input._data.dtype.itemsize == 2:  # float16: PyTorch's kernel has no loop for it
        raise NotImplementedError("\"pdist\" not implemented for 'Half'")
    return apply(D.pdist, (input,), (float(p),))


# NumPy's argument names (cosine_similarity(a, b, axis=0)): PyTorch's parser takes them, these two are native there
cosine_similarity = accepting_numpy_names(cosine_similarity)
pairwise_distance = accepting_numpy_names(pairwise_distance)
