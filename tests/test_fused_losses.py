"""cross_entropy's one-frame forward (autograd/fused_losses.py) makes the outputs and nodes the general path makes
(log_softmax, then nll_loss through dispatch.apply), and PyTorch's graph, values, gradients and errors."""

import itertools

import numpy as np
import pytest
import torch
from quiet_helpers import quiet_context_held_elsewhere
from test_fused_products import _general, _order, _same_tensor

import gradscope as gs
import gradscope.nn.functional as F
from gradscope.autograd import fused_losses
from gradscope.autograd.node import _validate_all
from gradscope.ops import nn as N
from gradscope.ops.namespace import NUMPY


@pytest.fixture
def served(monkeypatch):
    """How many calls the one-frame forward computed (the general path never calls its `_arrays`)."""
    calls, arrays = [], fused_losses._arrays

    def spy(*args):
        calls.append(args)
        return arrays(*args)

    monkeypatch.setattr(fused_losses, "_arrays", spy)
    return calls


def _logits(dtype):
    """Logits (5, 4) that need a gradient: a leaf, a non-leaf, a view of a leaf (rows), a transposed leaf, a view
    whose base came to require grad after it was made (changed in place by a product with a leaf); the last two
    rows hold a large value and ±inf."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal((5, 4)).astype(dtype)
    values[3, 1], values[4] = np.finfo(dtype).max / 2, [-np.inf, 0.0, 1.0, 2.0]
    leaf = gs.tensor(values, requires_grad=True)
    wide = gs.tensor(np.concatenate([values, values]), requires_grad=True)
    base = gs.tensor(values.T.copy())
    stale = base.t()
    base.mul_(gs.ones(4, 5, dtype=base.dtype, requires_grad=True))
    return [leaf, leaf * 1.0, wide[2:7], gs.tensor(values.T.copy(), requires_grad=True).t(), stale]


def _targets():
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 4, 5)
    return [gs.tensor(classes), gs.tensor(classes.astype(np.uint8)), gs.tensor(np.full(5, 3))]


def _same_held(a, b):
    """The targets each node holds: the same tensor, its version then, as the same array."""
    assert len(a._held) == len(b._held) == 2 and a._held[1] is b._held[1] is None
    (array_a, counter_a, version_a, target_a, fn_a), (array_b, counter_b, version_b, target_b, fn_b) = a._held[0], \
        b._held[0]
    assert array_a is array_b and counter_a is counter_b and version_a == version_b
    assert target_a is target_b and fn_a is fn_b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_the_forward_matches_the_general_path(dtype, reduction, served):
    cases = itertools.product(_logits(dtype), _targets(), (-100, 4, -1))
    for index, (logits, target, ignore_index) in enumerate(cases):
        fast = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction=reduction)
        assert len(served) == index + 1
        general = _general(F.cross_entropy, logits, target, None, None, ignore_index, None, reduction)
        assert len(served) == index + 1
        _same_tensor(fast, general)
        assert _order(fast.grad_fn) == _order(general.grad_fn)
        assert fast._data.tobytes() == general._data.tobytes()
        _same_held(fast.grad_fn, general.grad_fn)
        probs, general_probs = fast.grad_fn._saved_self, general.grad_fn._saved_self
        assert probs.grad_fn is fast.grad_fn.next_functions[0][0]
        assert probs._data.tobytes() == general_probs._data.tobytes()
        (grad,), (general_grad,) = (gs.autograd.grad(loss, logits, gs.ones_like(loss)) for loss in (fast, general))
        assert grad._data.tobytes() == general_grad._data.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 7])
def test_it_makes_torchs_graph_values_and_gradients(dtype, reduction, ignore_index, served):
    rng = np.random.default_rng(2)
    values, classes = rng.standard_normal((6, 5)).astype(dtype), rng.integers(0, 5, 6)
    ours, theirs = gs.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    mine = gs.nn.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index)(ours, gs.tensor(classes))
    torch_loss = torch.nn.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index)(
        theirs, torch.tensor(classes))
    assert served
    np.testing.assert_allclose(mine._data, torch_loss.detach().numpy(), rtol=1e-6)
    nll, torch_nll = mine.grad_fn, torch_loss.grad_fn
    assert (nll.name(), nll.next_functions[0][0].name()) == (torch_nll.name(), torch_nll.next_functions[0][0].name())
    assert nll._saved_reduction == torch_nll._saved_reduction
    assert nll._saved_ignore_index == torch_nll._saved_ignore_index
    assert nll._saved_weight is None and torch_nll._saved_weight is None
    np.testing.assert_array_equal(nll._saved_target._data, torch_nll._saved_target.numpy())
    np.testing.assert_array_equal(nll._saved_total_weight._data, torch_nll._saved_total_weight.numpy())
    np.testing.assert_allclose(nll._saved_self._data, torch_nll._saved_self.detach().numpy(), rtol=1e-6)
    softmax, torch_softmax = nll.next_functions[0][0], torch_nll.next_functions[0][0]
    assert softmax._saved_dim == torch_softmax._saved_dim
    np.testing.assert_allclose(softmax._saved_result._data, torch_softmax._saved_result.detach().numpy(), rtol=1e-6)
    assert softmax.next_functions[0][0].variable is ours
    weights = rng.standard_normal(mine.shape).astype(dtype)
    mine.backward(gs.tensor(weights))
    torch_loss.backward(torch.tensor(weights))
    np.testing.assert_allclose(ours.grad._data, theirs.grad.numpy(), rtol=1e-5, atol=1e-7)


def _torch_error(function):
    with pytest.raises(Exception) as caught:
        function(torch, torch.nn.functional)
    return caught


@pytest.mark.parametrize("case", [
    "target out of bounds", "negative target", "ignored targets", "ignore_index a class", "float targets",
    "bool targets", "int32 targets", "batch mismatch", "2-D targets", "weight", "label smoothing", "legacy reduce",
    "bad reduction", "3-D logits", "1-D logits", "empty batch", "no grad needed", "half logits"])
def test_it_steps_aside_for_the_general_paths_values_and_errors(case, served):
    """Every call it does not serve takes the general path: its value and graph (PyTorch's), or its error (PyTorch's
    type and words)."""
    rng = np.random.default_rng(3)
    values, classes = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    cases = {
        "target out of bounds": lambda L, F: F.cross_entropy(x(L, values), L.tensor([0, 3, 1, 2])),
        "negative target": lambda L, F: F.cross_entropy(x(L, values), L.tensor([0, -1, 1, 2])),
        "ignored targets": lambda L, F: F.cross_entropy(x(L, values), L.tensor([0, -100, 1, 2])),
        "ignore_index a class": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes), ignore_index=1),
        "float targets": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes.astype(float))),
        "bool targets": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes > 0)),
        "int32 targets": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes.astype(np.int32))),
        "2-D targets": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes[:, None])),
        "batch mismatch": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes[:3])),
        "weight": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes), weight=L.tensor([1.0, 2.0, 3.0],
                                                                                                 dtype=L.float64)),
        "label smoothing": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes), label_smoothing=0.2),
        "legacy reduce": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes), reduce=False),
        "bad reduction": lambda L, F: F.cross_entropy(x(L, values), L.tensor(classes), reduction="avg"),
        "3-D logits": lambda L, F: F.cross_entropy(x(L, values[:, :, None]), L.tensor(classes[:, None])),
        "1-D logits": lambda L, F: F.cross_entropy(x(L, values[0]), L.tensor(classes[0])),
        "empty batch": lambda L, F: F.cross_entropy(x(L, values[:0]), L.tensor(classes[:0])),
        "no grad needed": lambda L, F: F.cross_entropy(L.tensor(values), L.tensor(classes)),
        "half logits": lambda L, F: F.cross_entropy(x(L, values.astype(np.float16)), L.tensor(classes)),
    }
    function = cases[case]
    try:
        expected = function(torch, torch.nn.functional)
    except Exception as error:  # noqa: BLE001 - PyTorch's error is the spec
        with pytest.raises(type(error)) as caught:
            function(gs, F)
        assert str(caught.value) == str(error)
    else:
        with pytest.warns(UserWarning) if case == "legacy reduce" else _nothing():
            mine = function(gs, F)
        np.testing.assert_allclose(mine.detach().numpy().astype(float), expected.detach().numpy().astype(float),
                                   rtol=1e-3 if case == "half logits" else 1e-6)
        assert _names(mine.grad_fn) == _names(expected.grad_fn)
    assert not served


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def x(L, values):
    return L.tensor(values, requires_grad=True)


def _names(fn) -> list:
    names, stack = [], [fn]
    while stack:
        node = stack.pop()
        if node is not None:
            names.append(type(node).__name__)
            stack.extend(child for child, _ in node.next_functions)
    return names


def test_modes_observers_and_inference_targets_take_the_general_path(served):
    logits, target = gs.randn(3, 4, requires_grad=True), gs.tensor([0, 3, 1])
    with gs.autograd.detect_anomaly(check_forward=True):  # (it checks log_softmax before nll_loss is computed)
        assert F.cross_entropy(logits, target).grad_fn.name() == "NllLossBackward0"
    with gs.no_grad():
        assert F.cross_entropy(logits, target).grad_fn is None
    with gs.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        F.cross_entropy(logits, target).backward()
    with gs.inference_mode():
        frozen = gs.tensor([0, 3, 1])
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        F.cross_entropy(logits, frozen)
    assert not served
    F.cross_entropy(logits, target)
    assert len(served) == 1
    with gs.autograd.detect_anomaly(check_nan=False):  # anomaly mode's default checks are served (see fused_losses)
        F.cross_entropy(logits, target)
    assert len(served) == 2


def test_numpy_errors_stay_silent_even_while_another_thread_holds_the_quiet_context(served):
    """The forward computes in the quiet context (inf - inf, overflow silently, as PyTorch), and takes the general
    path, which quiets its own context, while another thread is in it; the user's NumPy error state is left as is."""
    values = np.array([[np.inf, 0.0, 1.0], [np.finfo(np.float32).max, -np.inf, 0.0]], np.float32)
    logits, target = gs.tensor(values, requires_grad=True), gs.tensor([1, 2])
    with np.errstate(all="raise"):
        state = np.geterr()
        fast = F.cross_entropy(logits, target, reduction="none")
        assert np.geterr() == state and len(served) == 1
        with quiet_context_held_elsewhere():
            blocked = F.cross_entropy(logits, target, reduction="none")
    assert len(served) == 1
    _same_tensor(fast, blocked)
    expected = torch.nn.functional.cross_entropy(torch.tensor(values), torch.tensor([1, 2]), reduction="none")
    np.testing.assert_array_equal(fast._data, expected.numpy())


