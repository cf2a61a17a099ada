"""Spec §8: torch.autograd.Function — both styles, `<Name>Backward` nodes that are the ctx, saving tensors,
needs_input_grad, mark_dirty, mark_non_differentiable, set_materialize_grads, once_differentiable, the checks on
what backward returns, and the deprecation warning on instantiation."""

from __future__ import annotations

import pytest

MY_EXP = """
class MyExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        print("forward: grad mode", torch.is_grad_enabled(), "needs", ctx.needs_input_grad)
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        print("backward: grad mode", torch.is_grad_enabled())
        y, = ctx.saved_tensors
        return grad * y
"""

E4_TEMPLATE = (
    "RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation: "
    "[torch.FloatTensor [{size}]]{which} is at version 1; expected version 0 instead. Hint: enable anomaly detection "
    "to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, "
    "check_nan=False)."
)


def test_combined_style_forward_backward_and_node_naming(oracle):
    oracle.check(
        MY_EXP + """
x = torch.tensor([0., 1.], requires_grad=True)
y = MyExp.apply(x)
print(y)
print(type(y.grad_fn).__name__, y.grad_fn.name(), isinstance(y.grad_fn, torch.autograd.graph.Node))
y.sum().backward()
print(x.grad)
""",
        stdout="forward: grad mode False needs (True,)\ntensor([1.0000, 2.7183], grad_fn=<MyExpBackward>)\n"
               "MyExpBackward MyExpBackward True\nbackward: grad mode False\ntensor([1.0000, 2.7183])\n",
    )


def test_the_node_is_the_ctx(oracle):
    oracle.check(
        MY_EXP + """
x = torch.tensor([0., 1.], requires_grad=True)
y = MyExp.apply(x)
node = y.grad_fn
mro = [c.__name__ for c in type(node).__mro__]
print(isinstance(node, torch.autograd.function.FunctionCtx), "BackwardCFunction" in mro)
print(node.saved_tensors, node.needs_input_grad, node.next_functions)
""",
        stdout="forward: grad mode False needs (True,)\nTrue True\n"
               "(tensor([1.0000, 2.7183], grad_fn=<MyExpBackward>),) (True,) "
               "((<AccumulateGrad object at 0x...>, 0),)\n",
    )


def test_no_grad_function_call_gives_no_node(oracle):
    oracle.check(
        MY_EXP + """
x = torch.tensor([0., 1.], requires_grad=True)
with torch.no_grad():
    print(MyExp.apply(x))
print(MyExp.apply(torch.ones(1)))
""",
        stdout="forward: grad mode False needs (True,)\ntensor([1.0000, 2.7183])\n"
               "forward: grad mode False needs (False,)\ntensor([2.7183])\n",
    )


def test_setup_context_style_and_non_tensor_arguments(oracle):
    oracle.check(
        """
        class Scale(torch.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k = inputs
                ctx.k = k
                ctx.save_for_backward(x, output)

            @staticmethod
            def backward(ctx, grad):
                x, out = ctx.saved_tensors
                return grad * ctx.k, None

        x = torch.tensor([0., 1.], requires_grad=True)
        y = Scale.apply(x, 3.)
        y.sum().backward()
        print(y, x.grad, y.grad_fn.k)
        """,
        stdout="tensor([0., 3.], grad_fn=<ScaleBackward>) tensor([3., 3.]) 3.0\n",
    )


def test_instantiating_a_function_warns(oracle):
    oracle.check(
        MY_EXP + "MyExp()\n",
        warns=("DeprecationWarning: <class '__main__.MyExp'> should not be instantiated. Methods on autograd "
               "functions are all static, so you should invoke them on the class itself. Instantiating an autograd "
               "function will raise an error in a future version of PyTorch.",),
    )


def test_legacy_non_static_forward_is_an_error(oracle):
    outcome = oracle.check(
        """
        class Legacy(torch.autograd.Function):
            def forward(self, x):
                return x * 2

            def backward(self, grad):
                return grad

        Legacy()(torch.ones(2, requires_grad=True))
        """,
        error="RuntimeError: Legacy autograd function with non-static forward method is deprecated. Please use "
              "new-style autograd function with static forward method. (Example: "
              "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)",
    )
    assert [w.split(":")[0] for w in outcome.warnings] == ["DeprecationWarning"]


