"""nn.Module beyond registration (tests/test_nn.py): forward/backward hooks called with PyTorch's
arguments, buffers in state_dict, nested reprs, and scopes through containers and hooks."""

from __future__ import annotations

import collections
import contextlib
import copy
import warnings

import numpy as np
import pytest

import gradscope
import gradscope.nn as gnn
from gradscope.autograd import observers
from gradscope.nn import _hooks


@pytest.fixture(autouse=True)
def _seed():
    gradscope.manual_seed(0)


def _block_class(nn):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(3, 4)
            self.norm = nn.BatchNorm1d(4)
            self.register_buffer("scale", nn.Linear(1, 2).weight.detach() * 0 + 2, persistent=False)

        def forward(self, x):
            return self.norm(self.linear1(x)) * self.scale.view(-1)[0]

    return Block


def _record_hooks(nn, module, log):
    module.register_forward_pre_hook(lambda m, args: log.append(("pre", type(m).__name__, len(args))))
    module.register_forward_hook(lambda m, args, out: log.append(("fwd", tuple(out.shape))))
    module.register_full_backward_pre_hook(lambda m, go: log.append(("bpre", [tuple(g.shape) for g in go])))
    module.register_full_backward_hook(lambda m, gi, go: log.append(
        ("bwd", [None if g is None else tuple(g.shape) for g in gi], [tuple(g.shape) for g in go])))


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_hooks_are_called_like_torch(input_requires_grad):
    torch = pytest.importorskip("torch")
    logs = []
    grads = []
    for lib in (torch, gradscope):
        log = []
        layer = lib.nn.Linear(3, 2)
        _record_hooks(lib.nn, layer, log)
        x = lib.ones(4, 3, requires_grad=input_requires_grad)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer(x).sum().backward()
        log.append([str(w.message)[:40] for w in caught])
        logs.append(log)
        grads.append(layer.weight.grad.numpy().copy())
    assert logs[0] == logs[1]
    np.testing.assert_allclose(grads[0], grads[1])


def _hooks_seen(lib, context: str) -> list:
    log = []
    layer = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Tanh())
    layer[0].register_forward_pre_hook(lambda m, args: log.append(("pre", type(m).__name__)))
    layer[1].register_forward_hook(lambda m, args, out: log.append(("post", out.requires_grad)))
    module_api = lib.nn.modules.module if hasattr(lib.nn, "modules") else lib.nn.module
    handle = module_api.register_module_forward_pre_hook(lambda m, args: log.append(("global", type(m).__name__)))
    modes = {"default": contextlib.nullcontext, "no_grad": lib.no_grad, "inference_mode": lib.inference_mode,
             "enable_grad": lib.enable_grad, "detect_anomaly": lib.autograd.detect_anomaly}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # detect_anomaly's warning that it slows things down
            with modes[context]():
                layer(lib.ones(4, 3))
    finally:
        handle.remove()
    return log


@pytest.mark.parametrize("context", ["default", "no_grad", "inference_mode", "enable_grad", "detect_anomaly"])
def test_forward_hooks_run_in_every_grad_mode_like_torch(context):
    """A module call takes a shorter way while nothing observes it and grad mode is the default; its hooks
    (global and its own) run in the same order under every mode."""
    torch = pytest.importorskip("torch")
    ours = _hooks_seen(gradscope, context)
    assert ours == _hooks_seen(torch, context)
    assert ("post", context not in ("no_grad", "inference_mode")) in ours


def _hook_added_by(way: str, lib, layer, hook):
    """`layer` with `hook` as a forward hook of its own, added as a script may add it (PyTorch's hook dicts are
    OrderedDicts), or the layer's copy that has it."""
    if way == "register":
        layer.register_forward_hook(hook)
    elif way == "item":
        layer._forward_hooks[12345] = hook
    elif way == "update":
        layer._forward_hooks.update({12345: hook})
    elif way == "setdefault":
        layer._forward_hooks.setdefault(12345, hook)
    elif way == "rebound":
        layer._forward_hooks = collections.OrderedDict({12345: hook})
    elif way in ("copy", "deepcopy"):
        other = lib.nn.Linear(2, 2)
        other.register_forward_hook(hook)
        return (copy.copy if way == "copy" else copy.deepcopy)(other)
    return layer


