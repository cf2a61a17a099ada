"""Sampling ops. The samples are drawn by the autograd layer (gradscope's generator) and passed in as
`values`, so a forward is a pure function of its inputs; every gradient is zero, as in PyTorch (no
reparametrisation)."""

from __future__ import annotations

from gradscope.ops.registry import Primitive, primitive


def _zero(g, s):
    return g * 0  # the engine sums it to the input's shape


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


def _not_implemented(g, s):
    raise RuntimeError("derivative for aten::bernoulli is not implemented")


# NOTE: outside the op table on purpose: PyTorch records torch.bernoulli(x, p) only to refuse a backward (its
# node's name() is torch::autograd::NotImplemented: node.py names it so)
bernoulli_p = Primitive("bernoulli_p", lambda a, values: values, "NotImplemented", inputs=("self",),
                        params=("values",), vjp=(_not_implemented,))
