"""gradscope.optim: the Optimizer base class and SGD, against hand-computed updates and PyTorch."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gradscope as gs
import gradscope.nn as nn
import gradscope.optim as optim
from gradscope.optim.optimizer import required

SGD_CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
    {"lr": 0.1, "momentum": 0.5, "maximize": True},
]


def _params(*values):
    return [nn.Parameter(gs.tensor(v, dtype=gs.float64)) for v in values]


def _reference_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """PyTorch's documented SGD update, written out on NumPy arrays."""
    p, buffer = np.array(p, dtype=np.float64), None
    for g in grads:
        g = -np.asarray(g) if maximize else np.asarray(g)
        g = g + weight_decay * p
        if momentum:
            buffer = g.copy() if buffer is None else momentum * buffer + (1 - dampening) * g
            g = g + momentum * buffer if nesterov else buffer
        p = p - lr * g
    return p


@pytest.mark.parametrize("config", SGD_CONFIGS)
def test_sgd_matches_the_update_rule(config):
    (p,) = _params([1.0, -2.0, 0.5])
    opt = optim.SGD([p], **config)
    grads = [[0.3, -0.1, 2.0], [0.0, 0.5, -1.0], [1.0, 1.0, 1.0]]
    for g in grads:
        p.grad = gs.tensor(g, dtype=gs.float64)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), _reference_sgd([1.0, -2.0, 0.5], grads, **config), rtol=1e-14)
    assert p._version == 3  # one in-place update per step
    if config.get("momentum"):
        assert set(opt.state[p]) == {"momentum_buffer"} and opt.state[p]["momentum_buffer"]._version == 4
    else:
        assert p not in opt.state


def test_sgd_one_momentum_step_by_hand():
    (p,) = _params([1.0])
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    p.grad = gs.tensor([2.0], dtype=gs.float64)
    opt.step()  # buffer = 2, p = 1 - 0.5 * 2 = 0
    opt.step()  # buffer = 0.9 * 2 + 2 = 3.8, p = 0 - 0.5 * 3.8
    assert p.item() == pytest.approx(-1.9) and opt.state[p]["momentum_buffer"].item() == pytest.approx(3.8)


class _Net:
    """The same small model built with either library."""

    def __init__(self, lib, weights):
        self.lib = lib
        self.model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        self.model.double()
        with lib.no_grad():
            for param, value in zip(self.model.parameters(), weights, strict=True):
                param.copy_(lib.tensor(value))

    def loss(self, x, y):
        return self.lib.nn.functional.mse_loss(self.model(self.lib.tensor(x)), self.lib.tensor(y))


@pytest.mark.parametrize("config", SGD_CONFIGS)
def test_sgd_trajectory_matches_torch(config):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s) for s in [(4, 3), (4,), (2, 4), (2,)]]
    ours, theirs = _Net(gs, weights), _Net(torch, weights)
    groups = lambda net: [{"params": net.model[0].parameters()},  # noqa: E731
                          {"params": net.model[2].parameters(), "lr": config["lr"] / 2}]
    opt_ours, opt_theirs = optim.SGD(groups(ours), **config), torch.optim.SGD(groups(theirs), **config)
    for _ in range(6):
        x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
        for net, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            opt.zero_grad()
            net.loss(x, y).backward()
            opt.step()
        for a, b in zip(ours.model.parameters(), theirs.model.parameters(), strict=True):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6, rtol=0)
            assert a._version == b._version
    assert repr(opt_ours) == repr(opt_theirs)
    assert opt_ours.state_dict()["param_groups"] == opt_theirs.state_dict()["param_groups"]


def test_zero_grad_and_skipped_parameters():
    p, q = _params([1.0, 2.0], [3.0])
    opt = optim.SGD([p, q], lr=1.0, momentum=0.9)
    p.grad = gs.tensor([1.0, 1.0], dtype=gs.float64)
    opt.step()
    assert q.item() == 3.0 and q not in opt.state  # no grad: untouched, no state
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0] and q.grad is None
    opt.zero_grad()
    assert p.grad is None


def test_step_closure_runs_with_grad_enabled():
    (p,) = _params([2.0])
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with gs.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and p.item() == pytest.approx(2.0 - 0.1 * 4.0)
    assert opt.step() is None