def _print_output(module, args, output):
    print("hook", tuple(output.shape))


@pytest.mark.parametrize("way", ["register", "item", "update", "setdefault", "rebound", "copy", "deepcopy"])
def test_forward_hooks_added_any_way_run_like_torch(way, monkeypatch, capsys):
    """Until some module has had a hook of its own, a module call does not read its hook dicts: every way a
    script can give a module one (the registration methods, the dict's own methods, a new dict, a copy of a
    module that has one) must be seen."""
    torch = pytest.importorskip("torch")
    outputs = []
    for lib in (torch, gradscope):
        monkeypatch.setattr(_hooks, "module_hooks_registered", False)
        layer = _hook_added_by(way, lib, lib.nn.Linear(2, 2), _print_output)
        layer(lib.ones(3, 2))
        outputs.append(capsys.readouterr().out)
    assert outputs[1] == outputs[0] == "hook (3, 2)\n"


def test_backward_hooks_can_replace_gradients_like_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, gradscope):
        layer = lib.nn.Linear(3, 2).double()
        with lib.no_grad():
            layer.weight.fill_(0.5)
        layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        layer.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        layer(x).sum().backward()
        results.append((x.grad.numpy().copy(), layer.weight.grad.numpy().copy()))
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs)


def test_forward_hooks_with_kwargs_prepend_and_always_call():
    layer = gnn.Linear(2, 2)
    order = []
    layer.register_forward_hook(lambda m, a, o: order.append("second"))
    layer.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True)
    layer.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 0,), kwargs), with_kwargs=True)
    layer.register_forward_hook(lambda m, args, kwargs, out: out + 1, with_kwargs=True)
    out = layer(gradscope.ones(1, 2))
    assert order == ["first", "second"]
    np.testing.assert_allclose(out.detach().numpy(), layer.bias.detach().numpy()[None] + 1, rtol=1e-6)
    seen = []
    broken = gnn.Linear(2, 2)
    broken.register_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
    with pytest.raises(RuntimeError):
        broken(gradscope.ones(1, 3))
    assert seen == [None]


def test_removed_hooks_are_not_called():
    layer = gnn.Linear(2, 2)
    calls = []
    handle = layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    handle.remove()
    layer(gradscope.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == []


def test_state_dict_with_buffers_matches_torch_and_loads_strictly():
    torch = pytest.importorskip("torch")
    theirs = _block_class(torch.nn)()
    ours = _block_class(gnn)()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    state = {k: gradscope.tensor(v.numpy()) for k, v in theirs.state_dict().items()}
    assert repr(ours.load_state_dict(state)) == "<All keys matched successfully>"
    state.pop("norm.running_var")
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "norm.running_var"'):
        ours.load_state_dict(state)
    assert ours.load_state_dict(state, strict=False).missing_keys == ["norm.running_var"]


def test_to_double_float_and_apply():
    model = gnn.Sequential(gnn.Linear(2, 3), gnn.BatchNorm1d(3))
    model.double()
    assert {p.dtype for p in model.parameters()} == {gradscope.float64}
    assert model[1].running_mean.dtype == gradscope.float64
    assert model[1].num_batches_tracked.dtype == gradscope.int64
    model.to(gradscope.float32)
    assert model[1].running_var.dtype == gradscope.float32
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "BatchNorm1d", "Sequential"]


def test_nested_repr_matches_torch():
    torch = pytest.importorskip("torch")

    def build(nn):
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.ModuleList([nn.Dropout(0.1), nn.Dropout(0.1), nn.Identity()]),
            nn.ModuleDict({"embed": nn.Embedding(5, 2), "bag": nn.EmbeddingBag(5, 2)}),
            nn.Flatten(), nn.Unflatten(1, (2, 2)), nn.LayerNorm(2), nn.GroupNorm(1, 2), nn.Upsample(size=3),
            nn.PReLU(), nn.Softplus(), nn.Hardtanh(), nn.Threshold(0.5, 1.0), nn.AdaptiveAvgPool2d((1, None)))

    assert repr(build(gnn)) == repr(build(torch.nn))


