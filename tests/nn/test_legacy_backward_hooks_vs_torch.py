"""Module.register_backward_hook, PyTorch's deprecated module backward hook, which Grad-CAM scripts and older code
still register (it was an AttributeError): the hook sits on the node that made the module's first output tensor, so
`grad_input` is that node's input gradients (Linear's addmm: bias, input, weight), and PyTorch warns at the call when
that node is not the whole module. Each case against PyTorch 2.13."""

from __future__ import annotations

import warnings

import pytest

import gradscope

torch = pytest.importorskip("torch")


def _shapes(grads):
    return [None if g is None else tuple(g.shape) for g in grads]


CASES = {  # name -> (module, input shape, input requires grad)
    "linear": (lambda nn: nn.Linear(3, 2), (4, 3), True),
    "linear, input without grad": (lambda nn: nn.Linear(3, 2), (4, 3), False),
    "linear without bias": (lambda nn: nn.Linear(3, 2, bias=False), (4, 3), True),
    "linear on a vector": (lambda nn: nn.Linear(3, 2), (3,), True),
    "linear on 3-d input": (lambda nn: nn.Linear(3, 2), (2, 4, 3), True),
    "conv2d": (lambda nn: nn.Conv2d(2, 3, 3), (1, 2, 5, 5), True),
    "relu": (lambda nn: nn.ReLU(), (4,), True),
    "tanh": (lambda nn: nn.Tanh(), (4,), True),
    "sequential": (lambda nn: nn.Sequential(nn.Linear(3, 3), nn.Tanh()), (2, 3), True),
    "lstm (a tuple result)": (lambda nn: nn.LSTM(3, 2), (2, 1, 3), True),
}


def _first(out, lib):
    return out if isinstance(out, lib.Tensor) else out[0]


def _run(lib, name, doubling):
    build, shape, requires_grad = CASES[name]
    lib.manual_seed(0)
    module = build(lib.nn).double()
    x = lib.randn(*shape, dtype=lib.float64, requires_grad=requires_grad)
    seen = []

    def hook(module, grad_input, grad_output):
        seen.append((type(module).__name__, _shapes(grad_input), _shapes(grad_output)))
        if doubling:
            return tuple(None if g is None else g * 2 for g in grad_input)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handle = module.register_backward_hook(hook)
        _first(module(x), lib).sum().backward()
        handle.remove()
        _first(module(x), lib).sum().backward()  # the hook removed: it sees nothing more
    grads = [round(p.grad.sum().item(), 10) for p in module.parameters()]
    return (seen, grads, None if x.grad is None else round(x.grad.sum().item(), 10),
            [(w.category.__name__, str(w.message)) for w in caught])


@pytest.mark.parametrize("doubling", [False, True], ids=["observing", "doubling grad_input"])
@pytest.mark.parametrize("name", CASES)
def test_legacy_backward_hook_as_torch(name, doubling):
    assert _run(gradscope, name, doubling) == _run(torch, name, doubling)


def test_the_two_kinds_do_not_mix():
    for lib in (gradscope, torch):
        for first, second in (("register_full_backward_hook", "register_backward_hook"),
                              ("register_backward_hook", "register_full_backward_hook")):
            module = lib.nn.Linear(2, 2)
            getattr(module, first)(lambda *args: None).remove()  # removed: the module stays of its kind
            with pytest.raises(RuntimeError, match="^Cannot use both regular backward hooks and full backward hooks "
                                                   "on a single Module. Please use only one of them.$"):
                getattr(module, second)(lambda *args: None)


def test_a_grad_cam_script_sees_torchs_gradients():
    maps = []
    for lib in (gradscope, torch):
        nn = lib.nn
        lib.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).double()
        saved = {}
        model[2].register_forward_hook(lambda m, i, o, saved=saved: saved.__setitem__("activation", o.detach()))
        model[2].register_backward_hook(lambda m, gi, go, saved=saved: saved.__setitem__("gradient", go[0].detach()))
        out = model(lib.randn(1, 1, 6, 6, dtype=lib.float64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[0, out.argmax()].backward()
        weights = saved["gradient"].mean(dim=(2, 3), keepdim=True)
        maps.append(lib.relu((weights * saved["activation"]).sum(1)).flatten().tolist())
    assert maps[0] == pytest.approx(maps[1], rel=1e-12, abs=1e-15)
