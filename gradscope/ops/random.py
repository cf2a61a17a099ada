"""Sampling ops. The samples are drawn by the autograd layer (gradscope's generator) and passed in as
`values`, so a forward is a pure function of its inputs; every gradient is zero, as in PyTorch (no
reparametrisation)."""

from __future__ import annotations

import numpy as np

from gradscope.ops.gamma_grads import standard_gamma_grad
from gradscope.ops.registry import Primitive, primitive


def _zero(g, s):
    """Zeros, as PyTorch's zeros_like(grad): not g · 0, which is NaN where g is NaN or ±inf. The engine sums it
    to the input's shape."""
    return s.xp.zeros_like(g)


bernoulli = primitive("bernoulli", lambda a, values: values, "BernoulliBackward0", inputs=("self",),
                      params=("values",), vjp=(_zero,))
# x.bernoulli_(p): a number p and a tensor p are ops of their own in PyTorch
bernoulli_scalar_ = primitive("bernoulli_scalar_", lambda a, values: values, "BernoulliBackward2", inputs=("self",),
                              params=("values",), vjp=(_zero,))
bernoulli_tensor_ = primitive("bernoulli_tensor_", lambda a, p, values: values, "BernoulliBackward1",
                              inputs=("self", "p"), params=("values",), vjp=(_zero, _zero))
# x.exponential_(), x.random_(…), …: the generator's values (a parameter) replace x's
exponential = primitive("exponential", lambda a, values: values, "ExponentialBackward0", inputs=("self",),
                        params=("values",), vjp=(_zero,))
geometric = primitive("geometric", lambda a, values: values, "GeometricBackward0", inputs=("self",),
                      params=("values",), vjp=(_zero,))
cauchy = primitive("cauchy", lambda a, values: values, "CauchyBackward0", inputs=("self",), params=("values",),
                   vjp=(_zero,))
log_normal = primitive("log_normal", lambda a, values: values, "LogNormalBackward0", inputs=("self",),
                       params=("values",), vjp=(_zero,))
random_from_to = primitive("random_from_to", lambda a, values: values, "RandomBackward0", inputs=("self",),
                           params=("values",), vjp=(_zero,))
random_to = primitive("random_to", lambda a, values: values, "RandomBackward1", inputs=("self",),
                      params=("values",), vjp=(_zero,))
random_full = primitive("random_full", lambda a, values: values, "RandomBackward2", inputs=("self",),
                        params=("values",), vjp=(_zero,))
normal_tensor_tensor = primitive("normal_tensor_tensor", lambda mean, std, values: values, "NormalBackward3",
                                 inputs=("mean", "std"), params=("values",),
                                 attrs=("mean_sym_sizes", "std_sym_sizes"), vjp=(_zero, _zero))
normal_tensor_float = primitive("normal_tensor_float", lambda mean, values: values, "NormalBackward1",
                                inputs=("mean",), params=("values",), attrs=("mean_sym_sizes",), vjp=(_zero,))
normal_float_tensor = primitive("normal_float_tensor", lambda std, values: values, "NormalBackward2",
                                inputs=("std",), params=("values",), attrs=("std_sym_sizes",), vjp=(_zero,))



def _standard_gamma_vjp(g, s):
    # the implicit reparameterisation gradient, a constant of the graph (PyTorch's has no derivative either)
    xp = s.xp
    self, result = (t.detach().numpy() if xp.is_tensor else t for t in (s.self, s.result))
    return g * xp.cast(standard_gamma_grad(self, result).astype(np.asarray(result).dtype), xp.dtype_of(g))


# Gamma(self, 1) draws (the generator's, passed in as `values`) with their reparameterisation gradient
standard_gamma = primitive("_standard_gamma", lambda a, values: values, "StandardGammaBackward0", inputs=("self",),
                           params=("values",), unsaved=("values",), saves=(("self", "result"),),
                           vjp=(_standard_gamma_vjp,))
poisson = primitive("poisson", lambda a, values: values, "PoissonBackward0", inputs=("self",), params=("values",),
                    unsaved=("values",), vjp=(_zero,))


def _not_implemented(g, s):
    raise RuntimeError("derivative for aten::bernoulli is not implemented")


# NOTE: outside the op table on purpose: PyTorch records torch.bernoulli(x, p) only to refuse a backward (its
# node's name() is torch::autograd::NotImplemented: node.py names it so)
bernoulli_p = Primitive("bernoulli_p", lambda a, values: values, "NotImplemented", inputs=("self",),
                        params=("values",), vjp=(_not_implemented,))


def _dirichlet_not_implemented(g, s):
    raise RuntimeError("derivative for aten::_sample_dirichlet is not implemented")


# outside the op table too: PyTorch records _sample_dirichlet only to refuse a backward (Dirichlet.rsample wraps it
# in an autograd.Function of its own)
sample_dirichlet = Primitive("_sample_dirichlet", lambda a, values: values, "NotImplemented", inputs=("self",),
                            params=("values",), vjp=(_dirichlet_not_implemented,))



def _binomial_not_implemented(g, s):
    raise RuntimeError("derivative for aten::binomial is not implemented")


binomial = Primitive("binomial", lambda count, prob, values: values, "NotImplemented", inputs=("count", "prob"),
                     params=("values",), vjp=(_binomial_not_implemented, _binomial_not_implemented))
