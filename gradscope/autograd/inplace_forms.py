"""The in-place forms and aliases PyTorch scripts and hand-written optimizers use beyond inplace.py's: x.sin_(),
x.clamp_min_(v), x.multiply_(y), x.lt_(y) (0/1 in x's dtype, a node with zero gradients), x.logical_and_(y) (no
node), and the torch.* top-level in-place functions (torch.exp_(x) is x.exp_())."""

from __future__ import annotations

from gradscope.autograd import functions as F
from gradscope.autograd import inplace as I
from gradscope.autograd import pointwise as P
from gradscope.autograd.dispatch import apply
from gradscope.autograd.inplace import _inplace, _unary_inplace
from gradscope.autograd.tensor import Tensor
from gradscope.ops import pointwise_extra as X

sin_ = _unary_inplace(F.sin)
cos_ = _unary_inplace(F.cos)
erf_ = _unary_inplace(F.erf)
log1p_ = _unary_inplace(F.log1p)
rsqrt_ = _unary_inplace(F.rsqrt)
ceil_ = _unary_inplace(F.ceil)
trunc_ = _unary_inplace(F.trunc)
square_ = _unary_inplace(F.square)
clamp_min_ = _unary_inplace(F.clamp_min)
clamp_max_ = _unary_inplace(F.clamp_max)

# the other names of in-place methods inplace.py defines
multiply_ = I.mul_
subtract_ = I.sub_
divide_ = true_divide_ = I.div_
negative_ = I.neg_
absolute_ = I.abs_


def _comparison_inplace(name: str):
    scalar_op, tensor_op = X.COMPARISONS[name]

    def method(self, other):
        # NOTE: compared as given (NumPy compares mixed dtypes exactly), written back in self's dtype
        if isinstance(other, Tensor):
            return _inplace(self, lambda t, o: apply(tensor_op, (t, o), (), [t._data, o._data]), other)
        return _inplace(self, lambda t: apply(scalar_op, (t,), (other,)))
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"self = (self {name} other), 0 or 1 in self's dtype."
    return method


eq_ = _comparison_inplace("eq")
ne_ = not_equal_ = _comparison_inplace("ne")
lt_ = less_ = _comparison_inplace("lt")
le_ = less_equal_ = _comparison_inplace("le")
gt_ = greater_ = _comparison_inplace("gt")
ge_ = greater_equal_ = _comparison_inplace("ge")


def _logical_inplace(function):
    """PyTorch's logical ops record no node: the tensor keeps its grad_fn."""
    def method(self, *others):
        return _inplace(self, lambda t, *o: function(t, *o), *others)
    method.__name__ = method.__qualname__ = function.__name__ + "_"
    return method


logical_and_ = _logical_inplace(F.logical_and)
logical_or_ = _logical_inplace(F.logical_or)
logical_xor_ = _logical_inplace(F.logical_xor)
logical_not_ = _logical_inplace(F.logical_not)

METHODS = {name: globals()[name] for name in (
    "sin_", "cos_", "erf_", "log1p_", "rsqrt_", "ceil_", "trunc_", "square_", "clamp_min_", "clamp_max_",
    "multiply_", "subtract_", "divide_", "true_divide_", "negative_", "absolute_", "eq_", "ne_", "not_equal_", "lt_",
    "less_", "le_", "less_equal_", "gt_", "greater_", "ge_", "greater_equal_", "logical_and_", "logical_or_",
    "logical_xor_", "logical_not_")}

# torch.* in-place functions: the methods, taking the tensor first
abs_, clamp_, clip_, exp_, floor_, log_, neg_, reciprocal_, relu_, round_, sigmoid_, sqrt_, tanh_ = (
    I.abs_, I.clamp_, I.clip_, I.exp_, I.floor_, I.log_, I.neg_, I.reciprocal_, I.relu_, I.round_, I.sigmoid_, I.sqrt_,
    I.tanh_)
acos_, arccos_, asin_, arcsin_, atan_, arctan_, cosh_, sinh_, tan_, expm1_, log2_, log10_, frac_ = (
    P.acos_, P.arccos_, P.asin_, P.arcsin_, P.atan_, P.arctan_, P.cosh_, P.sinh_, P.tan_, P.expm1_, P.log2_,
    P.log10_, P.frac_)
nan_to_num_, xlogy_ = P.nan_to_num_, P.xlogy_
