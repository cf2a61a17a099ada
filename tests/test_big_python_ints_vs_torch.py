"""A Python int beyond 64 bits beside a tensor: PyTorch's parser makes no Scalar of it (an int64, or a uint64 above
int64's range) and raises OverflowError, where NumPy made a float of it (float32 + 2**200 was inf, silently)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

BIG = 2**200
CASES = {
    "add": lambda T, x, n: x + n,
    "radd": lambda T, x, n: n + x,
    "sub": lambda T, x, n: x - n,
    "rsub": lambda T, x, n: n - x,
    "mul": lambda T, x, n: x * n,
    "rmul": lambda T, x, n: n * x,
    "div": lambda T, x, n: x / n,
    "rdiv": lambda T, x, n: n / x,
    "pow": lambda T, x, n: x**n,
    "rpow": lambda T, x, n: n**x,
    "floor_divide": lambda T, x, n: x // n,
    "remainder": lambda T, x, n: x % n,
    "fmod": lambda T, x, n: T.fmod(x, n),
    "eq": lambda T, x, n: x == n,
    "lt": lambda T, x, n: x < n,
    "add_method": lambda T, x, n: x.add(n),
    "alpha": lambda T, x, n: x.add(1, alpha=n),
    "clamp": lambda T, x, n: x.clamp(max=n),
    "where": lambda T, x, n: T.where(x > 1, x, n),
    "masked_fill": lambda T, x, n: x.masked_fill(x > 1, n),
    "index_fill": lambda T, x, n: x.index_fill(0, T.tensor([0]), n),
    "fill_": lambda T, x, n: x.detach().clone().fill_(n),
    "lerp": lambda T, x, n: T.lerp(x, x, n),
    "addcmul": lambda T, x, n: T.addcmul(x, x, x, value=n),
    "mul_": lambda T, x, n: x.detach().clone().mul_(n),
    "iadd": lambda T, x, n: x.detach().clone().__iadd__(n),
    "mul_recorded": lambda T, x, n: (x * 1).mul_(n),
}
NUMBERS = {"2**200": BIG, "-2**200": -BIG, "2**64": 2**64, "2**64-1": 2**64 - 1, "-2**63": -(2**63),
           "-2**63-1": -(2**63) - 1}


def _outcome(lib, case: str, dtype: str, number: int, requires_grad: bool):
    x = lib.tensor([1.0, 2.0], dtype=getattr(lib, dtype), requires_grad=requires_grad)
    try:
        result = CASES[case](lib, x, number)
    except (OverflowError, RuntimeError, TypeError) as error:
        return type(error).__name__, str(error)
    return "ok", result.detach().numpy()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow in a cast of 2**64 - 1 to float32
@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "requires_grad"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("number", NUMBERS.values(), ids=NUMBERS.keys())
@pytest.mark.parametrize("case", CASES)
def test_big_ints_as_torch(case, number, dtype, requires_grad):
    if requires_grad and case in ("fill_", "mul_", "iadd", "masked_fill", "index_fill"):
        pytest.skip("an in-place op on a leaf (or a fill's value check) without a graph: covered by `plain`")
    theirs = _outcome(torch, case, dtype, number, requires_grad)
    mine = _outcome(gradscope, case, dtype, number, requires_grad)
    assert mine[0] == theirs[0], (theirs, mine)
    if theirs[0] == "ok":
        np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-6)
    else:
        assert mine[1] == theirs[1]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_big_ints_beside_integer_tensors_as_torch(dtype):
    for number in (BIG, -BIG):
        for case in ("add", "mul", "add_method", "mul_", "eq"):
            x = [1, 2]
            theirs = pytest.raises(OverflowError, CASES[case], torch, torch.tensor(x, dtype=getattr(torch, dtype)),
                                   number)
            mine = pytest.raises(OverflowError, CASES[case], gradscope,
                                 gradscope.tensor(x, dtype=getattr(gradscope, dtype)), number)
            assert str(mine.value) == str(theirs.value)


CONSTRUCTORS = {
    "full beyond 64 bits": lambda T: T.full((2,), 2**200), "full below": lambda T: T.full((2,), -(2**70)),
    "full at 2**63": lambda T: T.full((2,), 2**63), "full at 2**64 - 1": lambda T: T.full((2,), 2**64 - 1),
    "full at -2**63": lambda T: T.full((2,), -(2**63)),
    "full as float32": lambda T: T.full((2,), 2**63, dtype=T.float32),
    "full of a bool": lambda T: T.full((2,), True), "full of an int": lambda T: T.full((2,), 7),
    "tensor beyond 64 bits": lambda T: T.tensor(2**200), "tensor at 2**63": lambda T: T.tensor(2**63),
    "tensor at -2**63": lambda T: T.tensor(-(2**63)), "tensor below -2**63": lambda T: T.tensor(-(2**63) - 1),
    "tensor at 2**64": lambda T: T.tensor(2**64), "tensor at -2**64": lambda T: T.tensor(-(2**64)),
    "a list beyond 64 bits": lambda T: T.tensor([2**200]), "a list with 2**63": lambda T: T.tensor([1, 2**63]),
    "nested lists": lambda T: T.tensor([[1], [2**63]]), "a tuple": lambda T: T.tensor((2**63, 1)),
    "with a bool": lambda T: T.tensor([True, 2**63]), "with a float": lambda T: T.tensor([1.0, 2**200]),
    "in range": lambda T: T.tensor([1, 2**62 + 1, -(2**63)]), "as float64": lambda T: T.tensor(2**63, dtype=T.float64),
    "a list as float32": lambda T: T.tensor([2**63], dtype=T.float32), "as_tensor": lambda T: T.as_tensor(2**63),
    "as_tensor of a list": lambda T: T.as_tensor([1, 2**63]),
}


@pytest.mark.parametrize("case", CONSTRUCTORS)
def test_constructors_of_big_ints_as_torch(case):
    """A Python int past int64's range that would make an int64 tensor: PyTorch's errors, where NumPy's uint64,
    object or float64 array gave a uint64 tensor (tensor(2**63)), wrapped values (tensor([1, 2**63]) held -2**63)
    or 'Could not infer dtype'."""
    def outcome(T):
        try:
            result = CONSTRUCTORS[case](T)
        except (RuntimeError, TypeError, ValueError, OverflowError) as error:
            return type(error).__name__, str(error)
        return result.tolist(), str(result.dtype)

    assert outcome(gradscope) == outcome(torch)
