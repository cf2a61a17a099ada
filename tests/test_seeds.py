"""The seed programs in /work/shared/seeds/ (000–004), extracted by hand and run with `import gradscope as torch`.

The seeds are prose around code fragments, several written for old PyTorch versions. The target is torch 2.13's
real output, so where a seed prints an old string it is noted next to the expectation:
  - seed 001 prints `<AddBackward>`, `<MulBackward>` and `MeanBackward1`: torch 2.13 prints `AddBackward0`,
    `MulBackward0` and `MeanBackward0` (a full mean is MeanBackward0; MeanBackward1 is the dim= overload);
  - seed 003 prints `torch.Tensor(3, 5)` as uninitialised garbage: only the shape/dtype are meaningful;
  - seed 001 prints x.grad as `tensor([ 102.4000, 1024.0000,    0.1024])`: torch 2.13 prints
    `tensor([1.0240e+02, 1.0240e+03, 1.0240e-01])`;
  - seed 000 claims `avg_loss.backward(torch.Tensor([1.0]))` equals `avg_loss.backward()`: torch 2.13 rejects
    a [1]-shaped gradient for a 0-dim output (shape mismatch);
  - seed 004's warning text is abridged: 2.13's full text is asserted.
Random programs are compared on structure (repr pattern, grad_fn names, shapes) and on hand-computed math.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import gradscope as torch

NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)


# seed 000: prose only; its claims as fragments --------------------------------------------------------------------
def test_seed_000_backward_with_an_explicit_one(oracle):
    """'avg_loss.backward() is equal to avg_loss.backward(torch.Tensor([1.0]))' — true only for a 1-element
    gradient of the output's own shape in torch 2.13; a [1] gradient for a 0-dim loss is a shape mismatch."""
    oracle.check(
        """
        x = torch.ones(2, 2, requires_grad=True)
        avg_loss = (x * 3).mean()
        avg_loss.backward(torch.tensor(1.), retain_graph=True)
        print(x.grad)
        avg_loss.backward(torch.Tensor([1.0]))
        """,
        stdout="tensor([[0.7500, 0.7500],\n        [0.7500, 0.7500]])\n",
        error="RuntimeError: Mismatch in shape: grad_output[0] has a shape of torch.Size([1]) and output[0] has a "
              "shape of torch.Size([]).",
    )


def test_seed_000_requires_grad_is_contagious_and_no_grad_defines_no_graph(oracle):
    oracle.check(
        """
        w = torch.ones(3, requires_grad=True)
        c = torch.ones(3)
        y = w * c
        print(y.requires_grad, y.grad_fn is not None)
        with torch.no_grad():
            z = w * c
        print(z.requires_grad, z.grad_fn)
        """,
        stdout="True True\nFalse None\n",
    )


def test_seed_000_view_shares_memory_clone_does_not(oracle):
    oracle.check(
        """
        t = torch.zeros(2, 3)
        v = t.view(6)
        c = t.clone().view(6)
        t.add_(1)
        print(v, c)
        """,
        stdout="tensor([1., 1., 1., 1., 1., 1.]) tensor([0., 0., 0., 0., 0., 0.])\n",
    )


# seed 001: the old "Autograd: automatic differentiation" tutorial ---------------------------------------------------
def test_seed_001_tutorial(oracle):
    oracle.check(
        """
        x = torch.ones(2, 2, requires_grad=True)
        print(x)
        y = x + 2
        print(y)
        print(y.grad_fn)
        z = y * y * 3
        out = z.mean()
        print(z, out)
        out.backward()
        print(x.grad)
        """,
        stdout="""\
        tensor([[1., 1.],
                [1., 1.]], requires_grad=True)
        tensor([[3., 3.],
                [3., 3.]], grad_fn=<AddBackward0>)
        <AddBackward0 object at 0x...>
        tensor([[27., 27.],
                [27., 27.]], grad_fn=<MulBackward0>) tensor(27., grad_fn=<MeanBackward0>)
        tensor([[4.5000, 4.5000],
                [4.5000, 4.5000]])
        """,
    )


def test_seed_001_requires_grad_underscore(oracle):
    outcome = oracle.check(
        """
        a = torch.randn(2, 2)
        a = ((a * 3) / (a - 1))
        print(a.requires_grad)
        a.requires_grad_(True)
        print(a.requires_grad)
        b = (a * a).sum()
        print(b.grad_fn)
        """,
        stdout="False\nTrue\n<SumBackward0 object at 0x...>\n",
    )
    assert outcome.warnings == ()


