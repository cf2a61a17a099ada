"""F.ctc_loss and nn.CTCLoss against torch: losses and gradients over drawn lengths, targets (padded and
concatenated), blanks, reductions and zero_infinity; PyTorch's gradient with respect to log_probs (exp(log_probs)
minus the posteriors), the graph around CtcLossBackward0 (Unsqueeze/Where/Div/Mean/Squeeze), the refused double
backward, and ATen's argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, ValueError, NotImplementedError) as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return "no error"


def _chain(node) -> list:
    names = []
    while node is not None:
        names.append(node.name())
        edges = [fn for fn, _ in node.next_functions if fn is not None]
        node = edges[0] if edges else None
    return names


@st.composite
def _cases(draw):
    frames, batch, classes = draw(st.integers(1, 6)), draw(st.integers(1, 3)), draw(st.integers(2, 4))
    blank = draw(st.integers(0, classes - 1))
    labels = [c for c in range(classes) if c != blank]
    lengths = draw(st.lists(st.integers(0, 4), min_size=batch, max_size=batch))
    inputs = draw(st.lists(st.integers(0, frames), min_size=batch, max_size=batch))
    targets = [draw(st.lists(st.sampled_from(labels), min_size=n, max_size=n)) for n in lengths]
    return (frames, batch, classes, blank, targets, inputs, lengths, draw(st.sampled_from(["none", "sum", "mean"])),
            draw(st.booleans()), draw(st.booleans()), draw(st.booleans()))


def _run(lib, case, seed):
    frames, batch, classes, blank, targets, inputs, lengths, reduction, zero_infinity, concatenated, as_tensors = case
    rng = np.random.default_rng(seed)
    logits = lib.tensor(rng.normal(size=(frames, batch, classes)), requires_grad=True)
    log_probs = logits.log_softmax(2)
    if concatenated:
        target = lib.tensor([label for t in targets for label in t], dtype=lib.int64)
    else:
        width = max(lengths) + 1
        target = lib.tensor([t + [1] * (width - len(t)) for t in targets], dtype=lib.int64)
    input_lengths, target_lengths = (lib.tensor(inputs), lib.tensor(lengths)) if as_tensors else (tuple(inputs),
                                                                                                  tuple(lengths))
    loss = lib.nn.functional.ctc_loss(log_probs, target, input_lengths, target_lengths, blank, reduction,
                                      zero_infinity)
    cotangent = lib.tensor(rng.normal(size=tuple(loss.shape)))
    grad_logits, grad_log_probs = lib.autograd.grad(loss, (logits, log_probs), cotangent)
    return [loss.detach().numpy(), grad_logits.numpy(), grad_log_probs.numpy(), _chain(loss.grad_fn)]


@settings(deadline=None, max_examples=150)
@given(case=_cases(), seed=st.integers(0, 2**16))
def test_losses_and_gradients_match_torch(case, seed):
    ours, theirs = _run(gradscope, case, seed), _run(torch, case, seed)
    for a, b in zip(ours[:3], theirs[:3], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    assert ours[3] == theirs[3]


def test_unbatched_float32_module_and_saved_values():
    def run(lib):
        lib.manual_seed(0)
        log_probs = lib.randn(5, 4).log_softmax(1).detach().requires_grad_()
        criterion = lib.nn.CTCLoss(blank=3, zero_infinity=True)
        seen = [repr(criterion)]
        for reduction in ("none", "mean"):
            loss = lib.nn.CTCLoss(blank=3, reduction=reduction)(log_probs, lib.tensor([1, 1, 2]), (5,), (3,))
            seen += [round(float(loss), 4), loss.shape, _chain(loss.grad_fn)]
        loss = criterion(log_probs[:, None], lib.tensor([[1, 2]]), lib.tensor([4]), lib.tensor([2]))
        node = loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[1][0]  # Mean, Div, Where
        seen += [node.name(), node._saved_blank, node._saved_zero_infinity, tuple(node._saved_input_lengths),
                 tuple(node._saved_target_lengths), node._saved_targets.tolist(),
                 tuple(node._saved_result1.shape), round(float(node._saved_result0[0]), 4)]
        return seen

    assert run(gradscope) == run(torch)


def test_double_backward_is_refused_as_in_torch():
    def run(lib):
        log_probs = lib.zeros(4, 2, 3, dtype=lib.float64).log_softmax(2).detach().requires_grad_()
        loss = lib.nn.functional.ctc_loss(log_probs, lib.tensor([[1, 2], [1, 1]]), (4, 3), (2, 2), reduction="none")
        (grad,) = lib.autograd.grad((loss * loss).sum(), log_probs, create_graph=True)
        return [grad.grad_fn.name(), [None if fn is None else fn.name() for fn, _ in grad.grad_fn.next_functions],
                _error(lambda: grad.sum().backward())]

    assert run(gradscope) == run(torch)


def test_argument_errors_match_torch():
    def run(lib):
        F = lib.nn.functional
        log_probs = lib.zeros(6, 2, 4).log_softmax(2)
        targets = lib.ones(2, 3, dtype=lib.int64)
        calls = [
            lambda: F.ctc_loss(log_probs, targets, (6,), (3, 2)),
            lambda: F.ctc_loss(log_probs, targets, (6, 6), (3,)),
            lambda: F.ctc_loss(log_probs, targets, (7, 6), (3, 2)),
            lambda: F.ctc_loss(log_probs, targets, (6, 6), (4, 2)),
            lambda: F.ctc_loss(log_probs, targets, (6, 6), (3, 2), blank=4),
            lambda: F.ctc_loss(log_probs, targets, (6, 6), (3, 2), blank=-1),
            lambda: F.ctc_loss(log_probs, lib.ones(4, dtype=lib.int64), (6, 6), (3, 2)),
            lambda: F.ctc_loss(log_probs.long(), targets, (6, 6), (3, 2)),
            lambda: F.ctc_loss(log_probs, targets, lib.tensor([6.0, 6.0]), lib.tensor([3, 2])),
            lambda: F.ctc_loss(log_probs, targets, (-1, 6), (3, 2)),
            lambda: F.ctc_loss(log_probs, targets, (6, 6), (-1, 2)),
            lambda: F.ctc_loss(log_probs, targets, (6, 6), (3, 2), reduction="avg"),
            lambda: F.ctc_loss(log_probs[:, 0], targets, (6,), (3,)),
            lambda: F.ctc_loss(log_probs, lib.ones(3, 3, dtype=lib.int64), (6, 6), (3, 2)),
        ]
        return [_error(call) for call in calls]

    assert run(gradscope) == run(torch)
