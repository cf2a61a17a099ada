"""gradscope.nn: Module, Parameter, layers, containers, init and functional, checked against
hand-computed values, central differences and (when installed) PyTorch itself."""

from __future__ import annotations

import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import gradscope as gs
import gradscope.nn as nn
import gradscope.nn.functional as F
from gradscope.autograd import observers


@pytest.fixture(autouse=True)
def _seed():
    gs.manual_seed(0)


def numerical_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar function f at x (float64)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.encoder = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
        self.fc2 = nn.Linear(3, 1, bias=False)
        self.register_buffer("scale", gs.ones(1))

    def forward(self, x):
        return (self.fc2(self.encoder(self.act(self.fc1(x)))) * self.scale).sum()


# ------------------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_sharing_data_and_version():
    data = gs.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert isinstance(p, gs.Tensor) and p.is_leaf and p.requires_grad and p.grad_fn is None
    data.add_(1)
    assert p.tolist() == [2.0, 3.0] and p._version == 1
    assert type(p * 2) is gs.Tensor and type(p.detach()) is gs.Tensor
    frozen = nn.Parameter(gs.tensor([1, 2]), requires_grad=False)
    assert repr(frozen) == "Parameter containing:\ntensor([1, 2])"
    assert repr(nn.Parameter()) == "Parameter containing:\ntensor([], requires_grad=True)"
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        nn.Parameter(gs.tensor([1, 2]))
    clone = copy.deepcopy(p)
    assert type(clone) is nn.Parameter and clone.tolist() == [2.0, 3.0] and clone.requires_grad


def test_parameter_of_a_non_leaf_is_a_new_leaf():
    x = gs.ones(2, requires_grad=True)
    p = nn.Parameter(x * 2)
    assert p.is_leaf and p.requires_grad and p.tolist() == [2.0, 2.0]


def test_buffer_registers_on_assignment():
    m = nn.Module()
    m.running = nn.Buffer(gs.ones(2), persistent=False)
    m.kept = nn.Buffer(gs.zeros(1))
    assert type(m.running) is gs.Tensor and isinstance(m.running, nn.Buffer)
    assert [name for name, _ in m.named_buffers()] == ["running", "kept"]
    assert list(m.state_dict()) == ["kept"]


# ------------------------------------------------------------------------------- registration and traversal
def test_qualified_names_and_order():
    model = MLP()
    assert [n for n, _ in model.named_parameters()] == [
        "fc1.weight", "fc1.bias", "encoder.0.weight", "encoder.0.bias", "fc2.weight"]
    assert [n for n, _ in model.named_modules()] == ["", "fc1", "act", "encoder", "encoder.0", "encoder.1", "fc2"]
    assert [n for n, _ in model.named_children()] == ["fc1", "act", "encoder", "fc2"]
    assert list(model.state_dict()) == ["scale", "fc1.weight", "fc1.bias", "encoder.0.weight", "encoder.0.bias",
                                        "fc2.weight"]
    assert [n for n, _ in model.encoder.named_parameters(prefix="enc")] == ["enc.0.weight", "enc.0.bias"]
    assert [n for n, _ in model.named_parameters(recurse=False)] == []
    assert model.get_submodule("encoder.1") is model.encoder[1]
    assert model.get_parameter("encoder.0.bias") is model.encoder[0].bias
    with pytest.raises(AttributeError, match="Sequential has no attribute `5`"):
        model.get_submodule("encoder.5")


def test_names_match_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Block(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2, bias=False)])
                self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(2, 1), "b": lib.nn.Sequential(lib.nn.Linear(2, 1))})
                self.register_buffer("steps", lib.zeros(1))
        return lib.nn.Sequential(Block(), lib.nn.ReLU(), Block())

    ours, theirs = build(gs), build(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)


