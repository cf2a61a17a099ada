"""`loss.backward()`'s one-frame entry (engine.scalar_backward) and run()'s start from a single root give what
the general entry (autograd.backward) gives, and what PyTorch gives, on every kind of tensor it may meet."""

import pytest

import gradscope as gs
from gradscope.autograd import engine, errors

# (setup, the tensor backward is called on, whether the one-frame entry serves it)
CASES = {
    "non-leaf scalar": ("x = torch.tensor([1., 2.], requires_grad=True)", "(x * x).sum()", True),
    "one-element matrix": ("x = torch.tensor([1., 2.], requires_grad=True)", "(x * x).sum() * torch.ones(1, 1)", True),
    "float64 scalar": ("x = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)", "(x * 3).mean()",
                       True),
    "second output of a node": ("x = torch.tensor([1., 2., 4.], requires_grad=True)", "torch.var_mean(x * 1.)[1]",
                                True),
    "leaf scalar": ("x = torch.tensor(3., requires_grad=True)", "x", False),
    "scalar view": ("x = torch.tensor([1., 2.], requires_grad=True)", "(x * 2)[1]", False),
    "scalar view of a base changed in place": (
        "x = torch.tensor([1., 2.], requires_grad=True)\nb = x * 2\ny = b[1]\nb.mul_(3)", "y", False),
    "non-scalar": ("x = torch.tensor([1., 2.], requires_grad=True)", "x * 2", False),
    "complex scalar": ("x = torch.tensor([1 + 1j], requires_grad=True)", "(x * x).sum()", False),
    "no grad": ("x = torch.tensor([1., 2.])", "x.sum()", False),
    "detached": ("x = torch.tensor([1., 2.], requires_grad=True)", "(x * 2).sum().detach()", False),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("call", ["y.backward()", "y.backward(retain_graph=True)",
                                  "torch.autograd.backward(y)"])
def test_backward_of_a_tensor_is_pytorchs(oracle, case, call):
    setup, tensor, _ = CASES[case]
    oracle.check(f"{setup}\ny = {tensor}\n{call}\nprint(x.grad)\n{call}\nprint(x.grad)", error=_error(case, call))


def _error(case, call):
    """What PyTorch raises on the first or second backward of each case."""
    no_grad_fn = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"
    refused = {"non-scalar": "RuntimeError: grad can be implicitly created only for scalar outputs",
               "complex scalar": "RuntimeError: grad can be implicitly created only for real scalar outputs but got "
                                 "torch.complex64",
               "no grad": no_grad_fn, "detached": no_grad_fn}
    if case in refused:
        return refused[case]
    if "retain_graph" in call or case == "leaf scalar":
        return None
    return f"RuntimeError: {errors.FREED}"  # the second backward


@pytest.mark.parametrize("case", CASES)
def test_the_one_frame_entry_serves_non_leaf_scalars_and_gives_the_general_entrys_gradients(case, monkeypatch):
    setup, tensor, served = CASES[case]
    namespace = {"torch": gs}
    exec(f"{setup}\ny = {tensor}", namespace)
    y, x = namespace["y"], namespace["x"]
    general = []
    monkeypatch.setattr(engine, "backward", lambda *args, **kwargs: general.append(args))
    y.backward(retain_graph=True)
    assert (not general) == served
    monkeypatch.undo()
    if not served:
        return
    fast = x.grad
    x.grad = None
    engine.backward((y,), None, True)  # the general entry
    assert fast.dtype == x.grad.dtype and fast.shape == x.grad.shape and fast.tolist() == x.grad.tolist()
