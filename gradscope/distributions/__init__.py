"""`torch.distributions`: the distributions training scripts use (policy gradients, VAEs, normalising flows,
mixture density networks, Bayesian models), with PyTorch's shapes, validation messages, graphs, and samples
drawn from PyTorch's random stream where gradscope's sampler is PyTorch's (see gradscope's random docs),
the transforms TransformedDistribution pushes them through, and `kl_divergence` between them."""

from gradscope.distributions import constraints, transforms
from gradscope.distributions.bernoulli import Bernoulli
from gradscope.distributions.categorical import Categorical, OneHotCategorical
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.independent import Independent
from gradscope.distributions.kl import kl_divergence, register_kl
from gradscope.distributions.multivariate_normal import MultivariateNormal
from gradscope.distributions.normal import Normal
from gradscope.distributions.transformed_distribution import TransformedDistribution
from gradscope.distributions.transforms import *  # noqa: F403 - torch.distributions exports every transform
from gradscope.distributions.uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "MultivariateNormal", "Normal",
           "OneHotCategorical", "TransformedDistribution", "Uniform", "constraints", "kl_divergence", "register_kl",
           "transforms", *transforms.__all__]
