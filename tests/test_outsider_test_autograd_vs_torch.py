"""Test methods of PyTorch's own test/test_autograd.py (pytorch/pytorch) that use the public API only, rewritten as
snippets (`T` is the library, their TestCase checks made results) and run on gradscope and on PyTorch 2.13: the
values, dtypes, shapes, grad_fn names, or the exception type and message, must be the same.

Different before:
- a custom Function's backward got a zero tensor for each output forward returned that is no tensor (a number, None,
  a string): PyTorch's gets None (test_custom_function_non_tensor_inputs_outputs); `ctx._materialize_non_diff_grads =
  False` still materialized a non-differentiable output's gradient (test_set_materialize_non_diff_grads);
- `@torch.no_grad()` on a class raised RuntimeError; PyTorch warns (FutureWarning) and builds the class in the mode
  (test_grad_mode_class_decoration); Function had no `generate_vmap_rule` nor `vmap`
  (test_custom_function_vmap_defaults);
- a generator decorated with @no_grad()/@enable_grad() passed gen.throw() on as its own exception instead of into the
  generator (test_set_grad_coroutines_benign_exceptions, _critical_exceptions); Tensor.volatile, ctx.saved_variables
  and autograd.function.InplaceFunction were missing (test_volatile_deprecated, test_saved_variables_deprecated,
  test_return_duplicate_inplace);
- SILENTLY WRONG: a custom Function that modifies a view in place (mark_dirty) lost its backward: the view's node was
  regenerated from its base's old one, so the Function's gradient never ran (b.grad None, a.grad as if untouched).
  As PyTorch, the base's grad_fn is now CopySlices over the Function's node (test_autograd_python_custom_function_
  inplace); with two outputs it is PyTorch's error;
- a saved-tensor pack hook that modified its input in place changed the saved tensor (an op's output) silently;
  PyTorch refuses (test_pack_hook_with_inplace_modification_should_fail);
- resize_ to the shape a tensor already has bumped its version (PyTorch's is a no-op: test_resize_version_bump), so
  a tensor saved for backward then refused as "modified by an inplace operation";
- `t == None` / `t != None` were tensors (so `if mask != None:` raised "ambiguous"), `t == "x"` was NumPy's error,
  `t == [1, 1]` compared elementwise: PyTorch compares those by identity (False, True);
- a gradient edge (torch.autograd.graph.get_gradient_edge) differentiated without grad_outputs raised "grad can be
  implicitly created only for scalar outputs" even for one element, and with grad_outputs of the wrong shape failed in
  NumPy's broadcasting (test_gradient_edge_output, test_gradient_edge_graph_ownership).
"""

from __future__ import annotations

import pytest
from outsider_helpers import same_outcome, snippet_outcome

import gradscope

torch = pytest.importorskip("torch")

