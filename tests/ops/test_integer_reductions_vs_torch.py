"""Integer and bool tensors through reductions and casts, against PyTorch 2.13: sums and products of integers and bools
are int64 (NumPy's are uint64 for unsigned ones, which gradscope couldn't even hold), `dtype=` is the result's dtype,
all/any of uint8 give uint8, trace refuses bools; complex to bool is "nonzero" (not the real part's); an empty
tensor's strides are PyTorch's contiguous ones (NumPy gives an empty array none; PyTorch keeps those of an empty array
it is given, which gradscope doesn't)."""

from __future__ import annotations

import pytest

import gradscope

CALLS = {
    "sum": lambda T, x: x.sum(),
    "sum_dim": lambda T, x: x.sum(1),
    "sum_keepdim": lambda T, x: T.sum(x, 0, keepdim=True),
    "sum_empty": lambda T, x: x[:0].sum(),
    "sum_int32": lambda T, x: x.sum(dtype=T.int32),
    "sum_dim_int16": lambda T, x: x.sum(1, dtype=T.int16),
    "sum_float64": lambda T, x: x.sum(dtype=T.float64),
    "prod": lambda T, x: x.prod(),
    "prod_dim": lambda T, x: x.prod(1),
    "prod_int32": lambda T, x: x.prod(1, dtype=T.int32),
    "prod_float64": lambda T, x: x.prod(dtype=T.float64),
    "trace": lambda T, x: x[:, :2].trace(),
    "all": lambda T, x: x.all(),
    "any_dim": lambda T, x: x.any(1),
    "cumsum": lambda T, x: x.cumsum(1),
    "nansum": lambda T, x: x.nansum(),
}
DTYPES = ["uint8", "int8", "int16", "int32", "int64", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", CALLS)
def test_integer_reductions_match_torch(call, dtype):
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (torch, gradscope):
        x = lib.tensor([[3, 0, 1], [2, 5, 7]]).to(getattr(lib, dtype))
        try:
            result = CALLS[call](lib, x)
            outcomes.append((str(result.dtype), result.tolist()))
        except Exception as error:  # noqa: BLE001 - the error is what is compared
            outcomes.append((type(error).__name__, str(error)))
    assert outcomes[1] == outcomes[0]


def test_float_sums_and_products_in_a_dtype_keep_their_graph():
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (torch, gradscope):
        x = lib.tensor([[1.5, -2.0], [0.5, 3.0]], requires_grad=True)
        total = x.sum(dtype=lib.float64) + x.prod(1, dtype=lib.float64).sum()
        total.backward()
        seen.append((str(total.dtype), total.item(), type(total.grad_fn).__name__, x.grad.tolist()))
    assert seen[1] == seen[0]


@pytest.mark.parametrize("to", ["bool", "float32", "int64"])
def test_complex_casts_match_torch(to):
    torch = pytest.importorskip("torch")
    values = [1 + 2j, -1j, 0, 0.5j, -3]
    theirs = torch.tensor(values).to(getattr(torch, to))
    ours = gradscope.tensor(values).to(getattr(gradscope, to))
    assert str(ours.dtype) == str(theirs.dtype)
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 3), (0, 0)])
def test_empty_tensor_strides_match_torch(shape):
    torch = pytest.importorskip("torch")
    for make in ("zeros", "ones", "empty"):
        assert getattr(gradscope, make)(*shape).stride() == getattr(torch, make)(*shape).stride()
    assert gradscope.zeros(*shape).stride(-1) == torch.zeros(*shape).stride(-1)


SPREADS = {
    "var": lambda T, x: x.var(),
    "std_dim": lambda T, x: x.std(1),
    "torch_var": lambda T, x: T.var(x, 0),
    "var_mean": lambda T, x: T.var_mean(x)[0],
    "std_mean": lambda T, x: T.std_mean(x, 1)[0],
    "norm": lambda T, x: x.norm(),
    "norm_1_dim": lambda T, x: x.norm(p=1, dim=1),
    "torch_norm": lambda T, x: T.norm(x),
    "normalize": lambda T, x: T.nn.functional.normalize(x),
    "vector_norm": lambda T, x: T.linalg.vector_norm(x),
    "nonzero_0d_as_tuple": lambda T, x: x[0, 1].nonzero(as_tuple=True),
    "nonzero_0d_zero_as_tuple": lambda T, x: (x[0, 1] * 0).nonzero(as_tuple=True),
    "nonzero_0d": lambda T, x: x[0, 1].nonzero(),
    "where_0d": lambda T, x: T.where(x[1, 0] != 0),
    "histogram_default_bins": lambda T, x: T.histogram(x.double().flatten()).hist,
}


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8", "float32"])
@pytest.mark.parametrize("call", SPREADS)
def test_spreads_and_norms_refuse_integers_as_torch(call, dtype):
    """var/std (and var_mean/std_mean) and the norms take floating and complex tensors only; gradscope computed
    them for integers and bools. nonzero(as_tuple=True) of a 0-dim tensor (torch.where(condition) too) is a
    1-element tensor's; histogram's bins default to 100."""
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (torch, gradscope):
        x = lib.tensor([[1, 0], [3, 4]]).to(getattr(lib, dtype))
        try:
            result = SPREADS[call](lib, x)
            result = result if isinstance(result, tuple) else (result,)
            outcomes.append([(str(r.dtype), r.tolist()) for r in result])
        except Exception as error:  # noqa: BLE001 - the error is what is compared
            outcomes.append((type(error).__name__, str(error)))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("dtype", ["int8", "bool", "uint8", "int32", "int64", "float32"])
@pytest.mark.parametrize("equation", ["ij->i", "ij->", "ij->ji", "ii->i", "ii->", "ij->j", "...j->...", "ij", "ji",
                                      "ii", "i j -> i"])
def test_one_operand_einsum_sums_integers_in_int64_as_torch(equation, dtype):
    """PyTorch sums a single operand's integers and bools with sum() (int64); a permutation or a diagonal keeps the
    dtype."""
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (torch, gradscope):
        square = lib.tensor([[1, 2, 3], [0, 1, 1], [1, 1, 1]]).to(getattr(lib, dtype))
        operand = square if "ii" in equation else square[:2] % 2
        result = lib.einsum(equation, operand)
        outcomes.append((str(result.dtype), result.tolist()))
    assert outcomes[1] == outcomes[0]