class _ScopeRecorder:
    def __init__(self):
        self.nodes = []

    def node_created(self, node, inputs, outputs):
        self.nodes.append((node.name(), node.scope))


class _Encoder(gnn.Module):
    def __init__(self):
        super().__init__()
        self.layers = gnn.ModuleList([gnn.Sequential(gnn.Linear(2, 2), gnn.Tanh())])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class _Model(gnn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = _Encoder()

    def forward(self, x):
        return self.encoder(x)


def test_scopes_are_exact_through_containers_and_hooks():
    model = _Model()
    inner = model.encoder.layers[0]
    inner[0].register_full_backward_hook(lambda m, gi, go: None)
    inner[0].register_forward_hook(lambda m, a, o: o * 1)
    with observers.observing(_ScopeRecorder()) as recorder:
        model(gradscope.ones(1, 2, requires_grad=True))
    assert recorder.nodes == [
        ("BackwardHookFunctionBackward", "_Model.encoder.layers.0.0"), ("TBackward0", "_Model.encoder.layers.0.0"),
        ("AddmmBackward0", "_Model.encoder.layers.0.0"), ("MulBackward0", "_Model.encoder.layers.0.0"),
        ("BackwardHookFunctionBackward", "_Model.encoder.layers.0.0"), ("TanhBackward0", "_Model.encoder.layers.0.1"),
    ]


class _Reaching(gnn.Module):
    """Calls a grandchild directly, through a plain Module that is never called itself."""

    def __init__(self):
        super().__init__()
        self.encoder = gnn.Module()
        self.encoder.layers = gnn.ModuleList([gnn.Tanh()])
        self.helper = gnn.Sigmoid()

    def forward(self, x, stranger):
        return stranger(self.encoder.layers[0](x))


def test_scope_of_a_module_reached_through_an_uncalled_parent_is_its_full_path():
    with observers.observing(_ScopeRecorder()) as recorder:
        _Reaching()(gradscope.ones(2, requires_grad=True), gnn.ModuleDict({"act": gnn.ReLU()})["act"])
    assert recorder.nodes == [("TanhBackward0", "_Reaching.encoder.layers.0"), ("ReluBackward0", "_Reaching.act")]


def test_parameter_list_and_dict_match_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        model = lib.nn.Module()
        model.weights = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
        model.weights.append(lib.ones(1))
        model.table = lib.nn.ParameterDict({"scale": lib.nn.Parameter(lib.ones(2)), "shift": lib.zeros(2, 2)})
        return model

    ours, theirs = build(gradscope), build(torch)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert len(ours.weights) == 3 and isinstance(ours.weights[1], gnn.Parameter)
    assert list(ours.table.keys()) == ["scale", "shift"] and ours.table["shift"].shape == (2, 2)


def _shapes(grads) -> list:
    return [None if grad is None else tuple(grad.shape) for grad in grads]


def test_backward_hooks_see_the_top_level_of_outputs_like_torch():
    torch = pytest.importorskip("torch")
    logs = []
    for lib in (torch, gradscope):
        lib.manual_seed(0)
        lstm = lib.nn.LSTM(2, 3)
        log = []
        lstm.register_full_backward_pre_hook(lambda m, go, log=log: log.append(("bpre", _shapes(go))))
        lstm.register_full_backward_hook(lambda m, gi, go, log=log: log.append(("bwd", _shapes(gi), _shapes(go))))
        output, (h, c) = lstm(lib.ones(4, 1, 2, requires_grad=True))
        (output.sum() + h.sum() + c.sum()).backward()
        logs.append(log)
    assert logs[0] == logs[1]


def _walk_model(nn, calls):
    """Two levels of containers with shared members, a buffer, and a descendant (and a root) overriding the
    named_* methods: one hides its children whose qualified name ends in "skip"."""
    class Hiding(nn.Module):
        def __init__(self):
            super().__init__()
            self.keep = nn.Linear(2, 3)
            self.skip = nn.Linear(3, 4)

        def named_modules(self, memo=None, prefix="", remove_duplicate=True):
            calls.append(prefix)
            for name, module in super().named_modules(memo, prefix, remove_duplicate):
                if not name.endswith("skip"):
                    yield name, module

    class Root(nn.Sequential):
        def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
            for name, param in super().named_parameters(prefix, recurse, remove_duplicate):
                if not name.endswith("bias"):
                    yield name, param

    shared = nn.Linear(4, 5)
    inner = nn.Sequential(nn.Linear(1, 2), Hiding(), shared)
    inner.register_buffer("count", nn.Linear(1, 6).weight.detach())
    plain = nn.Sequential(inner, nn.Tanh(), shared, nn.Sequential(Hiding()))
    plain.extra = shared.weight
    return plain, Root(*plain)


def test_parameters_modules_buffers_and_zero_grad_walk_as_torch_with_overridden_named_methods():
    torch = pytest.importorskip("torch")
    ours_calls, their_calls = [], []
    ours, theirs = _walk_model(gnn, ours_calls), _walk_model(torch.nn, their_calls)
    for mine, torchs in zip(ours, theirs):
        assert [tuple(p.shape) for p in mine.parameters()] == [tuple(p.shape) for p in torchs.parameters()]
        assert [tuple(p.shape) for p in mine.parameters(recurse=False)] == \
            [tuple(p.shape) for p in torchs.parameters(recurse=False)]
        assert [tuple(b.shape) for b in mine.buffers()] == [tuple(b.shape) for b in torchs.buffers()]
        assert [type(m).__name__ for m in mine.modules()] == [type(m).__name__ for m in torchs.modules()]
        assert [n for n, _ in mine.named_parameters()] == [n for n, _ in torchs.named_parameters()]
    assert ours_calls == their_calls  # the hiding module was asked with the prefixes torch gives it
    plain = ours[0]
    for param in plain.parameters(recurse=True):
        param.grad = gradscope.ones_like(param)
    plain.zero_grad()
    assert all(p.grad is None for p in plain.parameters())
    skipped = plain[0][1].skip.weight  # not listed by parameters(): zero_grad leaves it, as torch's does
    skipped.grad = gradscope.ones_like(skipped)
    plain.zero_grad()
    assert skipped.grad is not None


def test_zero_grad_keeps_or_zeroes_gradients_as_torch():
    layer = gnn.Linear(2, 2)
    layer(gradscope.ones(1, 2)).sum().backward()
    grad = layer.weight.grad
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is grad and not grad.numpy().any()
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None
    layer.zero_grad()  # nothing to reset
    assert layer.weight.grad is None


def _global_hooks_events(lib):
    """The calls of global and per-module hooks, in order, over a forward and backward of a small model."""
    module_api = lib.nn.modules.module if hasattr(lib.nn, "modules") else lib.nn.module
    events = []

    def name(m):
        return type(m).__name__

    handles = [
        module_api.register_module_forward_pre_hook(lambda m, args: events.append(("global pre", name(m), len(args)))),
        module_api.register_module_forward_hook(
            lambda m, args, kwargs, out: events.append(("global fwd kw", name(m), sorted(kwargs))), with_kwargs=True),
        module_api.register_module_forward_hook(lambda m, args, out: events.append(("global fwd", name(m)))),
        module_api.register_module_full_backward_pre_hook(lambda m, go: events.append(("global bwd pre", name(m)))),
        module_api.register_module_full_backward_hook(
            lambda m, gi, go: events.append(("global bwd", name(m), len(gi), len(go)))),
    ]
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Tanh())
    model[0].register_forward_pre_hook(lambda m, args: events.append(("own pre", name(m))))
    model[0].register_forward_hook(lambda m, args, out: events.append(("own fwd", name(m))))
    model[1].register_full_backward_hook(lambda m, gi, go: events.append(("own bwd", name(m))))
    try:
        model(lib.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        for handle in handles:
            handle.remove()
    model(lib.ones(1, 2))  # the global hooks are gone
    return events


def test_global_module_hooks_run_before_each_modules_own_as_in_torch():
    torch = pytest.importorskip("torch")
    assert _global_hooks_events(gradscope) == _global_hooks_events(torch)
    assert not gradscope.nn._hooks._global_module_hooks  # the one dict a call checks is empty again


def _always_called_events(lib):
    module_api = lib.nn.modules.module if hasattr(lib.nn, "modules") else lib.nn.module
    events = []

    def broken_hook(m, args, out):
        events.append(("broken", out))
        raise ValueError("hook failed")

    handles = [
        module_api.register_module_forward_hook(lambda m, args, kwargs, out: events.append(("global kw", out)),
                                                with_kwargs=True, always_call=True),
        module_api.register_module_forward_hook(broken_hook, always_call=True),
    ]
    layer = lib.nn.Linear(2, 2)
    layer.register_forward_hook(lambda m, args, kwargs, out: events.append(("own", out)), with_kwargs=True,
                                always_call=True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError):
                layer(lib.ones(1, 3))  # forward raises: every always_call hook runs, with no output
    finally:
        for handle in handles:
            handle.remove()
    return events, [str(w.message) for w in caught]


def test_always_called_global_hooks_run_when_forward_raises_as_in_torch():
    torch = pytest.importorskip("torch")
    assert _always_called_events(gradscope) == _always_called_events(torch)


def _sequential_calls(lib, way, monkeypatch):
    """What a Sequential's children print when `way` gives them a call of their own in the middle of a forward."""
    printed = []
    handles = []

    class Announced(lib.nn.Identity):
        def __call__(self, *args, **kwargs):
            printed.append("own __call__")
            return super().__call__(*args, **kwargs)

    class Hooking(lib.nn.Module):  # adds a hook to the next child, or a global one, from inside the forward
        def forward(self, x):
            if way == "hook added by a sibling":
                handles.append(model[2].register_forward_hook(lambda m, args, out: printed.append("own hook")))
            elif way == "global hook added by a sibling":
                module_api = lib.nn.modules.module if hasattr(lib.nn, "modules") else lib.nn.module
                handles.append(module_api.register_module_forward_hook(
                    lambda m, args, out: printed.append(f"global hook {type(m).__name__}")))
            return x * 2

    model = lib.nn.Sequential(lib.nn.Linear(2, 2), Hooking(), Announced() if way == "own __call__" else lib.nn.Tanh())
    if way == "Module.__call__ patched":  # as profilers and summaries do
        original = lib.nn.Module.__call__

        def announced(self, *args, **kwargs):
            printed.append(f"patched {type(self).__name__}")
            return original(self, *args, **kwargs)
        monkeypatch.setattr(lib.nn.Module, "__call__", announced)
    monkeypatch.setattr(_hooks, "module_hooks_registered", False)
    try:
        output = model(lib.ones(3, 2))
    finally:
        for handle in handles:
            handle.remove()
        monkeypatch.undo()
    return printed, output.grad_fn.name()


@pytest.mark.parametrize("way", ["own __call__", "hook added by a sibling", "global hook added by a sibling",
                                 "Module.__call__ patched"])
def test_sequential_children_are_called_like_torch(way, monkeypatch):
    """A Sequential runs a child's forward itself while a call would be that forward alone: a child with a call
    of its own, a hook added during the forward (its own or a global one) and a patched Module.__call__ are seen."""
    torch = pytest.importorskip("torch")
    ours = _sequential_calls(gradscope, way, monkeypatch)
    assert ours == _sequential_calls(torch, way, monkeypatch)
    assert ours[0]


def changeable_model(nn):
    """The model `change_model` changes: nested Sequentials, an activation and a user module."""
    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(2, 2)

    return nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Sequential(nn.Linear(2, 2)), Wrapped())


