"""nn.AdaptiveLogSoftmaxWithLoss against torch: from the same seed, the same parameters, state_dict keys and repr;
output, loss, input gradient and the loss's graph; log_prob, predict, the unbatched form and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _walk(node, seen=None) -> str:
    seen = {} if seen is None else seen
    if node is None:
        return "None"
    if id(node) in seen:
        return f"#{seen[id(node)]}"
    seen[id(node)] = len(seen)
    edges = [_walk(fn, seen) for fn, _ in node.next_functions]
    return node.name() + (f"({', '.join(edges)})" if edges else "")


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


@pytest.mark.parametrize("targets", [[0, 4, 11, 2, 8], [0, 1, 2, 2, 0], [9, 10, 11, 8, 7]], ids=["mixed", "head",
                                                                                                  "tail"])
def test_matches_torch(targets):
    def run(lib):
        lib.manual_seed(0)
        asm = lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs=[3, 7], div_value=2.0, head_bias=True).double()
        x = lib.tensor(np.random.default_rng(1).normal(size=(5, 8)), requires_grad=True)
        target = lib.tensor(targets)
        out = asm(x, target)
        out.loss.backward()
        single = asm(x[0], target[0])
        return [repr(asm), list(asm.state_dict()), np.round(out.output.detach().numpy(), 10).tolist(),
                round(out.loss.item(), 10), np.round(x.grad.numpy(), 10).tolist(), _walk(out.loss.grad_fn),
                np.round(asm.log_prob(x).detach().numpy(), 10).tolist(), asm.predict(x).tolist(),
                tuple(single.output.shape), round(single.loss.item(), 10), type(out).__name__, out._fields]

    assert run(gradscope) == run(torch)


def test_errors_match_torch():
    def run(lib):
        asm = lib.nn.AdaptiveLogSoftmaxWithLoss(4, 6, cutoffs=[2])
        x, target = lib.zeros(3, 4), lib.tensor([0, 1, 5])
        calls = [lambda: asm(x, target[:2]), lambda: asm(x[None], target), lambda: asm(x[0, 0], target[0]),
                 lambda: asm(x, target[None]), lambda: asm(x, lib.tensor([0, 1, 6])),
                 lambda: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 6, []),
                 lambda: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 6, [3, 2]),
                 lambda: lib.nn.AdaptiveLogSoftmaxWithLoss(4, 6, [6])]
        return [_error(call) for call in calls]

    assert run(gradscope) == run(torch)
