"""Autograd behaviour that scripts written against PyTorch rely on, met while running tutorial-style code and
PyTorch-test-style snippets unchanged: retain_grad across in-place changes, views a custom Function returns, and a
Function's `vjp`. Each snippet runs on gradscope and on PyTorch 2.13 (the oracle); the literals hold without torch.
"""

from __future__ import annotations

import pytest

from gradscope.autograd import errors

RETAINED = {
    "mul_": ("""
a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
d = a * 3
d.retain_grad()
e = d * 5
d.mul_(2)
(d.sum() * 7 + e.sum()).backward()
print(d.grad.tolist(), d.retains_grad, a.grad.tolist())
""", "[7.0, 7.0, 7.0] True [57.0, 57.0, 57.0]\n"),
    "two in-place ops, a hook on the old version": ("""
a = torch.tensor([0.5, 1.0], requires_grad=True)
d = a * 3
d.retain_grad()
seen = []
d.register_hook(lambda g: seen.append(g.tolist()))
d.add_(1)
d.exp_()
(d * 2).sum().backward()
print(d.grad.tolist(), len(seen), d.grad_fn.name())
""", "[2.0, 2.0] 1 ExpBackward0\n"),
    "a view of it changed in place": ("""
a = torch.ones(2, 3, requires_grad=True)
d = a * 3
d.retain_grad()
d[0].mul_(2)
(d * torch.arange(6.0).reshape(2, 3)).sum().backward()
print(d.grad.tolist(), d.grad_fn.name())
""", "[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] torch::autograd::CopySlices\n"),
    "augmented assignment": ("""
a = torch.ones(3, requires_grad=True)
d = a * 1
d.retain_grad()
d += 1
(d * 4).sum().backward()
print(d.grad.tolist())
""", "[4.0, 4.0, 4.0]\n"),
    "retained after the first in-place op": ("""
x = torch.zeros(3)
b = torch.ones(3, requires_grad=True)
x.mul_(b)
x.retain_grad()
x.add_(1)
(x * 2).sum().backward()
print(x.grad.tolist())
""", "[2.0, 2.0, 2.0]\n"),
}


@pytest.mark.parametrize("name", RETAINED)
def test_retain_grad_follows_the_tensor_through_in_place_changes(oracle, name):
    """PyTorch moves a tensor's retain_grad to the node an in-place op gives it: `.grad` is the gradient of the tensor
    as modified. gradscope left it on the old node, where nothing retained it: `.grad` stayed None."""
    source, printed = RETAINED[name]
    oracle.check(source, stdout=printed)


FUNCTIONS = """
class OneView(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view(-1)

    @staticmethod
    def backward(ctx, g):
        return g.view(2, 2)


class ViewAndProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view(-1), x * 2

    @staticmethod
    def backward(ctx, g, h):
        return g.view(2, 2) + h * 2


class ViewAndIndex(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        index = x.argmax()
        ctx.mark_non_differentiable(index)
        return x.view(-1), index

    @staticmethod
    def backward(ctx, g, h):
        return g.view(2, 2)


class ViewOfTheFirst(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        return x.view(-1)

    @staticmethod
    def backward(ctx, g):
        return g.view(2, 2), None

x = torch.ones(2, 2, requires_grad=True)
"""

VIEWS = {
    "one view": ("OneView.apply(x.clone())", errors.CUSTOM_FUNCTION_VIEW),
    "a view and a product": ("ViewAndProduct.apply(x.clone())[0]", errors.MULTI_OUTPUT_VIEW),
    "a view and a non-differentiable index": ("ViewAndIndex.apply(x.clone())[0]", errors.CUSTOM_FUNCTION_VIEW),
    "a view of an input that needs no gradient": ("ViewOfTheFirst.apply(torch.ones(2, 2), x)",
                                                  errors.CUSTOM_FUNCTION_VIEW),
}


