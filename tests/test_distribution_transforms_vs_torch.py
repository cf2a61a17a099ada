"""torch.distributions.transforms and TransformedDistribution on gradscope against PyTorch: each transform's
values, inverse, log-Jacobian, gradients, constraints, shapes and cache; and distributions built from them
(a tanh-squashed Gaussian as SAC's policy, a log-normal, a logistic, a flow over a simplex)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope
from tests.test_distributions_vs_torch import READS, outcome, shown

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)
X = RNG.standard_normal((2, 3))
MATRIX = RNG.standard_normal((2, 3, 3))

TRANSFORMS = {
    "exp": lambda T, lib: T.ExpTransform(),
    "power": lambda T, lib: T.PowerTransform(lib.tensor([0.5, 2.0, -1.5], dtype=lib.float64)),
    "power-number": lambda T, lib: T.PowerTransform(3.0),
    "sigmoid": lambda T, lib: T.SigmoidTransform(),
    "softplus": lambda T, lib: T.SoftplusTransform(),
    "tanh": lambda T, lib: T.TanhTransform(),
    "tanh-cached": lambda T, lib: T.TanhTransform(cache_size=1),
    "abs": lambda T, lib: T.AbsTransform(),
    "affine": lambda T, lib: T.AffineTransform(lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64),
                                               lib.tensor([2.0, 0.5, -3.0], dtype=lib.float64)),
    "affine-numbers": lambda T, lib: T.AffineTransform(1.5, -2.0),
    "affine-event": lambda T, lib: T.AffineTransform(0.5, lib.tensor([2.0, 0.5, 3.0], dtype=lib.float64), event_dim=1),
    "compose": lambda T, lib: T.ComposeTransform([T.AffineTransform(0.0, 2.0), T.SigmoidTransform(),
                                                  T.AffineTransform(-1.0, 2.0)]),
    "compose-cached": lambda T, lib: T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)], cache_size=1),
    "identity": lambda T, lib: T.identity_transform,
    "inverse": lambda T, lib: T.SigmoidTransform().inv,
    "independent": lambda T, lib: T.IndependentTransform(T.ExpTransform(), 1),
    "reshape": lambda T, lib: T.ReshapeTransform((3,), (3, 1)),
    "softmax": lambda T, lib: T.SoftmaxTransform(),
    "stick-breaking": lambda T, lib: T.StickBreakingTransform(),
    "lower-cholesky": lambda T, lib: T.LowerCholeskyTransform(),
    "positive-definite": lambda T, lib: T.PositiveDefiniteTransform(),
    "corr-cholesky": lambda T, lib: T.CorrCholeskyTransform(),
    "cat": lambda T, lib: T.CatTransform([T.ExpTransform(), T.identity_transform], dim=-1, lengths=[1, 2]),
    "stack": lambda T, lib: T.StackTransform([T.ExpTransform(), T.TanhTransform(), T.AffineTransform(0.0, 2.0)],
                                             dim=-1),
    "cdf": lambda T, lib: T.CumulativeDistributionTransform(lib.distributions.Normal(0.0, 1.0)),
}
MATRIX_INPUTS = {"lower-cholesky", "positive-definite"}

TRANSFORM_READS = {
    "call": lambda t, x: t(x),
    "inverse": lambda t, x: t.inv(t(x)),
    "inverse-of-cached": lambda t, x: (lambda y: t.inv(y) is x)(t(x)),
    "log_abs_det_jacobian": lambda t, x: t.log_abs_det_jacobian(x, t(x)),
    "constraints": lambda t, x: (repr(t.domain), repr(t.codomain), t.domain.event_dim, t.codomain.event_dim),
    "event_dim": lambda t, x: t.event_dim,
    "sign": lambda t, x: t.sign,
    "bijective": lambda t, x: t.bijective,
    "shapes": lambda t, x: (t.forward_shape(x.shape), t.inverse_shape(t(x).shape)),
    "repr": lambda t, x: repr(t),
    "equal": lambda t, x: (t == t, t == type(t).__mro__[0].__new__(type(t)) if False else t != t.inv, t.inv.inv is t),
    "with_cache": lambda t, x: (lambda c: (repr(c), c._cache_size, c(x) is c(x)))(t.with_cache(1)),
}


def transform_input(kind: str, lib):
    return lib.tensor(MATRIX if kind in MATRIX_INPUTS else X, requires_grad=True)


@pytest.mark.parametrize("read", TRANSFORM_READS)
@pytest.mark.parametrize("kind", TRANSFORMS)
def test_transform_reads_as_torch(kind, read):
    results = [outcome(lambda lib=lib: TRANSFORM_READS[read](TRANSFORMS[kind](lib.distributions.transforms, lib),
                                                             transform_input(kind, lib)))
               for lib in (gradscope, torch)]
    assert results[0] == results[1]


@pytest.mark.parametrize("kind", TRANSFORMS)
def test_transform_gradients_as_torch(kind):
    """Gradients through the forward, the inverse of the output and the log-Jacobian."""
    grads = []
    for lib in (gradscope, torch):
        t = TRANSFORMS[kind](lib.distributions.transforms, lib)
        x = transform_input(kind, lib)

        def backward(t=t, x=x):
            y = t(x)
            total = y.sum() + t.inv(y.detach()).sum()
            try:
                total = total + t.log_abs_det_jacobian(x, y).sum()
            except NotImplementedError:
                pass
            total.backward()
            return x.grad

        grads.append(outcome(backward))
    assert grads[0] == grads[1]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(-30, 30), min_size=1, max_size=6),
       kind=st.sampled_from(["exp", "sigmoid", "softplus", "tanh", "tanh-cached", "affine-numbers", "compose",
                             "stick-breaking", "softmax"]))
def test_transforms_of_any_values_as_torch(values, kind):
    """Wide inputs (saturating tanh and sigmoid, softplus past its threshold): values, inverses and
    log-Jacobians within float64 rounding of PyTorch's. The inverse and the log-Jacobian are taken at PyTorch's
    y (an ulp of y moves atanh or logit near ±1 far more than an ulp), the cached tanh's at its own."""
    y_torch = TRANSFORMS[kind](torch.distributions.transforms, torch)(torch.tensor(values, dtype=torch.float64))
    results = []
    for lib in (gradscope, torch):
        t = TRANSFORMS[kind](lib.distributions.transforms, lib)
        x = lib.tensor(values, dtype=lib.float64)
        y = t(x)
        shared = y if kind == "tanh-cached" else lib.tensor(y_torch.tolist(), dtype=lib.float64)
        ladj = t.log_abs_det_jacobian(x, shared) if kind != "softmax" else y
        results.append([np.asarray(v.tolist(), dtype=np.float64) for v in (y, t.inv(shared), ladj)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda T, lib: T.ExpTransform(cache_size=2),
    lambda T, lib: T.ReshapeTransform((2, 3), (5,)),
    lambda T, lib: T.ReshapeTransform((3,), (3, 1)).forward_shape((2, 4)),
    lambda T, lib: T.ReshapeTransform((3,), (3, 1)).inverse_shape(()),
    lambda T, lib: T.IndependentTransform(T.ExpTransform(), 2)(lib.zeros(3)),
    lambda T, lib: T.StickBreakingTransform().forward_shape(()),
    lambda T, lib: T.CorrCholeskyTransform().forward_shape((4,)),
    lambda T, lib: T.CorrCholeskyTransform().inverse_shape((2, 3)),
    lambda T, lib: T.ExpTransform().sign + T.AffineTransform(0.0, -2.0).sign + T.AffineTransform(0.0, 0.0).sign,
    lambda T, lib: T.Transform().sign,
    lambda T, lib: T.Transform()(lib.zeros(2)),
    lambda T, lib: T.Transform().with_cache(1),
    lambda T, lib: T.AffineTransform(0.0, 1.0) == T.AffineTransform(0.0, 1.0),
    lambda T, lib: T.AffineTransform(0.0, 1.0) == T.AffineTransform(0.0, 2.0),
    lambda T, lib: T.PowerTransform(2.0) == T.PowerTransform(2.0),
    lambda T, lib: T.ComposeTransform([T.ExpTransform()]) == T.ComposeTransform([T.ExpTransform()]),
    lambda T, lib: T.ExpTransform().inv == T.ExpTransform().inv,
    lambda T, lib: T.ComposeTransform([T.ExpTransform(), T.StickBreakingTransform()]).domain,
    lambda T, lib: T.ComposeTransform([T.StickBreakingTransform(), T.ExpTransform()]).codomain,
    lambda T, lib: T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, 1.0)]).inv,
    lambda T, lib: T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, 1.0)]).inv.inv,
    lambda T, lib: T.TanhTransform().event_dim,
    lambda T, lib: T.StickBreakingTransform().event_dim,
    lambda T, lib: T.CorrCholeskyTransform().event_dim,
], ids=lambda call: "")
def test_transform_edges_and_errors_as_torch(call):
    results = [outcome(lambda lib=lib: call(lib.distributions.transforms, lib)) for lib in (gradscope, torch)]
    assert results[0] == results[1]


