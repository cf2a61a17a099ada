"""optim.swa_utils against torch: AveragedModel's running mean (SWA), EMA through avg_fn and multi_avg_fn,
with and without buffers, its state_dict keys; update_bn's recomputed statistics; SWALR's learning rates."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope as gs

torch = pytest.importorskip("torch")


def _model(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def _values(model):
    return {key: value.detach().numpy().copy() for key, value in model.state_dict().items()}


def _load(lib, model, values):
    model.load_state_dict({key: lib.tensor(value) for key, value in values.items()})


AVERAGES = {
    "swa": lambda u, m: u.AveragedModel(m),
    "ema multi": lambda u, m: u.AveragedModel(m, multi_avg_fn=u.get_ema_multi_avg_fn(0.9)),
    "ema multi with buffers": lambda u, m: u.AveragedModel(m, multi_avg_fn=u.get_ema_multi_avg_fn(0.7),
                                                           use_buffers=True),
    "ema avg_fn": lambda u, m: u.AveragedModel(m, avg_fn=u.get_ema_avg_fn(0.8)),
    "swa avg_fn with buffers": lambda u, m: u.AveragedModel(m, avg_fn=u.get_swa_avg_fn(), use_buffers=True),
}


@pytest.mark.parametrize("name", AVERAGES)
def test_averaged_model_matches_torch(name):
    rng = np.random.default_rng(0)
    snapshots = []
    for _ in range(4):
        torch.manual_seed(int(rng.integers(1000)))
        model = _model(torch)
        model(torch.randn(5, 3))  # moves the batch-norm statistics
        snapshots.append(_values(model))

    def run(lib):
        model = _model(lib)
        _load(lib, model, snapshots[0])
        averaged = AVERAGES[name](lib.optim.swa_utils, model)
        for values in snapshots:
            _load(lib, model, values)
            averaged.update_parameters(model)
        return list(averaged.state_dict()), _values(averaged)

    (our_keys, ours), (their_keys, theirs) = run(gs), run(torch)
    assert our_keys == their_keys
    for key in their_keys:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6, atol=1e-7, err_msg=key)


def test_swa_multi_avg_fn_refuses_integer_buffers_as_torch():
    """num_batches_tracked is an integer buffer: the foreach form's addcdiv refuses integer division."""
    def error(lib):
        model = _model(lib)
        averaged = lib.optim.swa_utils.AveragedModel(model, multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn(),
                                                     use_buffers=True)
        averaged.update_parameters(model)
        with pytest.raises(RuntimeError) as info:
            averaged.update_parameters(model)
        return str(info.value)

    assert error(gs) == error(torch)


def test_update_bn_matches_torch():
    torch.manual_seed(1)
    model = _model(torch)
    values = _values(model)
    batches = [torch.randn(6, 3).numpy() for _ in range(3)]

    def run(lib):
        net = _model(lib)
        _load(lib, net, values)
        net.eval()
        lib.optim.swa_utils.update_bn([(lib.tensor(b), lib.zeros(6)) for b in batches], net)
        return net.training, net[1].momentum, _values(net)

    (training, momentum, ours), (their_training, their_momentum, theirs) = run(gs), run(torch)
    assert (training, momentum) == (their_training, their_momentum) == (False, 0.1)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("options", [dict(swa_lr=0.05), dict(swa_lr=[0.02, 0.2], anneal_epochs=3),
                                     dict(swa_lr=0.05, anneal_epochs=4, anneal_strategy="linear"),
                                     dict(swa_lr=0.05, anneal_epochs=0)])
def test_swalr_matches_torch(options):
    def run(lib):
        params = [lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(1))]
        optimizer = lib.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=0.1)
        scheduler = lib.optim.swa_utils.SWALR(optimizer, **options)
        rates = [scheduler.get_last_lr()]
        for _ in range(8):
            optimizer.step()
            scheduler.step()
            rates.append(scheduler.get_last_lr())
        restored = lib.optim.swa_utils.SWALR(optimizer, **options)
        restored.load_state_dict(scheduler.state_dict())
        return rates, restored.anneal_func(0.5)

    assert run(gs) == run(torch)


ERRORS = [
    lambda u, o, m: u.get_ema_multi_avg_fn(1.5),
    lambda u, o, m: u.get_ema_avg_fn(-0.1),
    lambda u, o, m: u.AveragedModel(m, avg_fn=u.get_swa_avg_fn(), multi_avg_fn=u.get_swa_multi_avg_fn()),
    lambda u, o, m: u.SWALR(o, swa_lr=0.1, anneal_strategy="exp"),
    lambda u, o, m: u.SWALR(o, swa_lr=0.1, anneal_epochs=-1),
    lambda u, o, m: u.SWALR(o, swa_lr=[0.1, 0.2]),
]


@pytest.mark.parametrize("make", ERRORS)
def test_errors_match_torch(make):
    def error(lib):
        model = lib.nn.Linear(2, 2)
        with pytest.raises(Exception) as info:
            make(lib.optim.swa_utils, lib.optim.SGD(model.parameters(), lr=0.1), model)
        return type(info.value).__name__, str(info.value)

    assert error(gs) == error(torch)
