"""Complex tensors against PyTorch: default dtypes, reprs, conj/real/imag/view_as_real/view_as_complex/complex/polar,
and gradients under PyTorch's convention (∂L/∂x + i ∂L/∂y), through hooks, retain_grad, second order and gradcheck.
tests/ops/test_complex_vs_torch.py runs every op sample on complex inputs."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from gradscope.autograd.gradcheck import GradcheckError
from gradscope.autograd.node import node_class
from gradscope.ops import elementwise as E

torch = pytest.importorskip("torch")


@pytest.fixture(params=["float32", "float64"])
def default_dtype(request):
    """Both libraries with the same default float dtype, restored after."""
    torch.set_default_dtype(getattr(torch, request.param))
    gradscope.set_default_dtype(getattr(gradscope, request.param))
    yield request.param
    torch.set_default_dtype(torch.float32)
    gradscope.set_default_dtype(gradscope.float32)


def _outcome(lib, expression: str) -> str:
    try:
        return repr(eval(expression, {"torch": lib, "np": np}))  # noqa: S307 - the test's own expressions
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("expression", [
    "torch.tensor([1+2j, 3-1j])", "torch.tensor(1j)", "torch.tensor([1j, 2])",
    "torch.tensor([[0.1+0.2j, -3-4j], [1j, 2]])",
    "torch.tensor([1e-5+2j, 3.5e6-1j])", "torch.full((2,), 1j)", "torch.tensor([1+2j], dtype=torch.complex128)",
    "torch.zeros(0, dtype=torch.cfloat)", "torch.tensor([float('nan')+1j, float('inf')*1j])",
    "torch.tensor([1.5]) * (2+1j)", "torch.tensor([1, 2]) + 1j", "torch.tensor([1+1j]).abs()",
    "torch.tensor([1+1j]).angle()", "torch.tensor([3+4j]).norm()", "torch.tensor([1+1j, 2]).var()",
    "torch.tensor([1.0, 2.0], dtype=torch.float64).to(torch.complex64)", "torch.result_type(torch.tensor([1.0]), 1j)",
    "torch.tensor([1+2j, 3-1j]).real", "torch.tensor([1+2j, 3-1j]).imag", "torch.tensor([1+2j]).conj()",
    "torch.view_as_real(torch.tensor([1+2j, 3-1j]))", "torch.view_as_complex(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))",
    "torch.complex(torch.tensor([1.0]), torch.tensor([2.0]))", "torch.polar(torch.tensor([2.0]), torch.tensor([0.5]))",
    "torch.tensor([[1+1j, 2]]).H", "torch.tensor([[1+1j, 2]]).mH", "torch.tensor([[1+1j, 2]]).adjoint()",
    "torch.tensor([1.0]).imag", "torch.view_as_real(torch.ones(2))", "torch.view_as_complex(torch.ones(3))",
    "torch.view_as_complex(torch.ones(2, 2).t())", "torch.view_as_complex(torch.ones(()))",
    "torch.view_as_complex(torch.ones(2, dtype=torch.int64))", "torch.view_as_complex(torch.ones(3, 4)[:, 1:3])",
    "torch.view_as_complex(torch.ones(3, 4)[:, :2])",
    "torch.complex(torch.ones(2), torch.ones(2, dtype=torch.float64))",
    "torch.complex(torch.ones(2, dtype=torch.int64), torch.ones(2, dtype=torch.int64))",
    "torch.complex(torch.ones(2, 1), torch.ones(3))", "torch.tensor([1+1j]).clone().abs_()",
    "torch.tensor([1+2j], requires_grad=True).sum().backward()", "torch.float_power(torch.tensor([1+2j]), 2)",
    "torch.tensor([1.0]).conj_physical()",
])
def test_values_dtypes_and_errors_match_torch(expression, default_dtype):
    assert _outcome(gradscope, expression) == _outcome(torch, expression)


def test_the_lead_example_gives_torchs_gradient():
    for lib in (torch, gradscope):
        x = lib.tensor([1 + 2j, 3 - 1j], requires_grad=True)
        y = (x * x).abs().sum()
        y.backward()
        assert repr(y) == "tensor(15., grad_fn=<SumBackward0>)"
        assert repr(x.grad) == "tensor([2.+4.j, 6.-2.j])"


def _losses(lib):
    """Real losses of complex and real leaves through the complex ops, each with its gradients."""
    z = lib.tensor([0.5 + 0.3j, -1 + 0.2j], dtype=lib.complex128, requires_grad=True)
    w = lib.tensor([0.1 - 0.3j, 2 + 0.2j], dtype=lib.complex128, requires_grad=True)
    x = lib.tensor([0.7, 1.3], dtype=lib.float64, requires_grad=True)
    yield (z.conj() * w).real.sum() + (z.imag * 3).sum(), (z, w)
    yield lib.view_as_real(z.sin() * w).pow(2).sum(), (z, w)
    yield lib.view_as_complex(lib.stack([x, x * 2], -1)).exp().abs().sum(), (x,)
    yield (lib.complex(x, x * x) * w).angle().sum() + lib.polar(x, x.flip(0)).imag.sum(), (x, w)
    yield (x * 1j).abs().sum() + (x * (1 + 1j)).angle().sum() + (x + 2j).sgn().real.sum(), (x,)
    yield (z @ w + z.conj_physical().dot(w)).real + lib.vdot(z, w).imag, (z, w)
    yield (z.unsqueeze(1) * w).abs().pow(3).sum() + lib.linalg.vector_norm(z * w) + (z - w).var(), (z, w)
    yield lib.cov(lib.stack([z, w])).abs().sum() + (z.to(lib.complex64) * 2).real.double().sum(), (z, w)
    yield (z.H if z.dim() == 2 else z).reshape(2, 1).mH.mm(w.reshape(2, 1)).abs().sum(), (z, w)


def test_gradients_of_real_losses_match_torch():
    for (ours, our_leaves), (theirs, their_leaves) in zip(_losses(gradscope), _losses(torch), strict=True):
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
        for mine, reference in zip(gradscope.autograd.grad(ours, our_leaves),
                                   torch.autograd.grad(theirs, their_leaves), strict=True):
            assert mine.dtype.is_complex == reference.dtype.is_complex
            np.testing.assert_allclose(mine.numpy(), reference.resolve_conj().numpy(), rtol=1e-10, atol=1e-14)


def test_second_order_gradients_match_torch():
    results = []
    for lib in (gradscope, torch):
        z = lib.tensor([0.5 + 0.3j, -1 + 0.2j], dtype=lib.complex128, requires_grad=True)
        w = lib.tensor([0.1 - 0.3j, 2 + 0.2j], dtype=lib.complex128, requires_grad=True)
        y = (z * w).exp().abs().sum() + (z.conj() * w).real.sum() + lib.view_as_real(z.sin()).sum()
        gz, gw = lib.autograd.grad(y, (z, w), create_graph=True)
        second = (gz * gz.conj()).real.sum() + gw.abs().sum() + gz.angle().sum()
        results.append([g.detach().resolve_conj().numpy() for g in (gz, gw, *lib.autograd.grad(second, (z, w)))])
    for mine, reference in zip(*results, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-10)


def test_hooks_and_retain_grad_see_torchs_gradients():
    seen = []
    for lib in (gradscope, torch):
        z = lib.tensor([0.5 + 0.3j, -1 + 0.2j], requires_grad=True)
        y = z * (1 + 1j)
        y.retain_grad()
        hooked = []
        y.register_hook(lambda g, hooked=hooked: hooked.append(g.clone()) or g * 2j)
        y.abs().sum().backward()
        seen.append([t.resolve_conj().numpy() for t in (z.grad, y.grad, hooked[0])])
    for mine, reference in zip(*seen, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-6)


def test_real_tensors_keep_their_plain_node_classes():
    """The complex node classes serve complex nodes only: real ones run the fast first-order path as before."""
    x = gradscope.tensor([0.5, -1.0], dtype=gradscope.float64, requires_grad=True)
    assert type((x * x.exp()).grad_fn) is node_class(E.mul)
    z = gradscope.tensor([0.5 + 1j], requires_grad=True)
    node = (z * z).grad_fn
    assert type(node) is not node_class(E.mul) and isinstance(node, node_class(E.mul))
    assert node.name() == "MulBackward0" and node._vjp is None


def test_an_op_without_complex_rules_refuses_rather_than_guess():
    z = gradscope.tensor([0.5 + 1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="silu does not support automatic differentiation for outputs with complex"):
        gradscope.nn.functional.silu(z)
    with gradscope.no_grad():
        gradscope.nn.functional.silu(z)  # no node, nothing to refuse


def test_gradcheck_checks_complex_functions_under_torchs_convention(monkeypatch):
    z = gradscope.tensor([0.5 + 0.3j, -1 + 0.2j], dtype=gradscope.complex128, requires_grad=True)
    w = gradscope.tensor([0.1 - 0.3j, 2 + 0.2j], dtype=gradscope.complex128, requires_grad=True)
    x = gradscope.tensor([0.5, 1.2], dtype=gradscope.float64, requires_grad=True)
    assert gradscope.autograd.gradcheck(lambda a, b: ((a * b).abs(), a.angle(), a.sgn(), (a.conj() * b).exp()),
                                        (z, w))
    assert gradscope.autograd.gradgradcheck(lambda a, b: ((a * b).abs(), a.sgn(), (a.conj() * b).sin()), (z, w))
    assert gradscope.autograd.gradcheck(lambda a, b: (gradscope.polar(a, b), gradscope.complex(a, b * 2)),
                                        (x, x.detach().clone().requires_grad_()))
    # exp's rule taken as written for complex (grad · f'(z), not grad · conj(f'(z))): gradcheck must see it
    monkeypatch.setattr(E.exp, "complex_vjp", "as written")
    monkeypatch.setattr(E.exp, "complex_node_class", None)
    with pytest.raises(GradcheckError):
        gradscope.autograd.gradcheck(lambda a: a.exp(), (z,))


def test_real_and_imag_are_views_that_write_through():
    z = gradscope.tensor([1 + 2j, 3 - 1j])
    real, imag = z.real, z.imag
    assert real._base is z and imag._base is z
    real.mul_(10)
    imag.add_(1)
    assert repr(z) == "tensor([10.+3.j, 30.+0.j])"
    pairs = gradscope.view_as_real(z)
    assert pairs._base is z and gradscope.view_as_complex(pairs)._base is z


@pytest.mark.parametrize("expression", [
    "(z * w).exp()", "z.abs()", "z.angle()", "z.sgn()", "z.conj() * w", "lib.view_as_real(z)", "z.real * z.imag",
    "lib.fft.fft(z)", "lib.fft.rfft(x)", "lib.fft.irfft(z)", "lib.complex(x, x * 2)", "lib.polar(x.abs(), x)",
    "(x * (1 + 2j)).sin()", "z @ w.reshape(3, 1)", "lib.view_as_complex(lib.stack([x, x.exp()], -1))",
    "(z * z).sum().abs()",
])
def test_forward_ad_tangents_match_torch(expression):
    """J·t through complex ops, from the VJP: ⟨VJP(g), t⟩ over the reals, Re Σ conj(VJP(g))·t, differentiated in g."""
    tangents = []
    for lib in (gradscope, torch):
        rng = np.random.default_rng(0)
        values = [rng.standard_normal(3) + 1j * rng.standard_normal(3) for _ in range(2)] + [rng.standard_normal(3)]
        directions = [rng.standard_normal(3) + 1j * rng.standard_normal(3) for _ in range(2)] + [rng.standard_normal(3)]
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            z, w, x = (forward_ad.make_dual(lib.tensor(v), lib.tensor(d)) for v, d in zip(values, directions))
            y = eval(expression, {"lib": lib, "z": z, "w": w, "x": x})  # noqa: S307 - the test's own expressions
            tangents.append(forward_ad.unpack_dual(y).tangent.resolve_conj().numpy())
    np.testing.assert_allclose(*tangents, rtol=1e-10, atol=1e-12)
