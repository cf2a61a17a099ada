"""The torch.* names of the LU family: torch.lu and torch.lu_solve (deprecated, warning once as PyTorch's),
torch.lu_unpack and torch.triangular_solve, the Tensor methods among them, and torch.solve / eig / lstsq / symeig /
matrix_rank, removed in PyTorch 1.9 but kept there to raise what replaces them. Loaded on first use
(gradscope/__init__.py's lazy names, tensor_methods' methods loaded on first call)."""

from gradscope.autograd.linalg_factorizations import lu_unpack, triangular_solve
from gradscope.autograd.linalg_factorizations import torch_lu as lu
from gradscope.autograd.linalg_factorizations import torch_lu_solve as lu_solve

__all__ = ["eig", "lstsq", "lu", "lu_solve", "lu_unpack", "matrix_rank", "solve", "symeig", "triangular_solve"]


def tensor_lu(self, pivot: bool = True, get_infos: bool = False) -> tuple:
    """Tensor.lu: torch.lu's results as a plain tuple (PyTorch's method unpacks them)."""
    return tuple(lu(self, pivot, get_infos))


METHODS = {"lu": tensor_lu, "lu_solve": lu_solve, "triangular_solve": triangular_solve}


# ------------------------------------------------------------------------------- removed in PyTorch 1.9
# They still exist in PyTorch 2.13 to say what replaces them: a script calling one fails there with these words.
_REMOVED = "This function was deprecated since version 1.9 and is now removed."
_REPLACEMENTS = {
    "solve": " `torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its arguments "
             "reversed and does not return the LU factorization.\n\nTo get the LU factorization see `torch.lu`, which "
             "can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be "
             "replaced with:\nX = torch.linalg.solve(A, B)",
    "eig": " `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real tensors "
           "mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = "
           "torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
           "L_complex, V_complex = torch.linalg.eig(A)",
    "lstsq": " `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has reversed "
             "arguments and does not return the QR decomposition in the returned tuple (although it returns other "
             "information about the problem).\n\nTo get the QR decomposition consider using `torch.linalg.qr`.\n\n"
             "The returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n columns "
             "of the returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
             "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = "
             "torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
    "symeig": " The default behavior has changed from using the upper triangular portion of the matrix by default to "
              "using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be replaced with:\n"
              "L = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, "
              "eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
    "matrix_rank": "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was "
                   "renamed in `torch.linalg.matrix_rank()` to 'hermitian'.",
}


def solve(input, A, *, out=None):
    """Removed in PyTorch 1.9 (torch.linalg.solve(A, B) replaces it): raises PyTorch's message."""
    raise RuntimeError(_REMOVED + _REPLACEMENTS["solve"])


def eig(input, eigenvectors: bool = False, *, out=None):
    """Removed in PyTorch 1.9 (torch.linalg.eig replaces it): raises PyTorch's message."""
    raise RuntimeError(_REMOVED + _REPLACEMENTS["eig"])


def lstsq(input, A, *, out=None):
    """Removed in PyTorch 1.9 (torch.linalg.lstsq(A, B) replaces it): raises PyTorch's message."""
    raise RuntimeError(_REMOVED + _REPLACEMENTS["lstsq"])


def symeig(input, eigenvectors: bool = False, upper: bool = True, *, out=None):
    """Removed in PyTorch 1.9 (torch.linalg.eigh replaces it): raises PyTorch's message."""
    raise RuntimeError(_REMOVED + _REPLACEMENTS["symeig"])


def matrix_rank(input, tol=None, symmetric: bool = False, *, out=None):
    """Removed in PyTorch 1.9 (torch.linalg.matrix_rank replaces it): raises PyTorch's message."""
    raise RuntimeError(_REMOVED + _REPLACEMENTS["matrix_rank"])


METHODS.update(solve=solve, eig=eig, lstsq=lstsq, symeig=symeig)