def test_a_target_changed_in_place_before_the_backward_raises_torchs_error(served):
    messages = []
    for lib in (gs, torch):
        logits, target = lib.randn(3, 4, requires_grad=True), lib.tensor([0, 3, 1])
        loss = lib.nn.functional.cross_entropy(logits, target)
        target[0] = 2
        with pytest.raises(RuntimeError) as caught:
            loss.backward()
        messages.append(str(caught.value))
    assert len(served) == 1
    assert messages[0] == messages[1]


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("through", ["loss", "log-probabilities"])
def test_log_probabilities_changed_in_place_before_the_backward_raise_torchs_error(reduction, through, served):
    """Both nodes keep the log-probabilities' version: NllLossBackward0 as its input, LogSoftmaxBackward0 as its
    result (reached through the changed log-probabilities themselves)."""
    messages = []
    for lib in (gs, torch):
        logits = lib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        loss = lib.nn.functional.cross_entropy(logits, lib.tensor([0, 3, 1]), reduction=reduction)
        probs = loss.grad_fn._saved_self
        assert probs._version == 0
        probs.mul_(2)
        with pytest.raises(RuntimeError) as caught:
            (loss if through == "loss" else probs).sum().backward()
        messages.append(str(caught.value))
    assert len(served) == 1
    assert messages[0] == messages[1]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 1), (64, 10), (40, 16), (33, 3)])