def change_model(nn, model, step: int, extra) -> None:
    """Change `model` (a `changeable_model`) in one of 13 ways, each writing its parameters or modules differently;
    `extra`: a parameter the change may add."""
    if step == 0:
        model[0].register_parameter("extra", extra)
    elif step == 1:
        del model[0]._parameters["bias"]
    elif step == 2:
        model[2][0].extra = extra  # a grandchild
    elif step == 3:
        model[0] = nn.Linear(2, 2)
    elif step == 4:
        del model[0]
    elif step == 5:
        model.append(nn.Linear(2, 2))
    elif step == 6:
        model[0].weight = extra
    elif step == 7:
        model[0]._parameters = {"extra": extra}  # a plain dict, set by hand
    elif step == 8:
        model[2]._modules.pop("0")
    elif step == 9:
        model[3].inner._parameters.update(extra=extra)
    elif step == 10:
        model[3].__class__ = type("Hiding", (type(model[3]),), {"named_modules": lambda self, *a, **k: iter(())})
    elif step == 11:
        type(model[3]).named_modules = lambda self, *a, **k: iter(())  # the class itself, patched
    elif step == 12:
        model[2]._modules["1"] = nn.Linear(2, 2)


def _grown_and_cut(nn, step: int):
    """A model changed in one way after a first zero_grad(); `step` picks the change. Returns the model and every
    parameter it ever had, in a fixed order."""
    model = changeable_model(nn)
    everything = list(model.parameters())
    model.zero_grad()  # the first walk: gradscope keeps the list
    extra = nn.Parameter(model[0].weight.detach() * 0 + 1)
    everything.append(extra)
    change_model(nn, model, step, extra)
    everything += [p for p in model.parameters() if all(p is not q for q in everything)]
    return model, everything


