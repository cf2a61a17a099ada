"""The two-frame forwards of mse_loss, smooth_l1_loss, huber_loss, binary_cross_entropy and
binary_cross_entropy_with_logits (autograd/fused_target_losses.py) make the outputs and nodes the general path makes
(functions._binary, dispatch.apply), PyTorch's graph, values and gradients, and anomaly mode's stacks and reports;
every other call takes the general path, with its warnings and errors."""

import functools
import itertools
import warnings

import numpy as np
import pytest
import torch
from quiet_helpers import quiet_context_held_elsewhere
from test_fused_products import _general, _order, _same_tensor, _Watcher

import gradscope as gs
import gradscope.nn.functional as F
from gradscope.autograd import fused_target_losses, observers
from gradscope.autograd.stacks import format_stack


@pytest.fixture
def served(monkeypatch):
    """The calls the fast forwards computed (the general path never calls their QUIET_RUN)."""
    calls, run = [], fused_target_losses.QUIET_RUN

    def spy(*args):
        result = run(*args)
        calls.append(args)
        return result

    monkeypatch.setattr(fused_target_losses, "QUIET_RUN", spy)
    return calls


# each loss with its common keyword and a value for it: (name, {keyword: value})
LOSSES = [("mse_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 2}),
          ("huber_loss", {"delta": 1.5}), ("huber_loss", {}), ("binary_cross_entropy", {}),
          ("binary_cross_entropy_with_logits", {})]


def _values(name, rng, shape):
    """Inputs or targets for loss `name`: probabilities for binary_cross_entropy (0 and 1 among them), else any."""
    if name == "binary_cross_entropy":
        values = rng.uniform(0.02, 0.98, shape)
        values.flat[:2] = 0.0, 1.0
        return values
    return rng.standard_normal(shape) * 2


def _inputs(dtype, name):
    """Inputs (4, 3) that need a gradient: a leaf, a non-leaf, a view of a leaf (rows), a transposed leaf, a view
    whose base came to require grad after it was made (changed in place by a product with a leaf)."""
    rng = np.random.default_rng(0)
    values = _values(name, rng, (4, 3)).astype(dtype)
    leaf = gs.tensor(values, requires_grad=True)
    wide = gs.tensor(np.concatenate([values, values]), requires_grad=True)
    base = gs.tensor(values.T.copy())
    stale = base.t()
    base.mul_(gs.ones(3, 4, dtype=base.dtype, requires_grad=True))
    return [leaf, leaf * 1.0, wide[2:6], gs.tensor(values.T.copy(), requires_grad=True).t(), stale]


def _targets(dtype, name):
    """Targets: one that needs no gradient, a leaf that does, a non-leaf."""
    values = _values(name, np.random.default_rng(1), (4, 3)).astype(dtype)
    return [gs.tensor(values), gs.tensor(values, requires_grad=True), gs.tensor(values, requires_grad=True) * 1.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "keywords"), LOSSES)
def test_the_forward_matches_the_general_path(dtype, reduction, name, keywords, served):
    function = getattr(F, name)
    for index, (input, target) in enumerate(itertools.product(_inputs(dtype, name), _targets(dtype, name))):
        fast = function(input, target, reduction=reduction, **keywords)
        assert len(served) == index + 1
        general = _general(functools.partial(function, input, target, reduction=reduction, **keywords))
        assert len(served) == index + 1
        _same_tensor(fast, general)  # node for node: class, edges, metadata, attributes, saved entries
        assert _order(fast.grad_fn) == _order(general.grad_fn)
        assert fast._data.tobytes() == general._data.tobytes()
        wanted = [x for x in (input, target) if x.requires_grad]
        grads = [gs.autograd.grad(loss, wanted, gs.ones_like(loss)) for loss in (fast, general)]
        for mine, theirs in zip(*grads, strict=True):
            assert mine._data.tobytes() == theirs._data.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "keywords"), LOSSES)
def test_it_makes_torchs_graph_values_and_gradients(dtype, reduction, name, keywords, served):
    rng = np.random.default_rng(2)
    values, goals = _values(name, rng, (5, 2)).astype(dtype), _values(name, rng, (5, 2)).astype(dtype)
    results = []
    for lib in (gs, torch):
        input, target = lib.tensor(values, requires_grad=True), lib.tensor(goals, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(input, target, reduction=reduction, **keywords)
        saved = loss.grad_fn._saved_self, loss.grad_fn._saved_target
        assert [x.detach().numpy().tobytes() for x in saved] == [values.tobytes(), goals.tobytes()]
        loss.backward(lib.ones_like(loss))
        results.append((loss, input.grad, target.grad))
    assert len(served) == 1
    (loss, grad, target_grad), (expected, expected_grad, expected_target_grad) = results
    assert loss.grad_fn.name() == expected.grad_fn.name()
    assert [type(fn).__name__ for fn, _ in loss.grad_fn.next_functions] == [
        type(fn).__name__ for fn, _ in expected.grad_fn.next_functions]
    assert loss.dtype == gs.float32 if dtype == np.float32 else gs.float64
    tolerance = 1e-6 if dtype == np.float32 else 1e-12
    for mine, theirs in ((loss, expected), (grad, expected_grad), (target_grad, expected_target_grad)):
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=tolerance, atol=tolerance)