def test_data_parallel_wraps_and_calls_the_module():
    net = nn.DataParallel(MLP())
    assert [n for n, _ in net.named_parameters()][:2] == ["module.fc1.weight", "module.fc1.bias"]
    x = gs.ones(2, 4)
    assert net(x).item() == net.module(x).item() and net.device_ids == []
    assert repr(nn.DataParallel(nn.ReLU())) == "DataParallel(\n  (module): ReLU()\n)"


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    assert len(list(model.modules())) == 3
    model.extra = shared.weight
    assert [n for n, _ in model.named_parameters()] == ["extra", "0.bias"]  # as torch: the weight was seen first


def test_reassignment_keeps_order_and_moves_between_kinds():
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(gs.zeros(2, 2))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.weight = None
    assert [n for n, _ in layer.named_parameters()] == ["bias"] and layer.weight is None
    del layer.bias
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'bias'"):
        layer.bias  # noqa: B018
    model = nn.Module()
    model.thing = nn.ReLU()
    model.thing = nn.Parameter(gs.ones(1))
    assert list(model._modules) == [] and list(model._parameters) == ["thing"]


class _Early(nn.Module):
    def __init__(self, value):
        self.x = value
        super().__init__()


@pytest.mark.parametrize(("action", "error", "message"), [
    (lambda m: _Early(nn.Parameter(gs.ones(1))), AttributeError,
     "cannot assign parameters before Module.__init__() call"),
    (lambda m: _Early(nn.ReLU()), AttributeError, "cannot assign module before Module.__init__() call"),
    (lambda m: setattr(m, "weight", gs.ones(2, 2)), TypeError,
     "cannot assign 'torch.FloatTensor' as parameter 'weight' (torch.nn.Parameter or None expected)"),
    (lambda m: m.register_parameter("a.b", None), KeyError, 'parameter name can\'t contain "."'),
    (lambda m: m.register_parameter("", None), KeyError, 'parameter name can\'t be empty string ""'),
    (lambda m: m.register_parameter(1, None), TypeError, "parameter name should be a string. Got int"),
    (lambda m: m.register_parameter("in_features", None), KeyError, "attribute 'in_features' already exists"),
    (lambda m: m.register_parameter("z", gs.ones(1)), TypeError,
     "cannot assign 'torch.FloatTensor' object to parameter 'z' (torch.nn.Parameter or None required)"),
    (lambda m: m.register_buffer("weight", None), KeyError, "attribute 'weight' already exists"),
    (lambda m: m.register_buffer("q", 3), TypeError,
     "cannot assign 'int' object to buffer 'q' (torch Tensor or None required)"),
    (lambda m: m.add_module("a.b", nn.ReLU()), KeyError, 'module name can\'t contain ".", got: a.b'),
    (lambda m: m.add_module("q", 3), TypeError, "int is not a Module subclass"),
    (lambda m: m.add_module(3, nn.ReLU()), TypeError, "module name should be a string. Got int"),
    (lambda m: m.nothing, AttributeError, "'Linear' object has no attribute 'nothing'"),
    (lambda m: m.train("yes"), ValueError, "training mode is expected to be boolean"),
    (lambda m: nn.Module()(1), NotImplementedError, 'Module [Module] is missing the required "forward" function'),
    (lambda m: nn.ModuleList([nn.ReLU()])(1), NotImplementedError,
     'Module [ModuleList] is missing the required "forward" function'),
    (lambda m: nn.ModuleList().extend(nn.ReLU()), TypeError,
     "ModuleList.extend should be called with an iterable, but got ReLU"),
    (lambda m: nn.Sequential(nn.ReLU())[3], IndexError, "index 3 is out of range"),
    (lambda m: nn.ModuleList([nn.ReLU()])[-2], IndexError, "index -2 is out of range"),
])
def test_registration_errors(action, error, message):
    with pytest.raises(error) as info:
        action(nn.Linear(2, 2))
    assert (info.value.args[0] if error is KeyError else str(info.value)) == message


def test_assigning_wrong_kinds_to_registered_names():
    m = nn.Module()
    m.sub = nn.ReLU()
    m.register_buffer("buf", gs.ones(1))
    with pytest.raises(TypeError, match=r"cannot assign 'int' as child module 'sub' \(torch.nn.Module or None"):
        m.sub = 3
    with pytest.raises(TypeError, match=r"cannot assign 'int' as buffer 'buf' \(torch.nn.Buffer, torch.Tensor"):
        m.buf = 3
    m.buf = gs.zeros(2)
    assert m.state_dict()["buf"].tolist() == [0.0, 0.0]


