"""torch.linalg.lu_factor / lu_factor_ex / lu / lu_solve / inv_ex / lstsq / matrix_rank / cond and torch.lu /
lu_solve / lu_unpack / triangular_solve vs PyTorch: named results, graphs node by node, values, dtypes, gradients
(second derivatives for some) and PyTorch's errors, on square, wide, tall, batched and broadcast inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from linalg_vs_torch_helpers import assert_same, outcome

import gradscope

torch = pytest.importorskip("torch")


def R(*shape):  # noqa: N802 - reads as a matrix in the tables
    return np.random.default_rng(len(shape) * 31 + sum(shape)).standard_normal(shape)


CASES = {
    "lu_factor": (lambda lib, a: lib.linalg.lu_factor(a), [R(3, 3)]),
    "lu_factor_batch": (lambda lib, a: lib.linalg.lu_factor(a), [R(2, 3, 3)]),
    "lu_factor_wide": (lambda lib, a: lib.linalg.lu_factor(a), [R(3, 5)]),
    "lu_factor_tall": (lambda lib, a: lib.linalg.lu_factor(a), [R(5, 3)]),
    "lu_factor_ex": (lambda lib, a: lib.linalg.lu_factor_ex(a), [R(3, 3)]),
    "lu": (lambda lib, a: lib.linalg.lu(a), [R(3, 3)]),
    "lu_wide": (lambda lib, a: lib.linalg.lu(a), [R(3, 5)]),
    "lu_tall": (lambda lib, a: lib.linalg.lu(a), [R(2, 5, 3)]),
    "lu_L_only": (lambda lib, a: lib.linalg.lu(a)[1], [R(3, 5)]),
    "lu_U_only": (lambda lib, a: lib.linalg.lu(a)[2], [R(5, 3)]),
    "lu_U_only_sq": (lambda lib, a: lib.linalg.lu(a)[2], [R(3, 3)]),
    "lu_solve": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b), [R(3, 3), R(3, 2)]),
    "lu_solve_adj": (
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, adjoint=True),
        [R(3, 3), R(3, 2)],
    ),
    "lu_solve_right": (
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=False),
        [R(3, 3), R(2, 3)],
    ),
    "lu_solve_right_adj": (
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=False, adjoint=True),
        [R(3, 3), R(2, 3)],
    ),
    "lu_solve_bcast": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b), [R(3, 3), R(2, 3, 2)]),
    "lu_solve_detached": (
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a.detach()), b),
        [R(3, 3), R(3, 2)],
    ),
    "lu_unpack": (lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a)), [R(3, 3)]),
    "lu_unpack_wide": (lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a)), [R(3, 5)]),
    "lu_unpack_tall": (lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a)), [R(5, 3)]),
    "lu_unpack_nodata": (lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a), unpack_data=False), [R(3, 3)]),
    "lu_unpack_nopiv": (lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a), unpack_pivots=False), [R(3, 3)]),
    "torch_lu": (lambda lib, a: lib.lu(a), [R(3, 3)]),
    "torch_lu_infos": (lambda lib, a: lib.lu(a, get_infos=True), [R(3, 3)]),
    "torch_lu_solve": (lambda lib, a, b: lib.lu_solve(b, *lib.lu(a)), [R(3, 3), R(3, 2)]),
    "triangular_solve": (lambda lib, b, a: lib.triangular_solve(b, a), [R(3, 2), R(3, 3)]),
    "triangular_solve_lower_T_unit": (
        lambda lib, b, a: lib.triangular_solve(b, a, upper=False, transpose=True, unitriangular=True),
        [R(3, 2), R(3, 3)],
    ),
    "triangular_solve_T": (lambda lib, b, a: lib.triangular_solve(b, a, transpose=True), [R(3, 2), R(3, 3)]),
    "triangular_solve_bcast": (lambda lib, b, a: lib.triangular_solve(b, a, False), [R(2, 3, 2), R(3, 3)]),
    "triangular_solve_sol": (lambda lib, b, a: lib.triangular_solve(b, a)[0], [R(3, 2), R(3, 3)]),
    "lstsq": (lambda lib, a, b: lib.linalg.lstsq(a, b), [R(5, 3), R(5, 2)]),
    "lstsq_gelsd": (lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd"), [R(5, 3), R(5, 2)]),
    "lstsq_gelss": (lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelss"), [R(2, 5, 3), R(1, 5, 2)]),
    "lstsq_bcast_err": (lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelss"), [R(2, 5, 3), R(5, 2)]),
    "lstsq_gels": (lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gels"), [R(5, 3), R(5, 2)]),
    "lstsq_vec": (lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd"), [R(5, 3), R(5)]),
    "lstsq_vec_batch": (lambda lib, a, b: lib.linalg.lstsq(a, b), [R(2, 5, 3), R(2, 5)]),
    "lstsq_wide": (lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd"), [R(3, 5), R(3, 2)]),
    "lstsq_square": (lambda lib, a, b: lib.linalg.lstsq(a, b), [R(3, 3), R(3, 2)]),
    "lstsq_rcond": (lambda lib, a, b: lib.linalg.lstsq(a, b, rcond=0.5, driver="gelsd"), [R(5, 3), R(5, 2)]),
    "lstsq_sol_only": (lambda lib, a, b: lib.linalg.lstsq(a, b)[0], [R(5, 3), R(5, 2)]),
    "matrix_rank": (lambda lib, a: lib.linalg.matrix_rank(a), [R(3, 3)]),
    "matrix_rank_def": (lambda lib, a: lib.linalg.matrix_rank(a[:, :1] * a[:1, :]), [R(3, 3)]),
    "matrix_rank_atol": (lambda lib, a: lib.linalg.matrix_rank(a, atol=1.0), [R(2, 4, 3)]),
    "matrix_rank_rtol": (lambda lib, a: lib.linalg.matrix_rank(a, rtol=0.5), [R(4, 3)]),
    "matrix_rank_tol": (lambda lib, a: lib.linalg.matrix_rank(a, 1.0), [R(4, 3)]),
    "matrix_rank_herm": (lambda lib, a: lib.linalg.matrix_rank(a + a.mT, hermitian=True), [R(3, 3)]),
    "cond": (lambda lib, a: lib.linalg.cond(a), [R(3, 3)]),
    "cond_m2": (lambda lib, a: lib.linalg.cond(a, -2), [R(2, 3, 4)]),
    "cond_fro": (lambda lib, a: lib.linalg.cond(a, "fro"), [R(3, 3)]),
    "cond_nuc": (lambda lib, a: lib.linalg.cond(a, "nuc"), [R(3, 3)]),
    "cond_1": (lambda lib, a: lib.linalg.cond(a, 1), [R(2, 3, 3)]),
    "cond_minf": (lambda lib, a: lib.linalg.cond(a, -float("inf")), [R(3, 3)]),
    "inv_ex": (lambda lib, a: lib.linalg.inv_ex(a), [R(3, 3)]),
}

ERRORS = {
    "lu_factor_1d": (lambda lib, a: lib.linalg.lu_factor(a), [R(3)]),
    "lu_factor_int": (lambda lib, a: lib.linalg.lu_factor(a.long()), [R(3, 3)]),
    "lu_factor_nopivot": (lambda lib, a: lib.linalg.lu_factor(a, pivot=False), [R(3, 3)]),
    "lu_factor_singular": (lambda lib, a: lib.linalg.lu_factor(a * 0), [R(3, 3)]),
    "lu_factor_singular_batch": (
        lambda lib, a: lib.linalg.lu_factor(a * lib.tensor([1.0, 0.0]).view(2, 1, 1).double()),
        [R(2, 3, 3)],
    ),
    "lu_factor_ex_singular": (lambda lib, a: lib.linalg.lu_factor_ex(a * 0), [R(3, 3)]),
    "lu_factor_ex_check": (lambda lib, a: lib.linalg.lu_factor_ex(a * 0, check_errors=True), [R(3, 3)]),
    "lu_singular": (lambda lib, a: lib.linalg.lu(a * 0), [R(3, 3)]),
    "lu_solve_int64_piv": (
        lambda lib, a, b: lib.linalg.lu_solve(lib.linalg.lu_factor(a)[0], lib.linalg.lu_factor(a)[1].long(), b),
        [R(3, 3), R(3, 2)],
    ),
    "lu_solve_pivcount": (
        lambda lib, a, b: lib.linalg.lu_solve(lib.linalg.lu_factor(a)[0], lib.linalg.lu_factor(a)[1][:2], b),
        [R(3, 3), R(3, 2)],
    ),
    "lu_solve_shapes": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b), [R(3, 3), R(2, 2)]),
    "lu_solve_dtype": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b.float()), [R(3, 3), R(3, 2)]),
    "lu_solve_square": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b), [R(2, 3), R(2, 2)]),
    "lu_unpack_int64": (
        lambda lib, a: lib.lu_unpack(lib.linalg.lu_factor(a)[0], lib.linalg.lu_factor(a)[1].long()),
        [R(3, 3)],
    ),
    "tri_1d": (lambda lib, b, a: lib.triangular_solve(b, a), [R(3), R(3, 3)]),
    "tri_sizes": (lambda lib, b, a: lib.triangular_solve(b, a), [R(2, 2), R(3, 3)]),
    "tri_square": (lambda lib, b, a: lib.triangular_solve(b, a), [R(3, 2), R(3, 2)]),
    "tri_dtype": (lambda lib, b, a: lib.triangular_solve(b.float(), a), [R(3, 2), R(3, 3)]),
    "tri_int": (lambda lib, b, a: lib.triangular_solve(b.long(), a.long()), [R(3, 2), R(3, 3)]),
    "lstsq_driver": (lambda lib, a, b: lib.linalg.lstsq(a, b, driver="foo"), [R(5, 3), R(5, 2)]),
    "lstsq_rows": (lambda lib, a, b: lib.linalg.lstsq(a, b), [R(5, 3), R(4, 2)]),
    "lstsq_dtype": (lambda lib, a, b: lib.linalg.lstsq(a, b.float()), [R(5, 3), R(5, 2)]),
    "lstsq_1d": (lambda lib, a, b: lib.linalg.lstsq(a, b), [R(5), R(5)]),
    "lstsq_int": (lambda lib, a, b: lib.linalg.lstsq(a.long(), b.long()), [R(5, 3), R(5, 2)]),
    "lstsq_dims": (lambda lib, a, b: lib.linalg.lstsq(a, b), [R(5, 3), R(2, 2, 5, 2)]),
    "lstsq_deficient": (
        lambda lib, a, b: lib.linalg.lstsq(lib.cat([a, a[:, :1] + a[:, 1:2]], 1), b, driver="gelsd"),
        [R(5, 2), R(5, 2)],
    ),
    "matrix_rank_1d": (lambda lib, a: lib.linalg.matrix_rank(a), [R(3)]),
    "matrix_rank_int": (lambda lib, a: lib.linalg.matrix_rank(a.long()), [R(3, 3)]),
    "cond_bad_p": (lambda lib, a: lib.linalg.cond(a, 3), [R(3, 3)]),
    "cond_1d": (lambda lib, a: lib.linalg.cond(a), [R(3)]),
    "cond_fro_rect": (lambda lib, a: lib.linalg.cond(a, "fro"), [R(2, 3)]),
    "cond_singular": (lambda lib, a: lib.linalg.cond(a * 0), [R(2, 2)]),
    "cond_singular_fro": (
        lambda lib, a: lib.linalg.cond(a * lib.tensor([1.0, 0.0]).view(2, 1, 1).double(), "fro"),
        [R(2, 2, 2)],
    ),
    "cond_singular_1": (lambda lib, a: lib.linalg.cond(a * 0, 1), [R(2, 2)]),
    "cond_int": (lambda lib, a: lib.linalg.cond(a.long()), [R(2, 2)]),
    "inv_ex_singular": (lambda lib, a: lib.linalg.inv_ex(a * 0)[1], [R(3, 3)]),
    "inv_ex_check": (lambda lib, a: lib.linalg.inv_ex(a * 0, check_errors=True), [R(3, 3)]),
}

SECOND_ORDER = [
    "lu_factor",
    "lu_wide",
    "lu_tall",
    "lu_solve",
    "lu_solve_adj",
    "lu_solve_right",
    "lu_unpack",
    "triangular_solve",
    "triangular_solve_T",
    "lstsq_gelsd",
    "lstsq_vec",
    "lstsq_wide",
    "cond",
    "cond_fro",
    "inv_ex",
]


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    call, arrays = CASES[name]
    assert_same(outcome(gradscope, call, arrays), outcome(torch, call, arrays))


@pytest.mark.parametrize("name", ERRORS)
def test_errors_and_edge_cases_match_torch(name):
    call, arrays = ERRORS[name]
    assert_same(outcome(gradscope, call, arrays), outcome(torch, call, arrays))


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives_match_torch(name):
    call, arrays = CASES[name]
    assert_same(outcome(gradscope, call, arrays, True), outcome(torch, call, arrays, True), rtol=1e-7, atol=1e-8)


def _saved(lib):
    A = lib.tensor(R(3, 3), requires_grad=True)
    B = lib.tensor(R(3, 2), requires_grad=True)
    LU, pivots = lib.linalg.lu_factor(A)
    nodes = {
        "lu_factor": LU.grad_fn,
        "lu": lib.linalg.lu(A).L.grad_fn,
        "lu_solve": lib.linalg.lu_solve(LU, pivots, B).grad_fn,
        "lu_unpack": lib.lu_unpack(LU, pivots).L.grad_fn,
        "lstsq": lib.linalg.lstsq(A, B).solution.grad_fn,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes["triangular_solve"] = lib.triangular_solve(B, A).solution.grad_fn
    return {name: sorted(attr for attr in dir(node) if attr.startswith("_saved_")) for name, node in nodes.items()}


def test_nodes_save_what_torchs_save():
    assert _saved(gradscope) == _saved(torch)


def test_out_is_written():
    for lib in (gradscope, torch):
        A = lib.tensor(R(3, 3))
        LU, pivots = lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int32)
        result = lib.linalg.lu_factor(A, out=(LU, pivots))
        assert result[0] is LU and result[1] is pivots and pivots.shape == (3,)
        X = lib.empty(0, dtype=lib.float64)
        assert lib.linalg.lu_solve(LU, pivots, lib.tensor(R(3, 2)), out=X) is X and X.shape == (3, 2)


def _methods(lib):
    A = lib.tensor(R(3, 3) + 3 * np.eye(3), requires_grad=True)
    B = lib.tensor(R(3, 2), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LU, pivots = A.lu()
        X = B.lu_solve(LU, pivots)
        S, C = B.triangular_solve(A, upper=False)
        S2 = B.triangular_solve(A, False, True, True).solution
        infos = A.lu(get_infos=True)
    (X.sum() + S.sum() + C.sum() + S2.sum()).backward()
    return (type(infos).__name__, len(infos), type(X.grad_fn).__name__, type(S.grad_fn).__name__,
            np.round(A.grad.numpy(), 10).tolist(), np.round(B.grad.numpy(), 10).tolist())


def test_tensor_methods_match_torch():
    assert _methods(gradscope) == _methods(torch)


def test_tensor_methods_load_the_lu_family_on_first_call():
    import subprocess
    import sys

    code = ("import sys, gradscope as t\nprint('gradscope.autograd.linalg_torch_forms' in sys.modules)\n"
            "t.eye(2).lu()\nprint('gradscope.autograd.linalg_torch_forms' in sys.modules)")
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


REMOVED = {
    "solve": lambda lib: lib.solve(lib.eye(2), lib.eye(2)),
    "eig": lambda lib: lib.eig(lib.eye(2), eigenvectors=True),
    "lstsq": lambda lib: lib.lstsq(lib.eye(2), lib.eye(2)),
    "symeig": lambda lib: lib.symeig(lib.eye(2)),
    "matrix_rank": lambda lib: lib.matrix_rank(lib.eye(2)),
    "Tensor.solve": lambda lib: lib.eye(2).solve(lib.eye(2)),
    "Tensor.eig": lambda lib: lib.eye(2).eig(),
    "Tensor.lstsq": lambda lib: lib.eye(2).lstsq(lib.eye(2)),
    "Tensor.symeig": lambda lib: lib.eye(2).symeig(),
}


@pytest.mark.parametrize("name", REMOVED)
def test_functions_removed_in_torch_1_9_raise_torchs_message(name):
    messages = []
    for lib in (gradscope, torch):
        with pytest.raises(RuntimeError) as raised:
            REMOVED[name](lib)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
