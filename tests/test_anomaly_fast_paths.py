"""Anomaly mode on the one-frame forwards (autograd/fused.py, fused_products.py): they serve the checked step as
they serve the unchecked one, and what anomaly mode keeps and reports is what the general path (dispatch.apply,
forced here by a watcher) gives, and PyTorch: every node's stack, the warning printed when a backward fails, the
error, gradscope's report, the node that induced a double backward."""

from __future__ import annotations

import contextlib
import sys
import textwrap
import traceback
import warnings

import numpy as np
import pytest

import gradscope as gs
import gradscope.nn.functional as F
from gradscope.autograd import dispatch, observers
from tests.conftest import run_snippet

pytestmark = [pytest.mark.filterwarnings("ignore:Error detected in:UserWarning"),
              pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning")]


@pytest.fixture(autouse=True)
def anomaly_off():
    """Anomaly mode is process-wide: whatever a test does, the next one starts with it off."""
    yield
    gs.autograd.set_detect_anomaly(False)
    with contextlib.suppress(ImportError):
        import torch

        torch.autograd.set_detect_anomaly(False)


class _Watcher:  # listening sends every op down the general path (dispatch.apply)
    pass


@contextlib.contextmanager
def general_path():
    watcher = _Watcher()
    observers.add_watcher(watcher)
    try:
        yield
    finally:
        observers.remove_watcher(watcher)


@contextlib.contextmanager
def counting_applies():
    """Count the calls of dispatch.apply (the general path) while the block runs."""
    calls = []
    code = dispatch.apply.__code__

    def profile(frame, event, arg):
        if event == "call" and frame.f_code is code:
            calls.append(frame)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(previous)


# the fused ops, each making NaN in its backward from a zero gradient: x is zeros (2, 3), w (2, 3) holds an inf
OPS = {"unary": "x.sqrt()", "unary function": "torch.sqrt(x)", "with_number": "x ** 0.5", "binary": "x / zeros",
       "linear": "F.linear(x, w, bias)", "mm": "x @ w.t()"}

SETUP = """\
    import warnings
    F = torch.nn.functional
    x = torch.zeros(2, 3, requires_grad=True)
    zeros = torch.zeros(2, 3)
    w = torch.tensor([[float("inf"), 1.0, 1.0], [1.0, 2.0, 3.0]], requires_grad=True)
    bias = torch.zeros(2, requires_grad=True)

    def snippet_frames(lines):
        return [line.split("\\n")[0] for line in lines if line.startswith('  File "<snippet>"')]

    def nodes_and_stacks(y):
        seen, pending = [], [y.grad_fn]
        while pending:
            node = pending.pop()
            if node is not None and "AccumulateGrad" not in type(node).__name__:
                seen.append((type(node).__name__, snippet_frames(node.metadata["traceback_"])))
                pending += [child for child, _ in node.next_functions]
        return seen

    def backward(y):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                (y * 0).sum().backward()
            except RuntimeError as error:
                print(f"RuntimeError: {error}")
        for warning in caught:
            lines = str(warning.message).split("\\n")
            print(lines[0], snippet_frames(lines))
"""

# where the op runs: at the top level of a script, in a module's forward, in nested calls
PLACES = {
    "top level": """\
        torch.autograd.set_detect_anomaly(True)
        y = {op}
        """,
    "module forward": """\
        class Net(torch.nn.Module):
            def forward(self, x):
                return {op}

        torch.autograd.set_detect_anomaly(True)
        y = Net()(x)
        """,
    "nested calls": """\
        def inner(x):
            return {op}

        def outer(x):
            return inner(x)

        torch.autograd.set_detect_anomaly(True)
        y = outer(x)
        """,
}

REPORT = """\
    print(nodes_and_stacks(y))
    backward(y)
    torch.autograd.set_detect_anomaly(False)
    """


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("op", OPS)
def test_stacks_warning_and_error_are_the_general_paths_and_torchs(op, place):
    source = textwrap.dedent(SETUP) + textwrap.dedent(PLACES[place].format(op=OPS[op])) + textwrap.dedent(REPORT)
    fast = run_snippet(gs, source)
    with general_path():
        general = run_snippet(gs, source)
    assert fast == general
    assert fast.error is None and "RuntimeError: Function '" in fast.stdout and "Error detected in" in fast.stdout
    with contextlib.suppress(ImportError):
        import torch

        assert fast == run_snippet(torch, source)


def _ops(x, w, bias, zeros):
    return [lambda: x.sqrt(), lambda: gs.sqrt(x), lambda: x ** 0.5, lambda: x / zeros, lambda: x * 0.5,
            lambda: 1 - x, lambda: F.linear(x, w, bias), lambda: F.linear(x, w), lambda: x @ w.t()]


def _operands():
    x = gs.zeros(2, 3, requires_grad=True)
    w = gs.tensor([[float("inf"), 1.0, 1.0], [1.0, 2.0, 3.0]], requires_grad=True)
    return x, w, gs.zeros(2, requires_grad=True), gs.zeros(2, 3)


def _graph(y) -> list:
    """The nodes of `y`'s graph (AccumulateGrad left out), depth first."""
    nodes, pending = [], [y.grad_fn]
    while pending:
        node = pending.pop()
        if node is not None and "AccumulateGrad" not in node.name():
            nodes.append(node)
            pending += [child for child, _ in node.next_functions]
    return nodes


def _made(make, general: bool):
    """`make()` under anomaly mode on one path: its output, and the interpreter's stack here."""
    with gs.autograd.set_detect_anomaly(True), general_path() if general else contextlib.nullcontext():
        return make(), traceback.extract_stack()


@pytest.mark.parametrize("index", range(9))
def test_the_fast_path_serves_anomaly_mode_with_the_general_paths_stacks(index):
    x, w, bias, zeros = _operands()
    make = _ops(x, w, bias, zeros)[index]
    made, applied = [], []
    for general in (False, True):  # from one line: the stacks' outer frames are the same
        with counting_applies() as applies:
            made.append(_made(make, general))
        applied.append(len(applies))
    assert applied[0] == 0 and applied[1]  # the fast path served: no op went through dispatch.apply
    (fast, expected), (general, _) = made
    fast_nodes, general_nodes = _graph(fast), _graph(general)
    assert [type(n) for n in fast_nodes] == [type(n) for n in general_nodes]
    files = [f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}' for frame in expected]
    for a, b in zip(fast_nodes, general_nodes, strict=True):
        assert a.metadata["traceback_"] == b.metadata["traceback_"]
        assert getattr(a, "module_call", None) is getattr(b, "module_call", None) is None
        assert a.scope is b.scope is None and getattr(a, "anomaly_parent", None) is None
        # the interpreter's stack in _made, and the line making the op (the lambda's)
        stack = [entry.split("\n")[0] for entry in a.metadata["traceback_"]]
        assert stack[:-1] == files[1 - len(stack):] and stack[-1].endswith(", in <lambda>")


class _Layer(gs.nn.Module):
    def __init__(self, make) -> None:
        super().__init__()
        self.make = make

    def forward(self, unused):
        return self.make()


@pytest.mark.parametrize("index", range(9))
def test_nodes_made_in_a_module_call_keep_its_scope_and_stack_on_both_paths(index):
    x, w, bias, zeros = _operands()
    model = gs.nn.Sequential(_Layer(_ops(x, w, bias, zeros)[index]))
    (fast, _), (general, _) = (_made(lambda: model(None), path) for path in (False, True))
    for a, b in zip(_graph(fast), _graph(general), strict=True):
        assert a.metadata["traceback_"] == b.metadata["traceback_"]
        assert a.scope == b.scope == "Sequential.0"


class _AddLast(gs.nn.Module):
    """A user's module: its forward adds the model's last output (`model.last`) to its input."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = [model]

    def forward(self, input):
        return (input + self.model[0].last).sum(dim=1)


def test_nodes_keep_their_call_and_stack_without_a_dict_of_their_own():
    """What anomaly mode keeps of every node (its module call, its stack) has slots on Node: an instance dict made per
    node cost more than anything else it does per node. A node nobody saw has neither, and reads as such."""
    model = gs.nn.Sequential(gs.nn.Linear(4, 3), gs.nn.Tanh(), gs.nn.Linear(3, 1))
    x = gs.ones(2, 4)
    with gs.autograd.detect_anomaly():
        loss = F.mse_loss(model(x), gs.zeros(2, 1))
    nodes = _graph(loss)
    assert [node.name() for node in nodes][:3] == ["MseLossBackward0", "AddmmBackward0", "TBackward0"]
    for node in nodes:
        assert vars(node) == {} and node.frames is not None and node.metadata["traceback_"]
    assert [node.scope for node in nodes[1:]] == [f"Sequential.{i}" for i in "22100"] and nodes[0].scope is None
    unseen = (gs.ones(2, requires_grad=True) * 2).grad_fn
    assert unseen.scope is None and unseen.metadata == {} and not hasattr(unseen, "frames")


def test_closed_calls_in_a_sequential_keep_their_scope_and_stack_on_both_paths():
    """Sequential calls a gradscope child inside its own call without Module.__call__ under anomaly mode alone:
    the nodes' scopes and stacks are the ones the call would give (the general path, forced by a watcher)."""
    model = gs.nn.Sequential(gs.nn.Sequential(gs.nn.Linear(3, 4), gs.nn.Tanh()), gs.nn.Linear(4, 2))
    model.append(gs.nn.Sequential(_AddLast(model), gs.nn.Softplus()))
    x = gs.ones(2, 3)

    def run():
        model.last = model[1](model[0](x))  # the user's calls of two children, then the model's call
        return model(x)

    (fast, _), (general, _) = (_made(run, path) for path in (False, True))
    fast_nodes, general_nodes = _graph(fast), _graph(general)
    assert len(fast_nodes) == len(general_nodes) == 13
    for a, b in zip(fast_nodes, general_nodes, strict=True):
        assert a.name() == b.name() and a.scope == b.scope
        assert a.metadata["traceback_"] == b.metadata["traceback_"]
    assert sorted({node.scope for node in fast_nodes}) == ["0.0", "0.1", "1", "Sequential.0.0", "Sequential.0.1",
                                                          "Sequential.1", "Sequential.2.0", "Sequential.2.1"]


class _CallsOthers(gs.nn.Module):
    """A closed module without children (as gradscope's own: Sequential runs its forward inline under anomaly mode
    alone) whose forward calls a module it holds unregistered, and runs a Sequential's forward itself."""

    _closed_forward = True

    def __init__(self) -> None:
        super().__init__()
        self.held = [gs.nn.Tanh(), gs.nn.Sequential(gs.nn.Sigmoid(), gs.nn.Softplus())]

    def forward(self, input):
        return self.held[1].forward(self.held[0](input * 2))


def test_module_calls_made_in_a_forward_run_inline_have_the_scope_and_stack_of_their_call_on_both_paths():
    model = gs.nn.Sequential(gs.nn.Linear(3, 4), _CallsOthers(), gs.nn.Linear(4, 1))
    (fast, _), (general, _) = (_made(lambda: model(gs.ones(2, 3)), path) for path in (False, True))
    fast_nodes, general_nodes = _graph(fast), _graph(general)
    assert len(fast_nodes) == len(general_nodes) == 8
    for a, b in zip(fast_nodes, general_nodes, strict=True):
        assert a.name() == b.name() and a.scope == b.scope
        assert a.metadata["traceback_"] == b.metadata["traceback_"]
        assert a.metadata["traceback_"][-1].endswith("(_made(lambda: model(gs.ones(2, 3)), path) for path in "
                                                     "(False, True))\n")
    assert [(node.name(), node.scope) for node in fast_nodes] == [
        ("AddmmBackward0", "Sequential.2"), ("TBackward0", "Sequential.2"), ("SoftplusBackward0", "Sequential.1.1"),
        ("SigmoidBackward0", "Sequential.1.0"), ("TanhBackward0", "Sequential.1.Tanh"),
        ("MulBackward0", "Sequential.1"), ("AddmmBackward0", "Sequential.0"), ("TBackward0", "Sequential.0")]


def test_ops_of_a_forward_hook_in_a_sequential_have_its_line_and_the_childs_scope_on_both_paths():
    model = gs.nn.Sequential(gs.nn.Linear(3, 4), gs.nn.Tanh())
    handle = model[1].register_forward_hook(lambda module, args, output: output * 3)  # <- the hook
    try:
        (fast, _), (general, _) = (_made(lambda: model(gs.ones(2, 3)), path) for path in (False, True))
    finally:
        handle.remove()
    for a, b in zip(_graph(fast), _graph(general), strict=True):
        assert a.name() == b.name() and a.scope == b.scope
        assert a.metadata["traceback_"] == b.metadata["traceback_"]
    hooked = fast.grad_fn
    assert (hooked.name(), hooked.scope) == ("MulBackward0", "Sequential.1")
    assert hooked.metadata["traceback_"][-1].endswith("# <- the hook\n")


class _Meeting(gs.nn.Module):
    """A closed module without children whose forward waits until both threads are in it."""

    _closed_forward = True

    def __init__(self, barrier) -> None:
        super().__init__()
        self.barrier = barrier

    def forward(self, input):
        self.barrier.wait(timeout=30)
        return input * 2


def _in_thread_one(model, x):
    return model(x)


def _in_thread_two(model, x):
    return model(x)


def test_threads_in_the_same_modules_forwards_keep_their_own_scopes_and_stacks():
    import threading

    barrier = threading.Barrier(2)
    model = gs.nn.Sequential(gs.nn.Linear(3, 3), gs.nn.Sequential(_Meeting(barrier), gs.nn.Tanh()))
    made = {}

    def work(run) -> None:
        made[run.__name__] = run(model, gs.ones(2, 3))

    with gs.autograd.set_detect_anomaly(True):
        threads = [threading.Thread(target=work, args=(run,)) for run in (_in_thread_one, _in_thread_two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    for name, out in made.items():
        nodes = _graph(out)
        assert [(node.name(), node.scope) for node in nodes] == [
            ("TanhBackward0", "Sequential.1.1"), ("MulBackward0", "Sequential.1.0"), ("AddmmBackward0", "Sequential.0"),
            ("TBackward0", "Sequential.0")]
        for node in nodes:
            assert node.metadata["traceback_"][-1].split("\n")[0].endswith(f", in {name}")
    assert len(made) == 2


def _anomaly_error(make, general: bool, **mode) -> RuntimeError:
    with pytest.raises(RuntimeError) as caught, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        with gs.autograd.set_detect_anomaly(True, **mode), general_path() if general else contextlib.nullcontext():
            (make() * 0).sum().backward()
    caught.value.warned = [str(w.message) for w in warned]
    return caught.value


@pytest.mark.parametrize("index", [0, 1, 2, 3, 6, 8])
def test_the_report_is_the_general_paths(index):
    x, w, bias, zeros = _operands()
    make = _ops(x, w, bias, zeros)[index]
    fast, general = _anomaly_error(make, False), _anomaly_error(make, True)
    assert str(fast) == str(general) and fast.warned == general.warned and len(fast.warned) == 1
    assert str(fast.report) == str(general.report) and fast.report.node_name == general.report.node_name
    assert fast.report.location == f"{__file__}:{_ops.__code__.co_firstlineno + 1 + (index > 5)}"


@pytest.mark.parametrize(("expression", "node"), [
    (lambda x, w, bias: (x - 1).sqrt(), "SqrtBackward0"), (lambda x, w, bias: (x - 1) ** 0.5, "PowBackward0"),
    (lambda x, w, bias: x / x, "DivBackward0"), (lambda x, w, bias: F.linear(x + 1, w), "MmBackward0"),
    (lambda x, w, bias: F.linear(x + 1, w, bias), "AddmmBackward0"),
    (lambda x, w, bias: (x + 1) @ w.t(), "MmBackward0")])
def test_check_forward_on_fused_ops_names_the_users_line(expression, node):
    """gradscope's extension: the first node turning finite inputs into non-finite outputs, at the user's line."""
    x = gs.zeros(2, 3, requires_grad=True)
    w = gs.full((2, 3), 3e38, requires_grad=True)  # finite, but their products' sums overflow float32
    bias = gs.zeros(2, requires_grad=True)
    make = lambda: expression(x, w, bias)  # noqa: E731
    error, general = (_anomaly_error(make, path, check_forward=True) for path in (False, True))
    assert str(error) == str(general) and str(error.report) == str(general.report)
    assert str(error).startswith(f"Function '{node}' returned ")
    assert error.report.phase == "forward" and error.report.role == "culprit"
    assert error.report.location == f"{__file__}:{expression.__code__.co_firstlineno}"


DOUBLE_BACKWARD = """\
    import warnings
    x = torch.tensor([0.0, 1.0], requires_grad=True)

    def run():
        y = (x * 1.0).sqrt().sum()
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        (g * 0).sum().backward()

    torch.autograd.set_detect_anomaly(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run()
        except RuntimeError as error:
            print(f"RuntimeError: {error}")
    torch.autograd.set_detect_anomaly(False)
    for warning in caught:
        lines = str(warning.message).strip().split("\\n")
        print(lines[0], [line for line in lines if line.startswith('  File "<snippet>"')])
    """


def test_a_double_backward_through_fused_ops_names_the_node_that_induced_it():
    """create_graph: the rules' ops (fused ones among them) are made by the node running; a failure in the second
    backward warns with that node's stack too (anomaly_parent)."""
    fast = run_snippet(gs, DOUBLE_BACKWARD)
    with general_path():
        general = run_snippet(gs, DOUBLE_BACKWARD)
    assert fast == general
    assert "Previous calculation was induced by SqrtBackward0" in fast.stdout
    with contextlib.suppress(ImportError):
        import torch

        assert fast == run_snippet(torch, DOUBLE_BACKWARD)


def test_nodes_made_under_create_graph_have_their_parent_on_both_paths():
    x = gs.tensor([0.5, 1.0], requires_grad=True)
    grads = []
    for general in (False, True):
        with gs.autograd.set_detect_anomaly(True), general_path() if general else contextlib.nullcontext():
            y = (x * 2.0).tanh()
            (g,) = gs.autograd.grad(y.sum(), x, create_graph=True)
        grads.append(g)
    fast_nodes, general_nodes = _graph(grads[0]), _graph(grads[1])
    assert [n.name() for n in fast_nodes] == [n.name() for n in general_nodes]
    made_by_rules = [(a, b) for a, b in zip(fast_nodes, general_nodes) if getattr(a, "anomaly_parent", None)]
    assert made_by_rules
    for a, b in made_by_rules:
        assert a.anomaly_parent.name() == b.anomaly_parent.name()
        assert a.metadata["traceback_"] == b.metadata["traceback_"]
    np.testing.assert_array_equal(grads[0].detach().numpy(), grads[1].detach().numpy())


class _LinearInBackward(gs.autograd.Function):
    """Its backward makes linear layers' nodes (grad enabled), with and without a bias: anomaly mode's parent of each
    is its node. `made`: the outputs; `applied`: how many ops they made through dispatch.apply."""

    made: list = []
    applied: list = []

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        w, bias = gs.ones(4, 3, requires_grad=True), gs.zeros(4, requires_grad=True)
        x = grad.detach().requires_grad_()
        with gs.enable_grad(), counting_applies() as applies:
            _LinearInBackward.made += [F.linear(x, w, bias), F.linear(x, w)]
        _LinearInBackward.applied.append(len(applies))
        return grad


def test_a_linear_layers_two_nodes_have_the_general_paths_stacks_scopes_and_parents():
    """F.linear's one-frame forward hands both its nodes (weight.t()'s TBackward0, then the product's) to anomaly mode
    in one call once both are made (AnomalyChecker.nodes_made): each keeps the stack, module call and parent (the node
    running a backward that makes them) the general path gives it."""
    model = gs.nn.Sequential(gs.nn.Linear(3, 4), gs.nn.Tanh(), gs.nn.Linear(4, 2))
    made = []
    for general in (False, True):
        _LinearInBackward.made, _LinearInBackward.applied = [], []
        with counting_applies() as applies:
            y, _ = _made(lambda: model(gs.ones(2, 3)), general)
        out, _ = _made(lambda: _LinearInBackward.apply(gs.ones(2, 3, requires_grad=True)), general)
        with gs.autograd.set_detect_anomaly(True), general_path() if general else contextlib.nullcontext():
            out.sum().backward()
        assert bool(applies) is bool(sum(_LinearInBackward.applied)) is general  # the fast path served, or not
        made.append([y, *_LinearInBackward.made])
    for index, (fast, general) in enumerate(zip(*made, strict=True)):
        fast_nodes, general_nodes = _graph(fast), _graph(general)
        assert [n.name() for n in fast_nodes] == [n.name() for n in general_nodes]
        for a, b in zip(fast_nodes, general_nodes, strict=True):
            assert a.metadata["traceback_"] == b.metadata["traceback_"] and a.scope == b.scope
            assert [getattr(node, "anomaly_parent", None).__class__.__name__ for node in (a, b)] == [
                "_LinearInBackwardBackward" if index else "NoneType"] * 2
    assert [(n.name(), n.scope) for n in _graph(made[0][0])] == [
        ("AddmmBackward0", "Sequential.2"), ("TBackward0", "Sequential.2"), ("TanhBackward0", "Sequential.1"),
        ("AddmmBackward0", "Sequential.0"), ("TBackward0", "Sequential.0")]
    assert [[n.name() for n in _graph(out)] for out in made[0][1:]] == [["AddmmBackward0", "TBackward0"],
                                                                      ["MmBackward0", "TBackward0"]]


class _CrossEntropyInBackward(gs.autograd.Function):
    """Its backward computes a cross-entropy loss (grad enabled): anomaly mode's parent of its nodes is its node."""

    made: list = []

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        with gs.enable_grad():
            _CrossEntropyInBackward.made.append(F.cross_entropy(grad.detach().requires_grad_(), gs.tensor([0, 2])))
        return grad


def test_cross_entropy_serves_anomaly_modes_default_checks_with_the_general_paths_nodes():
    """cross_entropy's one-frame forward (fused_losses) under anomaly mode's default checks: LogSoftmaxBackward0 and
    NllLossBackward0 with the stacks, scopes and parents the general path gives them (at the top level, in a
    CrossEntropyLoss call, in a custom Function's backward); check_forward's calls are the general path's."""
    model = gs.nn.Sequential(gs.nn.Linear(3, 3), gs.nn.Tanh())
    criterion = gs.nn.CrossEntropyLoss()
    x, target = gs.ones(2, 3), gs.tensor([0, 2])
    made, served = [], []
    for general in (False, True):
        _CrossEntropyInBackward.made = []
        with counting_applies() as applies:
            top, _ = _made(lambda: F.cross_entropy(model(x), target), general)
            called, _ = _made(lambda: criterion(model(x), target), general)
        served.append(len(applies))
        out, _ = _made(lambda: _CrossEntropyInBackward.apply(gs.ones(2, 3, requires_grad=True)), general)
        with gs.autograd.set_detect_anomaly(True), general_path() if general else contextlib.nullcontext():
            out.sum().backward()
        made.append([top, called, *_CrossEntropyInBackward.made])
    assert served[0] == 0 and served[1]  # the fast path served both losses: no op went through dispatch.apply
    for index, (fast, general) in enumerate(zip(*made, strict=True)):
        fast_nodes, general_nodes = _graph(fast), _graph(general)
        assert [n.name() for n in fast_nodes] == [n.name() for n in general_nodes]
        assert [n.name() for n in fast_nodes][:2] == ["NllLossBackward0", "LogSoftmaxBackward0"]
        for a, b in zip(fast_nodes, general_nodes, strict=True):
            assert a.metadata["traceback_"] == b.metadata["traceback_"] and a.scope == b.scope
            assert [getattr(node, "anomaly_parent", None).__class__.__name__ for node in (a, b)] == [
                "_CrossEntropyInBackwardBackward" if index == 2 else "NoneType"] * 2
    assert [n.scope for n in _graph(made[0][1])[:2]] == ["CrossEntropyLoss"] * 2
    with counting_applies() as applies, gs.autograd.detect_anomaly(check_forward=True):
        F.cross_entropy(model(x), target)
    assert applies  # check_forward checks log_softmax before nll_loss is computed: the general path's


class _MyRNNCell(gs.nn.RNNCell):
    """A user's subclass: its call is not closed (its forward is the user's), so stacks are found from its frame."""


@pytest.mark.parametrize("cell", ["tanh", "relu", "no bias", "subclass"])
def test_an_rnn_cell_serves_anomaly_modes_default_checks_with_the_general_paths_nodes(cell, monkeypatch):
    """The RNN cell's one-frame step (fused_cells) under anomaly mode's default checks: its six nodes (two products
    with their TBackward0, the sum, the nonlinearity) keep the stacks and scopes the general path gives them, op by
    op; under check_forward the step runs op by op."""
    from gradscope.autograd import fused_cells

    steps = []  # the cell's one-frame steps
    arrays = fused_cells._arrays
    monkeypatch.setattr(fused_cells, "_arrays", lambda *args: steps.append(args) or arrays(*args))
    gs.manual_seed(0)
    kind = _MyRNNCell if cell == "subclass" else gs.nn.RNNCell
    model = gs.nn.Sequential(kind(3, 4, bias=cell != "no bias", nonlinearity="relu" if cell == "relu" else "tanh"))
    x = gs.randn(2, 3, requires_grad=True)
    made, served = [], []
    for general in (False, True):
        steps.clear()
        h, _ = _made(lambda: model[0](x, model(x)), general)
        served.append(len(steps))
        made.append(h)
    assert served == [2, 0]  # the one-frame step served both calls, and the general path neither
    fast_nodes, general_nodes = _graph(made[0]), _graph(made[1])
    assert [n.name() for n in fast_nodes] == [n.name() for n in general_nodes] and len(fast_nodes) == 12
    for a, b in zip(fast_nodes, general_nodes, strict=True):
        assert a.metadata["traceback_"] == b.metadata["traceback_"] and a.scope == b.scope
        assert a.metadata["traceback_"][-1].endswith("h, _ = _made(lambda: model[0](x, model(x)), general)\n")
    assert {n.scope for n in fast_nodes} == {"0", "Sequential.0"}
    steps.clear()
    with gs.autograd.detect_anomaly(check_forward=True):
        model(x)
    assert steps == []  # check_forward reads the outputs the one-frame step doesn't make


CROSS_ENTROPY_NAN = """\
    import warnings
    F = torch.nn.functional
    x = torch.tensor([[0.0, float("inf"), 1.0], [1.0, 2.0, 3.0]], requires_grad=True)

    def run():
        loss = F.cross_entropy(x * 1.0, torch.tensor([0, 2]))
        loss.backward()

    torch.autograd.set_detect_anomaly(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run()
        except RuntimeError as error:
            print(f"RuntimeError: {error}")
    torch.autograd.set_detect_anomaly(False)
    for warning in caught:
        lines = str(warning.message).strip().split("\\n")
        print(lines[0], [line for line in lines if line.startswith('  File "<snippet>"')])
    """


def test_a_nan_through_cross_entropys_fast_path_is_the_general_paths_and_torchs():
    fast = run_snippet(gs, CROSS_ENTROPY_NAN)
    with general_path():
        general = run_snippet(gs, CROSS_ENTROPY_NAN)
    assert fast == general
    assert "RuntimeError: Function 'LogSoftmaxBackward0' returned nan values in its 0th output." in fast.stdout
    with contextlib.suppress(ImportError):
        import torch

        assert fast == run_snippet(torch, CROSS_ENTROPY_NAN)


@pytest.mark.parametrize("how", ["plain", "t hook", "shared", "saved view", "non-leaf", "weight hook", "mm orders"])
def test_a_linear_layers_tbackward_runs_in_its_makers_routing_under_anomaly_mode_too(how, monkeypatch):
    """The gradient a linear layer's AddmmBackward0 routes to its TBackward0 has just been checked (after the node's
    post hooks), and `.T` moves values alone: under anomaly mode the engine runs that node in its maker's routing as
    when nothing listens (engine.run). The same TBackward0 nodes run through the loop, and hooks and gradients are
    PyTorch's under its anomaly mode."""
    import torch

    from gradscope.autograd import node
    from tests.test_engine_shortcuts import _linear_events

    t_class = node.node_class(gs.ops.shape.t)
    rule = t_class._vjp
    runs: dict = {False: [], True: []}
    results = {}
    for anomaly in (False, True):
        monkeypatch.setattr(t_class, "_vjp", staticmethod(
            lambda self, grads, free, seen=runs[anomaly]: seen.append(self.name()) or rule(self, grads, free)))
        with gs.autograd.detect_anomaly() if anomaly else contextlib.nullcontext():
            results[anomaly] = _linear_events(gs, how)
    with torch.autograd.detect_anomaly():
        theirs = _linear_events(torch, how)
    assert runs[True] == runs[False] and len(runs[True]) < 3 + 4 * (how == "mm orders")
    for ours in results.values():
        assert ours[0] == theirs[0]
        for mine, reference in zip(ours[1], theirs[1], strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(), (3, 2)])
@pytest.mark.parametrize("nan", [False, True])
def test_the_screen_clears_finite_gradients_of_every_dtype_and_hands_nan_over_as_torch(dtype, shape, nan):
    """run_node's screen clears native float arrays and NumPy scalars (a 0-d op's rules give one) by their sum of
    squares; the others (float16, complex) are looked at closely. Either way the error and gradients are torch's."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gs, torch):
        w = np.full(shape, 2.0, dtype)
        if nan:
            w.flat[0] = np.nan
        x = lib.tensor(np.full(shape, 1.5, dtype), requires_grad=True)
        with lib.autograd.detect_anomaly(), warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)  # a complex sum read as a real one
            y = (x * lib.tensor(w)).sum()
            try:
                (y.real if "complex" in dtype else y).backward()
            except RuntimeError as error:
                results.append(str(error).splitlines()[0])
            else:
                results.append(x.grad.detach().numpy().tolist())
    assert results[0] == results[1]
    assert isinstance(results[0], str) == nan


@pytest.mark.parametrize(("dtype", "closely"), [("float16", True), ("float32", False), ("float64", False),
                                                 ("complex64", True), ("complex128", True)])
def test_the_screen_clears_only_float32_and_float64_sums_of_squares(monkeypatch, dtype, closely):
    """run_node clears a finite gradient by the type of its sum of squares: float32 and float64 ones alone. A float16
    sum to a shape may overflow and complex squares may cancel, so those gradients are validated and looked at
    closely (here counted by the validations they get), as are a Python number's."""
    from gradscope.autograd import anomaly

    looked = []
    validate = anomaly._validate_all
    monkeypatch.setattr(anomaly, "_validate_all", lambda node, outputs, xp: looked.append(node.name())
                        or validate(node, outputs, xp))
    x = gs.tensor(np.full((3, 2), 1.5, dtype), requires_grad=True)
    with gs.autograd.detect_anomaly():
        y = (x * gs.tensor(np.full((3, 2), 2.0, dtype))).sum()
        (y.real if "complex" in dtype else y).backward()
    assert bool(looked) == closely
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 2), 2.0, dtype))