def test_row_maxima_of_tall_narrow_logits_are_the_rows_reduction_to_the_bit(dtype, shape):
    """ops/nn.py takes the maxima of short rows from the transpose: the same bits as NumPy's reduction along the
    rows, with NaN, ±inf and rows whose maximum is a zero of either sign; log_softmax, softmax and cross_entropy
    over them are PyTorch's."""
    rng = np.random.default_rng(4)
    values = rng.standard_normal(shape).astype(dtype)
    values[0] = -0.0
    values[1] = 0.0
    values[2, :] = -0.0
    values[2, -1] = 0.0
    values[3, 0] = np.nan
    values[4, -1] = np.inf
    values[5] = -np.inf
    values[6, 0] = -np.inf
    values[7, -1] = np.nan
    values[8] = rng.choice([-0.0, 0.0], shape[1]).astype(dtype)
    expected = np.maximum.reduce(values, 1, keepdims=True)
    maxima = N._row_maxima(values, 1)
    assert maxima.tobytes() == expected.tobytes() and maxima.shape == expected.shape
    theirs = torch.tensor(values, requires_grad=True)
    ours = gs.tensor(values, requires_grad=True)
    for name in ("log_softmax", "softmax"):
        mine, torch_out = getattr(F, name)(ours, 1), getattr(torch.nn.functional, name)(theirs, 1)
        np.testing.assert_allclose(mine._data, torch_out.detach().numpy(), rtol=2e-3 if dtype == np.float16 else 1e-6,
                                   atol=1e-3 if dtype == np.float16 else 1e-7)
        assert np.array_equal(np.isnan(mine._data), np.isnan(torch_out.detach().numpy()))
    classes = rng.integers(0, shape[1], shape[0])
    mine = F.cross_entropy(ours, gs.tensor(classes), reduction="none")
    torch_out = torch.nn.functional.cross_entropy(theirs, torch.tensor(classes), reduction="none")
    np.testing.assert_allclose(mine._data, torch_out.detach().numpy(), rtol=2e-3 if dtype == np.float16 else 1e-6)


