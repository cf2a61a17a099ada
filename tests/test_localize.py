"""Per-node localisation: when gradcheck fails on a composite function, every node of its graph is re-checked
alone on the inputs it saw, and the first one whose backward disagrees with finite differences is named —
a custom Function with a wrong backward by its class name, with its module scope and the user's line."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradscope as torch
from gradscope import nn
from gradscope.autograd.gradcheck import GradcheckError, NodeCulprit, check
from gradscope.autograd.localize import first_wrong_node
from gradscope.trace import Recorder

MARK = "# <- here"


def marked(function) -> str:
    """'this_file.py:LINE' of the one line of `function` ending with MARK."""
    lines, start = inspect.getsourcelines(function)
    (offset,) = [i for i, line in enumerate(lines) if line.rstrip().endswith(MARK)]
    return f"{__file__}:{start + offset}"


class Swish(torch.autograd.Function):
    """x·sigmoid(x), with a correct backward."""

    @staticmethod
    def forward(ctx, x):
        s = x.sigmoid()
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s + x * s * (1 - s))


class BadSwish(torch.autograd.Function):
    """x·sigmoid(x), whose backward forgets the product rule's second term: a wrong VJP."""

    @staticmethod
    def forward(ctx, x):
        s = x.sigmoid()
        ctx.save_for_backward(s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return grad * s


class Scaled(torch.autograd.Function):
    """beta·x with a non-tensor argument; with `wrong`, its backward forgets beta."""

    @staticmethod
    def forward(ctx, x, beta, wrong):
        ctx.beta, ctx.wrong = beta, wrong
        return x * beta

    @staticmethod
    def backward(ctx, grad):
        return (grad if ctx.wrong else grad * ctx.beta), None, None


class Block(nn.Module):
    def __init__(self, width: int, bad: bool) -> None:
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.bad = bad

    def forward(self, x):
        h = self.fc(x)
        if self.bad:
            h = BadSwish.apply(h)  # <- here
        else:
            h = Swish.apply(h)
        h = (h - h.mean(-1, keepdim=True)) / (h.var(-1, keepdim=True) + 1).sqrt()
        return x + Scaled.apply(h, 0.5, False)


class Stack(nn.Module):
    def __init__(self, depth: int = 6, bad_block: int | None = 4, width: int = 3) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*[Block(width, i == bad_block) for i in range(depth)])
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        return self.head(self.blocks(x)).pow(2).mean()


@pytest.fixture
def float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def build(seed: int = 0, **options):
    torch.manual_seed(seed)
    model = Stack(**options)
    x = torch.randn(4, 3)
    return model, x, tuple(model.parameters())


def test_the_model_is_about_fifty_nodes(float64):
    model, x, _ = build()
    with Recorder() as rec:
        model(x)
    nodes = [n for n in rec.trace.nodes.values() if n.kind != "leaf"]
    assert len(nodes) >= 50
    assert [n.name for n in nodes].count("BadSwishBackward") == 1
    assert [n.name for n in nodes].count("SwishBackward") == 5


@pytest.mark.parametrize("fast", [False, True])
def test_a_wrong_custom_backward_buried_in_a_model_is_named(float64, fast):
    model, x, parameters = build()
    with pytest.raises(GradcheckError) as e:
        torch.autograd.gradcheck(lambda *_: model(x), parameters, fast_mode=fast)
    culprit = e.value.result.culprit
    assert isinstance(culprit, NodeCulprit)
    assert (culprit.name, culprit.op, culprit.scope) == ("BadSwishBackward", "BadSwish", "Stack.blocks.4")
    assert culprit.location == marked(Block.forward)
    assert abs(culprit.analytical - culprit.numerical) > 1e-3
    note = e.value.__notes__[0]
    assert f"culprit: BadSwishBackward (op BadSwish) at {marked(Block.forward)} in Stack.blocks.4: " in note


def test_a_correct_model_has_no_culprit(float64):
    model, x, parameters = build(bad_block=None)
    assert first_wrong_node(lambda *_: model(x), parameters) is None
    assert torch.autograd.gradcheck(lambda *_: model(x), parameters, fast_mode=True)


def test_the_first_wrong_node_in_forward_order_is_named(float64):
    torch.manual_seed(0)
    first, second = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)

    def func(a, b):
        h = Scaled.apply(a, 3.0, True)  # <- here
        return BadSwish.apply(h * b).sum()

    culprit = first_wrong_node(func, (first, second))
    assert (culprit.name, culprit.op, culprit.scope) == ("ScaledBackward", "Scaled", None)
    assert culprit.location == marked(func)
    assert culprit.analytical == pytest.approx(culprit.numerical / 3, rel=1e-6)


def test_a_correct_custom_function_before_the_wrong_one_is_not_blamed(float64):
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    result = check(lambda t: BadSwish.apply(Swish.apply(t) * 2).sum(), (x,))
    assert result.passed is False
    assert result.culprit.name == "BadSwishBackward"


def test_localisation_can_be_turned_off(float64):
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    result = check(lambda t: BadSwish.apply(t).sum(), (x,), localize=False)
    assert result.passed is False and result.worst is not None and result.culprit is None


def test_single_precision_nodes_are_rechecked_in_double():
    """The model runs in float32; each node is re-run on float64 copies of what it saw."""
    torch.manual_seed(0)
    model = Stack(depth=3, bad_block=1)
    x = torch.randn(4, 3)
    assert next(model.parameters()).dtype == torch.float32
    culprit = first_wrong_node(lambda *_: model(x), tuple(model.parameters()))
    assert (culprit.name, culprit.scope) == ("BadSwishBackward", "Stack.blocks.1")
    assert np.isfinite([culprit.numerical, culprit.analytical]).all()
