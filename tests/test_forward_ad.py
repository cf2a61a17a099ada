"""torch.autograd.forward_ad against PyTorch 2.13: levels and their errors, make_dual/unpack_dual, tangents through
many ops (hypothesis shapes for broadcasting), views, in-place ops, no_grad, custom Functions' jvp, modules with
dual parameters, and that a dual level leaves the dispatcher's fast paths alone once it exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradscope
import gradscope.autograd.forward_ad as fwAD
from gradscope.autograd import observers
from gradscope.autograd.gradcheck import GradcheckError

torch_ = pytest.importorskip("torch")
import torch.autograd.forward_ad as torch_fwAD  # noqa: E402 - after the importorskip

LIBRARIES = ((gradscope, fwAD), (torch_, torch_fwAD))


@pytest.fixture(autouse=True, scope="module")
def _torch_decompositions_loaded():
    """torch's first make_dual loads its JVP decompositions, warning (torch.jit.script is deprecated) as it does:
    loaded here, quietly, so that snippets compare only what they do."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_fwAD._maybe_load_decompositions()


def _jvp(library, forward_ad, function, arrays, tangents):
    """function(*duals)'s outputs as (primal, tangent or None) arrays, on one library."""
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(library.tensor(a), library.tensor(t)) if t is not None else library.tensor(a)
                 for a, t in zip(arrays, tangents)]
        outputs = function(library, *duals)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        unpacked = [forward_ad.unpack_dual(o) for o in outputs]
        return [(p.detach().numpy().copy(), None if t is None else t.detach().numpy().copy()) for p, t in unpacked]


def assert_same_jvp(function, *arrays, tangents=None, rtol=1e-7, atol=1e-9):
    rng = np.random.default_rng(0)
    if tangents is None:
        tangents = [rng.standard_normal(np.shape(a)) if np.asarray(a).dtype.kind == "f" else None for a in arrays]
    ours, theirs = (_jvp(library, forward_ad, function, arrays, tangents) for library, forward_ad in LIBRARIES)
    assert len(ours) == len(theirs)
    for (primal, tangent), (their_primal, their_tangent) in zip(ours, theirs):
        np.testing.assert_allclose(primal, their_primal, rtol=rtol, atol=atol)
        assert (tangent is None) == (their_tangent is None), (tangent, their_tangent)
        if tangent is not None:
            assert tangent.dtype == their_tangent.dtype
            np.testing.assert_allclose(tangent, their_tangent, rtol=rtol, atol=atol)


def _random(*shape, seed=1, positive=False):
    values = np.random.default_rng(seed).standard_normal(shape)
    return np.abs(values) + 0.5 if positive else values