def test_tanh_cache_inverts_saturated_samples():
    """SAC's reason for cache_size=1: tanh of a large sample rounds to 1, whose atanh is inf; the cache
    gives back the sample itself, and log_prob stays finite."""
    for lib in (gradscope, torch):
        D = lib.distributions
        x = lib.tensor([25.0, -30.0, 0.3], dtype=lib.float64)
        cached, plain = D.TanhTransform(cache_size=1), D.TanhTransform()
        assert cached.inv(cached(x)) is x
        assert not bool(plain.inv(plain(x)).isfinite().all())
        squashed = D.TransformedDistribution(D.Normal(lib.zeros(3, dtype=lib.float64), 10.0), [cached])
        assert bool(squashed.log_prob(cached(x)).isfinite().all())


# ------------------------------------------------------------------------------- transformed distributions
LOC = RNG.standard_normal((2, 3))
SCALE = RNG.uniform(0.5, 2.0, (2, 3))


def parameters(lib):
    return {"loc": lib.tensor(LOC, requires_grad=True), "scale": lib.tensor(SCALE, requires_grad=True)}


MAKERS = {
    "tanh-normal": lambda D, a: D.TransformedDistribution(D.Normal(a["loc"], a["scale"]), [D.TanhTransform()]),
    "sac": lambda D, a: D.TransformedDistribution(D.Normal(a["loc"], a["scale"]),
                                                  [D.TanhTransform(cache_size=1), D.AffineTransform(0.5, 2.0)]),
    "log-normal": lambda D, a: D.TransformedDistribution(D.Normal(a["loc"], a["scale"]), D.ExpTransform()),
    "logistic": lambda D, a: D.TransformedDistribution(
        D.Uniform(a["loc"] * 0, a["loc"] * 0 + 1), [D.SigmoidTransform().inv, D.AffineTransform(a["loc"], a["scale"])]),
    "reflected": lambda D, a: D.TransformedDistribution(D.Normal(a["loc"], a["scale"]), D.AffineTransform(1.0, -2.0)),
    "stick-breaking": lambda D, a: D.TransformedDistribution(D.Normal(a["loc"], a["scale"]),
                                                             D.StickBreakingTransform()),
    "independent-flow": lambda D, a: D.TransformedDistribution(
        D.Independent(D.Normal(a["loc"], a["scale"]), 1), [D.AffineTransform(a["loc"][0], a["scale"][0], event_dim=1)]),
    "reshape": lambda D, a: D.TransformedDistribution(D.Normal(a["loc"], a["scale"]), D.ReshapeTransform((3,), (3, 1))),
}
VALUES = {
    "tanh-normal": lambda lib: lib.tensor(np.linspace(-0.9, 0.9, 6).reshape(2, 3)),
    "sac": lambda lib: lib.tensor(np.linspace(-1.2, 2.2, 6).reshape(2, 3)),
    "log-normal": lambda lib: lib.tensor(np.linspace(0.1, 4, 6).reshape(2, 3)),
    "logistic": lambda lib: lib.tensor(np.linspace(-3, 3, 6).reshape(2, 3)),
    "reflected": lambda lib: lib.tensor(np.linspace(-3, 3, 6).reshape(2, 3)),
    "stick-breaking": lambda lib: lib.tensor([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]]),
    "independent-flow": lambda lib: lib.tensor(np.linspace(-3, 3, 6).reshape(2, 3)),
    "reshape": lambda lib: lib.tensor(np.linspace(-3, 3, 6).reshape(2, 3, 1)),
}


