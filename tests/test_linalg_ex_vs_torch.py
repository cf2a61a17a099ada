"""torch.linalg.cholesky_ex, solve_ex, tensorinv and tensorsolve vs PyTorch: named results, info per matrix instead
of an error (check_errors=True raising PyTorch's LinAlgError), graphs, values, gradients and errors (in the plain
functions' words, as PyTorch's)."""

from __future__ import annotations

import numpy as np
import pytest
from linalg_vs_torch_helpers import assert_same, outcome

import gradscope

torch = pytest.importorskip("torch")


def R(*shape):  # noqa: N802 - reads as a matrix in the tables
    return np.random.default_rng(len(shape) * 31 + sum(shape)).standard_normal(shape)


def spd(lib, a):
    return a @ a.mT + lib.eye(a.shape[-1], dtype=a.dtype)


CASES = {
    "cholesky_ex": (lambda lib, a: lib.linalg.cholesky_ex(spd(lib, a)), [R(3, 3)]),
    "cholesky_ex_upper_batched": (lambda lib, a: lib.linalg.cholesky_ex(spd(lib, a), upper=True), [R(2, 3, 3)]),
    "cholesky_ex_info": (lambda lib, a: lib.linalg.cholesky_ex(-spd(lib, a)).info, [R(2, 3, 3)]),
    "cholesky_ex_minor2": (
        lambda lib, a: lib.linalg.cholesky_ex(lib.diag(lib.tensor([1.0, -1.0, 2.0], dtype=a.dtype)) + 0 * a).info,
        [R(3, 3)],
    ),
    "cholesky_ex_check": (lambda lib, a: lib.linalg.cholesky_ex(-spd(lib, a), check_errors=True), [R(3, 3)]),
    "cholesky_ex_check_batch": (
        lambda lib, a: lib.linalg.cholesky_ex(
            spd(lib, a) * lib.tensor([1.0, -1.0], dtype=a.dtype).view(2, 1, 1), check_errors=True
        ),
        [R(2, 3, 3)],
    ),
    "cholesky_ex_rect": (lambda lib, a: lib.linalg.cholesky_ex(a), [R(2, 3)]),
    "solve_ex": (lambda lib, a, b: lib.linalg.solve_ex(a, b), [R(3, 3), R(3, 2)]),
    "solve_ex_vector_right": (
        lambda lib, a, b: lib.linalg.solve_ex(a, b, left=False),
        [
            R(2, 3, 3),
            R(
                3,
            ),
        ],
    ),
    "solve_ex_broadcast": (lambda lib, a, b: lib.linalg.solve_ex(a, b), [R(2, 3, 3), R(3, 2)]),
    "solve_ex_singular_info": (lambda lib, a, b: lib.linalg.solve_ex(a * 0, b).info, [R(3, 3), R(3, 2)]),
    "solve_ex_check": (lambda lib, a, b: lib.linalg.solve_ex(a * 0, b, check_errors=True), [R(3, 3), R(3, 2)]),
    "solve_ex_dtype": (lambda lib, a, b: lib.linalg.solve_ex(a, b.float()), [R(3, 3), R(3, 2)]),
    "solve_ex_shapes": (lambda lib, a, b: lib.linalg.solve_ex(a, b), [R(3, 3), R(2, 2)]),
    "tensorinv_values": (lambda lib, a: lib.linalg.tensorinv(a, ind=2).detach(), [R(4, 6, 8, 3)]),
    "tensorinv_ind1": (lambda lib, a: lib.linalg.tensorinv(a, ind=1), [R(4, 6, 8, 3)]),
    "tensorinv_ind0": (lambda lib, a: lib.linalg.tensorinv(a, ind=0), [R(4, 6, 8, 3)]),
    "tensorsolve": (lambda lib, a, b: lib.linalg.tensorsolve(a, b), [R(2, 3, 6), R(2, 3)]),
    "tensorsolve_bad": (lambda lib, a, b: lib.linalg.tensorsolve(a, b), [R(2, 3, 5), R(2, 3)]),
    "tensorsolve_shape": (lambda lib, a, b: lib.linalg.tensorsolve(a, b), [R(2, 3, 6), R(3, 2)]),
    "tensorsolve_dims": (lambda lib, a, b: lib.linalg.tensorsolve(a, b, dims=(0,)), [R(2, 3, 2, 3), R(2, 3)]),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    call, arrays = CASES[name]
    assert_same(outcome(gradscope, call, arrays), outcome(torch, call, arrays))


def test_tensorinv_matches_torch_but_for_its_last_view():
    """PyTorch's inverse is column-major, so its reshape is a ReshapeAliasBackward0; ours is a ViewBackward0."""
    call, arrays = (lambda lib, a: lib.linalg.tensorinv(a, ind=2), [R(2, 3, 6)])
    ours, theirs = outcome(gradscope, call, arrays), outcome(torch, call, arrays)
    assert graph_names(ours)[1:] == graph_names(theirs)[1:]
    assert graph_names(ours)[0] == "ViewBackward0" and graph_names(theirs)[0] == "ReshapeAliasBackward0"
    theirs[1] = (ours[1][0],) + theirs[1][1:]
    assert_same(ours, theirs)


def graph_names(described):
    return [name for _, name in described[1][0]]
