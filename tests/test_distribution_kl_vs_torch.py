"""kl_divergence on gradscope against PyTorch for every pair of families PyTorch registers that gradscope
has: values (inf where PyTorch gives inf), gradients of the finite ones, PyTorch's dispatch (the most specific
registered pair, its ambiguity warning) and its errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope
from tests.test_distributions_vs_torch import outcome

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(31)
POSITIVE = RNG.uniform(0.5, 3.0, (2, 3))
REAL = RNG.standard_normal((2, 3))
UNIT = RNG.uniform(0.05, 0.95, (2, 3))


def parameters(lib):
    return {"positive": lib.tensor(POSITIVE, requires_grad=True), "real": lib.tensor(REAL, requires_grad=True),
            "unit": lib.tensor(UNIT, requires_grad=True)}


# one instance per family and side (p: row 0 of the parameters, q: row 1), batch shape (3,)
FAMILIES = {
    "Bernoulli": lambda D, a, i: D.Bernoulli(probs=a["unit"][i]),
    "Binomial": lambda D, a, i: D.Binomial(a["positive"][i].detach().ceil() * (1 - i) + 3, probs=a["unit"][i]),
    "Beta": lambda D, a, i: D.Beta(a["positive"][i], a["positive"][1 - i] + 0.5),
    "Categorical": lambda D, a, i: D.Categorical(logits=a["real"][i].unsqueeze(0).expand(3, 3) * a["unit"][i, :, None]),
    "Cauchy": lambda D, a, i: D.Cauchy(a["real"][i], a["positive"][i]),
    "ContinuousBernoulli": lambda D, a, i: D.ContinuousBernoulli(probs=a["unit"][i]),
    "Dirichlet": lambda D, a, i: D.Dirichlet(a["positive"][i].unsqueeze(0).expand(3, 3) + a["unit"][i, :, None]),
    "Exponential": lambda D, a, i: D.Exponential(a["positive"][i]),
    "Geometric": lambda D, a, i: D.Geometric(logits=a["real"][i]),
    "Gamma": lambda D, a, i: D.Gamma(a["positive"][i], a["positive"][1 - i]),
    "Gumbel": lambda D, a, i: D.Gumbel(a["real"][i], a["positive"][i]),
    "HalfNormal": lambda D, a, i: D.HalfNormal(a["positive"][i]),
    "Independent": lambda D, a, i: D.Independent(D.Normal(a["real"][i].unsqueeze(0).expand(3, 3),
                                                          a["positive"][i].unsqueeze(-1).expand(3, 3)), 1),
    "Laplace": lambda D, a, i: D.Laplace(a["real"][i], a["positive"][i]),
    "LowRankMultivariateNormal": lambda D, a, i: D.LowRankMultivariateNormal(
        a["real"][i].unsqueeze(0).expand(3, 3), a["real"].T * (i + 1), a["positive"][i]),
    "MultivariateNormal": lambda D, a, i: D.MultivariateNormal(
        a["real"][i].unsqueeze(0).expand(3, 3), scale_tril=a["positive"][i].diag_embed() + a["real"].T @ a["real"] * 0),
    "Normal": lambda D, a, i: D.Normal(a["real"][i], a["positive"][i]),
    "OneHotCategorical": lambda D, a, i: D.OneHotCategorical(probs=a["unit"][i].unsqueeze(0).expand(3, 3)),
    "Pareto": lambda D, a, i: D.Pareto(a["unit"][i], a["positive"][i] + 1.5 * i),
    "Poisson": lambda D, a, i: D.Poisson(a["positive"][i]),
    "TransformedDistribution": lambda D, a, i: D.TransformedDistribution(D.Normal(a["real"][i], a["positive"][i]),
                                                                         [D.ExpTransform()]),
    # inside [0, 1] for p (a Uniform against a Beta), straddling 0 for q
    "Uniform": lambda D, a, i: D.Uniform(a["unit"][i] * 0.5 - i, a["unit"][i] * 0.5 + 0.5),
}
# the families whose instances above are also instances of a second family PyTorch registers (LogNormal-like
# TransformedDistribution is one), tested under their own names only
PAIRS = sorted((p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY
               if p.__name__ in FAMILIES and q.__name__ in FAMILIES)


def test_every_registered_pair_of_gradscopes_families_is_registered():
    ours = {(p.__name__, q.__name__) for p, q in gradscope.distributions.kl._KL_REGISTRY}
    theirs = {(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY
              if hasattr(gradscope.distributions, p.__name__) and hasattr(gradscope.distributions, q.__name__)}
    assert ours == theirs


@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
def test_kl_divergence_as_torch(pair):
    results = []
    for lib in (gradscope, torch):
        a = parameters(lib)

        def kl(lib=lib, a=a):
            D = lib.distributions
            value = D.kl_divergence(FAMILIES[pair[0]](D, a, 0), FAMILIES[pair[1]](D, a, 1))
            if value.requires_grad and bool(value.isfinite().any()):
                value[value.isfinite()].sum().backward()
            return value, [(name, t.grad) for name, t in a.items() if t.grad is not None]

        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # an ambiguous dispatch warns in both or neither
            results.append(outcome(kl))
    assert results[0] == results[1]


@pytest.mark.parametrize("pair", [("Normal", "Bernoulli"), ("Gamma", "Poisson"), ("Categorical", "Normal"),
                                  ("Beta", "Dirichlet"), ("HalfNormal", "Normal"), ("Cauchy", "Normal")], ids="-".join)
def test_unregistered_pairs_raise_as_torch(pair):
    results = []
    for lib in (gradscope, torch):
        a = parameters(lib)
        D = lib.distributions
        p, q = FAMILIES[pair[0]], FAMILIES[pair[1]]
        results.append(outcome(lambda D=D, a=a, p=p, q=q: D.kl_divergence(p(D, a, 0), q(D, a, 1))))
    assert results[0] == results[1]


def test_exponential_family_fallback_as_torch():
    """Two instances of one exponential family without a registered pair: the Bregman divergence of the
    log-normaliser (its gradient by autograd)."""
    results = []
    for lib in (gradscope, torch):
        D = lib.distributions

        class Scaled(D.Exponential):
            pass

        rate = lib.tensor([0.5, 2.0], requires_grad=True)
        value = D.kl.__dict__["_kl_expfamily_expfamily"](Scaled(rate), Scaled(rate.detach() * 3))
        value.sum().backward()
        results.append(outcome(lambda value=value, rate=rate: (value, rate.grad)))
    assert results[0] == results[1]