@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize("kind", MAKERS)
def test_transformed_distribution_reads_as_torch(kind, read):
    results = []
    for lib in (gradscope, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(outcome(lambda lib=lib: READS[read](MAKERS[kind](lib.distributions, parameters(lib)),
                                                            VALUES[kind](lib))))
    assert results[0] == results[1]


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("sample_shape", [(), (4,)])
def test_transformed_samples_and_gradients_as_torch(kind, sample_shape):
    """rsample draws PyTorch's values for the same seed; gradients of log_prob(rsample) reach the base
    distribution's parameters as in PyTorch."""
    drawn = []
    for lib in (gradscope, torch):
        a = parameters(lib)
        d = MAKERS[kind](lib.distributions, a)
        lib.manual_seed(5)
        sample = d.sample(sample_shape)
        rsample = d.rsample(sample_shape)
        d.log_prob(rsample).sum().backward()
        drawn.append((shown(sample), shown(rsample), sample.requires_grad, rsample.grad_fn.name(),
                      shown(a["loc"].grad), shown(a["scale"].grad)))
    assert drawn[0] == drawn[1]


@pytest.mark.parametrize("call", [
    lambda D, lib: D.TransformedDistribution(D.Normal(0.0, 1.0), "exp"),
    lambda D, lib: D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform(), "exp"]),
    lambda D, lib: D.TransformedDistribution(D.Normal(0.0, 1.0), D.StickBreakingTransform()),
    lambda D, lib: D.TransformedDistribution(D.Normal(lib.zeros(3), 1.0), D.ExpTransform()).log_prob(-lib.ones(3)),
    lambda D, lib: D.TransformedDistribution(D.Normal(lib.zeros(3), 1.0), D.ExpTransform()).cdf(lib.ones(3)),
    lambda D, lib: D.TransformedDistribution(D.Normal(lib.zeros(3), 1.0), D.AffineTransform(0.0, -1.0)).cdf(
        lib.ones(3)),
    lambda D, lib: D.TransformedDistribution(D.Normal(lib.zeros(3), 1.0), D.AffineTransform(0.0, -1.0)).icdf(
        lib.tensor([0.1, 0.5, 0.8])),
    lambda D, lib: D.TransformedDistribution(D.Normal(lib.zeros(3), 1.0), []).support,
], ids=lambda call: "")
def test_transformed_distribution_errors_as_torch(call):
    results = [outcome(lambda lib=lib: call(lib.distributions, lib)) for lib in (gradscope, torch)]
    assert results[0] == results[1]