X23, Y23, P23 = _random(2, 3), _random(2, 3, seed=2), _random(2, 3, seed=3, positive=True)
UNARY = {
    "sin": lambda T, x: x.sin(), "exp": lambda T, x: x.exp(), "tanh": lambda T, x: T.tanh(x),
    "sigmoid": lambda T, x: x.sigmoid(), "relu": lambda T, x: T.relu(x), "abs": lambda T, x: x.abs(),
    "cube": lambda T, x: x ** 3, "neg": lambda T, x: -x, "softmax": lambda T, x: x.softmax(1),
    "log_softmax": lambda T, x: T.nn.functional.log_softmax(x, 0), "sum": lambda T, x: x.sum(),
    "sum_dim": lambda T, x: x.sum(1, keepdim=True), "mean": lambda T, x: x.mean(0), "var": lambda T, x: x.var(1),
    "std": lambda T, x: x.std(), "norm": lambda T, x: x.norm(), "amax": lambda T, x: x.amax(1),
    "max_dim": lambda T, x: x.max(1), "sort": lambda T, x: x.sort(1), "topk": lambda T, x: x.topk(2, 1),
    "prod": lambda T, x: x.prod(1), "cumsum": lambda T, x: x.cumsum(1), "logsumexp": lambda T, x: x.logsumexp(1),
    "clamp": lambda T, x: x.clamp(-0.5, 0.5), "where": lambda T, x: T.where(x > 0, x, x * 2),
    "sign": lambda T, x: x.sign(), "floor": lambda T, x: x.floor(), "clone": lambda T, x: x.clone(),
    "double": lambda T, x: x.float().double(), "argmax": lambda T, x: x.argmax(), "compare": lambda T, x: x > 0,
    "to_int": lambda T, x: x.long(), "flip": lambda T, x: x.flip(0), "roll": lambda T, x: x.roll(1, 1),
    "cat": lambda T, x: T.cat([x, x * 2], 0), "stack": lambda T, x: T.stack([x, x.cos()], 2),
    "split": lambda T, x: x.split(1, 1), "unbind": lambda T, x: x.unbind(0), "chunk": lambda T, x: x.chunk(3, 1),
    "gather": lambda T, x: x.gather(1, T.tensor([[0, 2], [1, 1]])),
    "advanced_index": lambda T, x: x[T.tensor([1, 0, 1])], "masked_select": lambda T, x: x[x > 0],
    "pad": lambda T, x: T.nn.functional.pad(x, (1, 2)), "tril": lambda T, x: x.tril(),
    "layer_norm": lambda T, x: T.nn.functional.layer_norm(x, (3,)),
    "normalize": lambda T, x: T.nn.functional.normalize(x, dim=1), "gelu": lambda T, x: T.nn.functional.gelu(x),
    "cross_entropy": lambda T, x: T.nn.functional.cross_entropy(x, T.tensor([2, 0])),
    "zeros_like": lambda T, x: T.zeros_like(x), "outer_product": lambda T, x: x.t() @ x,
    "cumprod": lambda T, x: x.cumprod(1), "expand": lambda T, x: x[:, :1].expand(2, 4),
    "repeat": lambda T, x: x.repeat(2, 1), "einsum": lambda T, x: T.einsum("ij,kj->ik", x, x),
}
POSITIVE_UNARY = {
    "log": lambda T, x: x.log(), "sqrt": lambda T, x: x.sqrt(), "rsqrt": lambda T, x: x.rsqrt(),
    "pow_fraction": lambda T, x: x ** 0.7, "reciprocal": lambda T, x: 1 / x,
}
BINARY = {
    "add": lambda T, x, y: x + y, "sub": lambda T, x, y: x - y * 2, "mul": lambda T, x, y: x * y,
    "div": lambda T, x, y: x / y, "pow": lambda T, x, y: x.abs() ** y, "atan2": lambda T, x, y: T.atan2(x, y),
    "maximum": lambda T, x, y: T.maximum(x, y), "minimum": lambda T, x, y: T.minimum(x, y),
    "lerp": lambda T, x, y: T.lerp(x, y, 0.3), "matmul": lambda T, x, y: x @ y.t(),
    "linear": lambda T, x, y: T.nn.functional.linear(x, y), "mse": lambda T, x, y: T.nn.functional.mse_loss(x, y),
    "hypot": lambda T, x, y: T.hypot(x, y), "dist": lambda T, x, y: T.dist(x, y),
    "cosine_similarity": lambda T, x, y: T.nn.functional.cosine_similarity(x, y),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_tangents_match_torch(name):
    assert_same_jvp(UNARY[name], X23)


@pytest.mark.parametrize("name", POSITIVE_UNARY)
def test_positive_domain_ops_tangents_match_torch(name):
    assert_same_jvp(POSITIVE_UNARY[name], P23)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("which", ["both", "first", "second"])
def test_binary_ops_tangents_match_torch(name, which):
    rng = np.random.default_rng(5)
    tangents = [rng.standard_normal((2, 3)) if which in ("both", "first") else None,
                rng.standard_normal((2, 3)) if which in ("both", "second") else None]
    assert_same_jvp(BINARY[name], X23, Y23, tangents=tangents)


X34, SRC35 = _random(3, 4, seed=6), _random(3, 5, seed=7)
SCATTERS = {
    "scatter": lambda T, x, s, i, d: T.scatter(x, d, i, s),
    "scatter_add": lambda T, x, s, i, d: x.scatter_add(d, i, s),
    "scatter_": lambda T, x, s, i, d: x.clone().scatter_(d, i, s),
    "scatter_add_": lambda T, x, s, i, d: x.clone().scatter_add_(d, i, s),
    "scatter_reduce sum": lambda T, x, s, i, d: x.scatter_reduce(d, i, s, "sum"),
    "scatter_reduce mean without self": lambda T, x, s, i, d: x.scatter_reduce(d, i, s, "mean", include_self=False),
    "scatter_reduce amax": lambda T, x, s, i, d: x.scatter_reduce(d, i, s, "amax"),
}


@pytest.mark.parametrize("name", SCATTERS)
@pytest.mark.parametrize("src_shape", [(2, 2), (3, 5)], ids=["src as the index", "src larger than the index"])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("which", ["both", "self", "src"])
def test_scatter_tangents_match_torch(name, src_shape, dim, which):
    """The scatters read only the corner of src their index covers; a larger src has a tangent as PyTorch's
    (its backward refuses the corner's gradient, its forward AD computes). amax's tangent uses the VJP: with a
    larger src it raises PyTorch's error."""
    index = [[0, 1], [2, 0]]
    src = SRC35[:src_shape[0], :src_shape[1]]
    rng = np.random.default_rng(8)
    tangents = [rng.standard_normal((3, 4)) if which in ("both", "self") else None,
                rng.standard_normal(src_shape) if which in ("both", "src") else None]

    def function(T, x, s):
        return SCATTERS[name](T, x, s, T.tensor(index), dim)

    if name.endswith("amax") and src_shape == (3, 5) and which == "self":
        pytest.xfail("PyTorch's amax tangent with a larger src that has no tangent: gradscope's, from the VJP, "
                     "raises as PyTorch's backward does")
    if name.endswith("amax") and src_shape == (3, 5):
        for library, forward_ad in LIBRARIES:
            with pytest.raises(RuntimeError, match=r"The size of tensor a \(5\) must match the size of tensor b \(2\)"):
                _jvp(library, forward_ad, function, [X34, src], tangents)
        return
    assert_same_jvp(function, X34, src, tangents=tangents)


def test_scatter_tangents_follow_grad_mode_as_torchs():
    """In grad mode the tangent of a scatter is differentiable in the tangents, as PyTorch's."""
    seen = []
    for library, forward_ad in LIBRARIES:
        src_tangent = library.ones(2, 2, dtype=library.float64, requires_grad=True)
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(library.tensor(SRC35[:2, :2]), src_tangent)
            out = library.tensor(X34).scatter_add(1, library.tensor([[0, 1], [2, 0]]), dual)
            tangent = forward_ad.unpack_dual(out).tangent
            tangent.pow(2).sum().backward()
        seen.append((tangent.requires_grad, type(tangent.grad_fn).__name__, src_tangent.grad.tolist()))
    assert seen[0] == seen[1]


def test_products_and_convolutions_match_torch():
    rng = np.random.default_rng(3)
    assert_same_jvp(lambda T, a, b: T.mm(a, b), rng.standard_normal((2, 4)), rng.standard_normal((4, 3)))
    assert_same_jvp(lambda T, a, b: T.bmm(a, b), rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 4, 3)))
    assert_same_jvp(lambda T, x, w, b: T.nn.functional.conv2d(x, w, b, padding=1),
                    rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3))
    assert_same_jvp(lambda T, x: T.nn.functional.max_pool2d(x, 2), rng.standard_normal((1, 2, 4, 4)))
    assert_same_jvp(lambda T, a, m, n: T.addmm(a, m, n), rng.standard_normal((2, 3)), rng.standard_normal((2, 4)),
                    rng.standard_normal((4, 3)))