@pytest.mark.parametrize("step", range(13))
def test_zero_grad_after_the_model_changed_resets_what_torchs_does(step):
    """zero_grad keeps a model's parameter list between steps: any change of its parameters or modules, however
    made, is seen by the next zero_grad, as torch (which walks every time) sees it."""
    torch = pytest.importorskip("torch")
    reset = []
    for lib in (gradscope, torch):
        model, everything = _grown_and_cut(lib.nn, step)
        for param in everything:
            param.grad = lib.ones_like(param)
        model.zero_grad()
        reset.append([param.grad is None for param in everything])
    assert reset[0] == reset[1]


def test_zero_grad_does_not_keep_a_removed_parameter_alive():
    import gc
    import weakref

    model = gnn.Sequential(gnn.Linear(2, 2))
    model.zero_grad()
    gone = weakref.ref(model[0].bias)
    del model[0].bias
    gc.collect()
    assert gone() is None


def test_zero_grad_of_a_root_that_lists_its_modules_itself_resets_what_torchs_does():
    """A root whose named_modules is its own (here patched in after a first zero_grad kept the list) is walked as
    torch walks it, as any module of the tree that lists its descendants itself."""
    torch = pytest.importorskip("torch")
    reset = []
    for lib in (gradscope, torch):
        class Root(lib.nn.Sequential):
            pass

        model = Root(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
        model.zero_grad()
        Root.named_modules = lambda self, *args, **kwargs: iter([("", self), ("0", self[0])])  # the second hidden
        everything = [p for layer in model for p in layer._parameters.values()]
        for param in everything:
            param.grad = lib.ones_like(param)
        model.zero_grad()
        reset.append([param.grad is None for param in everything])
    assert reset[0] == reset[1] == [True, True, False, False]


def test_a_dropped_models_kept_parameter_list_goes_with_it():
    import gc
    import weakref

    model = gnn.Sequential(gnn.Linear(2, 2))
    model.zero_grad()  # its list kept
    gone, weight = weakref.ref(model), weakref.ref(model[0].weight)
    del model
    gc.collect()
    assert gone() is None and weight() is None