def test_row_indices_are_kept_for_small_batches_only():
    rows = N.row_indices(64)
    assert rows is N.row_indices(64) and not rows.flags.writeable and np.array_equal(rows, np.arange(64))
    large = N.row_indices(5000)
    assert large is not N.row_indices(5000) and np.array_equal(large, np.arange(5000))


def _nll_losses(lib, dtype, reduction: str, ignore: str, weighted: bool):
    """nll_loss and cross_entropy losses over (6, 5) logits (and one unbatched row) whose targets have none, some
    ("some") or every ("all") row ignored, with class weights or none."""
    rng = np.random.default_rng(5)
    logits = lib.tensor(rng.standard_normal((6, 5)).astype(dtype), requires_grad=True)
    classes = np.array([0, 3, 3, 1, 4, 2])
    ignore_index = {"none": -100, "some": 3, "all": 7}[ignore]
    if ignore == "all":
        classes[:] = 7
    target = lib.tensor(classes)
    weight = lib.tensor(np.linspace(0.5, 2.0, 5).astype(dtype)) if weighted else None
    F = lib.nn.functional
    losses = [F.nll_loss(F.log_softmax(logits, 1), target, weight, ignore_index=ignore_index, reduction=reduction),
              F.cross_entropy(logits * 2, target, weight, ignore_index=ignore_index, reduction=reduction),
              F.nll_loss(F.log_softmax(logits[0], 0), target[1], weight, ignore_index=ignore_index,
                         reduction=reduction)]
    return logits, losses


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore", ["none", "some", "all"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_nodes_array_rule_gives_the_general_paths_gradients_and_torchs(dtype, reduction, ignore, weighted):
    """NllLossBackward0 on the engine's plain path runs its array rule (N.nll_loss_backward, or the rules where it
    leaves the case to them): each node gives the general path's gradient bit for bit, and a backward PyTorch's."""
    ours, losses = _nll_losses(gs, dtype, reduction, ignore, weighted)
    theirs, torch_losses = _nll_losses(torch, dtype, reduction, ignore, weighted)
    served = 0
    for loss in losses:
        node = loss.grad_fn
        assert type(node)._vjp.__name__ == "_vjp_of_saved_and_held"
        g = np.random.default_rng(6).standard_normal(loss.shape).astype(dtype)
        with np.errstate(all="ignore"):  # as the engine computes: in the quiet context
            general = _validate_all(node, node._apply([g], NUMPY, None), NUMPY)
            got = type(node)._vjp(node, [g], False)
        assert len(got) == len(general) == 1
        assert got[0].dtype == general[0].dtype and got[0].shape == general[0].shape
        assert got[0].tobytes() == general[0].tobytes()
        s = node._rule_arrays()
        with np.errstate(all="ignore"):
            served += N.nll_loss_backward(g, s.self, (s.target, s.weight, s.reduction, s.ignore_index)) is not None
    assert served == (0 if weighted or reduction == "none" else 2)
    total, torch_total = sum(loss.sum() for loss in losses), sum(loss.sum() for loss in torch_losses)
    total.backward()
    torch_total.backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("how", ["hooks", "again", "retained", "target modified", "log-probabilities modified",
                                 "detached", "anomaly"])
