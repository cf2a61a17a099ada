"""PyTorch's test/test_autograd.py (pytorch/pytorch), its inference-mode, multithreading and nested-checkpoint tests
read in session 22, as snippets (`T` is the library) run on gradscope and on PyTorch 2.13: values, dtypes, shapes,
grad_fn names, or the exception's type and message, the same. Some results are truncated messages, as the tests
match them.

Different before:
- torch.is_inference was missing (Tensor.is_inference was there);
- a view made in inference mode of a normal tensor was an inference tensor: using it in normal mode raised
  "Inference tensors cannot be saved for backward" where PyTorch computes (its view is a normal tensor, made without
  grad); modifying it in place in normal mode got the inference tensor's error instead of PyTorch's "A view was created
  in inference mode and is being modified inplace in normal mode";
- resize_/resize_as_ of an inference tensor requiring grad, in inference mode, raised "cannot resize variables that
  require grad" (PyTorch skips its autograd check there); add_ outside inference mode on an inference tensor requiring
  grad gave the inference error where PyTorch's leaf check comes first; torch.mul(s, s, out=c) into an inference
  tensor outside inference mode was let through;
- torch.autograd.set_multithreading_enabled / is_multithreading_enabled were missing;
- checkpoint(use_reentrant=False) reran the whole segment in backward: PyTorch's early stop (the default) ends the
  rerun once every saved value is back, so code after the segment's last saving op runs once, not twice;
  torch.utils.checkpoint.set_checkpoint_early_stop and checkpoint's early_stop were missing;
- a view made under no_grad (or in inference mode) whose base, or another view of it, was modified in place was
  taken in grad mode as a leaf whose gradient goes nowhere: backward ran and no gradient reached anything. PyTorch
  refuses its grad_fn ("A view was created in no_grad mode and its base or another view of its base has been
  modified inplace with grad mode enabled"), so any op on it in grad mode.
"""

from __future__ import annotations

import pytest
from outsider_helpers import same_outcome, snippet_outcome

import gradscope

torch = pytest.importorskip("torch")

