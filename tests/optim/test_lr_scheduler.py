"""optim.lr_scheduler against PyTorch's: 20 steps give the same learning rates (and momenta),
state_dict round trips, and the same errors and warnings."""

from __future__ import annotations

import warnings

import pytest

import gradscope as gs

torch = pytest.importorskip("torch")


def _optimizer(lib, kind="SGD"):
    params = [lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(1))]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


SCHEDULES = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, eta_min=0.001),
    "CosineAnnealingWarmRestarts-mult": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=8),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lr_lambda=[lambda e: 0.9**e, lambda e: 1 / (e + 1)]),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=20),
    "OneCycleLR-linear-3phase": lambda s, o: s.OneCycleLR(o, max_lr=0.3, epochs=4, steps_per_epoch=5,
                                                          anneal_strategy="linear", three_phase=True,
                                                          pct_start=0.25),
    "OneCycleLR-adam": lambda s, o: s.OneCycleLR(o, max_lr=0.01, total_steps=25, cycle_momentum=True),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.3, total_iters=6),
    "CyclicLR": lambda s, o: s.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5),
    "CyclicLR-triangular2": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=2,
                                                    mode="triangular2", base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-exp_range": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range",
                                                  gamma=0.9, cycle_momentum=False),
    "CyclicLR-scale_fn": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                 scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"),
    "CyclicLR-adam": lambda s, o: s.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=3),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=12, power=1.7),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lr_lambda=lambda e: 0.9 if e % 2 else 1.05),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler([s.ConstantLR(o, factor=0.5, total_iters=3),
                                                         s.ExponentialLR(o, gamma=0.85)], optimizer=o),
    "SequentialLR": lambda s, o: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=4),
                                                    s.ExponentialLR(o, gamma=0.8),
                                                    s.CosineAnnealingLR(o, T_max=5)], milestones=[4, 12]),
}


def _trajectory(lib, name):
    optimizer = _optimizer(lib, "Adam" if name.endswith("adam") else "SGD")
    scheduler = SCHEDULES[name](lib.optim.lr_scheduler, optimizer)
    seen = [scheduler.get_last_lr()]
    for _ in range(20 if "OneCycle" not in name else 19):
        optimizer.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr() + [group.get("momentum", group.get("betas")) for group in
                                               optimizer.param_groups])
    return seen, scheduler


@pytest.mark.parametrize("name", SCHEDULES)
def test_learning_rates_match_torch(name):
    ours, scheduler = _trajectory(gs, name)
    theirs, _ = _trajectory(torch, name)
    assert ours == theirs
    state = scheduler.state_dict()
    again = SCHEDULES[name](gs.optim.lr_scheduler, _optimizer(gs, "Adam" if name.endswith("adam") else "SGD"))
    again.load_state_dict(state)
    assert getattr(again, "last_epoch", None) == getattr(scheduler, "last_epoch", None)  # ChainedScheduler has none
    assert again.get_last_lr() == scheduler.get_last_lr()


@pytest.mark.parametrize(("mode", "threshold_mode", "cooldown", "min_lr"),
                         [("min", "rel", 0, 0), ("max", "abs", 2, 0.02), ("min", "abs", 1, [0.01, 0.0])])
def test_reduce_on_plateau_matches_torch(mode, threshold_mode, cooldown, min_lr):
    metrics = [1.0, 0.9, 0.9, 0.91, 0.9, 0.95, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.6, 0.9, 0.9, 0.9, 0.9]

    def run(lib):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=0.5, patience=1,
                                                             threshold=0.05, threshold_mode=threshold_mode,
                                                             cooldown=cooldown, min_lr=min_lr)
        seen = []
        for metric in metrics:
            optimizer.step()
            scheduler.step(metric)
            seen.append((scheduler.get_last_lr(), scheduler.num_bad_epochs, scheduler.best))
        return seen, scheduler

    ours, scheduler = run(gs)
    assert ours == run(torch)[0]
    restored = gs.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(gs), mode="max")
    restored.load_state_dict(scheduler.state_dict())
    assert restored.mode == mode and restored.best == scheduler.best


