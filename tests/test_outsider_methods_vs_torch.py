"""Tensor methods whose form differs from the function's, met while surveying method calls the way scripts write
them: `x.view(dtype)` reads the same memory as another dtype (gradscope cast the values), `x.flip(0, 1)` and
`x.tile(2, 1)` take their dims one by one, and `x % y` keeps PyTorch's signed zeros. Each snippet runs on gradscope
and on PyTorch 2.13 (the oracle)."""

from __future__ import annotations

import pytest


def test_view_as_a_dtype_reads_the_same_memory(oracle):
    oracle.check("""
x = torch.arange(6.).reshape(2, 3).requires_grad_()
bits = x.view(torch.int32)
print(bits, bits.requires_grad, bits.grad_fn, bits._base, bits._is_view())
y = x.detach().clone()
shared = y.view(torch.int32)
shared[0, 1] = 0
print(y, y._version, shared._version)
y.mul_(2)
print(shared._version)
print(torch.arange(4, dtype=torch.int16).view(torch.int32), torch.arange(4, dtype=torch.int16).view(torch.int8))
print(torch.tensor(1.5).view(torch.int32), torch.ones(2).view(torch.complex64))
print(torch.tensor([1, 0], dtype=torch.uint8).view(torch.bool))
print(torch.tensor([1., -2.], dtype=torch.float64).view(torch.int64))
same = torch.randn(2, 2, requires_grad=True).view(torch.float32)
print(same.grad_fn, same.requires_grad)
part = torch.arange(6.).reshape(2, 3)[:, 1:].view(torch.int16)
print(part.shape, part.stride(), part.storage_offset())
""")


REFUSED = {
    "torch.arange(6.).reshape(2, 3).t().view(torch.float16)":
        "stride(-1) must be 1 to view Float as Half (different element sizes), but got 3",
    "torch.arange(3, dtype=torch.int8).view(torch.int16)":
        "size(-1) must be divisible by 2 to view Char as Short (different element sizes), but got 3",
    "torch.tensor(1.5).view(torch.int16)": "dim() cannot be 0 to view Float as Short (different element sizes)",
    "torch.arange(8, dtype=torch.int8)[1:5].view(torch.int16)":
        "storage_offset() must be divisible by 2 to view Char as Short (different element sizes), but got 1",
    "torch.arange(24, dtype=torch.int8).reshape(3, 8)[:, ::2].view(torch.int16)":
        "stride(-1) must be 1 to view Char as Short (different element sizes), but got 2",
    "torch.arange(12, dtype=torch.int8).reshape(4, 3)[:, :2].view(torch.int16)":
        "stride(0) must be divisible by 2 to view Char as Short (different element sizes), but got 3",
}


@pytest.mark.parametrize("call", REFUSED)
def test_view_as_a_dtype_of_another_size_refuses_what_pytorch_refuses(oracle, call):
    oracle.check(call, error=f"RuntimeError: self.{REFUSED[call]}")


def test_flip_and_tile_take_their_dims_one_by_one(oracle):
    oracle.check("""
x = torch.arange(6.).reshape(1, 2, 3)
print(x.flip(1, 2), x.flip((0,)).shape, x.flip(dims=[2])[0, 0], x.flip(1)[0, 0])
print(x.tile(2, 1, 1).shape, x.tile((2,)).shape, x.tile(dims=(1, 2)).shape)
""")


def test_remainder_zeros_keep_the_dividends_sign(oracle):
    oracle.check("""
a = torch.tensor([-3., 3., -0., 0., 6., -6., 1.5, float('inf'), 2.])
for b in (3., -3.):
    print(torch.remainder(a, b).tolist(), (a % b).tolist())
print(torch.remainder(a, torch.tensor(-3.)).tolist(), torch.remainder(-3, torch.tensor([3., -3.])).tolist())
print(torch.tensor([-3.], dtype=torch.float16) % 3, torch.tensor([-3]) % 3, -3 % torch.tensor([3., -3.]))
c = a.clone()
c %= 3
print(c.tolist())
x = torch.tensor([-3., 2.], requires_grad=True)
y = x % 3
y.sum().backward()
print(y, x.grad)
""")


def test_norm_takes_pytorchs_string_orders(oracle):
    """torch.norm / Tensor.norm with 'nuc' (and 'fro' over three dims) is linalg.matrix_norm, as PyTorch's
    (gradscope's float() of the order failed); dtype= is honoured."""
    oracle.check("""
x = torch.arange(12.).reshape(3, 4) - 5
b = torch.arange(24.).reshape(2, 3, 4) - 7
print(torch.norm(x, p="nuc"), x.norm("nuc"), x.norm(p="fro"), b.norm("nuc", dim=(1, 2)))
print(b.norm("nuc", dim=(1, 2), keepdim=True).shape, x.norm(1), x.norm("fro", dim=1), x.norm(dtype=torch.float64))
w = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
w.norm("nuc").backward()
print(w.grad)
""")


NORM_REFUSALS = {'b.norm("fro", dim=(0, 1, 2))': "linalg.matrix_norm: dim must be a 2-tuple. Got 0 1 2",
                 'b.norm("nuc")': "linalg.matrix_norm: dim must be a 2-tuple. Got 0 1 2",
                 'x.norm("abc")': "linalg.matrix_norm: Order abc not supported."}


@pytest.mark.parametrize("call", NORM_REFUSALS)
def test_norm_refuses_what_pytorch_refuses(oracle, call):
    oracle.check(f"x = torch.ones(3, 4)\nb = torch.ones(2, 3, 4)\n{call}", error=f"RuntimeError: {NORM_REFUSALS[call]}")
