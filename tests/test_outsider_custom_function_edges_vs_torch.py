"""More of PyTorch's test/test_autograd.py (pytorch/pytorch), the parts read in session 22 (custom Functions, forward
AD, views and in-place changes), and the mark_dirty misuse PyTorch refuses, as snippets (`T` is the library) run on
gradscope and on PyTorch 2.13: values, dtypes, shapes, grad_fn names, or the exception's type and message, the same.

Different before:
- a Function with setup_context whose forward has a default argument (`forward(x, y=3)`) raised "not enough values to
  unpack": setup_context gets every argument, defaults filled in (test_setup_context_when_forward_has_default_args);
- keyword arguments of apply() were passed to forward but were no inputs: a tensor given as `y=y` got no gradient and
  backward's second gradient was refused ("incorrect number of gradients"); PyTorch takes them as the positional
  arguments they name, and refuses keyword-only ones;
- forward AD: `detach_()` kept the tangent (test_advanced_packing_unpacking);
- mark_dirty: a dirty tensor forward did not return, a view made inside forward, a view of a leaf, an output of a
  multi-output view were let through (a dirty input not returned gave a gradient as if it were untouched); a dirty
  tensor that is no input gave no warning;
- a view a Function returned while no node was made for it (no_grad, or no input requiring grad), and a view made
  under no_grad of a tensor that doesn't require grad, could be modified in place with grad: PyTorch refuses (the
  change would bypass the Function); a multi-output view made under no_grad was refused with the multi-output text;
- squeeze of a 0-dim tensor over dims (0, -1) gave the tensor back (it is dim 0 twice); sum over (0, 1, 1) named dim 0
  as the repeated one;
- a view of an output of a multi-output view (unbind(0)[0].view_as(...), split(1)[0].t()) could be modified in place;
  PyTorch refuses it as it refuses the output itself; `x.grad = x` was taken for a tensor not requiring grad.
"""

from __future__ import annotations

import warnings

import pytest
from outsider_helpers import same_outcome, snippet_outcome

import gradscope

torch = pytest.importorskip("torch")

IDENTITY = """
class Same(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x
    @staticmethod
    def backward(ctx, g):
        return g
class ViewOf(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)
    @staticmethod
    def backward(ctx, g):
        return g
a = T.ones(2, requires_grad=True)
"""

