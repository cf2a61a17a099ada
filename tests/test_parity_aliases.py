"""Legacy and device aliases as a PyTorch script meets them: torch.autograd.Variable, the default device,
Tensor.new_*, .to('cpu') / .cpu(); each snippet run on gradscope and on torch (see tests/conftest.py)."""

from __future__ import annotations

import pytest

SNIPPETS = {
    "Variable wraps a tensor as a new leaf sharing its data": ("""
        Variable = torch.autograd.Variable
        x = torch.ones(2)
        v = Variable(x, requires_grad=True)
        print(v, v is x, v.is_leaf, x.requires_grad, isinstance(x, Variable), Variable(x).requires_grad)
        v.data.mul_(3)
        print(x, Variable(torch.ones(2, requires_grad=True) * 2).grad_fn, Variable())
    """, None),
    "Variable needs a tensor": ("torch.autograd.Variable([1, 2])",
                                "TypeError: Variable data has to be a tensor, but got list"),
    "new_* keep the tensor's dtype unless told otherwise": ("""
        a = torch.tensor([1, 2], dtype=torch.int32)
        print(a.new_zeros(2, 3), a.new_ones((2,)), a.new_full((2,), 7), a.new_empty(2).shape)
        print(a.new_tensor([1.5, 2]), a.new_zeros(2, dtype=torch.float64), a.new_empty_strided((2,), (1,)).shape)
        b = torch.ones(2)
        print(b.new_zeros(2, requires_grad=True), b.new_tensor([1, 2]).dtype, b.new_tensor(3.0), b.new_full([2, 1], 1))
    """, None),
    "new_tensor from a tensor copies, with PyTorch's advice": ("""
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            c = torch.ones(2).new_tensor(torch.tensor([1.0, 2.0], requires_grad=True))
        print(c, c.requires_grad, [str(w.message)[:40] for w in caught])
    """, None),
    "% is remainder, with PyTorch's nodes and signs": ("""
        x = torch.tensor([1.5, -2.5, 3.0], requires_grad=True)
        print(x % 2, x % torch.tensor([2.0, -2.0, 0.7]), torch.tensor([7, -7]) % 3, 7 % torch.tensor([2, -3]))
        (x % 2).sum().backward()
        print(x.grad)
    """, None),
    "the CPU is the default device; tensors go to it unchanged": ("""
        torch.set_default_device("cpu")
        x = torch.ones(2)
        print(torch.get_default_device(), x.to("cpu") is x, x.cpu() is x, x.to(device="cpu", dtype=torch.float64).dtype)
        print(torch.device("cpu"), x.device, torch.cuda.is_available())
    """, None),
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_matches_torch(oracle, name):
    source, error = SNIPPETS[name]
    oracle.check(source, error=error)


def test_set_default_device_refuses_other_devices():
    import gradscope
    from gradscope.autograd.tensor import DeviceError

    with pytest.raises(DeviceError, match="runs on the CPU only"):
        gradscope.set_default_device("cuda")


def test_the_meta_device_is_refused_with_the_way_forward():
    """PyTorch's model-ensembling recipe moves a skeleton module to 'meta'; gradscope says what to do instead."""
    import gradscope
    from gradscope.autograd.tensor import DeviceError

    with pytest.raises(DeviceError, match="can't use device 'meta': gradscope has no tensors without data; keep the "
                                          r"module on the CPU \(functional_call"):
        gradscope.nn.Linear(2, 2).to("meta")
    with pytest.raises(DeviceError, match="drop the .cuda"):
        gradscope.zeros(2).to("cuda")