# ------------------------------------------------------------------------------- repr
SEQUENTIAL_REPR = """Sequential(
  (0): Linear(in_features=4, out_features=3, bias=True)
  (1): ReLU()
  (2): Sequential(
    (0): Tanh()
    (1): Identity()
  )
  (3): Flatten(start_dim=1, end_dim=-1)
  (4): LeakyReLU(negative_slope=0.2, inplace=True)
  (5): Sigmoid()
  (6): Linear(in_features=3, out_features=1, bias=False)
)"""


def _repr_zoo(lib):
    nn_ = lib.nn
    return [
        nn_.Sequential(nn_.Linear(4, 3), nn_.ReLU(), nn_.Sequential(nn_.Tanh(), nn_.Identity()), nn_.Flatten(),
                       nn_.LeakyReLU(0.2, inplace=True), nn_.Sigmoid(), nn_.Linear(3, 1, bias=False)),
        nn_.ModuleList([nn_.Linear(2, 2) for _ in range(3)] + [nn_.ReLU(), nn_.ReLU(), nn_.Tanh()]),
        nn_.ModuleDict({"a": nn_.ReLU(inplace=True), "b": nn_.Linear(1, 2)}),
        nn_.ModuleList(), nn_.Sequential(), nn_.Module(), nn_.LeakyReLU(), nn_.SiLU(), nn_.Softmax(dim=1),
        nn_.LogSoftmax(), nn_.MSELoss(), nn_.CrossEntropyLoss(weight=lib.ones(3)), nn_.BCEWithLogitsLoss(),
        nn_.NLLLoss(),
    ]


def test_repr():
    zoo = _repr_zoo(gs)
    assert repr(zoo[0]) == SEQUENTIAL_REPR
    assert repr(zoo[1]) == ("ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
                            "  (3-4): 2 x ReLU()\n  (5): Tanh()\n)")
    assert [repr(m) for m in zoo[3:8]] == ["ModuleList()", "Sequential()", "Module()",
                                           "LeakyReLU(negative_slope=0.01)", "SiLU()"]
    assert repr(MLP()) == (
        "MLP(\n  (fc1): Linear(in_features=4, out_features=3, bias=True)\n  (act): ReLU()\n  (encoder): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=3, bias=True)\n    (1): Tanh()\n  )\n"
        "  (fc2): Linear(in_features=3, out_features=1, bias=False)\n)")


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    assert [repr(m) for m in _repr_zoo(gs)] == [repr(m) for m in _repr_zoo(torch)]


# ------------------------------------------------------------------------------- Linear
def test_linear_init_is_seeded_and_bounded():
    gs.manual_seed(3)
    a = nn.Linear(50, 40)
    gs.manual_seed(3)
    b = nn.Linear(50, 40)
    assert gs.equal(a.weight, b.weight) and gs.equal(a.bias, b.bias)
    bound = 1 / math.sqrt(50)
    w = a.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(a.bias.detach().numpy()).max() <= bound
    assert abs(w.mean()) < 0.01 and abs(w.var() - bound**2 / 3) < 0.1 * bound**2 / 3  # U(-k, k) has var k²/3
    assert a.weight.dtype == gs.float32 and nn.Linear(2, 2, dtype=gs.float64).weight.dtype == gs.float64


@pytest.mark.parametrize("shape", [(4,), (2, 4), (5, 2, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Linear(4, 3, bias=bias).double()
    ours = nn.Linear(4, 3, bias=bias, dtype=gs.float64)
    with gs.no_grad():
        for name, param in theirs.named_parameters():
            getattr(ours, name).copy_(gs.tensor(param.detach().numpy()))
    x = np.random.default_rng(1).standard_normal(shape)
    x_ours, x_theirs = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(2).standard_normal(y_ours.shape)
    y_ours.backward(gs.tensor(g))
    y_theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-12)
    for name, param in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), param.grad.numpy(), rtol=1e-12)
    assert y_ours.grad_fn.name() == y_theirs.grad_fn.name()


