"""Optimizer step hooks (per optimizer and global), as torch.optim has them: order, replaced
arguments, removal, and PyTorch's error for a hook returning something else."""

from __future__ import annotations

import pytest

import gradscope


def _run(lib, module):
    """The calls hooks see around two steps of SGD, with one instance hook removed after the first."""
    calls = []
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=1.0)
    handles = [
        module.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("global pre", type(o).__name__))),
        module.register_optimizer_step_post_hook(lambda o, a, k: calls.append(("global post", p.tolist()))),
    ]
    pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", p.tolist())))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", p.tolist(), len(a), a[0] is o, k)))
    try:
        p.grad = lib.ones(2)
        opt.step()
        pre.remove()
        opt.step()
    finally:
        for handle in handles:
            handle.remove()
    opt.step()  # the global hooks are gone, the instance post-hook stays
    return calls


def test_step_hooks_run_in_pytorchs_order():
    calls = _run(gradscope, gradscope.optim.optimizer)
    assert calls == [("global pre", "SGD"), ("pre", [1.0, 1.0]), ("post", [0.0, 0.0], 1, True, {}),
                     ("global post", [0.0, 0.0]), ("global pre", "SGD"), ("post", [-1.0, -1.0], 1, True, {}),
                     ("global post", [-1.0, -1.0]), ("post", [-2.0, -2.0], 1, True, {})]
    torch = pytest.importorskip("torch")
    torch_optimizer = pytest.importorskip("torch.optim.optimizer")
    assert _run(torch, torch_optimizer) == calls


def test_a_pre_hook_may_replace_the_arguments_and_must_return_none_or_a_pair():
    p = gradscope.nn.Parameter(gradscope.ones(1))
    opt = gradscope.optim.SGD([p], lr=1.0)
    p.grad = gradscope.ones(1)
    closure_calls = []
    handle = opt.register_step_pre_hook(lambda o, a, k: ((o,), {"closure": lambda: closure_calls.append(1) or 3.0}))
    assert opt.step() == 3.0 and closure_calls == [1]
    handle.remove()
    opt.register_step_pre_hook(lambda o, a, k: 5)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, new_kwargs\), but got 5"):
        opt.step()