@pytest.mark.parametrize("name", VIEWS)
def test_a_view_a_function_returned_may_not_be_changed_in_place(oracle, name):
    """PyTorch refuses it (its view replay would bypass the Function's backward); gradscope said the view was made
    in no_grad mode (the forward runs under no_grad), which misleads."""
    call, error = VIEWS[name]
    function = call.split(".")[0]
    oracle.check(FUNCTIONS + f"out = {call}\nout.mul_(2)\n",
                 error=f"RuntimeError: Output 0 of {function} is a view and is being modified inplace. {error}")


def test_a_functions_view_may_be_changed_in_place_without_grad(oracle):
    oracle.check(FUNCTIONS + """
out = OneView.apply(x.clone())
with torch.no_grad():
    out.mul_(2)
print(out.tolist(), OneView.apply(torch.ones(2, 2)).mul_(3).tolist())
""", stdout="[2.0, 2.0, 2.0, 2.0] [3.0, 3.0, 3.0, 3.0]\n")


VJP = """
class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def vjp(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * 10
"""


def test_a_function_may_name_its_backward_vjp(oracle):
    """PyTorch's Function calls `vjp` when it is the one defined; gradscope said neither was implemented."""
    oracle.check(VJP + """
x = torch.zeros(2, requires_grad=True)
Exp.apply(x).sum().backward()
print(x.grad.tolist())
""", stdout="[10.0, 10.0]\n")


def test_a_function_may_not_define_both_backward_and_vjp(oracle):
    oracle.check(VJP + """
class Both(Exp):
    @staticmethod
    def backward(ctx, g):
        return g

x = torch.zeros(2, requires_grad=True)
Both.apply(x).sum().backward()
""", error="RuntimeError: Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You should "
           "only implement one of them.")


def test_the_where_method_keeps_the_tensor_where_the_condition_holds(oracle):
    """`x.where(cond, other)` is torch.where(cond, x, other) (gradscope took x for the condition: 0/1 values, no
    gradient)."""
    oracle.check("""
a = torch.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
kept = a.where(a > 0, 0.0)
print(kept, a.where(a > 0, torch.full((2, 2), 9.0)).tolist(), a.where(condition=a < 0, other=1).tolist())
(kept * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
print(a.grad.tolist())
""", stdout="""
tensor([[0., 2.],
        [3., 0.]], grad_fn=<WhereBackward0>) [[9.0, 2.0], [3.0, 9.0]] [[-1.0, 1.0], [1.0, -4.0]]
[[0.0, 2.0], [3.0, 0.0]]
""")


@pytest.mark.parametrize("call", ["a.where()", "a.where(a > 0)", "a.where(a > 0, 1, 2)"])
def test_the_where_method_refuses_other_argument_counts(oracle, call):
    oracle.check(f"a = torch.tensor([1.0, -1.0])\n{call}", error=f"""TypeError: where() received an invalid \
combination of arguments - got ({', '.join(['Tensor', 'int', 'int'][:call.count(',') + ('>' in call)])}), but \
expected one of:
 * (Tensor condition, Tensor other)
 * (Tensor condition, Number other)
""")


def test_a_post_accumulate_grad_hook_steps_an_optimizer_in_backward(oracle):
    """The optimizer-step-in-backward tutorial: one optimizer per parameter, stepped by its hook as the gradient
    lands, then zeroed; a hook may not return a value (gradscope ignored what it returned)."""
    oracle.check("""
w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
steps = {w: torch.optim.SGD([w], lr=0.5)}
def step(p):
    steps[p].step()
    steps[p].zero_grad()
w.register_post_accumulate_grad_hook(step)
(w * torch.tensor([2.0, 4.0])).sum().backward()
print(w.tolist(), w.grad)
x = torch.ones(2, requires_grad=True)
x.register_post_accumulate_grad_hook(lambda t: t.grad * 0)
(x * 3).sum().backward()
""", stdout="[0.0, -4.0] None\n", error="RuntimeError: Tensor post accumulate grad hooks should return None.")