SNIPPETS = {
    "inference_mode_decorator": """
import itertools
out = []
for mode, use_kwarg in itertools.product((True, False, None), (True, False)):
    seen = []
    def func(x):
        seen.append(T.is_inference_mode_enabled())
        return x * x
    if mode is None:
        decorated = T.inference_mode(mode=func) if use_kwarg else T.inference_mode(func)
        mode = True
    else:
        decorated = T.inference_mode(mode=mode)(func) if use_kwarg else T.inference_mode(mode)(func)
    for rg in (True, False):
        c = T.ones(1, 2, 3, requires_grad=rg)
        d = decorated(c)
        out.append((mode, T.is_inference(d), d.requires_grad))
    out.append(seen)
out""",
    "inference_mode_tensor_creation": """
with T.inference_mode():
    c = T.ones(1, 2, 3)
    r = [c.requires_grad, T.is_inference(c)]
    tmp = T.ones(1, 2, 3, requires_grad=True)
    r += [tmp.requires_grad, T.is_inference(tmp)]
    tmp = T.ones(1, 2, 3).requires_grad_(False)
    r += [tmp.requires_grad, T.is_inference(tmp)]
r""",
    "inference_mode_existing_autograd_session": """
s = T.ones(1, 2, 3, requires_grad=True)
a = s.clone()
out = a * a
with T.inference_mode():
    a.add_(2)
r = T.is_inference(a)
try:
    out.backward(T.ones_like(out))
    r2 = "ok"
except RuntimeError as e:
    r2 = str(e)[:90]
r, r2""",
    "inference_tensor_in_inference_mode_inplace_op": """
out = []
def run_test(fn):
    with T.inference_mode():
        for rg in (True, False):
            c = T.ones(1, 2, 3, requires_grad=rg)
            fn(c)
            out.append((T.is_inference(c), c.requires_grad))
run_test(lambda x: x.add_(2))
run_test(lambda x: x.transpose_(0, 1))
run_test(lambda x: x.resize_(1, 2))
run_test(lambda x: x.resize_as_(T.ones(1, 2)))
run_test(lambda x: x.copy_(T.ones(1, 2, 3)))
out""",
    "inference_tensor_in_normal_mode_functional_op": """
out = []
for rg in (True, False):
    with T.inference_mode():
        c = T.ones(1, 2, 3, requires_grad=rg)
fo = c * c
out.append((T.is_inference(fo), fo.requires_grad, fo.is_leaf))
out""",
    "inference_tensor_in_normal_mode_inplace_op": """
out = []
for fn in (lambda x: x.add_(2), lambda x: x.transpose_(0, 1)):
    for rg in (False, True):
        with T.inference_mode():
            c = T.ones(1, 2, 3, requires_grad=rg)
        try:
            fn(c)
            out.append("ok")
        except RuntimeError as e:
            out.append(str(e)[:120])
out""",
    "normal_tensor_inplace_output_in_inference_and_normal_mode": """
out = []
for fn in (lambda x: x.add_(2), lambda x: x.transpose_(0, 1)):
    for rg in (True, False):
        s = T.ones(1, 2, 3, requires_grad=rg)
        a = s.clone()
        with T.inference_mode():
            fn(a)
            out.append((T.is_inference(a), a.requires_grad))
            fn(a)
            out.append((T.is_inference(a), a.requires_grad))
            v = a.view(-1)
            out.append((T.is_inference(v), v.requires_grad))
        fn(a)
        out.append((T.is_inference(a), a.requires_grad))
        v = a.view(-1)
        out.append((T.is_inference(v), v.requires_grad))
out""",
    "normal_tensor_view_output_in_inference_mode": """
out = []
for rg in (True, False):
    s = T.ones(1, 2, 3, requires_grad=rg)
    a = s.clone()
    with T.inference_mode():
        o = a.view(-1)
        out.append((T.is_inference(o), o.requires_grad, o._is_view()))
        tmp = o.view(-1)
        out.append((T.is_inference(tmp), tmp.requires_grad, tmp._is_view(), tmp.is_leaf))
        tmp.add_(2)
        out.append((T.is_inference(tmp), tmp.requires_grad, a._version == tmp._version))
out""",
    "normal_tensor_view_output_in_normal_mode": """
out = []
for rg in (True, False):
    s = T.ones(1, 2, 3, requires_grad=rg)
    a = s.clone()
    with T.inference_mode():
        o = a.view(-1)
        out.append((T.is_inference(o), o.requires_grad, o._is_view(), o.is_leaf))
    tmp = o * o
    out.append((T.is_inference(tmp), tmp.requires_grad))
    try:
        o.add_(2)
        out.append("ok")
    except RuntimeError as e:
        out.append(str(e)[:100])
    tmp = o.view(2, 3)
    out.append((T.is_inference(tmp), tmp.requires_grad))
out""",
    "mix_inference_and_normal_tensor_functional_op": """
out = []
for rg in (True, False):
    s = T.ones(1, 2, 3, requires_grad=rg)
    with T.inference_mode():
        c = T.ones(1, 2, 3, requires_grad=rg)
    o = c.add(s)
    out.append((T.is_inference(o), o.requires_grad))
    if rg:
        o.backward(T.ones_like(o))
        out.append(c.grad)
        try:
            c * s
            out.append("ok")
        except RuntimeError as e:
            out.append(str(e)[:100])
out""",
    "mix_inference_and_normal_tensor_inplace_op": """
out = []
for rg in (True, False):
    s = T.ones(1, 2, 3, requires_grad=rg)
    a = s.clone()
    with T.inference_mode():
        c = T.ones(1, 2, 3)
    out.append(T.is_inference(c))
    if rg:
        for f in (lambda: a.mul_(c), lambda: T.mul(s, s, out=c)):
            try:
                f()
                out.append("ok")
            except RuntimeError as e:
                out.append(str(e)[:100])
    else:
        a.mul_(c)
        try:
            T.mul(s, s, out=c)
            out.append("ok")
        except RuntimeError as e:
            out.append(str(e)[:100])
out""",
    "set_multithreading_enabled_as_context_manager_and_function": """
r = []
with T.autograd.set_multithreading_enabled(False):
    r.append(T.autograd.is_multithreading_enabled())
r.append(T.autograd.is_multithreading_enabled())
with T.autograd.set_multithreading_enabled(True):
    r.append(T.autograd.is_multithreading_enabled())
r.append(T.autograd.is_multithreading_enabled())
with T.autograd.set_multithreading_enabled(False):
    T.autograd.set_multithreading_enabled(True)
    r.append(T.autograd.is_multithreading_enabled())
r.append(T.autograd.is_multithreading_enabled())
T.autograd.set_multithreading_enabled(False)
r.append(T.autograd.is_multithreading_enabled())
T.autograd.set_multithreading_enabled(True)
r.append(T.autograd.is_multithreading_enabled())
r""",
    "nested_checkpoint": """
import weakref, collections
cp = T.utils.checkpoint
def grad(fn):
    def wrapper(x):
        with T.enable_grad():
            out = fn(x)
            (gi,) = T.autograd.grad(out, inputs=(x,), create_graph=True)
        return gi
    return wrapper
def c(fn):
    def wrapped(*a, **k):
        return cp.checkpoint(fn, *a, use_reentrant=False, **k)
    return wrapped
def f(x):
    return x.sin().exp().sin()
def g(x):
    a = x.sin().exp().sin()
    b = x.sin().exp().sin()
    (ga,) = T.autograd.grad(a, x)
    (gb,) = T.autograd.grad(b, x)
    return x.sin()
x = T.randn((), requires_grad=True)
res = []
for early in (True, False):
    with cp.set_checkpoint_early_stop(early):
        for fn in (f, g):
            tests = ((fn, (c(fn), c(c(fn)))), (grad(fn), (grad(c(fn)), grad(c(c(fn))))),
                     (grad(grad(fn)), (grad(c(grad(fn))), c(grad(grad(c(fn)))), grad(c(grad(c(fn)))))),
                     (grad(grad(grad(fn))), (grad(c(grad(grad(c(fn))))), grad(c(grad(c(grad(c(fn)))))))))
            for e, acts in tests:
                ex = e(x)
                for a in acts:
                    res.append(T.allclose(ex, a(x)))
all(res), len(res)""",
    "nested_checkpoint_two_children": """
cp = T.utils.checkpoint
def grad(fn):
    def wrapper(x):
        with T.enable_grad():
            out = fn(x)
            (gi,) = T.autograd.grad(out, inputs=(x,), create_graph=True)
        return gi
    return wrapper
def sm(fn):
    return lambda x: fn(x).sum()
def c(fn):
    def wrapped(*a, **k):
        return cp.checkpoint(fn, *a, use_reentrant=False, **k)
    return wrapped
def f(x):
    return x.sin().exp().sin()
def g(x):
    return x.cos().sin().exp()
def hc(x):
    return c(g)(c(f)(x))
def h(x):
    return g(f(x))
a = T.randn(3, 3, requires_grad=True)
r = []
for early in (True, False):
    with cp.set_checkpoint_early_stop(early):
        e = grad(sm(grad(sm(h))))(a)
        r.append(T.allclose(e, grad(sm(grad(sm(c(hc)))))(a)))
        r.append(T.allclose(e, grad(sm(c(grad(sm(c(hc))))))(a)))
r""",
    "nested_checkpoint_non_tensor_inputs_and_outputs": """
cp = T.utils.checkpoint
def fn(k, a, b, f):
    return f(k * a * b.exp()), 1, "abcd"
a = T.tensor(2.0, requires_grad=True)
b = T.tensor(3.0, requires_grad=True)
r = []
for early in (True, False):
    with cp.set_checkpoint_early_stop(early):
        out, u1, u2 = cp.checkpoint(fn, 3, a, b, lambda x: x.sin(), use_reentrant=False)
    ag = T.autograd.grad(out, (a, b))
    out, _, _ = fn(3, a, b, lambda x: x.sin())
    eg = T.autograd.grad(out, (a, b))
    r.append((u1, u2, T.allclose(ag[0], eg[0]), T.allclose(ag[1], eg[1])))
r""",
    "nested_checkpoint_kwargs": """
cp = T.utils.checkpoint
def fn(a, blah=None):
    out = a.sin().exp()
    if blah is not None:
        out = out * blah
    return out.sin().exp()
a = T.tensor(2.0, requires_grad=True)
b = T.tensor(3.0, requires_grad=True)
r = []
for early in (True, False):
    with cp.set_checkpoint_early_stop(early):
        out = cp.checkpoint(fn, a, blah=b, use_reentrant=False)
        ag = T.autograd.grad(out, (a, b))
        eg = T.autograd.grad(fn(a, blah=b), (a, b))
        r.append([T.allclose(x, y) for x, y in zip(ag, eg)])
r""",
    "nested_checkpoint_set_early_stop": """
cp = T.utils.checkpoint
counter = [0]
def clone(x):
    counter[0] += 1
    return x.clone()
def fn(x):
    return clone(x.sin().cos())
res = []
def run(**kw):
    counter[0] = 0
    a = T.tensor(1.0, requires_grad=True)
    out = cp.checkpoint(fn, a, use_reentrant=False, **kw)
    out.backward()
    return counter[0]
res.append(run())
res.append(run(early_stop=False))
res.append(run(early_stop=True))
with cp.set_checkpoint_early_stop(False):
    counter[0] = 0
    a = T.tensor(1.0, requires_grad=True)
    out = cp.checkpoint(fn, a, use_reentrant=False)
out.backward()
res.append(counter[0])
with cp.set_checkpoint_early_stop(False):
    with cp.set_checkpoint_early_stop(True):
        counter[0] = 0
        a = T.tensor(1.0, requires_grad=True)
        out = cp.checkpoint(fn, a, use_reentrant=False, early_stop=False)
out.backward()
res.append(counter[0])
with cp.set_checkpoint_early_stop(False):
    counter[0] = 0
    a = T.tensor(1.0, requires_grad=True)
    out = cp.checkpoint(fn, a, use_reentrant=False, early_stop=True)
out.backward()
res.append(counter[0])
with cp.set_checkpoint_early_stop(True):
    counter[0] = 0
    a = T.tensor(1.0, requires_grad=True)
    out = cp.checkpoint(fn, a, use_reentrant=False, early_stop=False)
out.backward()
res.append(counter[0])
res""",
    "nested_checkpoint_set_early_stop_no_recompution_needed": """
cp = T.utils.checkpoint
counter = [0]
def fn(x):
    counter[0] += 1
    return x.sin()
def fn2(x):
    counter[0] += 1
    return x.clone()
res = []
for f in (fn, fn2):
    for early in (True, False):
        counter[0] = 0
        a = T.tensor(1.0, requires_grad=True)
        with cp.set_checkpoint_early_stop(early):
            out = cp.checkpoint(f, a, use_reentrant=False)
        out.backward()
        res.append(counter[0])
res""",
    "view_made_in_inference_mode_of_a_tensor_requiring_grad": """
w = T.ones(4, 3, requires_grad=True)
with T.inference_mode():
    v = w.t()
    a, b = w.split(2)
r = [(t.is_inference(), t.requires_grad, t._is_view(), t.grad_fn) for t in (v, a)]
y = (v * 2).sum()
y.backward()
r.append(w.grad)
try:
    v.add_(1)
except RuntimeError as e:
    r.append(str(e))
with T.no_grad():
    v.add_(1)
x = T.ones(3)
with T.inference_mode():
    u = x.view(-1)
u.add_(1)
try:
    u.mul_(w[0])
except RuntimeError as e:
    r.append(str(e))
r, w, x""",
    "out_into_an_inference_tensor": """
with T.inference_mode():
    c = T.ones(2)
r = []
for f in (lambda: T.mul(T.ones(2), 2, out=c), lambda: T.add(T.ones(2), 1, out=c)):
    try:
        f()
        r.append("ok")
    except RuntimeError as e:
        r.append(str(e))
with T.inference_mode():
    T.mul(T.ones(2), 3, out=c)
r, c""",

    "view_made_without_grad_whose_base_changed": """
r = []
def use(f):
    try:
        r.append(f())
    except RuntimeError as e:
        r.append(str(e))
w = T.ones(3, requires_grad=True)
x = w.clone()
with T.no_grad():
    v = x.view(-1)
with T.no_grad():
    x.mul_(2)
use(lambda: v.grad_fn)
use(lambda: v.requires_grad)
use(lambda: v.is_leaf)
use(lambda: (v * 2).sum())
with T.no_grad():
    use(lambda: v * 2)
with T.no_grad():
    v = w.view(-1)
    w.mul_(2)
use(lambda: (v * 2).sum())
x = w.clone()
with T.no_grad():
    v = x[:2]
x[2:].mul_(2)
use(lambda: v * 2)
b = T.ones(3)
with T.no_grad():
    v = b.view(-1)
b.mul_(2)
use(lambda: (v.grad_fn, v * 2))
b.mul_(w)
use(lambda: v.grad_fn)
with T.no_grad():
    v = w.view(-1)
use(lambda: (v * 2, v.is_leaf, v.requires_grad))
r""",
    "view_made_in_inference_mode_whose_base_changed": """
w = T.ones(3, requires_grad=True)
r = []
for fn in (lambda x: x.add_(2), lambda x: x.transpose_(0, 0)):
    x = w.clone()
    with T.inference_mode():
        v = x.view(-1)
    fn(x)
    try:
        r.append(v.grad_fn)
    except RuntimeError as e:
        r.append(str(e))
r""",
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_the_snippet_does_what_it_does_in_pytorch(name):
    ours, theirs = snippet_outcome(SNIPPETS[name], gradscope), snippet_outcome(SNIPPETS[name], torch)
    assert same_outcome(ours, theirs), (ours, theirs)


def test_is_inference_takes_only_a_tensor():
    ours, theirs = (snippet_outcome("T.is_inference(3)", lib) for lib in (gradscope, torch))
    assert ours == theirs == ("TypeError", "is_inference(): argument 'input' (position 1) must be Tensor, not int")


def test_the_repr_of_a_view_made_without_grad_whose_base_changed():
    shown = []
    for lib in (gradscope, torch):
        a = lib.ones(1, requires_grad=True)
        with lib.no_grad():
            b = a[:]
            b *= 2
        shown.append(repr(b))
    assert shown[0] == shown[1] == "tensor([2.], grad_fn=<Invalid>)"
