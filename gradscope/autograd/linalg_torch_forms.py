"""The torch.* names of the LU family: torch.lu and torch.lu_solve (deprecated, warning once as PyTorch's),
torch.lu_unpack and torch.triangular_solve. Loaded on first use (gradscope/__init__.py's lazy names)."""

from gradscope.autograd.linalg_factorizations import lu_unpack, triangular_solve
from gradscope.autograd.linalg_factorizations import torch_lu as lu
from gradscope.autograd.linalg_factorizations import torch_lu_solve as lu_solve

__all__ = ["lu", "lu_solve", "lu_unpack", "triangular_solve"]