_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@given(shapes=_shapes, name=st.sampled_from(["add", "mul", "div", "atan2", "maximum", "hypot"]))
def test_broadcasting_binary_tangents_match_torch(shapes, name):
    rng = np.random.default_rng(7)
    a, b = (rng.standard_normal(shape) for shape in shapes.input_shapes)
    assert_same_jvp(BINARY[name], a, b)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), dim=st.integers(0, 2))
def test_reductions_over_drawn_shapes_match_torch(shape, dim):
    dim = dim % len(shape)
    x = np.random.default_rng(8).standard_normal(shape)
    assert_same_jvp(lambda T, x: (x.softmax(dim) * x.sum(dim, keepdim=True), x.amax(dim), x.cumsum(dim)), x)


# ------------------------------------------------------------------------------- the API, through the oracle


def test_levels_and_their_errors(oracle):
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        def attempt(f):
            try:
                print(f())
            except Exception as e:
                print(type(e).__name__, e)
        x = torch.tensor([1., 2., 3.])
        attempt(lambda: fwAD.make_dual(x, torch.ones(3)))
        print(fwAD.unpack_dual(x))
        with fwAD.dual_level() as level:
            print(level)
            attempt(fwAD.enter_dual_level)
            attempt(lambda: fwAD.exit_dual_level(level=3))
            attempt(lambda: fwAD.make_dual(x, torch.ones(2)))
            attempt(lambda: fwAD.make_dual(x, torch.ones(3, dtype=torch.int64)))
            attempt(lambda: fwAD.make_dual(torch.ones(3, dtype=torch.int64), torch.ones(3)))
            attempt(lambda: fwAD.make_dual(x, torch.ones(3), level=2))
            dual = fwAD.make_dual(x, torch.ones(3))
            attempt(lambda: fwAD.make_dual(dual, torch.ones(3)))
            print(dual, dual._base is x)
            unpacked = fwAD.unpack_dual(dual)
            print(unpacked, unpacked.primal is x, unpacked.primal._base is x)
            print(fwAD.unpack_dual(dual, level=level).tangent)
            print(fwAD.unpack_dual(x))
            print(fwAD.make_dual(torch.ones(2), torch.ones(2, dtype=torch.float64)))
            tangent = torch.arange(6.).reshape(2, 3)
            transposed = fwAD.make_dual(torch.ones(3, 2).t(), tangent)  # copied to the primal's layout
            print(fwAD.unpack_dual(transposed).tangent is tangent, fwAD.unpack_dual(transposed.t()).tangent)
            print(fwAD.unpack_dual(fwAD.make_dual(torch.ones(2, 3), tangent)).tangent is tangent)
        attempt(fwAD.exit_dual_level)
        print(fwAD.unpack_dual(dual), dual)
        print(fwAD.enter_dual_level())
        fwAD.exit_dual_level()
    """)


def test_reprs_no_grad_views_and_reverse_mode(oracle):
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        x = torch.tensor([1., 2., 3.], requires_grad=True)
        t = torch.tensor([1., 0., -1.])
        with fwAD.dual_level():
            dual = fwAD.make_dual(x, t)
            print(dual)
            print(dual.grad_fn.name(), fwAD.unpack_dual(dual * 2).primal.grad_fn.name())
            with torch.no_grad():
                print(fwAD.unpack_dual(dual.exp()))
            view = dual[1:]
            print(fwAD.unpack_dual(view).tangent._base is t)
            print(fwAD.unpack_dual(dual.t().reshape(3, 1).expand(3, 2)).tangent)
            print(fwAD.unpack_dual(dual.argmax()), fwAD.unpack_dual(dual > 1).tangent, fwAD.unpack_dual(dual.detach()))
            out = (dual * dual).sum()
            out.backward()
            print(x.grad, fwAD.unpack_dual(out).tangent.item())
            primal, tangent = fwAD.unpack_dual(dual.sin() * dual)
            tangent.sum().backward()
            # NOTE: torch's grad has a tangent too (its backward ran on the duals), gradscope's hasn't
            print(x.grad.numpy().round(5).tolist())
    """)


