"""`torch.distributions`: the distributions training scripts use (policy gradients, VAEs, normalising flows,
mixture density networks, Bayesian models), with PyTorch's shapes, validation messages, graphs, and samples
drawn from PyTorch's random stream where gradscope's sampler is PyTorch's (see gradscope's random docs),
the transforms TransformedDistribution pushes them through, and `kl_divergence` between them."""

from gradscope.distributions import constraints, kl_cross, transforms  # noqa: F401 - kl_cross registers pairs
from gradscope.distributions.bernoulli import Bernoulli
from gradscope.distributions.categorical import Categorical, OneHotCategorical
from gradscope.distributions.dirichlet import Beta, Dirichlet
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.exp_family import ExponentialFamily
from gradscope.distributions.exponential import Exponential, Poisson
from gradscope.distributions.gamma import Chi2, Gamma
from gradscope.distributions.independent import Independent
from gradscope.distributions.kl import kl_divergence, register_kl
from gradscope.distributions.location_scale import Cauchy, Gumbel, HalfCauchy, HalfNormal, Laplace, LogNormal
from gradscope.distributions.multivariate_normal import MultivariateNormal
from gradscope.distributions.normal import Normal
from gradscope.distributions.transformed_distribution import TransformedDistribution
from gradscope.distributions.transforms import *  # noqa: F403 - torch.distributions exports every transform
from gradscope.distributions.uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Chi2", "Dirichlet", "Distribution", "Exponential",
           "ExponentialFamily", "Gamma", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "Laplace",
           "LogNormal", "Poisson", "Cauchy", "MultivariateNormal", "Normal",
           "OneHotCategorical", "TransformedDistribution", "Uniform", "constraints", "kl_divergence", "register_kl",
           "transforms", *transforms.__all__]
