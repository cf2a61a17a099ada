"""A training step leaves no reference cycles: everything it builds (graph, saved tensors, hooks' closures,
optimizer state updates) is freed by reference counting when the step's last reference goes, as in PyTorch.
Garbage left for the cyclic collector is a cost every user pays (a collection pass over all live objects
now and then, and memory held until it runs)."""

from __future__ import annotations

import contextlib
import gc
import warnings

import pytest

import gradscope as gs
from gradscope import nn
from gradscope.trace import Recorder


class _SelfAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2)

    def forward(self, x):
        return self.attention(x, x, x)[0]


def _with_backward_hooks() -> nn.Module:
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    model[0].register_full_backward_hook(lambda module, grad_input, grad_output: None)
    model[2].register_full_backward_pre_hook(lambda module, grad_output: None)
    model.register_full_backward_hook(lambda module, grad_input, grad_output: None)
    return model


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)), (5, 8)),
    "conv": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2)),
             (2, 3, 8, 8)),
    "lstm": (lambda: nn.LSTM(4, 6, batch_first=True), (2, 5, 4)),
    "attention": (_SelfAttention, (3, 2, 8)),
    "backward hooks": (_with_backward_hooks, (2, 3)),
}


@pytest.fixture
def gc_disabled():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


@contextlib.contextmanager
def _recorded():
    with Recorder() as recorder:
        yield
    recorder.finish()


@contextlib.contextmanager
def _anomaly_mode():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning that anomaly mode is on
        with gs.autograd.detect_anomaly():
            yield


# observed steps: module calls then keep their frame for the ops made inside
MODES = {"plain": contextlib.nullcontext, "recorded": _recorded, "anomaly mode": _anomaly_mode}
CASES = [(name, "plain") for name in MODELS] + [("mlp", "recorded"), ("attention", "recorded"),
                                                 ("mlp", "anomaly mode")]


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_training_step_leaves_no_cycles(name, mode, gc_disabled):
    build, shape = MODELS[name]
    gs.manual_seed(0)
    model = build()
    optimizer = gs.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        with MODES[mode]():
            output = model(gs.randn(*shape, requires_grad=True))
            (output[0] if isinstance(output, tuple) else output).square().sum().backward()
        optimizer.step()

    step()  # the optimizer's state is created at the first step
    _collect_everything()
    for _ in range(3):
        step()
    assert gc.collect() == 0


def _collect_everything() -> None:
    """Collect until nothing is left: freeing one cycle can release others (another test's torch graph frees
    its Python objects from C++ destructors run by the first collection), which only the next one finds."""
    for _ in range(10):
        if not gc.collect():
            return