def test_in_place_ops_write_tangents(oracle):
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        def attempt(f):
            try:
                print(f())
            except Exception as e:
                print(type(e).__name__, e)
        x = torch.tensor([1., 2., 3.])
        with fwAD.dual_level():
            dual = fwAD.make_dual(x.clone(), torch.tensor([1., 1., 1.]))
            dual.mul_(fwAD.make_dual(x.clone(), torch.tensor([0., 1., 2.]))).add_(1)
            print(fwAD.unpack_dual(dual).tangent)
            dual[1:].mul_(3)
            print(fwAD.unpack_dual(dual).tangent)
            plain = torch.zeros(3)
            plain.copy_(dual)
            print(fwAD.unpack_dual(plain).tangent)
            base = torch.zeros(2, 3)
            early = base[0]
            base[1:].add_(dual)
            print(fwAD.unpack_dual(base).tangent, fwAD.unpack_dual(early).tangent)
            base[0, :2] = dual[:2] * 2
            print(fwAD.unpack_dual(base).tangent)
            row = base[1]
            row.zero_()
            print(fwAD.unpack_dual(base).tangent)
            square = fwAD.make_dual(torch.ones(2, 3), torch.arange(6.).reshape(2, 3))
            square.t_()
            print(fwAD.unpack_dual(square).tangent)
            square.unsqueeze_(0)
            print(fwAD.unpack_dual(square).tangent.shape)
            attempt(lambda: torch.tril(dual, out=plain))
            attempt(lambda: torch.tril(torch.ones(3), out=dual))
    """)


FUNCTIONS = """
    fwAD = torch.autograd.forward_ad
    def attempt(f):
        try:
            print(f())
        except Exception as e:
            print(type(e).__name__, e)
    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor):
            print("tangent inside forward:", fwAD.unpack_dual(x).tangent)
            ctx.save_for_forward(x)
            ctx.factor = factor
            return x * factor
        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor, None
    class WithJvp(Scale):
        @staticmethod
        def jvp(ctx, x_t, factor_t):
            (x,) = ctx.saved_tensors
            print("jvp got", x_t, factor_t, x.shape)
            return x_t * ctx.factor
    class Wrong(Scale):
        @staticmethod
        def jvp(ctx, x_t, factor_t):
            return x_t[:1]
    class TwoTangents(Scale):
        @staticmethod
        def jvp(ctx, x_t, factor_t):
            return x_t, x_t
    class Number(Scale):
        @staticmethod
        def jvp(ctx, x_t, factor_t):
            return 3.0
"""


def test_custom_function_jvp(oracle):
    oracle.check(FUNCTIONS + """
    x = torch.tensor([1., 2.], requires_grad=True)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, torch.tensor([1., -1.]))
        attempt(lambda: Scale.apply(dual, 3))
        attempt(lambda: fwAD.unpack_dual(WithJvp.apply(dual, 3)).tangent)
        attempt(lambda: fwAD.unpack_dual(WithJvp.apply(x, 3)).tangent)
        attempt(lambda: Wrong.apply(dual, 3))
        attempt(lambda: TwoTangents.apply(dual, 3))
        attempt(lambda: Number.apply(dual, 3))
        with torch.no_grad():
            attempt(lambda: fwAD.unpack_dual(WithJvp.apply(dual, 2)).tangent)
        out = WithJvp.apply(dual, 3)
        out.sum().backward()
        print(x.grad)
    """)


def test_functional_call_with_dual_parameters(oracle):
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
        inputs = torch.randn(3, 5)
        params = dict(model.named_parameters())
        tangents = {name: torch.rand_like(p) for name, p in params.items()}
        with fwAD.dual_level():
            dual_params = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
            out = torch.func.functional_call(model, dual_params, (inputs,))
            primal, jvp = fwAD.unpack_dual(out)
            print(primal.grad_fn.name(), jvp.requires_grad)
            print(jvp.detach().numpy().round(4).tolist())
    """)


def test_a_level_leaves_the_fast_paths_alone_once_it_exits():
    before = (observers.GLOBAL, observers.idle, observers.dual_level)
    with fwAD.dual_level():
        assert observers.dual_level is not None and not observers.idle
        dual = fwAD.make_dual(gradscope.ones(2), gradscope.ones(2))
        out = dual * 2
    assert (observers.GLOBAL, observers.idle, observers.dual_level) == before
    assert fwAD.unpack_dual(out).tangent is None and out._tangent is None and "tangent" not in repr(out)


def test_random_ops_draw_once_under_forward_ad():
    gradscope.manual_seed(0)
    plain = gradscope.nn.functional.dropout(gradscope.ones(50), 0.5) * 1
    following = gradscope.rand(3)
    gradscope.manual_seed(0)
    with fwAD.dual_level():
        dual = fwAD.make_dual(gradscope.ones(50), gradscope.full((50,), 2.0))
        dropped = gradscope.nn.functional.dropout(dual, 0.5)
        tangent = fwAD.unpack_dual(dropped).tangent
    assert np.array_equal(gradscope.rand(3).numpy(), following.numpy())
    assert np.array_equal(dropped.numpy(), plain.numpy())
    np.testing.assert_allclose(tangent.numpy(), plain.numpy() * 2)


