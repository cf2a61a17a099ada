"""einsum of integers and bools, dtypes and refusals as PyTorch's: it first sums away, with sum(), the letters an
operand alone has (not the result), so such an operand comes out int64; pairs then contract with bmm, which refuses
two dtypes ("expected scalar type Int but found Long") and bools ('"bmm" not implemented for 'Bool''); products alone
promote. Before, only a single operand was summed so: einsum('ij,kl->il') of int32s stayed int32 (PyTorch: int64),
'ij,jk->i' of int32s was computed (PyTorch refuses), and bools contracted."""

from __future__ import annotations

import pytest

import gradscope

torch = pytest.importorskip("torch")

EQUATIONS = ["ij->i", "ij->", "ii", "ii->i", "ij,jk->ik", "ij,jk->i", "ij,kl->il", "ij,kl->ijkl", "ij,kl->", "ij,jk->",
             "ij,ij->i", "ij,ik->j", "ij,k->ik", "ij,k", "ij,jk", "i,i", "ij,jk,kl->il", "ij,jk,kl->i", "ijk,k->ij",
             "bij,bjk->bik", "bij,bjk->b", "...ij,...j->...i"]
SIZES = {"i": 2, "j": 3, "k": 2, "l": 4, "b": 2}


def _outcome(lib, equation: str, dtype: str):
    operands = [lib.arange(1, 1 + _size(subscript)).reshape(*_shape(subscript)).to(getattr(lib, dtype)) % 3
                for subscript in equation.split("->")[0].split(",")]
    try:
        result = lib.einsum(equation, *operands)
    except (RuntimeError, NotImplementedError) as error:
        return type(error).__name__, str(error)
    return str(result.dtype).split(".")[-1], result.tolist()


def _shape(subscript: str) -> list:
    return [SIZES.get(c, 2) for c in subscript.replace("...", "b")]


def _size(subscript: str) -> int:
    size = 1
    for n in _shape(subscript):
        size *= n
    return size


@pytest.mark.parametrize("dtype", ["int32", "int16", "int64", "uint8", "bool", "float32"])
@pytest.mark.parametrize("equation", EQUATIONS)
def test_einsum_dtypes_and_refusals(equation, dtype):
    assert _outcome(gradscope, equation, dtype) == _outcome(torch, equation, dtype)