def test_param_groups_and_defaults():
    p, q, r = _params([1.0], [2.0], [3.0])
    group = {"params": [q], "lr": 1.0}
    opt = optim.SGD([{"params": p}, group], lr=0.1, momentum=0.5)
    assert opt.param_groups[1] is group and group["momentum"] == 0.5 and group["params"] == [q]
    assert opt.param_groups[0]["params"][0] is p and opt.defaults["lr"] == 0.1
    opt.add_param_group({"params": iter([r]), "momentum": 0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters"):
        optim.SGD([r, r], lr=0.1)

    class NeedsLr(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": required})

    assert repr(required) == "<required parameter>"
    with pytest.raises(ValueError, match="parameter group didn't specify a value of required optimization parameter"):
        NeedsLr([p])
    assert NeedsLr([{"params": [p], "lr": 3}]).param_groups[0]["lr"] == 3


SGD_REPR = """SGD (
Parameter Group 0
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 0.1
    maximize: False
    momentum: 0.9
    nesterov: False
    weight_decay: 0

Parameter Group 1
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 1.0
    maximize: False
    momentum: 0.9
    nesterov: False
    weight_decay: 0
)"""


def test_repr():
    p, q = _params([1.0], [2.0])
    assert repr(optim.SGD([{"params": [p]}, {"params": [q], "lr": 1.0}], lr=0.1, momentum=0.9)) == SGD_REPR


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda p: optim.SGD(p, lr=0.1), TypeError,
     "params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch.DoubleTensor"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda p: optim.SGD([1], lr=0.1), TypeError, "optimizer can only optimize Tensors, but one of the params is int"),
    (lambda p: optim.SGD([p * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda p: optim.SGD([{"params": {p}}], lr=0.1), TypeError,
     "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will "
     "change between runs. Please use a list instead."),
    (lambda p: optim.SGD([p]).add_param_group([p]), TypeError, "param_group must be a dict, but got <class 'list'>"),
    (lambda p: optim.SGD([p], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda p: optim.SGD([p], momentum=-1), ValueError, "Invalid momentum value: -1"),
    (lambda p: optim.SGD([p], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda p: optim.SGD([p], nesterov=True), ValueError, "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD([p], momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
])
def test_errors(make, error, message):
    (p,) = _params([1.0])
    with pytest.raises(error) as info:
        make(p)
    assert str(info.value) == message


def test_state_dict_round_trip_continues_identically():
    p, q = _params([1.0, -1.0], [0.5])
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9, nesterov=True)
    p.grad, q.grad = gs.tensor([1.0, 2.0], dtype=gs.float64), gs.tensor([-1.0], dtype=gs.float64)
    opt.step()
    state = opt.state_dict()
    assert list(state["state"]) == [0, 1] and state["state"][0]["momentum_buffer"] is opt.state[p]["momentum_buffer"]
    assert state["param_groups"][0]["params"] == [0, 1] and state["param_groups"][0]["nesterov"] is True

    p2, q2 = _params(p.tolist(), q.tolist())
    restored = optim.SGD([p2, q2], lr=0.5)
    restored.load_state_dict(state)
    assert restored.state[p2]["momentum_buffer"] is state["state"][0]["momentum_buffer"]  # aliased, as in torch
    restored.load_state_dict(copy.deepcopy(state))  # what a checkpoint file gives: buffers of its own
    assert restored.param_groups[0]["lr"] == 0.1 and restored.param_groups[0]["params"] == [p2, q2]
    state["param_groups"][0]["lr"] = 7.0
    assert restored.param_groups[0]["lr"] == 0.1  # the groups were copied, not shared
    p2.grad, q2.grad = p.grad.clone(), q.grad.clone()
    opt.step()
    restored.step()
    assert p2.tolist() == p.tolist() and q2.tolist() == q.tolist()

    (single,) = _params([1.0])
    narrow = optim.SGD([single], momentum=0.9)
    narrow.load_state_dict({"state": {0: {"momentum_buffer": gs.ones(1)}}, "param_groups": narrow.state_dict()[
        "param_groups"]})
    assert narrow.state[single]["momentum_buffer"].dtype == gs.float64  # cast to the parameter's dtype
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter groups"):
        narrow.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that doesn't match the size"):
        narrow.load_state_dict(state)


def test_training_a_model_reduces_the_loss():
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = gs.randn(32, 2)
    y = (x[:, :1] * 2 - x[:, 1:]).detach()
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]
