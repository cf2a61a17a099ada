"""A view requires grad while its base does, against PyTorch 2.13.

PyTorch's view.requires_grad is its own flag, or its grad_fn, or its base's requires_grad: a view made before the
base's `requires_grad_()` (or under no_grad, or inference mode) reports True, while its grad_fn stays None. It is
then a leaf whose gradient goes nowhere (its AccumulateGrad edge is null): ops on it build nodes with a null edge,
backward through them fills no `.grad`, autograd.grad calls it unused, and backward from the view itself says it has
no grad_fn.
"""

from __future__ import annotations

import pytest

SNIPPETS = {
    "flags": """
        a = torch.zeros(4)
        v, w = a[1:3], a.view(2, 2)
        a.requires_grad_()
        print(v.requires_grad, v.grad_fn, w.requires_grad, v.is_leaf, v._base is a, v.retains_grad)
        print(v)
        u = v.unsqueeze(0)
        print(u.requires_grad, u.grad_fn, u._base is a)
        a.requires_grad_(False)
        print(v.requires_grad, u.requires_grad)
    """,
    "backward_fills_nothing": """
        a = torch.zeros(4)
        v = a[1:3]
        a.requires_grad_()
        y = (v * 2).sum()
        print(y, y.grad_fn.next_functions[0][0].next_functions)
        y.backward()
        print(v.grad, a.grad)
    """,
    "grad_unused": """
        a = torch.zeros(4)
        v = a[1:3]
        a.requires_grad_()
        print(torch.autograd.grad((v * 2).sum(), a, allow_unused=True))
        torch.autograd.grad((v * 2).sum(), v)
    """,
    "backward_from_the_view": """
        a = torch.zeros(4)
        v = a[1:3]
        a.requires_grad_()
        v.backward(torch.ones(2))
    """,
    "hooks_and_retain_grad": """
        a = torch.zeros(4)
        v = a[1:3]
        a.requires_grad_()
        v.retain_grad()
        v.register_hook(lambda g: print("never"))
        v.register_post_accumulate_grad_hook(lambda t: print("never"))
        (v * 3).sum().backward()
        print(v.grad, a.grad)
    """,
    "numpy_refuses": """
        a = torch.zeros(4)
        v = a[1:3]
        a.requires_grad_()
        v.numpy()
    """,
    "made_under_no_grad": """
        a = torch.zeros(4, requires_grad=True)
        with torch.no_grad():
            v = a[:2]
        print(v.requires_grad, v.grad_fn)
        loss = (v * a[2:]).sum()
        loss.backward()
        print(loss, a.grad)
    """,
    "base_changed_under_no_grad": """
        b = torch.zeros(4)
        v = b[1:3]
        b.requires_grad_()
        with torch.no_grad():
            b.add_(1)
        print(v.requires_grad, v.grad_fn)
        (v * 2).sum().backward()
        print(b.grad)
    """,
    "split_outputs": """
        g = torch.zeros(4)
        parts = g.split(2)
        g.requires_grad_()
        print([p.requires_grad for p in parts], [p.grad_fn for p in parts])
    """,
    "deepcopy": """
        import copy
        a = torch.zeros(4)
        v = a[1:3]
        a.requires_grad_()
        print(copy.deepcopy(v))
    """,
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_view_made_before_the_base_requires_grad(oracle, name):
    oracle.check(SNIPPETS[name], error=oracle_error(name))


def oracle_error(name: str) -> str | None:
    return {
        "grad_unused": "RuntimeError: The differentiated Tensor at index 0 appears to not have been used in the graph. "
                       "Set allow_unused=True if this is the desired behavior.",
        "backward_from_the_view": "RuntimeError: element 0 of tensors does not require grad and does not have a "
                                  "grad_fn",
        "numpy_refuses": "RuntimeError: Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                         "instead.",
    }.get(name)