# saving tensors ---------------------------------------------------------------------------------------------------
def test_save_for_backward_accepts_none_and_rejects_non_tensors(oracle):
    oracle.check(
        """
        class SaveNone(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(None, x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                nothing, x = ctx.saved_tensors
                print("saved", nothing, x)
                return grad * 2

        class Bad(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 1)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad

        x = torch.ones(2, requires_grad=True)
        SaveNone.apply(x).sum().backward()
        Bad.apply(x)
        """,
        stdout="saved None tensor([1., 1.], requires_grad=True)\n",
        error="TypeError: save_for_backward can only save variables, but argument 1 is of type int",
    )


KEEP = """
class Keep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x
"""


def test_saved_tensors_check_versions_naming_the_current_producer(oracle):
    oracle.check(
        KEEP + """
base = torch.ones(3, requires_grad=True)
c = base.clone()
y = Keep.apply(c)
c.add_(1)
y.sum().backward()
""",
        error=E4_TEMPLATE.format(size=3, which=", which is output 0 of Add,"),
    )
    oracle.check(
        KEEP + """
base = torch.ones(3, requires_grad=True)
c = base + 0
y = Keep.apply(c)
c.mul_(2)
y.sum().backward()
""",
        error=E4_TEMPLATE.format(size=3, which=", which is output 0 of Mul,"),
    )


def test_saved_tensors_check_versions_for_intermediates_and_free_after_backward(oracle):
    oracle.check(
        """
        class Inter(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                c = x + 1
                ctx.save_for_backward(c)
                ctx.c = c
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                c, = ctx.saved_tensors
                return grad * c

        x = torch.ones(2, requires_grad=True)
        y = Inter.apply(x)
        y.sum().backward(retain_graph=True)
        print(x.grad)
        y.grad_fn.c.add_(1)
        y.sum().backward()
        """,
        stdout="tensor([2., 2.])\n",
        error=E4_TEMPLATE.format(size=2, which=""),
    )
    oracle.check(
        KEEP + """
x = torch.ones(2, requires_grad=True)
y = Keep.apply(x)
y.sum().backward()
y.grad_fn.saved_tensors
""",
        error="RuntimeError: Trying to backward through the graph a second time (or directly access saved tensors "
              "after they have already been freed). Saved intermediate values of the graph are freed when you call "
              ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph "
              "a second time or if you need to access saved tensors after calling backward.",
    )


def test_needs_input_grad(oracle):
    oracle.check(
        """
        class Mul(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                print("forward", ctx.needs_input_grad)
                ctx.save_for_backward(a, b)
                return a * b

            @staticmethod
            def backward(ctx, grad):
                a, b = ctx.saved_tensors
                print("backward", ctx.needs_input_grad)
                return (grad * b if ctx.needs_input_grad[0] else None,
                        grad * a if ctx.needs_input_grad[1] else None)

        a = torch.ones(2, requires_grad=True)
        b = torch.full((2,), 3.)
        Mul.apply(a, b).sum().backward()
        print(a.grad, b.grad)
        with torch.no_grad():
            Mul.apply(a, b)
        """,
        stdout="forward (True, False)\nbackward (True, False)\ntensor([3., 3.]) None\nforward (True, False)\n",
    )


def test_mark_dirty(oracle):
    oracle.check(
        """
        class AddOneInplace(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        a = torch.ones(2, requires_grad=True)
        c = a.clone()
        b = AddOneInplace.apply(c)
        print(b is c, c, c._version)
        (b * 3).sum().backward()
        print(a.grad)
        AddOneInplace.apply(torch.ones(2, requires_grad=True))
        """,
        stdout="True tensor([2., 2.], grad_fn=<AddOneInplaceBackward>) 2\ntensor([3., 3.])\n",
        error="RuntimeError: a leaf Variable that requires grad has been used in an in-place operation.",
    )


def test_in_place_without_mark_dirty_goes_undetected(oracle):
    oracle.check(
        """
        class Sneaky(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        c = torch.ones(2, requires_grad=True).clone()
        print(Sneaky.apply(c))
        """,
        stdout="tensor([2., 2.], grad_fn=<SneakyBackward>)\n",
    )


def test_mark_non_differentiable(oracle):
    oracle.check(
        """
        class WithIndex(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                index = x.long()
                ctx.mark_non_differentiable(index)
                return x * 2, index

            @staticmethod
            def backward(ctx, grad, grad_index):
                print("grad_index", grad_index)
                return grad * 2

        x = torch.tensor([3., 1., 2.], requires_grad=True)
        v, i = WithIndex.apply(x)
        print(v.requires_grad, i.requires_grad, i.grad_fn, i)
        (v * i).sum().backward()
        print(x.grad)
        """,
        stdout="True False None tensor([3, 1, 2])\ngrad_index tensor([0, 0, 0])\ntensor([6., 2., 4.])\n",
    )