def test_closed_form_with_epoch_and_warnings():
    def run(lib):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scheduler.step()  # before optimizer.step(): warned
            optimizer.step()
            scheduler.step(7)
        return scheduler.get_last_lr(), [str(w.message) for w in caught]

    ours, theirs = run(gs), run(torch)
    assert ours == theirs and len(ours[1]) == 2


ERRORS = [
    lambda s, o: s.StepLR(object(), step_size=2),
    lambda s, o: s.LinearLR(o, start_factor=0),
    lambda s, o: s.LinearLR(o, end_factor=2),
    lambda s, o: s.LambdaLR(o, lr_lambda=[lambda e: 1.0]),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    lambda s, o: s.OneCycleLR(o, max_lr=[0.1], total_steps=10),
    lambda s, o: s.ReduceLROnPlateau(o, factor=1.0),
    lambda s, o: s.ReduceLROnPlateau(o, mode="mid"),
    lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda s, o: s.SequentialLR(o, [], milestones=[]),
    lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2)], milestones=[3]),
    lambda s, o: s.SequentialLR(o, [s.ReduceLROnPlateau(o)], milestones=[]),
    lambda s, o: s.StepLR(o, step_size=2, last_epoch=3),
    lambda s, o: s.ConstantLR(o, factor=1.5),
    lambda s, o: s.MultiplicativeLR(o, lr_lambda=0.5),
    lambda s, o: s.ChainedScheduler([]),
    lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, mode="sawtooth"),
    lambda s, o: s.CyclicLR(o, base_lr=[0.01], max_lr=0.1),
    lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2, 0.3]),
    lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, last_epoch=2),
]


def test_cyclic_lr_needs_momentum_to_cycle_it():
    def error(lib):
        optimizer = lib.optim.Adagrad([lib.nn.Parameter(lib.ones(2))])
        lib.optim.lr_scheduler.CyclicLR(optimizer, 0.01, 0.1, cycle_momentum=False)  # fine without cycling
        with pytest.raises(ValueError) as info:
            lib.optim.lr_scheduler.CyclicLR(optimizer, 0.01, 0.1)
        return str(info.value)

    assert error(gs) == error(torch) == "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"


@pytest.mark.parametrize("make", ERRORS)
def test_errors_match_torch(make):
    def error(lib):
        with pytest.raises(Exception) as info:
            make(lib.optim.lr_scheduler, _optimizer(lib))
        return type(info.value).__name__, str(info.value)

    assert error(gs) == error(torch)


def test_one_cycle_refuses_a_step_past_the_end():
    optimizer = _optimizer(gs)
    scheduler = gs.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=2)
    optimizer.step()
    scheduler.step()
    scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
        scheduler.step()


def test_get_lr_outside_step_warns_as_torch():
    def run(lib):
        scheduler = lib.optim.lr_scheduler.ExponentialLR(_optimizer(lib), gamma=0.5)
        with pytest.warns(UserWarning) as caught:
            values = scheduler.get_lr()
        return values, [str(w.message) for w in caught]

    assert run(gs) == run(torch)


@pytest.mark.parametrize("t_mult", [1, 3])
def test_warm_restarts_with_fractional_epochs_match_torch(t_mult):
    def run(lib):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=4, T_mult=t_mult, eta_min=0.01)
        seen = []
        for epoch in (0.25, 1.5, 3.99, 4.0, 7.3, 16.0, 17.5, 2.0, 40.1):
            optimizer.step()
            scheduler.step(epoch)
            seen.append((scheduler.get_last_lr(), scheduler.T_i, scheduler.T_cur, scheduler.last_epoch))
        return seen

    assert run(gs) == run(torch)


@pytest.mark.parametrize("arguments", [dict(T_0=0), dict(T_0=2.5), dict(T_0=2, T_mult=0), dict(T_0=2, eta_min="x")])
def test_warm_restarts_argument_errors_match_torch(arguments):
    errors = []
    for lib in (gs, torch):
        with pytest.raises(ValueError) as caught:
            lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(lib), **arguments)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