SNIPPETS = {
    "custom_function_non_tensor_inputs_outputs": """
class MyFunction(T.autograd.Function):
    @staticmethod
    def forward(ctx, t1, t2, scale, t3):
        t4 = t1 + t2 * t3
        t5 = t1 * t2 + t3
        t4 *= scale
        t5 *= scale
        ctx.scale = scale
        ctx.save_for_backward(t1, t2, t3)
        return scale, t4, None, True, t5, "bar", t1
    @staticmethod
    @T.autograd.function.once_differentiable
    def backward(ctx, *grads):
        ctx.seen = [None if g is None else type(g).__name__ for g in grads]
        scale = ctx.scale
        var1, var2, var3 = ctx.saved_tensors
        return (grads[1] * scale + grads[4] * var2 * scale + grads[6],
                grads[1] * var3 * scale + grads[4] * var1 * scale, None, grads[1] * var2 * scale + grads[4] * scale)
t1 = T.arange(4., dtype=T.double, requires_grad=True)
t2 = T.arange(4., dtype=T.double, requires_grad=True) + 1
t3 = T.arange(4., dtype=T.double) * 2
res = MyFunction.apply(t1, t2, 3, t3)
T.autograd.backward([res[1].sum(), res[4].sum(), res[6].sum()])
[type(r).__name__ for r in res], res[1].grad_fn.seen, res[0], res[2], res[3], res[5], t1.grad, t3.grad""",
    "custom_function_unused_non_tensor_output": """
class F1(T.autograd.Function):
    @staticmethod
    def forward(ctx, t1, scale):
        return scale, t1 * scale, None, True, "bar"
    @staticmethod
    def backward(ctx, *grads):
        ctx.seen = [None if g is None else type(g).__name__ for g in grads]
        return grads[1], None
t1 = T.arange(4., requires_grad=True)
res = F1.apply(t1, 3)
res[1].sum().backward()
res[1].grad_fn.seen, t1.grad""",
    "set_materialize_non_diff_grads": """
seen = []
class Func(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out0 = x.clone()
        out1 = x.clone()
        ctx.mark_non_differentiable(out1)
        ctx._materialize_non_diff_grads = False
        return out0, out1
    @staticmethod
    def backward(ctx, g0, g1):
        seen.append(g1)
        return g0
a = T.tensor(1.0, requires_grad=True)
Func.apply(a)[0].backward()
seen, a.grad""",
    "non_diff_grads_materialized_by_default": """
seen = []
class Func(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out1 = x.clone()
        ctx.mark_non_differentiable(out1)
        return x.clone(), out1
    @staticmethod
    def backward(ctx, g0, g1):
        seen.append(g1)
        return g0
a = T.tensor([1.0, 2.0], requires_grad=True)
Func.apply(a)[0].sum().backward()
seen, a.grad""",
    "grad_mode_class_decoration": """
import warnings
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    @T.no_grad()
    class Foo:
        def __init__(self):
            self.grad_in_init = T.is_grad_enabled()
        def foo(self):
            return T.is_grad_enabled()
    f = Foo()
[(x.category.__name__, str(x.message)) for x in w], f.grad_in_init, f.foo(), type(f).__name__""",
    "enable_grad_class_decoration": """
import warnings
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    @T.enable_grad()
    class Foo:
        def __init__(self):
            self.grad_in_init = T.is_grad_enabled()
    with T.no_grad():
        f = Foo()
len(w), f.grad_in_init""",
    "custom_function_vmap_defaults": """
class MySquare(T.autograd.Function):
    @staticmethod
    def forward(x):
        return x ** 2
    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
    @staticmethod
    def backward(ctx, gO):
        (x,) = ctx.saved_tensors
        return gO * 2 * x
x = T.tensor(1.5, requires_grad=True)
MySquare.generate_vmap_rule, hasattr(MySquare, "vmap"), T.autograd.grad(MySquare.apply(x), x)""",
    "function_vmap_not_overridden": """
class Identity(T.autograd.Function):
    pass
Identity.vmap(None, None)""",
    "gradient_edge_backward_without_grad_outputs": """
class Clone(T.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()
    @staticmethod
    def backward(ctx, gX):
        return gX.clone()
leaf = T.ones(1, requires_grad=True)
inp = leaf.clone()
out = inp.clone()
edge = T.autograd.graph.get_gradient_edge(out)
T.autograd.backward(edge)
del out
T.autograd.backward(edge)
out = Clone.apply(inp)
edge = T.autograd.graph.get_gradient_edge(out)
T.autograd.backward(edge)
del out
T.autograd.backward(edge)
leaf.grad""",
    "gradient_edge_grad_of_a_scalar": """
leaf = T.ones(2, requires_grad=True)
T.autograd.grad(T.autograd.graph.get_gradient_edge((leaf * 3).sum()), leaf)""",
    "gradient_edge_output": """
x = T.tensor([1.0, 2.0], requires_grad=True)
def fn(x, reduce=True):
    tmp = x.sin().cos()
    if reduce:
        tmp = tmp.sum()
    out = tmp.exp().clone().sin().sum()
    return out, T.autograd.graph.get_gradient_edge(tmp)
out, tmp_edge = fn(x)
(tmp_grad,) = T.autograd.grad(out, (tmp_edge,))
(x_grad,) = T.autograd.grad(tmp_edge, (x,), grad_outputs=(tmp_grad,))
out, _ = fn(x)
r = [x_grad, T.autograd.grad(out, (x,))]
for call in (lambda: T.autograd.grad(fn(x, reduce=False)[1], (x,)),
             lambda: T.autograd.grad(fn(x)[1], (x,)),
             lambda: T.autograd.grad(fn(x)[1], (x,), grad_outputs=T.tensor([1.0, 2.0, 3.0, 4.0])),
             lambda: T.autograd.backward(fn(x)[1], inputs=(x,), grad_tensors=T.tensor([1.0, 2.0, 3.0, 4.0]))):
    try:
        r.append(call())
    except RuntimeError as e:
        r.append(str(e))
x.grad = None
out, tmp_edge = fn(x)
T.autograd.backward(tmp_edge, retain_graph=True)
r.append(x.grad)
x.grad = None
T.autograd.backward((tmp_edge,), retain_graph=True)
r.append(x.grad)
out1, tmp_edge1 = fn(x)
out2, tmp_edge2 = fn(x)
r.append(T.autograd.grad((tmp_edge1, out2), (x,), retain_graph=True))
x.grad = None
T.autograd.backward((tmp_edge1, out2), retain_graph=True)
r + [x.grad]""",
    "set_grad_coroutines_benign_exceptions": """
class RecoverableException(Exception):
    pass
@T.no_grad()
def coro_no_grad(n=4):
    has_raised = False
    for i in range(n):
        try:
            yield (-i if has_raised else i, T.is_grad_enabled())
        except RecoverableException:
            has_raised = True
with T.enable_grad():
    coro = coro_no_grad()
    out = [next(coro)]
    try:
        while True:
            out.append(coro.throw(RecoverableException))
    except StopIteration:
        pass
out, T.is_grad_enabled()""",
    "set_grad_coroutines_critical_exceptions": """
class Unrecoverable(Exception):
    pass
class Secondary(Exception):
    pass
@T.enable_grad()
def coro(n=4):
    for i in range(n):
        try:
            yield i
        except Unrecoverable:
            raise Secondary(str(T.is_grad_enabled())) from None
with T.no_grad():
    c = coro()
    next(c)
    c.throw(Unrecoverable)""",
    "volatile_deprecated": """
import warnings
v = T.ones(3, 3)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    volatile = v.volatile
    v.volatile = True
volatile, [(x.category.__name__, str(x.message)) for x in w]""",
    "saved_variables_deprecated": """
import warnings
class MyFunction(T.autograd.Function):
    @staticmethod
    def forward(ctx, tensor1, tensor2):
        ctx.save_for_backward(tensor1, tensor2)
        return tensor1 + tensor2
    @staticmethod
    def backward(ctx, grad_output):
        var1, var2 = ctx.saved_variables
        return grad_output * var2, grad_output * var1
with warnings.catch_warnings(record=True) as warns:
    warnings.simplefilter("always")
    x = T.ones((2, 2), requires_grad=True)
    y = T.full((2, 2), 3.0, requires_grad=True)
    MyFunction.apply(x, y).sum().backward()
[(w.category.__name__, str(w.message)) for w in warns], x.grad, y.grad""",
    "inplace_function_base": """
x = T.ones(2, 2, dtype=T.double, requires_grad=True)
f = T.autograd.function.InplaceFunction
issubclass(f, T.autograd.Function), f.apply(x)""",
    "python_custom_function_inplace_on_a_view": """
bw = []
class MyAdder(T.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        a.add_(b)
        ctx.mark_dirty(a)
        return a
    @staticmethod
    def backward(ctx, grad):
        bw.append(grad.tolist())
        return grad * 10, grad * 100
a = T.ones(4, requires_grad=True)
b = T.ones(2, requires_grad=True)
base = a.clone()
c = MyAdder.apply(base[1:3], b)
(base * T.arange(4.)).sum().backward()
bw, a.grad, b.grad, c.grad_fn.name(), base.grad_fn.name()""",
    "python_custom_function_inplace_on_a_view_saving_it": """
class Mul(T.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        a.mul_(b)
        ctx.mark_dirty(a)
        ctx.save_for_backward(a, b)
        return a
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a / b
a = T.tensor([1., 2., 3., 4.], requires_grad=True)
b = T.tensor([2., 3.], requires_grad=True)
base = a * 1
Mul.apply(base[1:3], b)
(gb,) = T.autograd.grad((base * base).sum(), b, create_graph=True)
gb, T.autograd.grad(gb.sum(), (a, b))""",
    "python_custom_function_inplace_on_a_view_with_two_outputs": """
class MyBadAdder(T.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        a.add_(b)
        ctx.mark_dirty(a)
        return a, a + b
    @staticmethod
    def backward(ctx, ga, gab):
        return ga + gab, ga + gab
a = T.ones(2, requires_grad=True)
MyBadAdder.apply(a.clone().view_as(a), T.ones(2, requires_grad=True))""",
    "pack_hook_with_inplace_modification_should_fail": """
a = T.ones(3, requires_grad=True)
def inc(x):
    x += 1
    return x
r = []
try:
    with T.autograd.graph.saved_tensors_hooks(inc, lambda x: x):
        y = T.exp(a)
except RuntimeError as e:
    r.append(str(e))
y = T.exp(a)
try:
    y.grad_fn._raw_saved_result.register_hooks(inc, lambda x: x)
except RuntimeError as e:
    r.append(str(e))
r, y""",
    "resize_version_bump": """
x = T.rand((1,))
y = T.randn((3,))
x.resize_((1, 2))
r = [x._version]
x.resize_as_(y)
r.append(x._version)
x.resize_((3,))
r.append(x._version)
x.resize_as_(y)
r + [x._version, x.shape]""",
    "tensor_equals_none_a_string_or_a_list": """
import numpy as np
t = T.ones(2)
r = (t != None, None != t, t == None, t == "x", t != "x", t == [1, 1], t == (1, 1), t == object())
out = "taken" if t != None else "not"
r, out, t == 1, t == np.float32(1), t != T.zeros(2)""",
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_the_snippet_does_what_it_does_in_pytorch(name):
    ours, theirs = snippet_outcome(SNIPPETS[name], gradscope), snippet_outcome(SNIPPETS[name], torch)
    assert same_outcome(ours, theirs), (ours, theirs)
