"""Sample calls of the torch.linalg functions added in session 17 (multi_dot, vecdot, vander, cross, diagonal, and
the LU, least-squares and eigen families as they land). Each is `(name, fn, shapes, options)`, as in
samples_linalg_nn.py; samples.py turns them into Samples on float64 inputs."""

from __future__ import annotations

import warnings

Call = tuple  # (name, fn(lib, *inputs), input shapes, Sample options)


def _call(name: str, fn, shapes, **options) -> Call:
    return name, fn, shapes, options


def _products() -> list[Call]:
    return [
        _call("linalg_multi_dot_two", lambda lib, a, b: lib.linalg.multi_dot([a, b]), ((2, 3), (3, 2))),
        _call("linalg_multi_dot_three", lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), ((4, 1), (1, 4), (4, 1))),
        _call("linalg_multi_dot_chain", lambda lib, a, b, c, d: lib.linalg.multi_dot((a, b, c, d)),
              ((3,), (3, 2), (2, 4), (4,))),
        _call("linalg_vecdot", lambda lib, x, y: lib.linalg.vecdot(x, y), ((2, 3), (3,))),
        _call("linalg_vecdot_dim", lambda lib, x, y: lib.linalg.vecdot(x, y, dim=0), ((2, 3), (2, 1))),
        _call("linalg_vander", lambda lib, x: lib.linalg.vander(x), ((3,),)),
        _call("linalg_vander_batched_N", lambda lib, x: lib.linalg.vander(x, N=4), ((2, 2),)),
        _call("linalg_cross", lambda lib, x, y: lib.linalg.cross(x, y), ((2, 3), (1, 3))),
        _call("linalg_diagonal", lambda lib, a: lib.linalg.diagonal(a, offset=1), ((2, 3, 3),)),
    ]


def _shifted(lib, a):
    """a + 3·I: a random signed matrix kept far from singular (and its LU's pivots from ties)."""
    return a + 3 * lib.eye(a.shape[-2], a.shape[-1], dtype=a.dtype)


def _deprecated(function, *args, **kwargs):
    """A deprecated function called without its (once per process) warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return function(*args, **kwargs)


def _factorizations() -> list[Call]:
    return [
        _call("linalg_lu_factor", lambda lib, a: lib.linalg.lu_factor(a)[0], ((3, 3),)),
        _call("linalg_lu_factor_ex_wide", lambda lib, a: lib.linalg.lu_factor_ex(a)[0], ((2, 3),)),
        _call("linalg_lu_factor_tall_batched", lambda lib, a: lib.linalg.lu_factor(a).LU, ((2, 3, 2),)),
        _call("linalg_lu", lambda lib, a: lib.linalg.lu(a)[1:], ((3, 3),)),
        _call("linalg_lu_wide", lambda lib, a: lib.linalg.lu(a)[1:], ((2, 3),)),
        _call("linalg_lu_tall_U", lambda lib, a: lib.linalg.lu(a).U, ((3, 2),)),
        _call("linalg_lu_solve", lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(_shifted(lib, a)), b),
              ((3, 3), (3, 2))),
        _call("linalg_lu_solve_right_adjoint", lambda lib, a, b: lib.linalg.lu_solve(
            *lib.linalg.lu_factor(_shifted(lib, a)), b, left=False, adjoint=True), ((2, 2, 2), (2, 2))),
        _call("lu_unpack", lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a))[1:], ((3, 3),)),
        _call("lu_unpack_wide", lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a))[1:], ((2, 3),)),
        _call("lu_deprecated", lambda lib, a, b: _deprecated(lib.lu_solve, b, *_deprecated(lib.lu, _shifted(lib, a))),
              ((3, 3), (3, 1))),
        _call("triangular_solve", lambda lib, b, a: _deprecated(lib.triangular_solve, b, _shifted(lib, a)),
              ((3, 2), (3, 3))),
        _call("triangular_solve_lower_transpose_unit", lambda lib, b, a: _deprecated(
            lib.triangular_solve, b, a, upper=False, transpose=True, unitriangular=True), ((2, 3, 1), (3, 3))),
        _call("linalg_lstsq", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, ((3, 2), (3, 2))),
        _call("linalg_lstsq_gelsd_residuals", lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd")[:2],
              ((4, 2), (4, 1))),
        _call("linalg_lstsq_wide_vector", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, ((2, 3), (2,))),
        _call("linalg_cholesky_ex", lambda lib, a: lib.linalg.cholesky_ex(a @ a.mT + lib.eye(3, dtype=a.dtype)).L,
              ((3, 3),)),
        _call("linalg_solve_ex", lambda lib, a, b: lib.linalg.solve_ex(_shifted(lib, a), b, left=False).result,
              ((2, 2, 2), (1, 2, 2))),
        _call("linalg_tensorsolve", lambda lib, a, b: lib.linalg.tensorsolve(a + 3 * lib.eye(6, dtype=a.dtype).view(
            2, 3, 6), b), ((2, 3, 6), (2, 3))),
        _call("linalg_inv_ex", lambda lib, a: lib.linalg.inv_ex(_shifted(lib, a)).inverse, ((3, 3),)),
        _call("linalg_cond", lambda lib, a: lib.linalg.cond(a), ((3, 2),)),
        _call("linalg_cond_nuc", lambda lib, a: lib.linalg.cond(_shifted(lib, a), "nuc"), ((3, 3),)),
        # cond in 'fro', ±1, ±inf has no backward in PyTorch (its inverse is filled in place after being saved):
        # tests/test_linalg_factorizations_vs_torch.py checks that gradscope refuses it in PyTorch's words
    ]


def _eig_gauge_free(lib, a):
    """eig's eigenvalues (as real pairs) and |V_ij|², which a phase e^{iφ} of each eigenvector leaves alone."""
    values, vectors = lib.linalg.eig(a)
    return lib.view_as_real(values), (vectors * vectors.conj()).real


def _eigen() -> list[Call]:
    return [
        _call("linalg_eigvals", lambda lib, a: lib.view_as_real(lib.linalg.eigvals(a)), ((3, 3),)),
        _call("linalg_eig", _eig_gauge_free, ((3, 3),)),
        _call("linalg_eig_batched", _eig_gauge_free, ((2, 2, 2),)),
    ]


def linalg_extra_calls() -> list[Call]:
    return _products() + _factorizations() + _eigen()