def test_seed_001_vector_jacobian_product():
    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    assert re.fullmatch(r"tensor\(\[[ \-0-9.,e+]+\], grad_fn=<MulBackward0>\)", repr(y))
    gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(gradients)
    scale = (y.detach() / x.detach()).numpy()  # y = x * 2**k elementwise
    k = int(round(float(np.log2(scale[0]))))
    assert np.allclose(scale, 2.0 ** k)
    assert float(np.linalg.norm(y.detach().numpy())) >= 1000
    assert np.allclose(x.grad.numpy(), np.array([0.1, 1.0, 0.0001], dtype=np.float32) * 2.0 ** k)


def test_seed_001_vector_jacobian_product_repr_matches_torch(oracle):
    """The seed printed x.grad as `tensor([ 102.4000, 1024.0000,    0.1024])` (k = 10); torch 2.13 switches to
    scientific notation because the largest/smallest magnitude ratio exceeds 1000."""
    oracle.check(
        """
        x = torch.tensor([0.2233, -1.1212, 1.0730], requires_grad=True)
        y = x * 2
        while y.data.norm() < 1000:
            y = y * 2
        gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
        y.backward(gradients)
        print(x.grad)
        """,
        stdout="tensor([1.0240e+02, 1.0240e+03, 1.0240e-01])\n",
    )


def test_seed_001_no_grad(oracle):
    oracle.check(
        """
        x = torch.randn(3, requires_grad=True)
        print(x.requires_grad)
        print((x ** 2).requires_grad)
        with torch.no_grad():
            print((x ** 2).requires_grad)
        """,
        stdout="True\nTrue\nFalse\n",
    )


def test_seed_001_backward_with_an_integer_one(oracle):
    """'out.backward() is equivalent to out.backward(torch.tensor(1))' (an int64 gradient is cast)."""
    oracle.check(
        """
        x = torch.ones(2, 2, requires_grad=True)
        out = (x * 3).mean()
        out.backward(torch.tensor(1))
        print(x.grad)
        """,
        stdout="tensor([[0.7500, 0.7500],\n        [0.7500, 0.7500]])\n",
    )


# seed 002: the current "Automatic Differentiation with torch.autograd" tutorial --------------------------------------
SEED_002 = """
x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
"""


def test_seed_002_one_layer_network_graph(oracle):
    oracle.check(
        SEED_002 + """
print(z.grad_fn)
print(loss.grad_fn)
print(loss.shape, z.requires_grad, w.is_leaf, b.is_leaf, z.is_leaf)
""",
        stdout="<AddBackward0 object at 0x...>\n<BinaryCrossEntropyWithLogitsBackward0 object at 0x...>\n"
               "torch.Size([]) True True True False\n",
    )


def test_seed_002_gradients_by_hand():
    namespace = {"torch": torch}
    torch.manual_seed(1)
    exec(SEED_002, namespace)
    w, b, z, loss = (namespace[k] for k in ("w", "b", "z", "loss"))
    loss.backward()
    zs = z.detach().numpy().astype(np.float64)
    expected_loss = np.mean(np.log1p(np.exp(zs)))  # BCE with logits against y = 0
    dz = 1 / (1 + np.exp(-zs)) / 3  # d mean(softplus(z)) / dz
    assert loss.item() == pytest.approx(expected_loss, rel=1e-5)
    assert np.allclose(b.grad.numpy(), dz, rtol=1e-5)
    assert np.allclose(w.grad.numpy(), np.tile(dz, (5, 1)), rtol=1e-5)  # x is all ones
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        loss.backward()


def test_seed_002_retain_graph_backward_of_one_and_requires_grad_underscore(oracle):
    oracle.check(
        """
        x = torch.ones(5)
        y = torch.zeros(3)
        w = torch.zeros(5, 3)
        w.requires_grad_(True)
        b = torch.zeros(3, requires_grad=True)
        z = torch.matmul(x, w) + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        loss.backward(torch.tensor(1.0), retain_graph=True)
        print(b.grad)
        loss.backward()
        print(b.grad)
        """,
        stdout="tensor([0.1667, 0.1667, 0.1667])\ntensor([0.3333, 0.3333, 0.3333])\n",
    )


# seed 003: saved tensors, threads, saved-tensor hooks on disk, legacy constructors, a small graph -----------------
def test_seed_003_eligibility_trace_update(oracle):
    oracle.check(
        """
        model = torch.nn.Linear(3, 1)
        with torch.no_grad():
            model.weight.copy_(torch.tensor([[1., 2., 3.]]))
            model.bias.fill_(0.5)
        s = torch.tensor([1., 1., 2.])
        z_theta = [torch.zeros_like(p) for p in model.parameters()]
        gamma, lamda, l, alpha, delta = 0.9, 0.8, 1.0, 0.1, 2.0
        v = model(s)
        v.backward()
        for i, p in enumerate(model.parameters()):
            z_theta[i][:] = gamma * lamda * z_theta[i] + l * p.grad
            p.grad[:] = alpha * delta * z_theta[i]
        print([p.grad for p in model.parameters()], z_theta)
        """,
        stdout="[tensor([[0.2000, 0.2000, 0.4000]]), tensor([0.2000])] [tensor([[1., 1., 2.]]), tensor([1.])]\n",
    )