def _graph_of(fn) -> tuple:
    """A graph by creation rank (AccumulateGrad aside): each node's name and edges (rank or "leaf", output number)."""
    nodes, stack = {}, [fn]
    while stack:
        node = stack.pop()
        if node is not None and "AccumulateGrad" not in node.name() and node not in nodes:
            nodes[node] = None
            stack.extend(child for child, _ in node.next_functions)
    order = sorted(nodes, key=lambda node: node._sequence_nr())
    rank = {node: index for index, node in enumerate(order)}
    return tuple((node.name(), tuple(None if child is None else ("leaf" if child not in rank else rank[child], nr)
                                     for child, nr in node.next_functions)) for node in order)


@pytest.mark.parametrize("view", ["transposed", "permuted 4-D", "strided 1-D"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_of_a_non_contiguous_input_makes_torchs_graph(view, bias):
    """ATen's linear flattens only a contiguous input into one addmm: any other (an RNN's batch_first input,
    transposed) takes matmul and then, with a bias, adds it in place (AddBackward0 after the matmul's nodes)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape) for shape in ((2, 3, 5, 4), (3, 4), (3,))]
    seen = []
    for lib in (gs, torch):
        x, weight, b = (lib.tensor(a, requires_grad=True) for a in arrays)
        input = {"transposed": x[0].transpose(0, 1), "permuted 4-D": x.permute(2, 0, 1, 3),
                 "strided 1-D": x[0, 0, :, 1]}[view]
        if view == "strided 1-D":
            weight = lib.tensor(arrays[1][:, :1].repeat(5, 1), requires_grad=True)
        out = lib.nn.functional.linear(input, weight, b if bias else None)
        out.backward(lib.ones_like(out))
        seen.append((_graph_of(out.grad_fn), out.detach().numpy(), x.grad.numpy(), weight.grad.numpy())
                    + ((b.grad.numpy(),) if bias else ()))
    assert seen[0][0] == seen[1][0]
    for ours, theirs in zip(seen[0][1:], seen[1][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_linear_against_hand_computation_and_finite_differences():
    layer = nn.Linear(3, 2, dtype=gs.float64)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    x = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(layer(gs.tensor(x)).detach().numpy(), x @ w.T + b)
    assert layer(gs.tensor(x)).grad_fn.name() == "AddmmBackward0"

    def loss_of_weight(values):
        return float(F.linear(gs.tensor(x), gs.tensor(values), gs.tensor(b)).tanh().sum())

    F.linear(gs.tensor(x), layer.weight, layer.bias).tanh().sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), numerical_grad(loss_of_weight, w.copy()), atol=1e-8)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x5 and 3x2\)"):
        layer(gs.ones(2, 5, dtype=gs.float64))


# ------------------------------------------------------------------------------- init
def test_init_functions():
    w = gs.empty(30, 20)
    assert nn.init.xavier_uniform_(w) is w
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 50)
    nn.init.kaiming_uniform_(w, a=0, nonlinearity="relu", mode="fan_out")
    assert np.abs(w.numpy()).max() <= math.sqrt(2) * math.sqrt(3 / 30)
    nn.init.normal_(w, mean=5.0, std=0.1)
    assert abs(w.numpy().mean() - 5.0) < 0.02
    assert nn.init.zeros_(w).numpy().max() == 0 and nn.init.ones_(w).numpy().min() == 1
    assert nn.init.constant_(w, 0.5).numpy().max() == 0.5
    p = nn.Parameter(gs.empty(2, 2))
    nn.init.uniform_(p, -1, 1)  # in place on a leaf that requires grad: allowed, under no_grad
    assert p._version == 1 and p.is_leaf
    assert nn.init.calculate_gain("tanh") == 5 / 3 and nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 dim"):
        nn.init.kaiming_uniform_(gs.ones(3))
    with pytest.raises(ValueError, match=r"Mode fan not supported, please use one of \['fan_in', 'fan_out'\]"):
        nn.init.kaiming_uniform_(gs.ones(3, 2), mode="fan")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        nn.init.kaiming_normal_(gs.empty(0, 3))


# ------------------------------------------------------------------------------- Module behaviour
def test_train_eval_propagate():
    model = MLP()
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * 7
    model.encoder.train()
    assert [m.training for m in model.modules()] == [False, False, False, True, True, True, False]
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_and_requires_grad():
    model = MLP()
    model(gs.ones(2, 4)).backward()
    grad = model.fc1.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.fc1.weight.grad is grad and not grad.numpy().any()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    assert model(gs.ones(2, 4)).grad_fn is None


def test_forward_hooks_apply_and_dtype_conversion():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(args[0].tolist()) or out.sum())
    out = layer(gs.ones(1, 2))
    assert calls == [[[0.0, 0.0]]] and out.item() == pytest.approx(layer.bias.sum().item())
    pre.remove()
    post.remove()
    assert layer(gs.ones(1, 2)).shape == (1, 2)
    visited = []
    MLP().apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Linear", "Tanh", "Sequential", "Linear", "MLP"]
    model = MLP()
    weight = model.fc1.weight
    assert model.double() is model and model.fc1.weight is weight and weight.dtype == gs.float64
    assert model.scale.dtype == gs.float64 and model.to(gs.float32).fc2.weight.dtype == gs.float32


def test_state_dict_round_trip_and_errors():
    source, target = MLP(), MLP()
    state = source.state_dict()
    assert not state["fc1.weight"].requires_grad and state["fc1.weight"].data_ptr() == source.fc1.weight.data_ptr()
    result = target.load_state_dict(state)
    assert repr(result) == "<All keys matched successfully>"
    assert all(gs.equal(a, b) for a, b in zip(source.parameters(), target.parameters(), strict=True))
    assert target.fc1.weight.is_leaf and target.fc1.weight.requires_grad
    partial = {"fc1.weight": gs.zeros(3, 4), "foo": gs.zeros(1)}
    with pytest.raises(RuntimeError) as info:
        target.load_state_dict(partial)
    assert str(info.value) == (
        'Error(s) in loading state_dict for MLP:\n\tMissing key(s) in state_dict: "scale", "fc1.bias", '
        '"encoder.0.weight", "encoder.0.bias", "fc2.weight". \n\tUnexpected key(s) in state_dict: "foo". ')
    result = target.load_state_dict(partial, strict=False)
    assert result.unexpected_keys == ["foo"] and not target.fc1.weight.detach().numpy().any()
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with shape "
                                           r"torch.Size\(\[2, 4\]\) from checkpoint, the shape in current model "
                                           r"is torch.Size\(\[3, 4\]\)."):
        target.load_state_dict({**state, "fc1.weight": gs.zeros(2, 4)})
    target.load_state_dict(state, assign=True)
    assert isinstance(target.fc1.weight, nn.Parameter)
    assert target.fc1.weight.data_ptr() == state["fc1.weight"].data_ptr()


# ------------------------------------------------------------------------------- containers
def test_sequential_indexing_and_editing():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and len(seq) == 3 and list(seq) == [a, b, c]
    tail = seq[1:]
    assert type(tail) is nn.Sequential and list(tail._modules) == ["1", "2"]
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and list(seq) == [b, c]
    assert seq.append(a) is seq
    seq.insert(1, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Tanh", "Identity", "Sigmoid", "ReLU"]
    seq[0] = nn.ReLU()
    assert type(seq[0]) is nn.ReLU and seq.pop(1).__class__ is nn.Identity and len(seq) == 3
    named = nn.Sequential(OrderedDict(first=nn.Linear(1, 2), second=nn.ReLU()))
    assert [n for n, _ in named.named_parameters()] == ["first.weight", "first.bias"]
    assert named(gs.ones(1, 1)).shape == (1, 2)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers += [nn.ReLU()]
    layers.append(nn.Tanh()).extend([nn.Sigmoid()])
    assert len(layers) == 6 and isinstance(layers[-1], nn.Sigmoid)
    assert list(layers[1:3]._modules) == ["0", "1"]
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    assert len(list(layers.parameters())) == 4
    heads = nn.ModuleDict({"a": nn.Linear(2, 1)})
    heads["b"] = nn.ReLU()
    heads.update([("c", nn.Tanh())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias"]
    assert isinstance(heads.pop("c"), nn.Tanh) and list(heads.keys()) == ["a", "b"]


# ------------------------------------------------------------------------------- scope of graph nodes
class _ScopeRecorder:
    def __init__(self):
        self.nodes = []

    def node_created(self, node, inputs, outputs):
        self.nodes.append((node.name(), node.scope))


def test_module_call_pushes_scope():
    model = MLP()
    x = gs.ones(2, 4)
    with observers.observing(_ScopeRecorder()) as recorder:
        model(x)
        outside = (x * gs.ones(1, requires_grad=True)).sum()
        model.encoder[0](gs.ones(1, 3))
    assert outside.grad_fn.scope is None
    assert recorder.nodes == [
        ("TBackward0", "MLP.fc1"), ("AddmmBackward0", "MLP.fc1"), ("ReluBackward0", "MLP.act"),
        ("TBackward0", "MLP.encoder.0"), ("AddmmBackward0", "MLP.encoder.0"), ("TanhBackward0", "MLP.encoder.1"),
        ("TBackward0", "MLP.fc2"), ("MmBackward0", "MLP.fc2"), ("MulBackward0", "MLP"), ("SumBackward0", "MLP"),
        ("MulBackward0", None), ("SumBackward0", None), ("TBackward0", "0"), ("AddmmBackward0", "0"),
    ]


class _Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Sequential(nn.Tanh())])
        self.heads = nn.ModuleDict({"out": nn.Sigmoid()})

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.heads["out"](x)


def test_scope_of_modules_in_lists_and_dicts_includes_the_container_name():
    model = _Stack()
    model.blocks.append(nn.ReLU())
    with observers.observing(_ScopeRecorder()) as recorder:
        model(gs.ones(1, 2))
    assert [scope for _, scope in recorder.nodes] == [
        "_Stack.blocks.0", "_Stack.blocks.0", "_Stack.blocks.1.0", "_Stack.blocks.2", "_Stack.heads.out"]


# ------------------------------------------------------------------------------- functional
def test_activations_and_softmax():
    x = gs.tensor([[-2.0, 0.0, 3.0]])
    assert F.relu(x).tolist() == [[0.0, 0.0, 3.0]] and F.leaky_relu(x, 0.5).tolist() == [[-1.0, 0.0, 3.0]]
    np.testing.assert_allclose(F.silu(x).numpy(), x.numpy() / (1 + np.exp(-x.numpy())), rtol=1e-6)
    np.testing.assert_allclose(F.softmax(x, 1).numpy().sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(F.log_softmax(x, dim=1).exp().numpy(), F.softmax(x, dim=1).numpy(), rtol=1e-6)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        assert F.softmax(x).shape == (1, 3)
    assert F.softmax(x, 1, dtype=gs.float64).dtype == gs.float64
    y = x.clone()
    assert F.relu(y, inplace=True) is y and y.tolist() == [[0.0, 0.0, 3.0]]
    leaf = gs.tensor([-2.0, 0.0, 4.0], requires_grad=True)
    z = leaf * 1
    nn.LeakyReLU(0.25, inplace=True)(z).sum().backward()
    assert z.tolist() == [-0.5, 0.0, 4.0] and leaf.grad.tolist() == [0.25, 0.25, 1.0]
    leaf.grad = None
    z = leaf * 1
    assert nn.SiLU(inplace=True)(z) is z
    z.sum().backward()
    sig = 1 / (1 + np.exp(-leaf.detach().numpy()))
    np.testing.assert_allclose(leaf.grad.numpy(), sig * (1 + leaf.detach().numpy() * (1 - sig)), rtol=1e-6)
    assert nn.Flatten()(gs.ones(2, 3, 4)).shape == (2, 12) and nn.Identity(5, k=1)(x) is x


def _loss_cases(lib):
    """(name, loss function of (input, target), input shape, target maker) for both libraries."""
    fn = lib.nn.functional
    index = lambda rng, shape, k: lib.tensor(rng.integers(0, k, shape))  # noqa: E731
    weights = lib.tensor(np.array([0.5, 2.0, 1.0]))
    return [
        ("mse", lambda x, t: fn.mse_loss(x, t), (4, 3), lambda r: lib.tensor(r.standard_normal((4, 3)))),
        ("mse_sum_bcast", lambda x, t: fn.mse_loss(x, t, reduction="sum"), (4, 1),
         lambda r: lib.tensor(r.standard_normal((4, 3)))),
        ("mse_none", lambda x, t: fn.mse_loss(x, t, reduction="none"), (4, 3),
         lambda r: lib.tensor(r.standard_normal((4, 3)))),
        ("ce", lambda x, t: fn.cross_entropy(x, t), (5, 3), lambda r: index(r, (5,), 3)),
        ("ce_weighted_ignore", lambda x, t: fn.cross_entropy(x, t, weight=weights, ignore_index=1), (5, 3),
         lambda r: lib.tensor(np.array([0, 1, 2, 2, 1]))),
        ("ce_smooth", lambda x, t: fn.cross_entropy(x, t, weight=weights, label_smoothing=0.2), (5, 3),
         lambda r: index(r, (5,), 3)),
        ("ce_smooth_none", lambda x, t: fn.cross_entropy(x, t, label_smoothing=0.1, reduction="none",
                                                          ignore_index=0), (5, 3), lambda r: index(r, (5,), 3)),
        ("ce_probs", lambda x, t: fn.cross_entropy(x, t, label_smoothing=0.1), (5, 3),
         lambda r: lib.tensor(r.dirichlet(np.ones(3), 5))),
        ("ce_probs_weighted_sum", lambda x, t: fn.cross_entropy(x, t, weight=weights, reduction="sum"), (5, 3),
         lambda r: lib.tensor(r.dirichlet(np.ones(3), 5))),
        ("ce_1d", lambda x, t: fn.cross_entropy(x, t), (3,), lambda r: lib.tensor(2)),
        ("ce_kdim", lambda x, t: fn.cross_entropy(x, t), (2, 3, 4), lambda r: index(r, (2, 4), 3)),
        ("ce_kdim_none", lambda x, t: fn.cross_entropy(x, t, reduction="none"), (2, 3, 2, 2),
         lambda r: index(r, (2, 2, 2), 3)),
        ("ce_kdim_weighted_smooth", lambda x, t: fn.cross_entropy(x, t, weight=weights, label_smoothing=0.3),
         (2, 3, 4), lambda r: lib.tensor(np.array([[0, -100, 2, 1], [2, 1, 2, 0]]))),
        ("nll_sum", lambda x, t: fn.nll_loss(x, t, reduction="sum"), (4, 3), lambda r: index(r, (4,), 3)),
        ("bce", lambda x, t: fn.binary_cross_entropy_with_logits(x, t), (4, 3),
         lambda r: lib.tensor(r.random((4, 3)))),
        ("bce_weighted", lambda x, t: fn.binary_cross_entropy_with_logits(
            x, t, weight=lib.tensor(np.array([1.0, 0.5, 2.0])), pos_weight=lib.tensor(np.array([3.0, 1.0, 0.2])),
            reduction="sum"), (4, 3), lambda r: lib.tensor(r.random((4, 3)))),
    ]


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("case", range(len(_loss_cases(gs))), ids=[c[0] for c in _loss_cases(gs)])
def test_loss_gradients_match_finite_differences(case):
    name, loss_fn, shape, make_target = _loss_cases(gs)[case]
    rng = np.random.default_rng(case)
    x0 = rng.standard_normal(shape)
    target = make_target(rng)
    probe = None

    def scalar(values):
        out = loss_fn(gs.tensor(values), target)
        return float((out * probe).sum())

    x = gs.tensor(x0, requires_grad=True)
    out = loss_fn(x, target)
    probe = gs.tensor(rng.standard_normal(out.shape))  # a random direction for non-scalar losses
    (out * probe).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), numerical_grad(scalar, x0.copy()), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("case", range(len(_loss_cases(gs))), ids=[c[0] for c in _loss_cases(gs)])
def test_losses_match_torch(case):
    torch = pytest.importorskip("torch")
    ours, theirs = _loss_cases(gs)[case], _loss_cases(torch)[case]
    x0 = np.random.default_rng(case).standard_normal(ours[2])
    target_rng = np.random.default_rng(100 + case)
    t_ours = ours[3](target_rng)
    t_theirs = torch.tensor(t_ours.numpy())
    x_ours, x_theirs = gs.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcasting mse case warns in both
        y_ours, y_theirs = ours[1](x_ours, t_ours), theirs[1](x_theirs, t_theirs)
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), rtol=1e-10)
    assert y_ours.grad_fn.name() == y_theirs.grad_fn.name()
    y_ours.sum().backward()
    y_theirs.sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # 0/0 of an all-ignored batch
def test_loss_values_by_hand_and_modules():
    logits = gs.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, math.log(3.0), 0.0, 0.0]])
    target = gs.tensor([0, 1])
    expected = (math.log(4) + math.log(6 / 3)) / 2
    assert F.cross_entropy(logits, target).item() == pytest.approx(expected, rel=1e-6)
    assert nn.CrossEntropyLoss(reduction="sum")(logits, target).item() == pytest.approx(2 * expected, rel=1e-6)
    assert F.cross_entropy(logits, gs.tensor([-100, -100])).isnan().item()
    assert nn.MSELoss()(gs.tensor([1.0, 3.0]), gs.zeros(2)).item() == 5.0
    assert F.mse_loss(gs.tensor([1.0, 3.0]), gs.zeros(2), weight=gs.tensor([3.0, 1.0])).item() == 3.0
    assert nn.BCEWithLogitsLoss()(gs.zeros(2), gs.ones(2)).item() == pytest.approx(math.log(2), rel=1e-6)
    assert nn.NLLLoss(weight=gs.tensor([1.0, 3.0]))(gs.tensor([[-1.0, -2.0]]), gs.tensor([1])).item() == 2.0
    assert nn.CrossEntropyLoss(weight=gs.ones(2)).state_dict()["weight"].tolist() == [1.0, 1.0]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated, please use "
                                         "reduction='sum' instead."):
        assert nn.MSELoss(size_average=False).reduction == "sum"


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: F.cross_entropy(gs.ones(4, 3), gs.tensor([0, 3, 1, 2])), IndexError, "Target 3 is out of bounds."),
    (lambda: F.nll_loss(gs.ones(3, 4), gs.tensor([0, -1, 2])), IndexError, "Target -1 is out of bounds."),
    (lambda: F.cross_entropy(gs.ones(4, 3), gs.tensor([0, 1])), ValueError,
     "Expected input batch_size (4) to match target batch_size (2)."),
    (lambda: F.cross_entropy(gs.ones(4, 3), gs.ones(4)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    (lambda: F.cross_entropy(gs.ones(2, 3, 5), gs.zeros(2, 4, dtype=gs.int64)), RuntimeError,
     "Expected target size [2, 5], got [2, 4]"),
    (lambda: F.cross_entropy(gs.ones(2, 3), gs.zeros(2, 3, dtype=gs.int64)), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    (lambda: F.cross_entropy(gs.ones(2, 3), gs.zeros(2, dtype=gs.int64), label_smoothing=1.5), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    (lambda: F.mse_loss(gs.ones(2), gs.ones(2), reduction="avg"), ValueError, "avg is not a valid value for reduction"),
    (lambda: F.mse_loss(gs.ones(2, 3), gs.ones(2, 2)), RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1"),
    (lambda: F.binary_cross_entropy_with_logits(gs.ones(4, 3), gs.ones(4, 1)), ValueError,
     "Target size (torch.Size([4, 1])) must be the same as input size (torch.Size([4, 3]))"),
])
def test_loss_errors(call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            call()
    assert str(info.value) == message