CONSTRAINTS = {
    "real": lambda C, lib: C.real, "real_vector": lambda C, lib: C.real_vector,
    "positive": lambda C, lib: C.positive, "nonnegative": lambda C, lib: C.nonnegative,
    "greater_than": lambda C, lib: C.greater_than(1.5), "greater_than_eq": lambda C, lib: C.greater_than_eq(-2.0),
    "less_than": lambda C, lib: C.less_than(3.0), "unit_interval": lambda C, lib: C.unit_interval,
    "interval": lambda C, lib: C.interval(-1.0, 4.0),
    "half_open_interval": lambda C, lib: C.half_open_interval(0.0, 2.0),
    "interval-tensor": lambda C, lib: C.interval(lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)),
    "simplex": lambda C, lib: C.simplex, "lower_cholesky": lambda C, lib: C.lower_cholesky,
    "positive_definite": lambda C, lib: C.positive_definite, "corr_cholesky": lambda C, lib: C.corr_cholesky,
    "independent-positive": lambda C, lib: C.independent(C.positive, 1),
    "cat": lambda C, lib: C.cat([C.positive, C.real], dim=-1, lengths=[1, 2]),
    "stack": lambda C, lib: C.stack([C.positive, C.unit_interval, C.real], dim=-1),
    "boolean": lambda C, lib: C.boolean, "integer_interval": lambda C, lib: C.integer_interval(0, 3),
}
MATRIX_CONSTRAINTS = {"lower_cholesky", "positive_definite"}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", CONSTRAINTS)
def test_constraint_registry_as_torch(registry, name):
    """The transform for each constraint (its repr, values on unconstrained inputs, log-Jacobian), or PyTorch's
    NotImplementedError."""
    results = []
    for lib in (gradscope, torch):
        def read(lib=lib):
            transform = getattr(lib.distributions, registry)(CONSTRAINTS[name](lib.distributions.constraints, lib))
            x = lib.tensor(MATRIX if name in MATRIX_INPUTS | MATRIX_CONSTRAINTS else X)
            if name == "corr_cholesky":
                x = x[..., :3]
            y = transform(x)
            ladj = transform.log_abs_det_jacobian(x, y) if transform.bijective else None
            return repr(transform), y, ladj

        results.append(outcome(read))
    assert results[0] == results[1]


def test_constraint_registry_register_as_torch():
    for lib in (gradscope, torch):
        registry = lib.distributions.constraint_registry.ConstraintRegistry()
        registry.register(lib.distributions.constraints.positive, lambda c: "made")
        assert registry(lib.distributions.constraints.greater_than(3.0)) == "made"
        with pytest.raises(TypeError, match="Expected constraint to be either a Constraint subclass or instance"):
            registry.register(int, lambda c: None)
