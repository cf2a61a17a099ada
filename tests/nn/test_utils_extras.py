"""nn.init's dirac_, sparse_ and deprecated names; nn.utils' get_total_norm, clip_grads_with_norm_, the deprecated
clip_grad_norm, fuse_conv_bn_eval / fuse_linear_bn_eval and skip_init: against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope as gs

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(("shape", "groups"), [((4, 4, 3), 1), ((6, 2, 3, 4), 3), ((2, 3, 3, 2, 3), 1),
                                               ((4, 5, 2, 2), 2)])
def test_dirac_matches_torch(shape, groups):
    ours = gs.nn.init.dirac_(gs.empty(*shape), groups).numpy()
    theirs = torch.nn.init.dirac_(torch.empty(*shape), groups).numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("sparsity", "std"), [(0.1, 0.01), (0.5, 1.0), (0.0, 0.2), (1.0, 0.01)])
def test_sparse_matches_torch_from_the_same_seed(sparsity, std):
    def run(lib):
        lib.manual_seed(7)
        values = lib.nn.init.sparse_(lib.empty(6, 20), sparsity, std).numpy()
        return values, lib.rand(3).numpy()  # and the generator moved on alike

    for ours, theirs in zip(run(gs), run(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


DEPRECATED = {"uniform": (), "normal": (), "constant": (0.5,), "eye": (), "dirac": (), "xavier_uniform": (),
              "xavier_normal": (), "kaiming_uniform": (), "kaiming_normal": (), "orthogonal": (), "sparse": (0.3,)}


@pytest.mark.parametrize("name", DEPRECATED)
def test_deprecated_initialisers_warn_and_fill_as_torch(name):
    shape = (3, 4, 3) if name == "dirac" else (4, 5)

    def run(lib):
        lib.manual_seed(3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = getattr(lib.nn.init, name)(lib.empty(*shape), *DEPRECATED[name]).numpy()
        return values, [(w.category.__name__, str(w.message)) for w in caught], getattr(lib.nn.init, name).__name__

    (ours, our_warnings, our_name), (theirs, their_warnings, their_name) = run(gs), run(torch)
    assert our_warnings == their_warnings == [("FutureWarning", f"`nn.init.{name}` is now deprecated in favor of "
                                                                f"`nn.init.{name}_`.")]
    assert our_name == their_name == name
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


INIT_ERRORS = ["torch.nn.init.dirac_(torch.empty(3, 3))", "torch.nn.init.dirac_(torch.empty(3, 2, 2), 2)",
               "torch.nn.init.sparse_(torch.empty(3), 0.1)"]


@pytest.mark.parametrize("snippet", INIT_ERRORS)
def test_init_errors_match_torch(snippet):
    theirs = _error(torch, snippet)
    assert _error(gs, snippet) == theirs and theirs[0] == "ValueError"


def _error(lib, snippet):
    with pytest.raises(Exception) as info:
        exec(snippet, {"torch": lib})
    return type(info.value).__name__, str(info.value)


def _grads(lib, values):
    params = [lib.nn.Parameter(lib.zeros(v.shape, dtype=lib.float64)) for v in values]
    for param, value in zip(params, values, strict=True):
        param.grad = lib.tensor(value)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 0.5])
def test_total_norm_and_clipping_match_torch(norm_type):
    rng = np.random.default_rng(1)
    values = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal(())]

    def run(lib):
        params = _grads(lib, values)
        total = lib.nn.utils.get_total_norm([p.grad for p in params], norm_type)
        lib.nn.utils.clip_grads_with_norm_(params, 0.7, total)
        with pytest.warns(FutureWarning, match="`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                                               "`torch.nn.utils.clip_grad_norm_`."):
            again = lib.nn.utils.clip_grad_norm(params, 0.5, norm_type)
        return [total.item(), again.item()] + [p.grad.numpy() for p in params]

    for ours, theirs in zip(run(gs), run(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_empty_generator_warns_as_torch():
    for lib in (gs, torch):
        with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
            assert lib.nn.utils.clip_grad_norm_((p for p in []), 1.0).item() == 0.0


def test_non_finite_total_norm_error_matches_torch():
    def run(lib):
        params = _grads(lib, [np.array([np.inf, 1.0])])
        with pytest.raises(RuntimeError) as info:
            lib.nn.utils.get_total_norm([p.grad for p in params], error_if_nonfinite=True)
        return str(info.value)

    assert run(gs) == run(torch)


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_matches_torch(transpose):
    torch.manual_seed(2)
    conv = (torch.nn.ConvTranspose2d(3, 4, 2) if transpose else torch.nn.Conv2d(3, 4, 2, bias=False)).eval()
    bn = torch.nn.BatchNorm2d(4).eval()
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    x = torch.randn(2, 3, 5, 5)

    def run(lib, conv, bn):
        fused = lib.nn.utils.fuse_conv_bn_eval(conv, bn, transpose)
        return (type(fused).__name__, isinstance(fused.weight, lib.nn.Parameter), fused.weight.detach().numpy(),
                fused.bias.detach().numpy(), fused(lib.tensor(x.numpy())).detach().numpy())

    ours_conv = (gs.nn.ConvTranspose2d(3, 4, 2) if transpose else gs.nn.Conv2d(3, 4, 2, bias=False)).eval()
    ours_bn = gs.nn.BatchNorm2d(4).eval()
    ours_conv.load_state_dict({k: gs.tensor(v.numpy()) for k, v in conv.state_dict().items()})
    ours_bn.load_state_dict({k: gs.tensor(v.numpy()) for k, v in bn.state_dict().items()})
    ours, theirs = run(gs, ours_conv, ours_bn), run(torch, conv, bn)
    assert ours[:2] == theirs[:2]
    for a, b in zip(ours[2:], theirs[2:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(theirs[-1], bn(conv(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_fuse_linear_bn_eval_and_errors_match_torch():
    def run(lib):
        lib.manual_seed(4)
        linear, bn = lib.nn.Linear(3, 4).eval(), lib.nn.BatchNorm1d(4).eval()
        fused = lib.nn.utils.fusion.fuse_linear_bn_eval(linear, bn)
        errors = []
        for make in (lambda: lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv1d(1, 1, 1), lib.nn.BatchNorm1d(1)),
                     lambda: lib.nn.utils.fusion.fuse_linear_bn_eval(lib.nn.Linear(3, 2).eval(),
                                                                     lib.nn.BatchNorm1d(4).eval())):
            with pytest.raises(AssertionError) as info:
                make()
            errors.append(str(info.value))
        return fused.weight.detach().numpy(), fused.bias.detach().numpy(), errors

    (w, b, errors), (their_w, their_b, their_errors) = run(gs), run(torch)
    assert errors == their_errors
    np.testing.assert_allclose(w, their_w, rtol=1e-6)
    np.testing.assert_allclose(b, their_b, rtol=1e-6)


def test_skip_init_draws_nothing_from_the_generator():
    def run(lib):
        lib.manual_seed(5)
        m = lib.nn.utils.skip_init(lib.nn.Linear, 5, out_features=2)
        return type(m).__name__, tuple(m.weight.shape), lib.rand(2).numpy().tolist()

    assert run(gs) == run(torch)
    for lib in (gs, torch):
        with pytest.raises(RuntimeError, match="Expected a Module; got <class 'int'>"):
            lib.nn.utils.skip_init(int)


@pytest.mark.parametrize("dims", [2, 3])
def test_convert_conv_weight_memory_format_matches_torch(dims):
    """The weights keep their values and Parameters (torch changes their strides; gradscope's stay row-major), the
    other layers are left as they are, and the converted model computes what torch's does."""
    def run(lib):
        lib.manual_seed(0)
        conv, transposed = (lib.nn.Conv2d, lib.nn.ConvTranspose2d) if dims == 2 else (lib.nn.Conv3d,
                                                                                       lib.nn.ConvTranspose3d)
        model = lib.nn.Sequential(conv(2, 3, 2), lib.nn.Sequential(transposed(3, 2, 2)), lib.nn.Linear(4, 4))
        parameters = list(model.parameters())
        convert = getattr(lib.nn.utils, f"convert_conv{dims}d_weight_memory_format")
        memory_format = lib.channels_last if dims == 2 else lib.channels_last_3d
        returned = convert(model, memory_format)
        x = lib.arange(2 * 4 ** dims, dtype=lib.float32).reshape(1, 2, *[4] * dims) / 50
        return [returned is model, [a is b for a, b in zip(parameters, model.parameters(), strict=True)],
                [type(p).__name__ for p in model.parameters()],
                np.round(model(x).detach().numpy(), 5).tolist()]

    assert run(gs) == run(torch)