def test_nll_nodes_short_path_keeps_torchs_hooks_and_errors(how):
    """What a backward through cross_entropy's NllLossBackward0 gives: its hooks' calls and gradients, a second
    backward's (freed, or retained), the errors for its held target or saved log-probabilities changed in place,
    and anomaly mode's gradients, as PyTorch's."""
    def run(lib):
        events = []
        logits = lib.tensor(np.arange(12.0).reshape(3, 4) / 7, requires_grad=True)
        target = lib.tensor([0, 3, 1])
        loss = lib.nn.functional.cross_entropy(logits, target)
        node = loss.grad_fn
        if how == "hooks":
            node.register_prehook(lambda grads: events.append(("pre", [g.tolist() for g in grads])))
            node.register_hook(lambda inputs, grads: events.append(("post", [g.tolist() for g in inputs])))
        try:
            if how in ("again", "retained"):
                loss.backward(retain_graph=how == "retained")
            elif how == "target modified":
                target[0] = 2
            elif how == "log-probabilities modified":
                with lib.no_grad():
                    node._saved_self.mul_(2)
            elif how == "detached":
                node._saved_self.detach_()
            if how == "anomaly":
                with lib.autograd.detect_anomaly():
                    loss.backward()
            else:
                loss.backward()
        except RuntimeError as error:
            events.append(str(error).split("\n")[0])
        return events, logits.grad.tolist() if logits.grad is not None else None

    ours, theirs = run(gs), run(torch)
    assert ours[0] == pytest.approx(theirs[0]) if how == "hooks" else ours[0] == theirs[0]
    assert (ours[1] is None) == (theirs[1] is None)
    if ours[1] is not None:
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 10), (40, 16), (33, 3), (32, 17), (31, 3), (8, 20)])
def test_the_forward_takes_the_general_paths_row_maxima_on_tall_and_wide_logits(dtype, shape):
    """The one-frame forward finds each row's maximum as log_softmax's _row_maxima does (the transpose's, on tall
    narrow logits): the same log-probabilities and loss, to the bit, with a large logit and -inf in some rows."""
    rng = np.random.default_rng(8)
    values = rng.standard_normal(shape).astype(dtype) * 30
    values[1, 0], values[2] = np.finfo(dtype).max / 4, -np.inf
    values[2, -1] = 0.0
    logits, target = gs.tensor(values, requires_grad=True), gs.tensor(rng.integers(0, shape[1], shape[0]))
    for reduction in ("mean", "sum", "none"):
        fast = F.cross_entropy(logits, target, reduction=reduction)
        general = _general(F.cross_entropy, logits, target, None, None, -100, None, reduction)
        assert fast._data.tobytes() == general._data.tobytes()
        assert fast.grad_fn._saved_self._data.tobytes() == general.grad_fn._saved_self._data.tobytes()


@pytest.fixture
def paired(monkeypatch):
    """The backwards whose cross_entropy pair the engine ran as one (fused_losses.log_softmax_under_nll served)."""
    from gradscope.autograd import engine

    calls, pair = [], engine.log_softmax_under_nll

    def spy(nll, grads, free):
        result = pair(nll, grads, free)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(engine, "log_softmax_under_nll", spy)
    return calls