# ------------------------------------------------------------------------------- gradcheck(check_forward_ad=True)
WRONG_JVP = """
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            ctx.save_for_backward(x)
            return x ** 2
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return FACTOR * x * t
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
"""


def test_gradcheck_forward_ad_passes_a_right_jvp_and_fails_a_wrong_one(oracle):
    oracle.check(WRONG_JVP.replace("FACTOR", "2") + """
    print(torch.autograd.gradcheck(Square.apply, (x,), check_forward_ad=True))
    print(torch.autograd.gradcheck(Square.apply, (x,), check_forward_ad=True, fast_mode=True))
    print(torch.autograd.gradcheck(Square.apply, (x,), check_forward_ad=True, check_backward_ad=False,
                                   check_batched_forward_grad=True))
    """, stdout="True\nTrue\nTrue\n")
    oracle.check(WRONG_JVP.replace("FACTOR", "3") + """
    print(torch.autograd.gradcheck(Square.apply, (x,), raise_exception=False))
    print(torch.autograd.gradcheck(Square.apply, (x,), check_forward_ad=True, raise_exception=False))
    torch.autograd.gradcheck(Square.apply, (x,), check_forward_ad=True)
    """, stdout="True\nFalse\n", error=(
        "GradcheckError: Jacobian computed with forward mode mismatch for output 0 with respect to input 0,\n"
        "numerical:tensor([[2.0000, 0.0000],\n        [0.0000, 4.0000]], dtype=torch.float64)\n"
        "analytical:tensor([[3., 0.],\n        [0., 6.]], dtype=torch.float64)\n"))


def test_gradcheck_forward_ad_fast_mode_message():
    namespace = {"torch": gradscope}
    exec(WRONG_JVP.replace("FACTOR", "3").replace("\n    ", "\n"), namespace)
    with pytest.raises(GradcheckError) as caught:
        gradscope.autograd.gradcheck(namespace["Square"].apply, (namespace["x"],), check_forward_ad=True,
                                     fast_mode=True)
    message = str(caught.value)
    assert message.startswith("Jacobian computed with forward mode mismatch for output 0 with respect to input 0,\n"
                              "numerical:tensor([")
    assert "Below, we recompute numerical and analytical jacobians in slow mode:" in message
    assert "Analytical:\ntensor([[3., 0.],\n        [0., 6.]], dtype=torch.float64)" in message
    assert "The max per-element difference (slow mode) is: 1.99999" in message


def test_gradcheck_forward_ad_over_ops_and_its_argument_errors(oracle):
    oracle.check("""
        x = torch.tensor([0.3, 1.2, -0.7], dtype=torch.float64, requires_grad=True)
        w = torch.tensor([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]], dtype=torch.float64, requires_grad=True)
        check = torch.autograd.gradcheck
        print(check(lambda w, x: ((w @ x).tanh(), x.softmax(0)), (w, x), check_forward_ad=True))
        print(check(lambda x: x[1:].exp() * x[:2], (x,), check_forward_ad=True, fast_mode=True))
        print(check(lambda x: x.max(0), (x,), check_forward_ad=True, check_batched_forward_grad=True))
        strided = torch.linspace(-1, 1, 24, dtype=torch.float64).reshape(4, 6)[:, ::2].requires_grad_()
        transposed = torch.linspace(0, 2, 12, dtype=torch.float64).reshape(3, 4).t().requires_grad_()
        print(check(lambda a, b: (a * b).tanh(), (strided, transposed), check_forward_ad=True),
              check(lambda a, b: (a * b).tanh(), (strided, transposed), check_forward_ad=True, fast_mode=True),
              check(lambda a, n: (a.sum(), a.argmax() * n), (strided, 3), check_forward_ad=True))
        for f in (lambda x: (x.sin() * x).sum(), lambda x: x.tanh() ** 2, lambda x: x.exp() / x.exp().sum()):
            print(torch.autograd.gradgradcheck(f, (x,), check_fwd_over_rev=True),
                  torch.autograd.gradgradcheck(f, (x,), check_fwd_over_rev=True, check_rev_over_rev=False,
                                               check_undefined_grad=False, fast_mode=True))
        def attempt(f):
            try:
                print(f())
            except Exception as e:
                print(type(e).__name__, e)
        attempt(lambda: check(torch.sin, (x,), check_backward_ad=False))
        attempt(lambda: check(torch.sin, (x,), check_batched_forward_grad=True))
        attempt(lambda: torch.autograd.gradgradcheck(torch.sin, (x,), check_rev_over_rev=False))
        attempt(lambda: torch.autograd.gradgradcheck(torch.sin, (x,), check_fwd_over_rev=False,
                                                     check_rev_over_rev=False))
    """)