def test_gradients_match_finite_differences(served):
    rng = np.random.default_rng(4)
    for name, keywords in LOSSES:
        input = gs.tensor(np.clip(_values(name, rng, (3, 2)), 0.1, 0.9) if name == "binary_cross_entropy"
                          else _values(name, rng, (3, 2)), requires_grad=True)  # (away from the logs' clamps)
        target = gs.tensor(_values(name, rng, (3, 2)), requires_grad=True)
        assert gs.autograd.gradcheck(functools.partial(getattr(F, name), **keywords), (input, target))
    assert served


def _x(L, values):
    return L.tensor(values, requires_grad=True)


@pytest.mark.parametrize("case", [
    "broadcast target", "legacy reduce", "bad reduction", "weight", "beta 0", "negative beta", "huber delta 0",
    "huber weight", "dtype mismatch", "half", "no grad needed", "number target", "list reduction",
    "bce out of range", "bce nan", "bce weight", "bce shape", "bce dtype", "logits weight", "logits pos_weight",
    "logits shape", "logits legacy"])
def test_it_steps_aside_for_the_general_paths_values_warnings_and_errors(case, served):
    """Every call it does not serve takes the general path: its value and graph (PyTorch's), its warning or its
    error (PyTorch's type and words)."""
    rng = np.random.default_rng(3)
    values, goals, probs = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3))
    cases = {
        "broadcast target": lambda L, F: F.mse_loss(_x(L, values), L.tensor(goals[:1])),
        "legacy reduce": lambda L, F: F.mse_loss(_x(L, values), L.tensor(goals), reduce=False),
        "bad reduction": lambda L, F: F.smooth_l1_loss(_x(L, values), L.tensor(goals), reduction="avg"),
        "weight": lambda L, F: F.mse_loss(_x(L, values), L.tensor(goals), weight=L.tensor(goals) ** 2),
        "beta 0": lambda L, F: F.smooth_l1_loss(_x(L, values), L.tensor(goals), beta=0.0),
        "negative beta": lambda L, F: F.smooth_l1_loss(_x(L, values), L.tensor(goals), beta=-1.0),
        "huber delta 0": lambda L, F: F.huber_loss(_x(L, values), L.tensor(goals), delta=0.0),
        "huber weight": lambda L, F: F.huber_loss(_x(L, values), L.tensor(goals), weight=L.tensor(goals) ** 2),
        "dtype mismatch": lambda L, F: F.mse_loss(_x(L, values.astype(np.float32)), L.tensor(goals)),
        "half": lambda L, F: F.mse_loss(_x(L, values.astype(np.float16)), L.tensor(goals.astype(np.float16))),
        "no grad needed": lambda L, F: F.huber_loss(L.tensor(values), L.tensor(goals)),
        "number target": lambda L, F: F.mse_loss(_x(L, values), 1.0),
        "list reduction": lambda L, F: F.mse_loss(_x(L, values), L.tensor(goals), reduction=["mean"]),
        "bce out of range": lambda L, F: F.binary_cross_entropy(_x(L, values), L.tensor(goals)),
        "bce nan": lambda L, F: F.binary_cross_entropy(_x(L, np.full(2, np.nan)), L.tensor(probs[:2])),
        "bce weight": lambda L, F: F.binary_cross_entropy(_x(L, probs), L.tensor(probs), weight=L.tensor(probs)),
        "bce shape": lambda L, F: F.binary_cross_entropy(_x(L, probs), L.tensor(probs[:1])),
        "bce dtype": lambda L, F: F.binary_cross_entropy(_x(L, probs), L.tensor(probs.astype(np.float32))),
        "logits weight": lambda L, F: F.binary_cross_entropy_with_logits(_x(L, values), L.tensor(probs),
                                                                         weight=L.tensor(probs)),
        "logits pos_weight": lambda L, F: F.binary_cross_entropy_with_logits(_x(L, values), L.tensor(probs),
                                                                             pos_weight=L.tensor(probs[0])),
        "logits shape": lambda L, F: F.binary_cross_entropy_with_logits(_x(L, values), L.tensor(probs[0])),
        "logits legacy": lambda L, F: F.binary_cross_entropy_with_logits(_x(L, values), L.tensor(probs),
                                                                         size_average=False),
    }
    function = cases[case]
    with warnings.catch_warnings(record=True) as expected_warnings:
        warnings.simplefilter("always")
        try:
            expected = function(torch, torch.nn.functional)
        except Exception as error:  # noqa: BLE001 - PyTorch's error is the spec
            expected = error
    with warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        if isinstance(expected, Exception):
            with pytest.raises(type(expected)) as caught:
                function(gs, F)
            if case != "number target":  # (PyTorch's words name its own attribute)
                assert str(caught.value) == str(expected)
        else:
            mine = function(gs, F)
            np.testing.assert_allclose(mine.detach().numpy().astype(float),
                                       expected.detach().numpy().astype(float), rtol=1e-3 if case == "half" else 1e-6)
            assert (mine.grad_fn is None) == (expected.grad_fn is None)
            if mine.grad_fn is not None:
                assert mine.grad_fn.name() == expected.grad_fn.name()
    assert [str(w.message) for w in caught_warnings] == [str(w.message) for w in expected_warnings]
    if case == "broadcast target":  # the user's line, as PyTorch's (and the general path's before the fast one)
        assert [w.filename for w in caught_warnings] == [__file__]
    assert not served


