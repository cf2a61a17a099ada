"""torch.linalg.multi_dot, vecdot, vander, cross, diagonal and matmul vs PyTorch: the graph node by node (multi_dot's
multiplication order is in it), values, gradients, dtypes and PyTorch's errors. Values and gradients of float64
samples also run in tests/ops (samples_linalg_extra.py)."""

from __future__ import annotations

import numpy as np
import pytest
from linalg_vs_torch_helpers import graph

import gradscope

torch = pytest.importorskip("torch")


def _arrays(shapes, dtype="float64"):
    rng = np.random.default_rng(len(shapes) * 7 + sum(map(len, shapes)))
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


def _outcome(lib, call, arrays):
    """(graph, dtype, values, gradients) of `call(lib, *inputs)`, or the error PyTorch's words."""
    inputs = [lib.tensor(a, requires_grad=a.dtype.kind in "fc") for a in arrays]
    try:
        result = call(lib, *inputs)
    except (RuntimeError, ValueError, TypeError) as error:
        return type(error).__name__, str(error)
    values = result.detach().resolve_conj().numpy() if lib is torch else result.detach().numpy()
    if not result.requires_grad:
        return graph(result), str(result.dtype), values
    weights = lib.tensor(np.linspace(-1, 1, result.numel()).reshape(tuple(result.shape)).astype(values.dtype))
    loss = (result * weights).sum()
    grads = lib.autograd.grad(loss.real if loss.is_complex() else loss, [t for t in inputs if t.requires_grad])
    return graph(result), str(result.dtype), values, [g.resolve_conj().numpy() if lib is torch else g.numpy()
                                                       for g in grads]


def _assert_same(call, shapes, dtype="float64"):
    arrays = _arrays(shapes, dtype)
    ours, theirs = _outcome(gradscope, call, arrays), _outcome(torch, call, arrays)
    assert ours[:2] == theirs[:2]
    for mine, reference in zip(ours[2:], theirs[2:]):
        for a, b in zip(mine if isinstance(mine, list) else [mine], reference if isinstance(reference, list)
                        else [reference]):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


MULTI_DOT = {  # the order PyTorch multiplies in shows in the graph: (AB)C or A(BC), the chain order beyond three
    "two": ((3, 4), (4, 2)),
    "three_left": ((3, 4), (4, 2), (2, 5)),
    "three_right": ((10, 2), (2, 10), (10, 1)),
    "four": ((3, 4), (4, 2), (2, 5), (5, 1)),
    "five": ((10, 2), (2, 10), (10, 2), (2, 10), (10, 1)),
    "vectors": ((3,), (3, 4), (4,)),
    "two_vectors": ((4,), (4,)),
    "row_vector_chain": ((3,), (3, 4), (4, 2), (2, 5)),
    "column_vector_chain": ((3, 4), (4, 2), (2, 5), (5,)),
}


@pytest.mark.parametrize("name", MULTI_DOT)
def test_multi_dot_matches_torch(name):
    _assert_same(lambda lib, *ts: lib.linalg.multi_dot(ts), MULTI_DOT[name])


@pytest.mark.parametrize("shapes, dtypes", [
    (((3, 3),), None), (((2, 2, 2), (2, 2)), None), (((2, 2), (2, 2, 2)), None), (((2, 2), (2, 2, 2), (2, 2)), None),
    (((3, 4), (3, 3)), None), (((3, 4), (4, 2)), ("float64", "float32")), (((3,), (3, 3)), ("int64", "int32")),
    (((2, 2), (2, 2)), ("complex64", "float16")), (((2, 2), (2, 2)), ("int64", "int64")),
])
def test_multi_dot_errors_and_integers_match_torch(shapes, dtypes):
    dtypes = dtypes or ("float64",) * len(shapes)
    arrays = [np.ones(shape, dtype=dtype) for shape, dtype in zip(shapes, dtypes)]
    results = []
    for lib in (gradscope, torch):
        try:
            result = lib.linalg.multi_dot([lib.tensor(a) for a in arrays])
            results.append((str(result.dtype), result.tolist()))
        except RuntimeError as error:
            results.append(str(error))
    assert results[0] == results[1]


CALLS = {
    "vecdot": (lambda lib, x, y: lib.linalg.vecdot(x, y), ((2, 3), (3,)), "float64"),
    "vecdot_dim": (lambda lib, x, y: lib.linalg.vecdot(x, y, dim=0), ((2, 3), (2, 1)), "float64"),
    "vecdot_complex": (lambda lib, x, y: lib.linalg.vecdot(x, y), ((2, 3), (3,)), "complex128"),
    "vecdot_integer": (lambda lib, x, y: lib.linalg.vecdot(x, y), ((3,), (3,)), "int32"),
    "vecdot_dtypes": (lambda lib, x, y: lib.linalg.vecdot(x, y.float()), ((3,), (3,)), "float64"),
    "vecdot_shapes": (lambda lib, x, y: lib.linalg.vecdot(x, y), ((2, 3), (4,)), "float64"),
    "vander": (lambda lib, x: lib.linalg.vander(x), ((3,),), "float64"),
    "vander_N": (lambda lib, x: lib.linalg.vander(x, N=5), ((3,),), "float64"),
    "vander_batched": (lambda lib, x: lib.linalg.vander(x), ((2, 3),), "float64"),
    "vander_0d": (lambda lib, x: lib.linalg.vander(x, N=3), ((),), "float64"),
    "vander_0d_default_N": (lambda lib, x: lib.linalg.vander(x), ((),), "float64"),
    "vander_N1": (lambda lib, x: lib.linalg.vander(x, N=1), ((3,),), "float64"),
    "vander_int32": (lambda lib, x: lib.linalg.vander(x), ((3,),), "int32"),
    "vander_bool": (lambda lib, x: lib.linalg.vander(x > 0), ((3,),), "float64"),
    "vander_complex": (lambda lib, x: lib.linalg.vander(x), ((3,),), "complex128"),
    "cross": (lambda lib, x, y: lib.linalg.cross(x, y), ((2, 3), (1, 3)), "float64"),
    "cross_dim": (lambda lib, x, y: lib.linalg.cross(x, y, dim=0), ((3, 2), (3, 2)), "float64"),
    "cross_length": (lambda lib, x, y: lib.linalg.cross(x, y), ((2, 2), (2, 2)), "float64"),
    "cross_dtypes": (lambda lib, x, y: lib.linalg.cross(x, y.float()), ((3,), (3,)), "float64"),
    "diagonal": (lambda lib, a: lib.linalg.diagonal(a), ((2, 3, 3),), "float64"),
    "diagonal_keywords": (lambda lib, a: lib.linalg.diagonal(a, offset=1, dim1=0, dim2=2), ((2, 3, 4),), "float64"),
    "matmul": (lambda lib, a, b: lib.linalg.matmul(a, b), ((2, 3, 4), (4,)), "float64"),
}


@pytest.mark.parametrize("name", CALLS)
def test_linalg_products_match_torch(name):
    call, shapes, dtype = CALLS[name]
    _assert_same(call, shapes, dtype)


def test_out_is_written():
    for lib in (gradscope, torch):
        out = lib.empty(0, dtype=lib.float64)
        result = lib.linalg.multi_dot([lib.ones(2, 3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)], out=out)
        assert result is out and out.tolist() == [3.0, 3.0]
        result = lib.linalg.vecdot(lib.ones(2, 3, dtype=lib.float64), lib.ones(3, dtype=lib.float64), out=out)
        assert result is out and out.tolist() == [3.0, 3.0]
