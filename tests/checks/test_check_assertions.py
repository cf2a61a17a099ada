"""The Python assertion helpers: each passes on a healthy model and fails with a message naming the
parameter or node, its scope, the line that used it and the measured value."""

import numpy as np
import pytest

import gradscope as torch
from gradscope import nn
from gradscope.checks import (
    CheckConfigError,
    GradientAssertionError,
    GradRecorder,
    assert_all_params_receive_grad,
    assert_grad_norm,
    assert_gradcheck,
    assert_grads_finite,
    record_backward,
)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(3, 4)
        self.unused = nn.Linear(4, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(torch.tanh(self.body(x)))


class WrongDouble(torch.autograd.Function):
    """2·x with the derivative 3 instead of 2."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 3


@pytest.fixture
def net():
    torch.manual_seed(0)
    return Net()


@pytest.fixture
def x():
    torch.manual_seed(1)
    return torch.randn(5, 3)


def test_record_backward_names_parameters_after_the_callers_variables(net, x):
    trace = record_backward(lambda: net(x).sum())
    assert [p.name for p in trace.parameters] == ["net.body.weight", "net.body.bias", "net.unused.weight",
                                                  "net.unused.bias", "net.head.weight", "net.head.bias"]
    (head_bias,) = [p for p in trace.parameters if p.name == "net.head.bias"]
    assert trace.parameter_grad(head_bias).values.tolist() == [5.0]  # d sum / d bias over a batch of 5


def test_record_backward_measures_each_call_alone(net, x):
    record_backward(lambda: net(x).sum())
    trace = record_backward(lambda: net(x).sum())  # not 10: the earlier .grad was reset
    (head_bias,) = [p for p in trace.parameters if p.name == "net.head.bias"]
    assert trace.parameter_grad(head_bias).values.tolist() == [5.0]


def test_record_backward_needs_a_scalar_with_a_graph(net, x):
    with pytest.raises(TypeError, match=r"must return a scalar tensor to differentiate, got \[5, 1\]"):
        record_backward(lambda: net(x))
    with pytest.raises(ValueError, match="has no graph"):
        record_backward(lambda: x.sum())


def test_assert_grads_finite(net, x):
    assert_grads_finite(lambda: net(x).sum())
    with pytest.raises(GradientAssertionError) as error:
        assert_grads_finite(lambda: (net(x) - 10).sqrt().sum())  # sqrt of negative values
    message = str(error.value)
    assert message.startswith("non-finite gradients:\n")
    assert "net.head.weight (module net.head) has a non-finite gradient (4 nan of 4)" in message
    assert "first made by SqrtBackward0 (sqrt)" in message and "sqrt of a negative value" in message
    assert f"[net.head at {__file__}:" in message
    assert {r.target for r in error.value.results} == {"net.body.weight", "net.body.bias", "net.head.weight",
                                                       "net.head.bias", "intermediate gradients"}
    assert_grads_finite(lambda: (net(x) - 10).sqrt().sum(), allow=["net*", "sqrt", "sub"])


def test_assert_all_params_receive_grad(net, x):
    with pytest.raises(GradientAssertionError) as error:
        assert_all_params_receive_grad(lambda: net(x).sum())
    assert str(error.value).splitlines() == [
        "parameters without a gradient:",
        "  net.unused.weight (module net.unused) received no gradient: it never took part in the graph of the loss "
        "(a layer built but not used in forward?) [net.unused]",
        "  net.unused.bias (module net.unused) received no gradient: it never took part in the graph of the loss "
        "(a layer built but not used in forward?) [net.unused]",
    ]
    head = net.head
    assert_all_params_receive_grad(lambda: head(torch.ones(2, 4)).sum(), names={"head": head})


def test_assert_grad_norm(net, x):
    trace = record_backward(lambda: net(x).sum())
    norm = float(np.linalg.norm(net.head.bias.grad.numpy()))  # 5
    assert_grad_norm(trace, max=norm, min=norm, params="net.head.bias")
    with pytest.raises(GradientAssertionError) as error:
        assert_grad_norm(trace, max=4.0, params="net.head.*")
    assert str(error.value).splitlines()[1].startswith("  net.head.bias (module net.head) has gradient norm 5, "
                                                       "breaking 'net.head.*<=4'")
    assert [r.value for r in error.value.results] == [pytest.approx(norm)]
    with pytest.raises(GradientAssertionError, match="net.unused.weight .* has gradient norm 0"):
        assert_grad_norm(trace, min=1e-8)
    with pytest.raises(TypeError, match="needs max=, min= or both"):
        assert_grad_norm(trace)
    with pytest.raises(CheckConfigError, match="'encoder.\\*<=1' matches no parameter"):
        assert_grad_norm(trace, max=1, params="encoder.*")


def test_assert_gradcheck():
    torch.manual_seed(0)
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert_gradcheck(torch.sin, (x,))
    assert_gradcheck(torch.sin, (x,), fast_mode=False)
    with pytest.raises(GradientAssertionError) as error:
        assert_gradcheck(WrongDouble.apply, (x,))
    lines = str(error.value).splitlines()
    assert lines[0] == "gradcheck of WrongDouble.apply failed (fast mode, atol 1e-05, rtol 0.001):"
    assert lines[1].startswith("  worst element: d output 0[")
    assert "numerical 2, analytical 3" in lines[1]
    assert lines[2].startswith("  culprit: WrongDoubleBackward (op WrongDouble) at ")


def test_grad_recorder_records_calls_and_blocks(net, x):
    recorder = GradRecorder()
    with pytest.raises(LookupError, match="nothing recorded yet"):
        _ = recorder.trace
    first = recorder(lambda: net(x).sum())
    with recorder:
        net(x).sum().backward()
        net(x).sum().backward()
    assert recorder.traces[0] is first and len(recorder.traces) == 2
    block = recorder.trace
    assert len(block.passes) == 2
    (head_bias,) = [p for p in block.parameters if p.name == "net.head.bias"]
    # inside a block backward accumulates as usual: 5 from the call, then 10 and 15
    assert [block.parameter_grad(head_bias, i).values.tolist() for i in (0, 1)] == [[10.0], [15.0]]
    assert_grads_finite(block)


def test_assert_gradcheck_says_when_it_is_inconclusive():
    offset = torch.tensor([1.496e11, 2.0], dtype=torch.float64, requires_grad=True)  # 1e11 ± 1e-6 rounds back
    observed = torch.tensor([1.496e11 + 12.5, 1.0], dtype=torch.float64)
    with pytest.raises(GradientAssertionError) as error:
        assert_gradcheck(lambda o: ((o - observed) ** 2).sum(), (offset,))
    lines = str(error.value).splitlines()
    assert lines[0].startswith("gradcheck of ") and "was inconclusive at this scale (fast mode" in lines[0]
    assert lines[-1] == "  try eps near 2000 (√(float64 eps) × the largest input magnitude), or rescale the values"
