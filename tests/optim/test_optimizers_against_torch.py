"""Every optimiser against PyTorch's: three steps from the same parameters and gradients give the
same parameters (float64 tightly, float32 kept float32), state and version counters."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gradscope as gs

torch = pytest.importorskip("torch")

CONFIGS = {
    "SGD": [{"lr": 0.1}, {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.1},
            {"lr": 0.05, "momentum": 0.8, "nesterov": True, "maximize": True}],
    "Adam": [{}, {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1},
             {"lr": 0.02, "amsgrad": True, "maximize": True}, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True,
                                                                "decoupled_weight_decay": True},
             {"lr": 0.1, "betas": (0.3, 0.5)}],
    "AdamW": [{}, {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}, {"lr": 0.01, "maximize": True}],
    "RMSprop": [{}, {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "weight_decay": 0.1},
                {"lr": 0.01, "centered": True, "maximize": True}, {"centered": True, "momentum": 0.5, "eps": 1e-3}],
    "Adagrad": [{}, {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
                {"lr": 0.05, "eps": 1e-3, "maximize": True}],
    "Adamax": [{}, {"lr": 0.01, "betas": (0.7, 0.8), "weight_decay": 0.1}, {"lr": 0.05, "maximize": True}],
    "NAdam": [{}, {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01},
              {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}],
    "RAdam": [{}, {"lr": 0.01, "betas": (0.5, 0.6), "weight_decay": 0.1},
              {"lr": 0.01, "betas": (0.5, 0.6), "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}],
    "Adadelta": [{}, {"lr": 0.5, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.1}, {"lr": 0.1, "maximize": True}],
    "Rprop": [{}, {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (0.01, 0.12)}, {"lr": 0.05, "maximize": True}],
    # t0 small enough that the average starts moving (mu < 1) within the steps
    "ASGD": [{}, {"lr": 0.1, "lambd": 0.01, "alpha": 0.5, "t0": 1, "weight_decay": 0.1},
             {"lr": 0.05, "t0": 0, "maximize": True}],
    "Adafactor": [{}, {"lr": 0.1, "beta2_decay": -0.5, "eps": (1e-6, 1e-2), "d": 2.0, "weight_decay": 0.1},
                  {"lr": 0.05, "maximize": True}],
}
CASES = [(name, config) for name, configs in CONFIGS.items() for config in configs]
SHAPES = [(3, 4), (4,), ()]


def _run(lib, name, config, dtype, values, grads):
    params = [lib.nn.Parameter(lib.tensor(v, dtype=dtype)) for v in values]
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": config.get("lr", 0.01) / 2}]
    opt = getattr(lib.optim, name)(groups, **config)
    for step in grads:
        for param, grad in zip(params, step, strict=True):
            param.grad = lib.tensor(grad, dtype=dtype)
        opt.step()
    return params, opt


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "config"), CASES, ids=[f"{n}-{i}" for n, c in CONFIGS.items() for i in range(len(c))])
def test_three_steps_match_torch(name, config, dtype):
    rng = np.random.default_rng(1)
    values = [rng.standard_normal(shape) for shape in SHAPES]
    grads = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(3)]
    ours, opt_ours = _run(gs, name, config, getattr(gs, dtype), values, grads)
    theirs, opt_theirs = _run(torch, name, config, getattr(torch, dtype), values, grads)
    tolerance = 1e-13 if dtype == "float64" else 5e-7
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == getattr(gs, dtype)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tolerance, atol=tolerance)
        assert a._version == b._version
    state_ours, state_theirs = opt_ours.state_dict(), opt_theirs.state_dict()
    assert state_ours["param_groups"] == state_theirs["param_groups"]
    assert repr(opt_ours) == repr(opt_theirs)
    for index, saved in state_theirs["state"].items():
        mine = state_ours["state"][index]
        assert list(mine) == list(saved)
        for key, value in saved.items():
            assert mine[key].dtype == getattr(gs, str(value.dtype).removeprefix("torch."))
            np.testing.assert_allclose(mine[key].numpy(), value.numpy(), rtol=tolerance, atol=tolerance)


BAD_ARGUMENTS = [
    ("Adam", {"lr": -1e-3}), ("Adam", {"eps": -1.0}), ("Adam", {"betas": (1.0, 0.9)}), ("Adam", {"betas": (0.9, -0.1)}),
    ("Adam", {"weight_decay": -0.1}), ("Adam", {"betas": (0, 0.9)}),
    ("Adam", {"fused": True, "differentiable": True}), ("Adam", {"fused": True, "foreach": True}),
    ("AdamW", {"lr": -0.5}), ("AdamW", {"betas": (0.9, 1.5)}),
    ("RMSprop", {"lr": -1}), ("RMSprop", {"eps": -1}), ("RMSprop", {"momentum": -1}), ("RMSprop", {"alpha": -1}),
    ("RMSprop", {"weight_decay": -1}),
    ("Adagrad", {"lr": -1}), ("Adagrad", {"lr_decay": -1}), ("Adagrad", {"weight_decay": -1}),
    ("Adagrad", {"initial_accumulator_value": -1}), ("Adagrad", {"eps": -1}),
    ("Adamax", {"lr": -1}), ("Adamax", {"betas": (0.9, 1.0)}), ("Adamax", {"eps": -1}),
    ("NAdam", {"lr": -1}), ("NAdam", {"momentum_decay": -1}), ("NAdam", {"betas": (-0.1, 0.9)}),
    ("RAdam", {"lr": -1}), ("RAdam", {"weight_decay": -1}), ("RAdam", {"betas": (0.9, 2.0)}),
    ("Adadelta", {"lr": -1}), ("Adadelta", {"rho": 1.5}), ("Adadelta", {"eps": -1}), ("Adadelta", {"weight_decay": -1}),
    ("Rprop", {"lr": -1}), ("Rprop", {"etas": (1.5, 1.2)}), ("Rprop", {"etas": (0.5, 1.0)}),
    ("ASGD", {"lr": -1}), ("ASGD", {"weight_decay": -1}),
    ("Adafactor", {"lr": -1}), ("Adafactor", {"beta2_decay": 0.5}), ("Adafactor", {"eps": (-1, 1e-3)}),
    ("Adafactor", {"eps": (None, -1)}), ("Adafactor", {"d": 0.5}), ("Adafactor", {"weight_decay": -1}),
]


@pytest.mark.parametrize(("name", "config"), BAD_ARGUMENTS, ids=[f"{n}-{next(iter(c))}" for n, c in BAD_ARGUMENTS])
def test_bad_arguments_raise_torchs_errors(name, config):
    def error(lib):
        with pytest.raises(Exception) as info:
            getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(2))], **config)
        return type(info.value).__name__, str(info.value)

    assert error(gs) == error(torch)


@pytest.mark.parametrize(("name", "config"), [(name, configs[-1]) for name, configs in CONFIGS.items()])
def test_state_dict_round_trip_continues_identically(name, config):
    rng = np.random.default_rng(2)
    values = [rng.standard_normal(shape) for shape in SHAPES]
    grads = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(4)]
    params, opt = _run(gs, name, config, gs.float64, values, grads[:2])
    saved = copy.deepcopy(opt.state_dict())
    copies, restored = _run(gs, name, config, gs.float64, [p.tolist() for p in params], [])
    restored.load_state_dict(saved)
    assert restored.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for step in grads[2:]:
        for optimizer, tensors in ((opt, params), (restored, copies)):
            for param, grad in zip(tensors, step, strict=True):
                param.grad = gs.tensor(grad, dtype=gs.float64)
            optimizer.step()
    for a, b in zip(params, copies, strict=True):
        if name in ("NAdam", "ASGD"):  # loading casts the float32 mu_product (ASGD: eta, mu) to the parameter's
            # dtype, in torch too: the restored run continues from the float32 values, more precisely
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9 if name == "NAdam" else 1e-7)
        else:
            assert a.tolist() == b.tolist()


def test_add_param_group_fills_defaults_and_state_starts_lazily():
    p, q = gs.nn.Parameter(gs.ones(2)), gs.nn.Parameter(gs.ones(3))
    opt = gs.optim.Adam([p], lr=0.1, amsgrad=True)
    opt.add_param_group({"params": [q], "betas": (0.5, 0.9)})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["amsgrad"] is True and not opt.state
    q.grad = gs.ones(3)
    opt.step()
    assert list(opt.state[q]) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"] and p not in opt.state
    assert opt.state[q]["exp_avg"].tolist() == [0.5] * 3 and opt.state[q]["step"].item() == 1.0
    adagrad = gs.optim.Adagrad([p], initial_accumulator_value=0.5)
    assert adagrad.state[p]["sum"].tolist() == [0.5, 0.5]  # created up front, as torch does


def test_adafactor_refuses_complex_parameters_as_torch():
    def error(lib):
        param = lib.nn.Parameter(lib.ones(2, dtype=lib.complex128))
        param.grad = lib.ones(2, dtype=lib.complex128)
        with pytest.raises(RuntimeError) as info:
            lib.optim.Adafactor([param]).step()
        return str(info.value)

    assert error(gs) == error(torch) == "Adafactor does not support complex parameters"


@pytest.mark.parametrize(("name", "config"), [(name, configs[1]) for name, configs in CONFIGS.items()
                                              if name != "Adafactor"])
def test_complex_parameters_and_a_tensor_lr_match_torch(name, config):
    rng = np.random.default_rng(3)
    value = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2)) for _ in range(3)]

    def run(lib):
        param = lib.nn.Parameter(lib.tensor(value))
        real = lib.nn.Parameter(lib.tensor(value.real))
        opt = getattr(lib.optim, name)([param], **config)
        with_tensor_lr = getattr(lib.optim, name)([real], **{**config, "lr": lib.tensor(config.get("lr", 0.01))})
        for grad in grads:
            param.grad, real.grad = lib.tensor(grad), lib.tensor(grad.real)
            opt.step()
            with_tensor_lr.step()
        return param.detach().numpy(), real.detach().numpy()

    for ours, theirs in zip(run(gs), run(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", ["Adam", "SGD", "RMSprop"])
def test_gradients_in_another_layout_match_torch(name):
    """A weight's gradient through `weight.T` arrives Fortran-ordered; it is read tile by tile."""
    rng = np.random.default_rng(4)
    value, grads = rng.standard_normal((130, 70)), [rng.standard_normal((70, 130)) for _ in range(2)]

    def run(lib):
        param = lib.nn.Parameter(lib.tensor(value))
        opt = getattr(lib.optim, name)([param], lr=0.01, maximize=True, weight_decay=0.1)
        for grad in grads:
            param.grad = lib.tensor(grad).t()
            opt.step()
        return param.detach().numpy()

    np.testing.assert_allclose(run(gs), run(torch), rtol=1e-13, atol=1e-13)
