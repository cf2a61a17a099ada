"""torch.linalg beyond what the op samples check: PyTorch's errors and result types, float64 round-off
of each factorisation over random shapes, the determinant's gradient at singular matrices, float32
kept float32, and `import gradscope.linalg` / `torch.linalg` under the torch alias."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

SETUP = ("L = torch.linalg\nA = torch.ones(2, 3)\nsingular = torch.tensor([[1., 2.], [2., 4.]])\n"
         "n = torch.eye(2, dtype=torch.long)\nx = torch.eye(2, requires_grad=True)\n")
SINGULAR_INV = ("The diagonal element 2 is zero, the inversion could not be completed because the input matrix is "
                "singular.")
NOT_PD = ("The factorization could not be completed because the input is not positive-definite (the leading minor of "
          "order {} is not positive-definite).")

ERRORS = {
    "inv not square": ("L.inv(A)", "RuntimeError: linalg.inv: A must be batches of square matrices, but they are 2 by "
                                   "3 matrices"),
    "inv 1-D": ("L.inv(torch.ones(3))", "RuntimeError: linalg.inv: The input tensor A must have at least 2 "
                                        "dimensions."),
    "inv integer": ("L.inv(n)", "RuntimeError: linalg.inv: Expected a floating point or complex tensor as input. Got "
                                "Long"),
    "inv singular": ("L.inv(singular)", f"_LinAlgError: linalg.inv: {SINGULAR_INV}"),
    "inv singular batch": ("L.inv(torch.stack([torch.eye(2), singular]))",
                           f"_LinAlgError: linalg.inv: (Batch element 1): {SINGULAR_INV}"),
    "det not square": ("L.det(A)", "RuntimeError: linalg.det: A must be batches of square matrices, but they are 2 by "
                                   "3 matrices"),
    "det integer": ("L.det(n)", "RuntimeError: linalg.det: Expected a floating point or complex tensor as input. Got "
                                "Long"),
    "slogdet not square": ("L.slogdet(A)", "RuntimeError: linalg.slogdet: A must be batches of square matrices, but "
                                           "they are 2 by 3 matrices"),
    "solve singular": ("L.solve(torch.stack([torch.eye(2), singular]), torch.ones(2))",
                       "_LinAlgError: torch.linalg.solve: (Batch element 1): The solver failed because the input "
                       "matrix is singular."),
    "solve shapes": ("L.solve(torch.eye(2), torch.ones(3))", "RuntimeError: linalg.solve: Incompatible shapes of A and "
                                                             "B for the equation AX = B (2x2 and 3x1)"),
    "solve right vector": ("L.solve(torch.eye(3), torch.ones(3), left=False)",
                           "RuntimeError: linalg.solve: Incompatible shapes of A and B for the equation XA = B (3x3 "
                           "and 3x1)"),
    "solve batch": ("L.solve(torch.eye(2).expand(3, 2, 2), torch.ones(2, 2, 1))",
                    "RuntimeError: The size of tensor a (2) must match the size of tensor b (3) at non-singleton "
                    "dimension 0"),
    "solve dtypes": ("L.solve(torch.eye(2), torch.ones(2, dtype=torch.float64))",
                     "RuntimeError: linalg.solve: Expected A and B to have the same dtype, but found A of type Float "
                     "and B of type Double instead"),
    "solve 0-dim B": ("L.solve(torch.eye(2), torch.tensor(1.))",
                      "RuntimeError: linalg.solve: The input tensor B must have at least 2 dimensions."),
    "cholesky not positive-definite": ("L.cholesky(singular)", f"_LinAlgError: linalg.cholesky: {NOT_PD.format(2)}"),
    "cholesky batch": ("L.cholesky(torch.stack([torch.eye(2), -torch.eye(2)]))",
                       f"_LinAlgError: linalg.cholesky: (Batch element 1): {NOT_PD.format(1)}"),
    "cholesky upper reads the upper triangle": ("L.cholesky(torch.tensor([[1., 5.], [0., 1.]]), upper=True)",
                                                f"_LinAlgError: linalg.cholesky: {NOT_PD.format(2)}"),
    "qr mode": ("L.qr(A, mode='x')", "RuntimeError: qr received unrecognized mode 'x' but expected one of 'reduced' "
                                     "(default), 'r', or 'complete'"),
    "qr 1-D": ("L.qr(torch.ones(3))", "RuntimeError: linalg.qr: The input tensor A must have at least 2 dimensions."),
    "qr integer": ("L.qr(n)", "RuntimeError: linalg.qr: Expected a floating point or complex tensor as input. Got "
                              "Long"),
    "qr mode r backward": ("L.qr(x, mode='r').R.sum().backward()",
                           "RuntimeError: The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                           "through linalg.qr."),
    "qr complete tall backward": ("L.qr(torch.ones(3, 2, requires_grad=True), mode='complete').Q.sum().backward()",
                                  "RuntimeError: The QR decomposition is not differentiable when mode='complete' and "
                                  "nrows > ncols."),
    "eigh not square": ("L.eigh(A)", "RuntimeError: linalg.eigh: A must be batches of square matrices, but they are 2 "
                                     "by 3 matrices"),
    "eigh UPLO": ("L.eigh(x, UPLO='X')", "RuntimeError: Expected UPLO argument to be 'L' or 'U', but got X"),
    "eigh integer": ("L.eigh(n)", "NotImplementedError: \"linalg_eigh_cpu\" not implemented for 'Long'"),
    "svd 1-D": ("L.svd(torch.ones(3))", "RuntimeError: linalg.svd: The input tensor A must have at least 2 "
                                        "dimensions."),
    "svd driver": ("L.svd(A, driver='gesvd')", "RuntimeError: torch.linalg.svd: keyword argument `driver=` is only "
                                               "supported on CUDA inputs with cuSOLVER backend."),
    "vector_norm integer": ("L.vector_norm(n)", "RuntimeError: linalg.vector_norm: Expected a floating point or "
                                                "complex tensor as input. Got Long"),
    "vector_norm string order": ("L.vector_norm(A, 'fro')", "TypeError: linalg_vector_norm(): argument 'ord' (position "
                                                            "2) must be Number, not str"),
    "vector_norm narrowing": ("L.vector_norm(A.double(), dtype=torch.float32)",
                              "RuntimeError: linalg.vector_norm: the dtype of the input (Double) should be convertible "
                              "without narrowing to the specified dtype (Float)"),
    "vector_norm empty inf": ("L.vector_norm(torch.ones(0, 3), float('inf'))",
                              "RuntimeError: linalg.vector_norm cannot compute the inf norm on an empty tensor because "
                              "the operation does not have an identity"),
    "matrix_norm order": ("L.matrix_norm(A, 3)", "RuntimeError: linalg.matrix_norm: Order 3 not supported."),
    "matrix_norm string order": ("L.matrix_norm(A, 'x')", "RuntimeError: linalg.matrix_norm: Order x not supported."),
    "matrix_norm 1-D": ("L.matrix_norm(torch.ones(3))", "RuntimeError: linalg.matrix_norm: The input tensor A must "
                                                        "have at least 2 dimensions."),
    "matrix_norm same dims": ("L.matrix_norm(A, dim=(0, 0))", "RuntimeError: linalg.matrix_norm: dims must be "
                                                              "different. Got (0, 0)"),
    "matrix_norm one dim": ("L.matrix_norm(A, dim=(0,))", "RuntimeError: linalg.matrix_norm: dim must be a 2-tuple. "
                                                          "Got 0"),
    "matrix_norm dim range": ("L.matrix_norm(A, dim=(0, 5))", "IndexError: Dimension out of range (expected to be in "
                                                              "range of [-2, 1], but got 5)"),
    "matrix_norm integer": ("L.matrix_norm(n, 'nuc')", "RuntimeError: linalg.matrix_norm: Expected a floating point or "
                                                       "complex tensor as input. Got Long"),
    "norm three dims": ("L.norm(A, dim=(0, 1, 0))", "RuntimeError: linalg.norm: If dim is specified, it must be of "
                                                    "length 1 or 2. Got [0, 1, 0]"),
    "norm order of a 3-D input": ("L.norm(torch.ones(2, 2, 2), 2)", "RuntimeError: linalg.norm: If dim is not "
                                                                    "specified but ord is, the input must be 1D or 2D. "
                                                                    "Got 3D."),
    "norm string order of a vector": ("L.norm(torch.ones(3), 'fro')", "RuntimeError: linalg.matrix_norm: The input "
                                                                      "tensor A must have at least 2 dimensions."),
    "out= with grad": ("L.inv(x, out=torch.empty(2, 2))", "RuntimeError: linalg_inv_ex(): functions with out=... "
                                                          "arguments don't support automatic differentiation, but one "
                                                          "of the arguments requires grad."),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


def test_results_are_named_tuples_printed_as_torch(oracle):
    oracle.check("""
        A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
        sign, logabsdet = torch.linalg.slogdet(A)
        print(torch.linalg.slogdet(A))
        print(torch.linalg.eigh(A).eigenvalues, torch.linalg.qr(A).R.shape, len(torch.linalg.svd(A)))
        print(isinstance(torch.linalg.svd(A), tuple), type(torch.linalg.qr(A)).__name__, issubclass(
            torch.linalg.LinAlgError, RuntimeError))
        out = torch.empty(2, 2, dtype=torch.float64)
        print(torch.linalg.inv(A, out=out) is out, out)
    """, stdout="""
        torch.return_types.linalg_slogdet(
        sign=tensor(1., dtype=torch.float64),
        logabsdet=tensor(1.6094, dtype=torch.float64))
        tensor([1.3820, 3.6180], dtype=torch.float64) torch.Size([2, 2]) 3
        True linalg_qr True
        True tensor([[ 0.6000, -0.2000],
                [-0.2000,  0.4000]], dtype=torch.float64)
    """)


def _random_stack(seed: int, batch: tuple, rows: int, columns: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(batch + (rows, columns))


batches = st.lists(st.integers(1, 3), max_size=2).map(tuple)


@settings(max_examples=20, deadline=None)
@given(batch=batches, n=st.integers(1, 4), k=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_factorisations_reconstruct_their_input_in_float64(batch, n, k, seed):
    """Each result put back together gives A again to round-off (float64), over random stack shapes."""
    a = _random_stack(seed, batch, n, n)
    tall = _random_stack(seed + 1, batch, n + k, n)
    A, T = gradscope.tensor(a), gradscope.tensor(tall)
    symmetric = A + A.mT
    positive = A @ A.mT + gradscope.eye(n, dtype=gradscope.float64)
    eye = np.broadcast_to(np.eye(n), a.shape)
    tolerance = dict(rtol=1e-10, atol=1e-10 * max(1.0, float(np.abs(a).max())))
    np.testing.assert_allclose((gradscope.linalg.inv(A) @ A).numpy(), eye, atol=1e-8)
    np.testing.assert_allclose(gradscope.linalg.det(A).numpy(), np.linalg.det(a), **tolerance)
    sign, logabsdet = gradscope.linalg.slogdet(A)
    np.testing.assert_allclose((sign * logabsdet.exp()).numpy(), np.linalg.det(a), rtol=1e-10, atol=1e-12)
    b = _random_stack(seed + 2, batch, n, k)
    np.testing.assert_allclose((A @ gradscope.linalg.solve(A, gradscope.tensor(b))).numpy(), b, atol=1e-8)
    lower = gradscope.linalg.cholesky(positive)
    np.testing.assert_allclose((lower @ lower.mT).numpy(), positive.numpy(), **tolerance)
    assert np.allclose(np.triu(lower.numpy(), 1), 0)
    for mode in ("reduced", "complete"):
        q, r = gradscope.linalg.qr(T, mode=mode)
        np.testing.assert_allclose((q @ r).numpy(), tall, **tolerance)
        np.testing.assert_allclose((q.mT @ q).numpy(), np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] +
                                                                        (q.shape[-1],) * 2), atol=1e-12)
    values, vectors = gradscope.linalg.eigh(symmetric)
    rebuilt = (vectors * values.unsqueeze(-2)) @ vectors.mT
    np.testing.assert_allclose(rebuilt.numpy(), symmetric.numpy(), **tolerance)
    u, s, vh = gradscope.linalg.svd(T, full_matrices=False)
    np.testing.assert_allclose(((u * s.unsqueeze(-2)) @ vh).numpy(), tall, **tolerance)
    assert np.all(np.diff(s.numpy(), axis=-1) <= 0)
    np.testing.assert_allclose(gradscope.linalg.matrix_norm(T, "nuc").numpy(), s.sum(-1).numpy(), rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(batch_a=batches, batch_b=batches, n=st.integers(1, 3), vector=st.booleans(), seed=st.integers(0, 2**31))
def test_solve_broadcasts_its_batch_dims_like_torch(batch_a, batch_b, n, vector, seed):
    torch = pytest.importorskip("torch")
    if vector:
        batch_b = batch_a
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        return
    a = _random_stack(seed, batch_a, n, n) + 3 * np.eye(n)
    b = np.random.default_rng(seed + 1).standard_normal(batch_b + (n,) if vector else batch_b + (n, 2))
    results = []
    for lib in (gradscope, torch):
        A, B = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        X = lib.linalg.solve(A, B)
        results.append([X.detach().numpy(), *(g.numpy() for g in lib.autograd.grad(X.sum(), (A, B)))])
    for ours, theirs in zip(*results, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# NOTE: singular matrices whose determinant both libraries compute as exactly 0: PyTorch's det of
# [[1, 2, 3], [2, 4, 6], [1, 1, 1]] is -3.3e-16 (NumPy's 0.0), and the first-order paths part there
@pytest.mark.parametrize("matrix", [[[1.0, 2.0], [2.0, 4.0]], [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]],
                                    [[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.0, 2.0]]]])
def test_det_gradient_at_singular_matrices_matches_torch(matrix):
    """First order: zeros, PyTorch's LU solve with a zero right-hand side; under create_graph: the
    cofactors through the SVD, differentiable once more."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradscope, torch):
        A = lib.tensor(matrix, dtype=lib.float64, requires_grad=True)
        (first,) = lib.autograd.grad(lib.linalg.det(A).sum(), A)
        (graph,) = lib.autograd.grad(lib.linalg.det(A).sum(), A, create_graph=True)
        (second,) = lib.autograd.grad((graph * graph).sum(), A)
        results.append([first.numpy(), graph.detach().numpy(), second.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda L, a: L.inv(a), lambda L, a: L.det(a), lambda L, a: L.slogdet(a)[1], lambda L, a: L.solve(a, a[0]),
    lambda L, a: L.cholesky(a @ a.mT + 1e-3 * gradscope.eye(3)), lambda L, a: L.qr(a)[0], lambda L, a: L.eigh(a)[0],
    lambda L, a: L.svd(a)[1], lambda L, a: L.svdvals(a), lambda L, a: L.matrix_norm(a, "nuc"),
    lambda L, a: L.matrix_norm(a, -1), lambda L, a: L.norm(a), lambda L, a: L.vector_norm(a, 3),
])
def test_float32_stays_float32(call):
    a = (gradscope.randn(3, 3) + 3 * gradscope.eye(3)).requires_grad_()
    out = call(gradscope.linalg, a)
    (grad,) = gradscope.autograd.grad(out.sum(), a)
    assert out.dtype == grad.dtype == gradscope.float32


def test_importable_as_a_module_and_under_the_torch_alias():
    import gradscope.linalg as linalg
    assert gradscope.linalg is linalg is sys.modules["gradscope.linalg"]
    script = ("from gradscope.trace.torch_alias import install\ninstall()\nimport torch.linalg\n"
              "from torch.linalg import det\nimport torch\n"
              "print(det(torch.eye(2)).item(), torch.linalg is sys.modules['gradscope.linalg'])")
    result = subprocess.run([sys.executable, "-c", "import sys\n" + script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["1.0", "True"]