def test_modes_observers_and_inference_tensors_take_the_general_path(served):
    input, target = gs.randn(3, 4, requires_grad=True), gs.randn(3, 4)
    with gs.no_grad():
        assert F.mse_loss(input, target).grad_fn is None
    with gs.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        F.mse_loss(input, target).backward()
    with gs.inference_mode():
        frozen = gs.randn(3, 4)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        F.mse_loss(input, frozen)
    assert F.mse_loss(gs.nn.Parameter(gs.randn(3, 4)), target).grad_fn.name() == "MseLossBackward0"  # a subclass
    assert not served
    F.mse_loss(input, target)
    assert len(served) == 1


def test_numpy_errors_stay_silent_even_while_another_thread_holds_the_quiet_context(served):
    values = np.array([[np.inf, 0.0], [np.finfo(np.float32).max, -np.inf]], np.float32)
    input, target = gs.tensor(values, requires_grad=True), gs.tensor(values[::-1].copy())
    with np.errstate(all="raise"):
        state = np.geterr()
        fast = F.mse_loss(input, target, reduction="none")
        assert np.geterr() == state and len(served) == 1
        with quiet_context_held_elsewhere():
            blocked = F.mse_loss(input, target, reduction="none")
    assert len(served) == 1
    _same_tensor(fast, blocked)
    expected = torch.nn.functional.mse_loss(torch.tensor(values), torch.tensor(values[::-1].copy()), reduction="none")
    np.testing.assert_array_equal(fast._data, expected.numpy())


def test_an_input_changed_in_place_before_the_backward_raises_torchs_error(served):
    results = []
    for lib in (gs, torch):
        input, target = lib.ones(2, 3, requires_grad=True), lib.zeros(2, 3)
        loss = lib.nn.functional.mse_loss(input, target)
        target.add_(1)
        with pytest.raises(RuntimeError) as caught:
            loss.backward()
        results.append(str(caught.value).replace("torch.", "").split("Hint")[0])
    assert results[0] == results[1]
    assert len(served) == 1


def _step(model, x, y):
    return F.mse_loss(model(x), y)  # the loss's line


def _both_paths(function, *args) -> list:
    """`function(*args)` called from one line twice: served, then by the general path (a watcher listening)."""
    results = []
    for listened in (False, True):
        watcher = _Watcher()
        if listened:
            observers.add_watcher(watcher)
        try:
            results.append(function(*args))
        finally:
            if listened:
                observers.remove_watcher(watcher)
    return results


def test_anomaly_modes_stack_is_the_users_line_as_the_general_paths(served):
    """The node's stack under detect_anomaly is the user's, outside a module call and inside one (nn.MSELoss), the
    same as the general path's; check_forward reports a loss that turned finite values non-finite, at its line."""
    model = gs.nn.Linear(3, 1)
    x, y = gs.randn(4, 3), gs.randn(4, 1)
    criterion = gs.nn.MSELoss()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with gs.autograd.detect_anomaly():
            fast, general = _both_paths(_step, model, x, y)
            inside, general_inside = _both_paths(criterion, model(x), y)
            assert len(served) == 2
        for mine, theirs in ((fast, general), (inside, general_inside)):
            assert format_stack(mine.grad_fn.frames) == format_stack(theirs.grad_fn.frames)
        assert format_stack(fast.grad_fn.frames)[-1].endswith("return F.mse_loss(model(x), y)  # the loss's line\n")
        assert "results.append(function(*args))" in format_stack(inside.grad_fn.frames)[-1]
        assert inside.grad_fn.module_call.module is general_inside.grad_fn.module_call.module is criterion
        huge = gs.full((2,), 3e38, requires_grad=True)
        with gs.autograd.detect_anomaly(check_forward=True), pytest.raises(RuntimeError) as caught:
            F.mse_loss(huge, gs.zeros(2), reduction="sum")  # the culprit's line
        assert len(served) == 3
    assert str(caught.value).startswith("Function 'MseLossBackward0' returned inf values in its 0th output during "
                                        "the forward pass (op mse_loss).")
    assert caught.value.report.location.endswith(f"{__file__.rsplit('/', 1)[-1]}:{_line_of('# the culprit')}")


def _line_of(marker: str) -> int:
    with open(__file__) as source:
        return next(number for number, line in enumerate(source, 1) if marker in line and "_line_of" not in line)
