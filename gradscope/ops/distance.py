"""at::norm(x, p, dim, keepdim): the reduction PyTorch's C++ composites (pairwise_distance, and so
triplet_margin_loss) end in, under its own node, NormBackward1; Python's x.norm() is
linalg_vector_norm (LinalgVectorNormBackward0). Same values and gradients as that one."""

from __future__ import annotations

from gradscope.ops.reduction import _norm_vjp, _vector_norm
from gradscope.ops.registry import primitive

norm = primitive("norm", _vector_norm, "NormBackward1", inputs=("self",), params=("ord", "dim", "keepdim"),
                 saves=(("self", "result"),), vjp=(_norm_vjp,))
