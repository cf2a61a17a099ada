"""The torch.* names of the LU family: torch.lu and torch.lu_solve (deprecated, warning once as PyTorch's),
torch.lu_unpack and torch.triangular_solve, and the Tensor methods among them. Loaded on first use
(gradscope/__init__.py's lazy names, tensor_methods' methods loaded on first call)."""

from gradscope.autograd.linalg_factorizations import lu_unpack, triangular_solve
from gradscope.autograd.linalg_factorizations import torch_lu as lu
from gradscope.autograd.linalg_factorizations import torch_lu_solve as lu_solve

__all__ = ["lu", "lu_solve", "lu_unpack", "triangular_solve"]


def tensor_lu(self, pivot: bool = True, get_infos: bool = False) -> tuple:
    """Tensor.lu: torch.lu's results as a plain tuple (PyTorch's method unpacks them)."""
    return tuple(lu(self, pivot, get_infos))


METHODS = {"lu": tensor_lu, "lu_solve": lu_solve, "triangular_solve": triangular_solve}