def test_set_materialize_grads(oracle):
    oracle.check(
        """
        class Two(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, materialize):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                print("grads", g1, g2)
                return (None if g1 is None else g1 * 2), None

        x = torch.ones(2, requires_grad=True)
        Two.apply(x, False)[0].sum().backward()
        Two.apply(x, False)[1].sum().backward()
        Two.apply(x, True)[1].sum().backward()
        print(x.grad)
        """,
        stdout="grads tensor([1., 1.]) None\ngrads None tensor([1., 1.])\ngrads tensor([0., 0.]) tensor([1., 1.])\n"
               "tensor([2., 2.])\n",
    )


ONCE = """
once_differentiable = torch.autograd.function.once_differentiable  # the library under test, not real torch

class Once(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        print("backward: grad mode", torch.is_grad_enabled(), "grad requires grad", grad.requires_grad)
        x, = ctx.saved_tensors
        return 2 * x * grad
"""


def test_once_differentiable_runs_under_no_grad_and_refuses_double_backward(oracle):
    oracle.check(
        ONCE + """
x = torch.tensor([1., 2.], requires_grad=True)
g, = torch.autograd.grad((Once.apply(x) * x).sum(), x, create_graph=True)
print(g, g.grad_fn.next_functions)
g.sum().backward()
""",
        stdout="backward: grad mode False grad requires grad True\n"
               "tensor([ 3., 12.], grad_fn=<AddBackward0>) ((<MulBackward0 object at 0x...>, 0), "
               "(<Error object at 0x...>, 0))\n",
        error="RuntimeError: trying to differentiate twice a function that was marked with @once_differentiable",
    )


def test_once_differentiable_first_order_is_plain(oracle):
    oracle.check(
        ONCE + """
x = torch.tensor([1., 2.], requires_grad=True)
g, = torch.autograd.grad(Once.apply(x).sum(), x, create_graph=True)
print(g)
""",
        stdout="backward: grad mode False grad requires grad False\ntensor([2., 4.])\n",
    )


@pytest.mark.parametrize("name, body, returned, error", [
    ("WrongN", "return x * y", "(grad,)",
     "RuntimeError: function WrongNBackward returned an incorrect number of gradients (expected 2, got 1)"),
    ("WrongShape", "return x * 2", "torch.ones(3), None",
     "RuntimeError: Function WrongShapeBackward returned an invalid gradient at index 0 - got [3] but expected shape "
     "compatible with [2]"),
    ("NonTensorArgBad", "return x * y", "grad, grad, grad",
     "RuntimeError: function NonTensorArgBadBackward returned a gradient different than None at position 3, but the "
     "corresponding forward input was not a Variable"),
])
def test_checks_on_what_backward_returns(oracle, name, body, returned, error):
    oracle.check(
        f"""
        class {name}(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k=None):
                {body}

            @staticmethod
            def backward(ctx, grad):
                return {returned}

        a = torch.ones(2, requires_grad=True)
        args = (a, a, 2.0) if "{name}" == "NonTensorArgBad" else (a, a)
        {name}.apply(*args).sum().backward()
        """,
        error=error,
    )


# §10 acceptance checks ------------------------------------------------------------------------------------------
def test_check_29_custom_function_repr_and_backward_checks(oracle):
    oracle.check(
        MY_EXP + """
print(MyExp.apply(torch.tensor([0., 1.], requires_grad=True)))

class X(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        return grad

a = torch.ones(2, requires_grad=True)
X.apply(a, a).sum().backward()
""",
        stdout="forward: grad mode False needs (True,)\ntensor([1.0000, 2.7183], grad_fn=<MyExpBackward>)\n",
        error="RuntimeError: function XBackward returned an incorrect number of gradients (expected 2, got 1)",
    )


def test_check_30_needs_input_grad_and_mark_non_differentiable(oracle):
    oracle.check(
        """
        class Mul(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                print(ctx.needs_input_grad)
                flag = a > 0
                ctx.mark_non_differentiable(flag)
                return a * b, flag

            @staticmethod
            def backward(ctx, grad, grad_flag):
                return grad, None

        out, flag = Mul.apply(torch.ones(2, requires_grad=True), torch.ones(2))
        print(out.requires_grad, flag.requires_grad)
        """,
        stdout="(True, False)\nTrue False\n",
    )
