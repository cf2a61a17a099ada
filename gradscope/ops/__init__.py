"""The primitive op table (forward + VJP rules + node names). Knows NumPy, nothing of Tensors."""

from gradscope.ops import (
    activations,
    complex_ops,
    complex_support,
    conv,
    distance,
    elementwise,
    embedding,
    grid_sampling,
    linalg,
    linalg_decomp,
    linalg_det,
    linalg_pinv,
    linalg_solve,
    losses,
    margin_losses,
    nn,
    normalization,
    order_statistics,
    padding,
    placement,
    pooling,
    reduction,
    resample,
    shape,
    spectral,
    vector_ops,
    view_copies,
)
from gradscope.ops.namespace import NUMPY
from gradscope.ops.registry import REGISTRY, Primitive, primitive

__all__ = ["NUMPY", "REGISTRY", "Primitive", "primitive", "activations", "complex_ops", "complex_support", "conv",
           "distance", "elementwise", "embedding",
           "grid_sampling", "linalg", "linalg_decomp", "linalg_det", "linalg_pinv", "linalg_solve", "losses",
           "margin_losses", "nn", "normalization", "order_statistics", "padding", "placement", "pooling", "reduction",
           "resample", "shape", "spectral", "vector_ops", "view_copies"]