def test_seed_003_saved_tensor_identity(oracle):
    oracle.check(
        """
        x = torch.randn(5, requires_grad = True)
        y = x.pow(2)
        print(x.equal(y.grad_fn._saved_self)) # True
        print(x is y.grad_fn._saved_self) # True
        x = torch.randn(5, requires_grad = True)
        y = x.exp()
        print(y.equal(y.grad_fn._saved_result)) # True
        print(y is y.grad_fn._saved_result) # False
        """,
        stdout="True\nTrue\nTrue\nFalse\n",
    )


SELF_DELETING = """
import os, uuid

class SelfDeletingTempFile():
    def __init__(self):
        self.name = os.path.join(tmp_dir, str(uuid.uuid4()))

    def __del__(self):
        os.remove(self.name)

def pack_hook(tensor):
    temp_file = SelfDeletingTempFile()
    torch.save(tensor, temp_file.name)
    return temp_file

def unpack_hook(temp_file):
    return torch.load(temp_file.name)
"""


def test_seed_003_raw_saved_tensor_hooks_on_disk(oracle, tmp_path):
    oracle.check(
        SELF_DELETING + """
x = torch.tensor([1., 2., 3., 4., 5.], requires_grad = True)
y = x.pow(2)
y.grad_fn._raw_saved_self.register_hooks(pack_hook, unpack_hook)
print(len(os.listdir(tmp_dir)))
print(y.grad_fn._saved_self)
y.sum().backward()
print(x.grad)
del y
print(len(os.listdir(tmp_dir)))
""",
        env={"tmp_dir": str(tmp_path)},
        stdout="1\ntensor([1., 2., 3., 4., 5.], requires_grad=True)\ntensor([ 2.,  4.,  6.,  8., 10.])\n0\n",
    )


def test_seed_003_saved_tensors_hooks_with_a_size_threshold(oracle, tmp_path):
    """The seed's pack hook says `torch.save(tensor, ...)` where it means its argument `x`; fixed here."""
    oracle.check(
        SELF_DELETING + """
SAVE_ON_DISK_THRESHOLD = 1000

def pack_hook(x):
    if x.numel() < SAVE_ON_DISK_THRESHOLD:
        return x
    temp_file = SelfDeletingTempFile()
    torch.save(x, temp_file.name)
    return temp_file

def unpack_hook(tensor_or_sctf):
    if isinstance(tensor_or_sctf, torch.Tensor):
        return tensor_or_sctf
    return torch.load(tensor_or_sctf.name)

class Model(torch.nn.Module):
    def forward(self, x):
        with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            output = (x * x).sum() + x.exp().sum() + (x[:10] * 3).sum()
        return output

model = Model()
big = torch.linspace(0, 1, 2000, requires_grad=True)
out = model(big)
print(len(os.listdir(tmp_dir)))
out.backward()
expected = 2 * big.detach() + big.detach().exp()
expected[:10] += 3
print(torch.allclose(big.grad, expected))
del out
print(len(os.listdir(tmp_dir)))
""",
        env={"tmp_dir": str(tmp_path)},
        stdout="3\nTrue\n0\n",
    )


def test_seed_003_data_parallel_wrapper(oracle):
    oracle.check(
        """
        class Model(torch.nn.Module):
            def forward(self, x):
                output = x
                return output

        model = Model()
        net = torch.nn.DataParallel(model)
        x = torch.ones(2, requires_grad=True)
        print(net(x) is x or net(x).equal(x))
        """,
        stdout="True\n",
    )


def test_seed_003_train_fn_threads(oracle):
    oracle.check(
        """
        import threading
        grads = []

        # Define a train function to be used in different threads
        def train_fn():
            x = torch.ones(5, 5, requires_grad = True)
            # forward
            y = (x + 3) * (x + 4) * 0.5
            # backward
            y.sum().backward()
            # potential optimizer update
            grads.append(x.grad)

        # User write their own threading code to drive the train_fn
        threads = []
        for _ in range(10):
            p = threading.Thread(target = train_fn, args = ())
            p.start()
            threads.append(p)

        for p in threads:
            p.join()
        print(len(grads), all(g.eq(4.5).all().item() for g in grads))
        """,
        stdout="10 True\n",
    )


def test_seed_003_legacy_constructors(oracle):
    outcome = oracle.check(
        """
        tsr = torch.Tensor(3, 5)
        print(tsr.shape, tsr.dtype)
        print(repr(tsr).startswith("tensor([["))
        t1 = torch.randn((3, 3), requires_grad = True)
        t2 = torch.FloatTensor(3, 3) # No way to specify requires_grad while initiating
        t2.requires_grad = True
        print(t1.requires_grad, t2.requires_grad, t2.is_leaf, t2.dtype)
        """,
        stdout="torch.Size([3, 5]) torch.float32\nTrue\nTrue True True torch.float32\n",
        compare=False,
    )
    assert outcome.error is None