def _pair_gradients(dtype, shape, reduction, gradient, monkeypatch=None):
    """The gradient of logits (a leaf times 1: their node comes after the pair) of cross_entropy's loss, backward
    from `gradient`; with `monkeypatch`, with the engine running the pair's two nodes itself."""
    from gradscope.autograd import engine

    rng = np.random.default_rng(9)
    values = rng.standard_normal(shape).astype(dtype) * 20
    values[0, 0], values[1, 1], values[2] = np.finfo(dtype).max / 2, -np.inf, [np.inf] + [0.0] * (shape[1] - 1)
    values[3, :] = 0.0
    leaf = gs.tensor(values, requires_grad=True)
    target = gs.tensor(rng.integers(0, shape[1], shape[0]))
    loss = F.cross_entropy(leaf * 1.0, target, reduction=reduction)
    if monkeypatch is not None:
        monkeypatch.setattr(engine, "log_softmax_under_nll", lambda nll, grads, free: None)
    loss.backward(gs.tensor(gradient, dtype=loss.dtype))
    if monkeypatch is not None:
        monkeypatch.undo()
    return leaf.grad._data


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 10), (5, 2), (33, 3), (8, 20)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("gradient", [1.0, 2.5, -3.0, 1e-30, float("inf"), float("nan")])
def test_the_engine_runs_cross_entropys_two_nodes_as_one_to_the_bit(dtype, shape, reduction, gradient, paired,
                                                                     monkeypatch):
    """A loss.backward() from cross_entropy's NllLossBackward0 runs its LogSoftmaxBackward0 with it
    (fused_losses.log_softmax_under_nll): the logits' gradient is the one the two nodes give run one after the
    other, bit for bit, with ±inf, huge and equal logits, and any incoming gradient (a negative one, one whose
    share per row underflows, inf; a NaN one is left to the two nodes)."""
    got = _pair_gradients(dtype, shape, reduction, gradient)
    served = [gradient == gradient]  # a NaN gradient is the two nodes' (see log_softmax_under_nll)
    assert paired == served
    expected = _pair_gradients(dtype, shape, reduction, gradient, monkeypatch)
    assert paired == served  # (the second backward's pair was not asked)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropys_pair_gives_torchs_gradients(dtype, reduction, paired):
    """The MLP case (logits from a linear layer): every parameter's gradient is PyTorch's."""
    grads = []
    for lib in (gs, torch):
        lib.manual_seed(0)
        rng = np.random.default_rng(10)
        model = lib.nn.Sequential(lib.nn.Linear(6, 5), lib.nn.ReLU(), lib.nn.Linear(5, 4)).to(
            lib.float32 if dtype == np.float32 else lib.float64)
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype)))
        x, target = lib.tensor(rng.standard_normal((7, 6)).astype(dtype)), lib.tensor(rng.integers(0, 4, 7))
        lib.nn.functional.cross_entropy(model(x), target, reduction=reduction).backward()
        grads.append([p.grad.detach().numpy() for p in model.parameters()])
    assert paired == [True]
    for ours, theirs in zip(*grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def _pair_case(lib, how):
    """A step of a linear layer into cross_entropy (or log_softmax then nll_loss), changed by `how`; returns what
    its backward shows: hook calls, errors, the gradients."""
    events = []
    w = lib.tensor(np.arange(12.0).reshape(4, 3) / 7, requires_grad=True)
    x = lib.tensor(np.arange(6.0).reshape(2, 3) / 5)
    target = lib.tensor([0, 3] if how != "ignored" else [0, -100])
    logits = x @ w.t()
    if how in ("retain_grad", "two losses"):
        probs = lib.nn.functional.log_softmax(logits, 1)
        if how == "retain_grad":
            probs.retain_grad()
        loss = lib.nn.functional.nll_loss(probs, target)
    else:
        loss = lib.nn.functional.cross_entropy(logits, target, weight=lib.ones(4, dtype=logits.dtype)
                                               if how == "weighted" else None)
    log_softmax = loss.grad_fn.next_functions[0][0]
    try:
        if how == "hooks":
            log_softmax.register_prehook(lambda grads: events.append(("pre", [g.tolist() for g in grads])))
            log_softmax.register_hook(lambda inputs, grads: events.append(("post", [g.tolist() for g in inputs])))
        elif how in ("again", "retained"):
            loss.backward(retain_graph=how == "retained")
        elif how == "target modified":
            target[0] = 2
        elif how == "log-probabilities modified":
            with lib.no_grad():
                loss.grad_fn._saved_self.mul_(2)
        elif how == "another branch":
            loss = loss + loss.grad_fn._saved_self.sum()
        loss.backward()
    except RuntimeError as error:
        events.append(str(error).split("\n")[0])
    if how == "retain_grad":
        events.append(probs.grad.tolist())
    return events, None if w.grad is None else w.grad.tolist()


@pytest.mark.parametrize("how", ["plain", "hooks", "again", "retained", "target modified",
                                 "log-probabilities modified", "another branch", "ignored", "weighted",
                                 "retain_grad", "two losses"])
def test_cross_entropys_pair_steps_aside_for_hooks_errors_and_other_cases(how, paired):
    """Where the pair is not two nodes nobody sees (hooks, retain_grad, a second gradient into the log-softmax, an
    ignored target, class weights, values changed in place), the engine runs the nodes itself; what the backward
    shows (hook calls, errors, gradients) is PyTorch's either way."""
    ours, theirs = _pair_case(gs, how), _pair_case(torch, how)
    assert len(ours[0]) == len(theirs[0])
    for event, expected in zip(*(ours[0], theirs[0]), strict=True):  # a hook's call, an error, or a retained grad
        if type(event) is str:
            assert event == expected
        else:
            np.testing.assert_allclose(np.array(event[1] if type(event) is tuple else event, dtype=float),
                                       np.array(expected[1] if type(expected) is tuple else expected, dtype=float),
                                       rtol=1e-12)
    assert (ours[1] is None) == (theirs[1] is None)
    if ours[1] is not None:
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    served = {"plain": [True], "again": [True], "retained": [True, True], "two losses": [True]}
    assert [call for call in paired if call] == served.get(how, [])