def test_scripts_import_it_under_the_torch_alias(tmp_path):
    script = tmp_path / "tutorial.py"
    script.write_text(textwrap.dedent("""
        import torch
        import torch.autograd.forward_ad as fwAD
        primal, tangent = torch.randn(10, 10), torch.randn(10, 10)
        with fwAD.dual_level():
            dual_output = torch.sin(fwAD.make_dual(primal, tangent))
            assert fwAD.unpack_dual(dual_output).tangent is not None
        print(type(fwAD.unpack_dual(dual_output)).__name__, fwAD.__name__)
    """))
    runner = ("import runpy, sys\nfrom gradscope.trace import torch_alias\ntorch_alias.install()\n"
              f"runpy.run_path({str(script)!r}, run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(gradscope.__file__).parent.parent)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "UnpackedDualTensor gradscope.autograd.forward_ad\n"


def test_the_tutorials_custom_function_and_modules(oracle):
    """PyTorch's forward-mode AD tutorial: a custom Function with only a jvp (and gradcheck of it in forward mode
    alone), a module whose parameters are swapped for duals, functional_call with dual parameters and buffers."""
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        class Fn(torch.autograd.Function):
            @staticmethod
            def forward(ctx, foo):
                result = torch.exp(foo)
                ctx.result = result
                return result

            @staticmethod
            def jvp(ctx, gI):
                gO = gI * ctx.result
                del ctx.result
                return gO

        fn = Fn.apply
        torch.manual_seed(0)
        primal = torch.randn(10, 10, dtype=torch.double, requires_grad=True)
        tangent = torch.randn(10, 10)
        with fwAD.dual_level():
            dual_input = fwAD.make_dual(primal, tangent)
            dual_output = fn(dual_input)
            jvp = fwAD.unpack_dual(dual_output).tangent
        print(jvp.dtype, round(jvp.sum().item(), 6), jvp.requires_grad)
        print(torch.autograd.gradcheck(Fn.apply, (primal,), check_forward_ad=True,
                                 check_backward_ad=False, check_undefined_grad=False,
                                 check_batched_grad=False))
        # tutorial: modules with setattr
        nn = torch.nn
        model = nn.Linear(5, 5)
        input = torch.randn(16, 5)
        params = {name: p for name, p in model.named_parameters()}
        tangents = {name: torch.rand_like(p) for name, p in params.items()}
        with fwAD.dual_level():
            for name, p in params.items():
                delattr(model, name)
                setattr(model, name, fwAD.make_dual(p, tangents[name]))
            out = model(input)
            jvp = fwAD.unpack_dual(out).tangent
        print(round(jvp.sum().item(), 4))  # NOTE: torch's has a grad_fn (AddBackward0) too
        functional_call = torch.func.functional_call
        model = nn.Linear(5, 5)
        dual_params = {}
        with fwAD.dual_level():
            for name, p in params.items():
                dual_params[name] = fwAD.make_dual(p, tangents[name])
            out = functional_call(model, dual_params, input)
            jvp = fwAD.unpack_dual(out).tangent
        print(round(jvp.sum().item(), 4))
        # buffers
        model = nn.BatchNorm1d(5)
        params = {name: p for name, p in model.named_parameters()}
        tangents = {name: torch.rand_like(p) for name, p in params.items()}
        buffers = {name: p for name, p in model.named_buffers()}
        with fwAD.dual_level():
            for name, p in params.items():
                params[name] = fwAD.make_dual(p, tangents[name])
            out = functional_call(model, (params, buffers), input)
            jvp = fwAD.unpack_dual(out).tangent
        print(round(jvp.sum().item(), 4), jvp.shape)
    """)


def test_custom_function_modifying_a_view_in_place(oracle):
    """mark_dirty: the jvp's tangent is written into the input's, which is a view of its base's."""
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        class MulTwo_(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x
            @staticmethod
            def backward(ctx, g):
                return g * 2
            @staticmethod
            def jvp(ctx, t):
                t.mul_(2)
                return t
        with fwAD.dual_level():
            base = fwAD.make_dual(torch.tensor([1., 2., 3.]), torch.tensor([1., 0., -1.]))
            view = base[1:]
            out = MulTwo_.apply(view)
            print(out is view, fwAD.unpack_dual(out).tangent, fwAD.unpack_dual(base))
    """, stdout="True tensor([ 0., -2.]) "
                "UnpackedDualTensor(primal=tensor([1., 4., 6.]), tangent=tensor([ 1.,  0., -2.]))\n")


def test_no_tangent_outlives_its_level():
    """Every tensor given a tangent (the snapshot an in-place op saves for backward too) loses it at the exit."""
    x = gradscope.tensor([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x * 1, gradscope.ones(2)) * 1
        dual.pow_(2)
        snapshot = dual.grad_fn._saved_self
        assert fwAD.unpack_dual(snapshot).tangent is not None
    assert snapshot._tangent is None and dual._tangent is None
    assert repr(snapshot) == "tensor([1., 2.], grad_fn=<MulBackward0>)"


def test_anomaly_mode_does_not_check_forward_ads_own_passes(oracle):
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        with torch.autograd.detect_anomaly():
            with fwAD.dual_level():
                x = fwAD.make_dual(torch.tensor([0.0, 1.0]), torch.ones(2))
                print(fwAD.unpack_dual(x.sqrt() * 0).tangent)
    """, stdout="tensor([nan, 0.])\n")


def test_observers_see_the_users_ops_only():
    """Forward AD's own computations (each op's JVP) are muted: an observer sees what it sees without tangents."""
    class Seen:
        def __init__(self) -> None:
            self.ops, self.passes = [], 0

        def op_computed(self, op, inputs, outputs) -> None:
            self.ops.append(op.name)

        def backward_begin(self, roots, grads) -> None:
            self.passes += 1

    def run(dual: bool) -> Seen:
        with observers.observing(Seen()) as seen, fwAD.dual_level():
            x = gradscope.ones(3, requires_grad=True)
            primal = fwAD.make_dual(x, gradscope.ones(3)) if dual else x.view(3)
            out = (primal.sin() * 2).t().sum()
            out.backward()
            assert (fwAD.unpack_dual(out).tangent is not None) == dual
        return seen

    with_tangents, without = run(True), run(False)
    assert with_tangents.ops == without.ops and with_tangents.passes == without.passes == 1


VIEWS = {
    "slice": lambda t: t[1:], "column": lambda t: t[:, 1], "row": lambda t: t[0], "transpose": lambda t: t.t(),
    "diagonal": lambda t: t.diagonal(), "unsqueeze": lambda t: t.unsqueeze(0), "flatten_view": lambda t: t.view(-1),
    "narrow": lambda t: t.narrow(1, 0, 2), "split": lambda t: t.split(1, 0)[1], "unbind": lambda t: t.unbind(1)[2],
}
WRITES = {
    "add_dual": lambda lib, fw, v, other: v.add_(other), "mul_dual": lambda lib, fw, v, other: v.mul_(other),
    "mul_scalar": lambda lib, fw, v, other: v.mul_(3), "copy_dual": lambda lib, fw, v, other: v.copy_(other),
    "zero": lambda lib, fw, v, other: v.zero_(), "exp": lambda lib, fw, v, other: v.exp_(),
    "setitem": lambda lib, fw, v, other: v.__setitem__(..., other * 2),
    "clamp": lambda lib, fw, v, other: v.clamp_(-0.5, 0.5),
}


def _views_and_writes(library, forward_ad, base_dual: bool, view: str, write: str, before: bool):
    rng = np.random.default_rng(11)
    base_values, base_tangent, other_values, other_tangent = (rng.standard_normal((3, 3)) for _ in range(4))
    with forward_ad.dual_level():
        base = library.tensor(base_values)
        if base_dual:
            base = forward_ad.make_dual(base, library.tensor(base_tangent)) * 1
        early = VIEWS[view](base) if before else None  # a view made before the write
        target = VIEWS[view](base)
        size = int(np.prod(tuple(target.shape)))
        other = forward_ad.make_dual(library.tensor(other_values.reshape(-1)[:size].reshape(tuple(target.shape))),
                                     library.tensor(other_tangent.reshape(-1)[:size].reshape(tuple(target.shape))))
        WRITES[write](library, forward_ad, target, other)
        seen = [forward_ad.unpack_dual(t) for t in (base, target, early) if t is not None]
        return [(p.detach().numpy().copy(), None if t is None else t.detach().numpy().copy()) for p, t in seen]


@settings(deadline=None)  # torch's first in-place op on a dual is slow (its lazy setup)
@given(base_dual=st.booleans(), view=st.sampled_from(sorted(VIEWS)), write=st.sampled_from(sorted(WRITES)),
       before=st.booleans())
def test_in_place_writes_through_views_match_torch(base_dual, view, write, before):
    ours, theirs = (_views_and_writes(library, forward_ad, base_dual, view, write, before)
                    for library, forward_ad in LIBRARIES)
    for (primal, tangent), (their_primal, their_tangent) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(primal, their_primal, rtol=1e-12)
        assert (tangent is None) == (their_tangent is None)
        if tangent is not None:
            np.testing.assert_allclose(tangent, their_tangent, rtol=1e-12, atol=1e-15)


def test_levels_given_explicitly_and_arguments_that_are_no_tensors(oracle):
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        def attempt(f):
            try: print(f())
            except Exception as e: print(type(e).__name__, e)
        x = torch.ones(2)
        attempt(lambda: fwAD.unpack_dual(x, level=0))
        attempt(lambda: fwAD.make_dual(x, x, level=0))
        with fwAD.dual_level():
            attempt(lambda: fwAD.unpack_dual(x, level=1))
            attempt(lambda: fwAD.unpack_dual(x, level=0).tangent)
            attempt(lambda: fwAD.unpack_dual(3.0))
            attempt(lambda: fwAD.make_dual(x, 3.0))
        attempt(lambda: fwAD.exit_dual_level(level=0))
        print(fwAD.unpack_dual(3.0))
        attempt(lambda: fwAD.unpack_dual(3.0, level=0))
    """)


def test_a_long_level_keeps_nothing_of_dead_tensors():
    with fwAD.dual_level():
        level = observers.dual_level
        x = fwAD.make_dual(gradscope.ones(3), gradscope.ones(3))
        for _ in range(50):
            y = (x.sin() * x).tanh()
        assert fwAD.unpack_dual(y).tangent is not None
        assert len(level.duals) < 20


CONVERSIONS = {
    "contiguous": lambda T, d: d.t().contiguous(), "to32": lambda T, d: d.to(T.float32),
    "float": lambda T, d: d.float(),
    "type_as": lambda T, d: d.type_as(T.ones(1)), "cpu": lambda T, d: d.cpu(), "clone_t": lambda T, d: d.t().clone(),
    "expand_as": lambda T, d: d[:1].expand_as(d), "view_as": lambda T, d: d.view_as(T.ones(12)),
    "reshape_as": lambda T, d: d.t().reshape_as(T.ones(12)), "flatten": lambda T, d: d.flatten(),
    "none_index": lambda T, d: d[None], "T": lambda T, d: d.T, "mT": lambda T, d: d.mT,
    "movedim": lambda T, d: d.movedim(0, 1), "as_strided": lambda T, d: d.as_strided((2, 2), (1, 4)),
    "unfold": lambda T, d: d.unfold(1, 2, 1), "as_tensor": lambda T, d: T.as_tensor(d),
    "detached": lambda T, d: d.detach().requires_grad_(), "from_numpy": lambda T, d: T.from_numpy(d.detach().numpy()),
    "masked_fill": lambda T, d: d.masked_fill(d > 0, 1.0),
    "index_select": lambda T, d: d.index_select(1, T.tensor([0, 2])),
    "take": lambda T, d: d.take(T.tensor([0, 5])), "real": lambda T, d: d.real, "abs_": lambda T, d: d.clone().abs_(),
    "chunk": lambda T, d: d.chunk(2, 1)[1].mul(2), "nan_to_num": lambda T, d: d.nan_to_num(),
    "addcmul": lambda T, d: T.addcmul(d, d, d, value=0.5), "norm_dim": lambda T, d: d.norm(dim=1),
    "where_scalar": lambda T, d: T.where(d > 0, d, 0.0),
}


@pytest.mark.parametrize("name", CONVERSIONS)
def test_conversions_and_tensor_methods_match_torch(name):
    assert_same_jvp(CONVERSIONS[name], _random(3, 4, seed=9), rtol=1e-6)


def test_the_tutorials_basic_usage(oracle):
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        primal = torch.randn(10, 10)
        tangent = torch.randn(10, 10)
        def fn(x, y):
            return x ** 2 + y ** 2
        with fwAD.dual_level():
            dual_input = fwAD.make_dual(primal, tangent)
            assert fwAD.unpack_dual(dual_input).tangent is tangent
            dual_input_alt = fwAD.make_dual(primal, tangent.T)
            assert fwAD.unpack_dual(dual_input_alt).tangent is not tangent
            plain_tensor = torch.randn(10, 10)
            dual_output = fn(dual_input, plain_tensor)
            jvp = fwAD.unpack_dual(dual_output).tangent
            assert torch.allclose(jvp, 2 * primal * tangent)
        assert fwAD.unpack_dual(dual_output).tangent is None
        print("ok")
    """, stdout="ok\n")