SEED_003_GRAPH = """
a = torch.randn((3, 3), requires_grad = True)
w1 = torch.randn((3, 3), requires_grad = True)
w2 = torch.randn((3, 3), requires_grad = True)
w3 = torch.randn((3, 3), requires_grad = True)
w4 = torch.randn((3, 3), requires_grad = True)
b = w1 * a
c = w2 * a
d = w3 * b + w4 * c
L = 10 - d
"""


def test_seed_003_graph_prints(oracle):
    oracle.check(
        SEED_003_GRAPH + """
print("The grad fn for a is", a.grad_fn)
print("The grad fn for d is", d.grad_fn)
print(L.grad_fn, L.grad_fn.next_functions)
""",
        stdout="The grad fn for a is None\nThe grad fn for d is <AddBackward0 object at 0x...>\n"
               "<RsubBackward1 object at 0x...> ((<AddBackward0 object at 0x...>, 0),)\n",
    )


def test_seed_003_non_scalar_backward_error(oracle):
    oracle.check(SEED_003_GRAPH + "L.backward()\n",
                 error="RuntimeError: grad can be implicitly created only for scalar outputs")


def test_seed_003_graph_gradients_by_hand():
    namespace = {"torch": torch}
    torch.manual_seed(3)
    exec(SEED_003_GRAPH, namespace)
    a, w1, w2, w3, w4, L = (namespace[k] for k in ("a", "w1", "w2", "w3", "w4", "L"))
    L.backward(torch.ones(3, 3))
    A, W1, W2, W3, W4 = (t.detach().numpy() for t in (a, w1, w2, w3, w4))
    assert np.allclose(a.grad.numpy(), -(W3 * W1 + W4 * W2))
    assert np.allclose(w1.grad.numpy(), -W3 * A)
    assert np.allclose(w2.grad.numpy(), -W4 * A)
    assert np.allclose(w3.grad.numpy(), -W1 * A)
    assert np.allclose(w4.grad.numpy(), -W2 * A)


# seed 004: F = a * b, non-scalar backward, non-leaf .grad, retain_grad ------------------------------------------------
def test_seed_004_scalar_case(oracle):
    oracle.check(
        """
        a = torch.tensor(10.0, requires_grad=True)
        b = torch.tensor(20.0, requires_grad=True)
        F = a * b
        F.backward()
        print(a.grad, b.grad)
        """,
        stdout="tensor(20.) tensor(10.)\n",
    )


def test_seed_004_vector_case_needs_a_gradient(oracle):
    oracle.check(
        """
        a = torch.tensor([10.0, 10.0], requires_grad=True)
        b = torch.tensor([20.0, 20.0], requires_grad=True)
        F = a * b
        F.backward()
        """,
        error="RuntimeError: grad can be implicitly created only for scalar outputs",
    )


def test_seed_004_vector_case_and_non_leaf_grad(oracle):
    oracle.check(
        """
        a = torch.tensor([10.0, 10.0], requires_grad=True)
        b = torch.tensor([20.0, 20.0], requires_grad=True)
        F = a * b
        F.backward(gradient=torch.tensor([1., 1.]))
        print(a.grad, b.grad)
        a.grad = None
        b.grad = None
        F = a * b
        G = 2 * F
        G.backward(gradient=torch.tensor([1., 1.]))
        print(a.grad, b.grad)
        print(F.grad)
        print(a.is_leaf, b.is_leaf, F.is_leaf, G.is_leaf)
        """,
        stdout="tensor([20., 20.]) tensor([10., 10.])\ntensor([40., 40.]) tensor([20., 20.])\nNone\n"
               "True True False False\n",
        warns=(f"UserWarning: {NON_LEAF_GRAD}",),
    )


def test_seed_004_retain_grad(oracle):
    oracle.check(
        """
        a = torch.tensor([10.0, 10.0], requires_grad=True)
        b = torch.tensor([20.0, 20.0], requires_grad=True)
        F = a * b
        F.retain_grad()
        G = 2 * F
        G.backward(gradient=torch.tensor([1., 1.]))
        print(F.grad, a.grad, b.grad)
        """,
        stdout="tensor([2., 2.]) tensor([40., 40.]) tensor([20., 20.])\n",
        warns=(),
    )


def test_seed_004_non_leaf_grad_warning_with_pytest_warns():
    a = torch.tensor([10.0, 10.0], requires_grad=True)
    F = a * 2
    F.backward(gradient=torch.tensor([1.0, 1.0]))
    with pytest.warns(UserWarning, match=re.escape(NON_LEAF_GRAD)):
        assert F.grad is None
