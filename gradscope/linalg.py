"""torch.linalg: inv, det, slogdet, solve, solve_triangular, cholesky, qr, eigh, eigvalsh, svd, svdvals, pinv,
matrix_power, matrix_exp, householder_product, vector_norm, matrix_norm, norm, multi_dot, vecdot, vander, cross,
diagonal, matmul, lstsq, matrix_rank, cond, eig, eigvals, lu_factor, lu_factor_ex, lu, lu_solve, inv_ex, cholesky_ex,
solve_ex, tensorinv, tensorsolve, with PyTorch's signatures, checks, error texts and node names.

The functions live in the autograd layer (gradscope/autograd/linalg_functions.py, linalg_aliases.py),
beside the torch.* and Tensor.* forms PyTorch also gives some of them (torch.det, x.inverse()).

    >>> A = gradscope.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> gradscope.linalg.det(A)
    tensor(5., grad_fn=<LinalgDetBackward0>)
"""

from gradscope.autograd import numpy_names
from gradscope.autograd.linalg_aliases import householder_product, matrix_exp, matrix_power, pinv
from gradscope.autograd.linalg_factorizations import (
    cholesky_ex,
    inv_ex,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    solve_ex,
)
from gradscope.autograd.linalg_functions import (
    LinAlgError,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matrix_norm,
    norm,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
    vector_norm,
)
from gradscope.autograd.linalg_least_squares import cond, eig, eigvals, lstsq, matrix_rank
from gradscope.autograd.linalg_products import (
    cross,
    diagonal,
    matmul,
    multi_dot,
    tensorinv,
    tensorsolve,
    vander,
    vecdot,
)
from gradscope.autograd.out_forms import LINALG_OUT_FORMS

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
           "eigvalsh", "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
           "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander",
           "vecdot", "vector_norm"]

# NumPy's argument names (linalg.vector_norm(t, axis=0)), as PyTorch's parser takes them for its native functions,
# and linalg.matmul's out= (the others write theirs themselves)
numpy_names.bind_numpy_names(globals(), prefix="linalg_", out_forms=LINALG_OUT_FORMS)