SNIPPETS = {
    "setup_context_when_forward_has_default_args": """
class PowFunction(T.autograd.Function):
    @staticmethod
    def forward(x, y=3):
        return T.pow(x, y)
    @staticmethod
    def setup_context(ctx, inputs, output):
        x, y = inputs
        ctx.save_for_backward(x)
        ctx.y = y
    @staticmethod
    def backward(ctx, gO):
        (x,) = ctx.saved_tensors
        return gO * ctx.y * T.pow(x, ctx.y - 1), None
class PowC(T.autograd.Function):
    @classmethod
    def forward(cls, x, y=3):
        return T.pow(x, y)
    @classmethod
    def setup_context(cls, ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.y = inputs[1]
    @classmethod
    def backward(cls, ctx, gO):
        (x,) = ctx.saved_tensors
        return gO * ctx.y * T.pow(x, ctx.y - 1), None
x = T.tensor(2.0, requires_grad=True)
y1 = PowFunction.apply(x)
y2 = PowC.apply(x)
y1, T.autograd.grad(y1, x), y2, T.autograd.grad(y2, x)""",
    "apply_keyword_argument_is_an_input": """
class R(T.autograd.Function):
    @staticmethod
    def forward(ctx, x, y=3, z=None):
        return x * y
    @staticmethod
    def backward(ctx, g):
        ctx.seen = ctx.needs_input_grad
        return (g * 2,) + (g,) * (len(ctx.needs_input_grad) - 1)
x = T.tensor(1., requires_grad=True)
y = T.tensor(2., requires_grad=True)
out = R.apply(x, y=y)
out.backward()
out.grad_fn.seen, x.grad, y.grad""",
    "apply_keyword_argument_after_a_gap": """
class R(T.autograd.Function):
    @staticmethod
    def forward(ctx, x, y=3, z=None):
        return x * y
    @staticmethod
    def backward(ctx, g):
        return g, None, None
R.apply(T.ones(1, requires_grad=True), z=5)""",
    "apply_keyword_only_argument": """
class S(T.autograd.Function):
    @staticmethod
    def forward(ctx, x, *, y=3):
        return x * y
    @staticmethod
    def backward(ctx, g):
        return g
S.apply(T.ones(1, requires_grad=True), y=2.0)""",
    "apply_keyword_argument_given_twice": """
class S(T.autograd.Function):
    @staticmethod
    def forward(ctx, x, y=3):
        return x * y
    @staticmethod
    def backward(ctx, g):
        return g, None
S.apply(T.ones(1, requires_grad=True), x=2.0)""",
    "setup_context_with_a_keyword_only_default": """
class U(T.autograd.Function):
    @staticmethod
    def forward(x, y=3, *, z=2):
        return x * y * z
    @staticmethod
    def setup_context(ctx, inputs, output):
        pass
    @staticmethod
    def backward(ctx, g):
        return g, None
U.apply(T.ones(1, requires_grad=True))""",
    "setup_context_keyword_argument_is_an_input": """
class U(T.autograd.Function):
    @staticmethod
    def forward(x, y):
        return x * y
    @staticmethod
    def setup_context(ctx, inputs, output):
        pass
    @staticmethod
    def backward(ctx, g):
        return g, g * 3
x = T.tensor(1., requires_grad=True)
y = T.tensor(3., requires_grad=True)
out = U.apply(x, y=y)
out.backward()
out.grad_fn.needs_input_grad, x.grad, y.grad""",
    "forward_ad_detach_in_place_drops_the_tangent": """
fwAD = T.autograd.forward_ad
with fwAD.dual_level():
    dual = fwAD.make_dual(T.ones(2), T.full((2,), 3.0)).clone()
    dual.detach_()
    p, t = fwAD.unpack_dual(dual * 2)
p, t""",
    "dirty_input_not_returned": """
class F(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x.clone()
    @staticmethod
    def backward(ctx, g):
        return g
a = T.ones(2, requires_grad=True)
out = F.apply(a.clone())
out.sum().backward()
out, a.grad""",
    "dirty_input_not_returned_without_grad": """
class F(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x.clone(), x * 2
    @staticmethod
    def backward(ctx, g, h):
        return g
with T.no_grad():
    out = F.apply(T.ones(2, requires_grad=True).clone())
out""",
    "dirty_tensor_not_an_input_is_taken": """
class F(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.clone()
        ctx.mark_dirty(y)
        return y
    @staticmethod
    def backward(ctx, g):
        return g * 2
x = T.ones(2, requires_grad=True)
out = F.apply(x)
out.sum().backward()
out, x.grad""",
    "dirty_view_not_an_input": """
class F(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.clone().view_as(x)
        ctx.mark_dirty(out)
        return out
    @staticmethod
    def backward(ctx, g):
        return g
F.apply(T.ones(2, requires_grad=True).clone())""",
    "dirty_view_made_inside_forward_of_a_tensor_requiring_grad": """
class F(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.view_as(x)
        ctx.mark_dirty(y)
        return y
    @staticmethod
    def backward(ctx, g):
        return g
F.apply(T.ones(2, requires_grad=True).clone())""",
    "dirty_view_of_a_leaf": """
class F(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x
    @staticmethod
    def backward(ctx, g):
        return g
a = T.tensor([1.0, 2.0], requires_grad=True)
F.apply(a.view_as(a))""",
    "dirty_output_of_a_multi_output_view": """
class F(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x
    @staticmethod
    def backward(ctx, g):
        return g
b, c = T.tensor([1.0, 2.0], requires_grad=True).clone().split_with_sizes([1, 1], dim=0)
F.apply(b)""",
    "function_view_made_under_no_grad_modified_with_grad": IDENTITY + """
with T.no_grad():
    v = ViewOf.apply(a.clone())
v.mul_(a)""",
    "function_view_of_a_tensor_requiring_grad_made_under_no_grad": IDENTITY + """
b = a.clone()
with T.no_grad():
    v = ViewOf.apply(b)
v.mul_(2)""",
    "function_view_of_inputs_not_requiring_grad": IDENTITY + """
v = ViewOf.apply(T.ones(2))
v.mul_(a)""",
    "returned_input_not_requiring_grad": IDENTITY + """
v = Same.apply(T.ones(2))
v.mul_(a)""",
    "returned_input_not_requiring_grad_under_no_grad": IDENTITY + """
with T.no_grad():
    v = Same.apply(T.ones(2))
v.mul_(a)""",
    "returned_input_requiring_grad_under_no_grad_is_no_view": IDENTITY + """
b = a.clone()
with T.no_grad():
    v = Same.apply(b)
v.mul_(a)
v, b""",
    "no_grad_view_of_a_tensor_not_requiring_grad_modified_with_grad": """
a = T.ones(2, requires_grad=True)
b = T.ones(2)
with T.no_grad():
    v = b.view_as(b)
v.mul_(a)""",
    "multi_output_view_of_a_tensor_not_requiring_grad": """
a = T.ones(1, requires_grad=True)
x, y = T.ones(2).split(1)
x.mul_(a)""",
    "multi_output_view_made_under_no_grad": """
a = T.ones(1, requires_grad=True)
b = T.ones(2, requires_grad=True).clone()
with T.no_grad():
    x, y = b.split(1)
x.mul_(a)""",
    "slice_of_a_tensor_not_requiring_grad_may_be_modified": """
a = T.ones(2, requires_grad=True)
b = T.ones(3)
v = b[:2]
v.mul_(a)
v.sum().backward()
v, b, a.grad""",
    "view_of_an_output_of_a_multi_output_view": """
root = T.arange(9.0, dtype=T.double).reshape(3, 3).requires_grad_()
r = []
for f in (lambda: root.clone().unbind(0)[0].view_as(root[0]).mul_(2), lambda: root.clone().unbind(0)[0][1:].mul_(2),
          lambda: root.clone().split(1)[0].t().mul_(2), lambda: T.ones(3, 3).unbind(0)[0].view(3).mul_(root[0]),
          lambda: root.clone().unbind(0)[0].mul_(2)):
    try:
        f()
        r.append("ok")
    except RuntimeError as e:
        r.append(str(e))
r""",
    "grad_assigned_the_tensor_itself": """
r = []
for x in (T.ones(2), T.ones(2, requires_grad=True)):
    try:
        x.grad = x
        r.append("ok")
    except RuntimeError as e:
        r.append(str(e))
x = T.ones(2)
x.grad = x.view(2)
r, x.grad""",
    "squeeze_of_a_0_dim_tensor_over_dim_0_twice": """
T.tensor(1.0).squeeze((0, -1))""",
    "squeeze_in_place_of_a_0_dim_tensor_over_dim_0_twice": """
T.tensor(1.0).squeeze_((0, 0))""",
    "squeeze_names_the_repeated_dim": """
T.ones(1, 1, 1).squeeze((1, 0, 0, 1))""",
    "sum_names_the_repeated_dim": """
T.ones(1, 1, 1).sum((0, 1, 1))""",
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_the_snippet_does_what_it_does_in_pytorch(name):
    ours, theirs = snippet_outcome(SNIPPETS[name], gradscope), snippet_outcome(SNIPPETS[name], torch)
    assert same_outcome(ours, theirs), (ours, theirs)


@pytest.mark.parametrize("lib", [gradscope, torch], ids=["gradscope", "torch"])
def test_a_dirty_tensor_that_is_no_input_is_warned_about(lib):
    class Dirty(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.clone()
            ctx.mark_dirty(y)
            return y

        @staticmethod
        def backward(ctx, g):
            return g

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Dirty.apply(lib.ones(2, requires_grad=True))
    text = ("ctx.mark_dirty() received a tensor that was not an input. Only input Tensors that have been mutated "
            "should be passed to ctx.mark_dirty().")
    # PyTorch's C++ warning adds where it was triggered
    assert [(w.category, str(w.message)[:len(text)]) for w in caught] == [(UserWarning, text)]