def test_inference_mode_turns_forward_ad_off(oracle):
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        with fwAD.dual_level():
            with torch.inference_mode():
                print(fwAD.unpack_dual(fwAD.make_dual(torch.ones(2), torch.ones(2)) * 2))
            dual = fwAD.make_dual(torch.ones(2), torch.ones(2))
            with torch.inference_mode():
                print(fwAD.unpack_dual(dual * 2))
            print(fwAD.unpack_dual(dual * 2))
    """)


def test_an_unpacked_primal_and_its_views_have_no_tangent(oracle):
    """unpack_dual's primal is a view that isn't forward-differentiable in PyTorch: it, its views and what is computed
    from them carry no tangent, and writing a dual into it gives it its own (the base keeps its tangent)."""
    oracle.check("""
        fwAD = torch.autograd.forward_ad
        a = torch.tensor([1., -2., 3., 0.5], dtype=torch.float64)
        t = torch.tensor([0.5, 1., -1., 2.], dtype=torch.float64)

        def show(name, x):
            print(name, *fwAD.unpack_dual(x))

        with fwAD.dual_level():
            dual = fwAD.make_dual(a, t)
            out = dual * 2
            primal = fwAD.unpack_dual(out).primal
            show("primal", primal)
            print(primal.sum(), fwAD.unpack_dual(primal.sum()).tangent)
            show("view of primal", primal[1:3])
            show("reshaped", primal.view(2, 2))
            show("computed", primal.exp())
            show("primal of a view", fwAD.unpack_dual(out[1:]).primal)
            show("primal of make_dual", fwAD.unpack_dual(dual).primal[::2])
            base = out.clone()
            written = fwAD.unpack_dual(base).primal
            written.mul_(3)
            show("base after primal *= 3", base)
            base = out.clone()
            written = fwAD.unpack_dual(base).primal
            written.add_(dual)
            show("primal += dual", written)
            show("its base", base)
            plain = torch.tensor([4., 5., 6., 7.], dtype=torch.float64)
            early = fwAD.unpack_dual(plain).primal
            fwAD.make_dual(plain, t)
            show("unpacked before its base had a tangent", early)
    """)
