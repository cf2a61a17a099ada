"""softmax and log_softmax by dtype, against PyTorch 2.13: every form takes `dtype=` (a cast first, under the node),
and the kernels refuse integers, bools and complex numbers (with the kernel's name: `_lastdim_` along the last dim),
as nll_loss refuses non-floating log-probabilities. Empty tensors never reach a kernel."""

from __future__ import annotations

import pytest

CALLS = {
    "F.softmax": "F.softmax(x, {dim})",
    "F.log_softmax": "F.log_softmax(x, {dim})",
    "F.softmin": "F.softmin(x, {dim})",
    "torch.softmax": "torch.softmax(x, {dim})",
    "torch.log_softmax": "torch.log_softmax(x, {dim})",
    "Tensor.softmax": "x.softmax({dim})",
    "Tensor.log_softmax": "x.log_softmax({dim})",
    "special.softmax": "torch.special.softmax(x, {dim})",
    "special.log_softmax": "torch.special.log_softmax(x, {dim})",
    "nn.Softmax": "torch.nn.Softmax({dim})(x)",
    "nn.LogSoftmax": "torch.nn.LogSoftmax({dim})(x)",
    "cross_entropy": "F.cross_entropy(x, torch.tensor([0, 1]))",
}

INPUTS = {
    "long": "torch.tensor([[1, 2, 3], [4, 5, 6]])",
    "int": "torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int32)",
    "bool": "torch.tensor([[True, False, True], [False, False, True]])",
    "complex": "torch.tensor([[1 + 1j, 2, 3], [4, 5j, 6]])",
    "empty_long": "torch.zeros(2, 0, dtype=torch.int64)",
}


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("data", INPUTS)
@pytest.mark.parametrize("call", CALLS)
def test_softmax_of_non_floats(oracle, call, data, dim):
    oracle.check(f"""
        F = torch.nn.functional
        x = {INPUTS[data]}
        try:
            out = {CALLS[call].format(dim=dim)}
            print(out, out.dtype)
        except Exception as e:
            print(type(e).__name__, e)
    """)


@pytest.mark.parametrize("call", ["torch.softmax(x, 1, dtype=torch.float64)", "torch.log_softmax(x, 1, torch.float64)",
                                  "x.softmax(1, dtype=torch.float64)", "x.log_softmax(1, dtype=torch.float64)",
                                  "torch.special.softmax(x, 1, dtype=torch.float64)",
                                  "torch.special.log_softmax(x, 1, dtype=torch.float64)",
                                  "F.softmax(x, 1, dtype=torch.float64)", "F.softmin(x, 1, dtype=torch.float64)",
                                  "torch.softmax(x.long(), 0, dtype=torch.float32)",
                                  "torch.softmax(x.detach().long(), 0, dtype=torch.int32)"])
def test_softmax_casts_to_dtype_first(oracle, call):
    oracle.check(f"""
        F = torch.nn.functional
        x = torch.tensor([[1., 2., 3.], [0., -1., 5.]], requires_grad=True)
        try:
            out = {call}
            print(out, out.grad_fn, out.grad_fn and out.grad_fn.next_functions[0][0])
            (out * torch.tensor([[1., 3., -2.], [4., 0., 1.]], dtype=out.dtype)).sum().backward()
            print(x.grad)
        except Exception as e:
            print(type(e).__name__, e)
    """)


@pytest.mark.parametrize("shapes", ["(2, 3), (2,)", "(3,), ()", "(2, 3, 4), (2, 4)", "(2, 3, 2, 2), (2, 2, 2)",
                                    "(0, 3), (0,)"])
@pytest.mark.parametrize("dtype", ["torch.int64", "torch.int32", "torch.bool", "torch.complex64"])
def test_nll_loss_of_non_floats(oracle, shapes, dtype):
    oracle.check(f"""
        input_shape, target_shape = {shapes}
        x = torch.zeros(input_shape, dtype={dtype})
        target = torch.zeros(target_shape, dtype=torch.int64)
        for weight in (None, torch.ones(3)):
            try:
                print(torch.nn.functional.nll_loss(x, target, weight))
            except Exception as e:
                print(type(e).__name__, e)
    """)
