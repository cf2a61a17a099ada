"""`torch.distributions`: the distributions training scripts use most (policy gradients, VAEs,
Bernoulli/Categorical likelihoods), with PyTorch's shapes, validation messages, graphs, and samples
drawn from PyTorch's random stream where gradscope's sampler is PyTorch's (see gradscope's random
docs): Normal, Uniform, Bernoulli, Categorical, OneHotCategorical, Independent, and
`kl_divergence` between them."""

from gradscope.distributions import constraints
from gradscope.distributions.bernoulli import Bernoulli
from gradscope.distributions.categorical import Categorical, OneHotCategorical
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.independent import Independent
from gradscope.distributions.kl import kl_divergence, register_kl
from gradscope.distributions.normal import Normal
from gradscope.distributions.uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "Normal", "OneHotCategorical", "Uniform",
           "constraints", "kl_divergence", "register_kl"]
