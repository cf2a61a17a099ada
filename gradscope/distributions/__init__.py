"""`torch.distributions`: the distributions training scripts use (policy gradients, VAEs, normalising flows,
mixture density networks, Bayesian models), with PyTorch's shapes, validation messages, graphs, and samples
drawn from PyTorch's random stream where gradscope's sampler is PyTorch's (see gradscope's random docs),
the transforms TransformedDistribution pushes them through, and `kl_divergence` between them."""

from gradscope.distributions import constraints, kl_cross, transforms  # noqa: F401 - kl_cross registers pairs
from gradscope.distributions.bernoulli import Bernoulli
from gradscope.distributions.beta import Beta
from gradscope.distributions.binomial import Binomial
from gradscope.distributions.categorical import Categorical
from gradscope.distributions.cauchy import Cauchy
from gradscope.distributions.chi2 import Chi2
from gradscope.distributions.constraint_registry import biject_to, transform_to
from gradscope.distributions.continuous_bernoulli import ContinuousBernoulli
from gradscope.distributions.dirichlet import Dirichlet
from gradscope.distributions.distribution import Distribution
from gradscope.distributions.exp_family import ExponentialFamily
from gradscope.distributions.exponential import Exponential
from gradscope.distributions.fishersnedecor import FisherSnedecor
from gradscope.distributions.gamma import Gamma
from gradscope.distributions.generalized_pareto import GeneralizedPareto
from gradscope.distributions.geometric import Geometric
from gradscope.distributions.gumbel import Gumbel
from gradscope.distributions.half_cauchy import HalfCauchy
from gradscope.distributions.half_normal import HalfNormal
from gradscope.distributions.independent import Independent
from gradscope.distributions.inverse_gamma import InverseGamma
from gradscope.distributions.kl import kl_divergence, register_kl
from gradscope.distributions.kumaraswamy import Kumaraswamy
from gradscope.distributions.laplace import Laplace
from gradscope.distributions.lkj_cholesky import LKJCholesky
from gradscope.distributions.log_normal import LogNormal
from gradscope.distributions.logistic_normal import LogisticNormal
from gradscope.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from gradscope.distributions.mixture_same_family import MixtureSameFamily
from gradscope.distributions.multinomial import Multinomial
from gradscope.distributions.multivariate_normal import MultivariateNormal
from gradscope.distributions.negative_binomial import NegativeBinomial
from gradscope.distributions.normal import Normal
from gradscope.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from gradscope.distributions.pareto import Pareto
from gradscope.distributions.poisson import Poisson
from gradscope.distributions.relaxed_bernoulli import RelaxedBernoulli
from gradscope.distributions.relaxed_categorical import RelaxedOneHotCategorical
from gradscope.distributions.studentT import StudentT
from gradscope.distributions.transformed_distribution import TransformedDistribution
from gradscope.distributions.transforms import *  # noqa: F403 - torch.distributions exports every transform
from gradscope.distributions.uniform import Uniform
from gradscope.distributions.von_mises import VonMises
from gradscope.distributions.weibull import Weibull
from gradscope.distributions.wishart import Wishart

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli", "Dirichlet",
           "Distribution", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma", "GeneralizedPareto",
           "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "InverseGamma", "Kumaraswamy",
           "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal", "LowRankMultivariateNormal", "MixtureSameFamily",
           "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal", "OneHotCategorical",
           "OneHotCategoricalStraightThrough", "Pareto", "Poisson", "RelaxedBernoulli", "RelaxedOneHotCategorical",
           "StudentT", "TransformedDistribution", "Uniform", "VonMises", "Weibull", "Wishart", "biject_to",
           "constraints", "kl_divergence", "register_kl", "transform_to", "transforms", *transforms.__all__]
