"""Differences met running PyTorch's own OpInfo sample inputs (op_db, PyTorch 2.13) through gradscope in passes
session 20 did not run: second order (the gradient of (gradient · u) with respect to the inputs and the cotangent,
as gradient penalties, MAML and Hessian-vector products take it), float16 (also with inputs scaled up, so that
squares pass float16's 65504), int32 and bool. Each snippet runs on both libraries; the values, dtypes, shapes,
grad_fn names and gradients, or the exception type and message, must be the same.

Silently wrong before:
- float16 norms and statistics (vector_norm, norm, dist, pairwise_distance, cosine_similarity, normalize, var, std,
  var_mean, std_mean, layer_norm, group_norm, renorm) were summed in float16: past 65504 a norm was inf, normalize
  gave 0 and layer_norm all zeros. PyTorch sums in float32 (its opmath type) and rounds once.
- rms_norm of float16: its default eps was float16's epsilon (PyTorch takes float32's, as it computes in float32),
  so activations near 0.01 came out 0.30 where PyTorch gives 1.00; and a float64 weight made the result float64.
- the 2-norm's gradient was x · (g / norm): with a zero norm, its second derivative in g was nan (PyTorch's is 0,
  its formula is g · (x / norm) masked), and in float32 2,398 of 7,000 gradients differed from PyTorch's in the
  last bit.
- float16 cumsum, cumprod and logcumsumexp (and cumsum's gradient) ran in float16: a running sum of 0.5s stopped at
  2048; baddbmm, addbmm, addmv and addr scaled a float16 product already overflowed (inf for PyTorch's 40000);
  avg_pool of large float16 values summed to inf (local_response_norm went to 0).
- addbmm of int32 returned int64 (NumPy's sum); addr of bools returned int64.
Second derivative of scatter_reduce/index_reduce "prod" where two zeros of src meet in one place: PyTorch refuses
("Double backward is unsupported ..."), gradscope gave a wrong one (gradgradcheck's Jacobian mismatch). Now an Error
node carries PyTorch's message (function.delayed_error, xp.delayed_error for rules).
Node names: sum over an empty dim list was SumBackward0 (PyTorch: SumBackward1, dim ()); linalg.vecdot of two
vectors was SumBackward1 over a product and broadcast a size-1 vector (PyTorch: vdot, VdotBackward0, which refuses).
Errors where PyTorch works: the second derivative of leaky_relu, hardtanh (relu6), softshrink, hardshrink and
threshold with respect to their input (their rules selected with `where`, which left the input out of the graph:
"appears to not have been used in the graph"; PyTorch's *BackwardBackward0 nodes give zeros), so a Hessian-vector
product of a leaky_relu network with respect to its input raised; squeeze's double backward on a 0-dim tensor
(ZeroDivisionError).
"""

from __future__ import annotations

import numpy as np
import pytest
from outsider_helpers import same_outcome, snippet_outcome

import gradscope

torch = pytest.importorskip("torch")


_BIG_HALF = """
x = T.full((2, 8), 300., dtype=T.float16)
x[:, 0] = 0"""

SNIPPETS = {
    # second order
    "vector_norm_of_zeros_second_derivative_in_the_cotangent": """
x = T.zeros(2, dtype=T.float64, requires_grad=True)
v = T.tensor(1.5, dtype=T.float64, requires_grad=True)
g, = T.autograd.grad(T.linalg.vector_norm(x) * v, x, create_graph=True)
g, T.autograd.grad((g * T.tensor([0.3, -0.7], dtype=T.float64)).sum(), (x, v))""",
    "norm_of_zero_rows_second_derivative_in_the_cotangent": """
x = T.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=T.float64, requires_grad=True)
v = T.tensor([1.5, -2.0], dtype=T.float64, requires_grad=True)
g, = T.autograd.grad((x.norm(dim=1) * v).sum(), x, create_graph=True)
g, T.autograd.grad(g.sum(), v)""",
    "squeeze_of_a_0_dim_tensor_double_backward": """
x = T.tensor(-4.8, dtype=T.float64, requires_grad=True)
v = T.tensor(2.0, dtype=T.float64, requires_grad=True)
g, = T.autograd.grad(T.squeeze(x, 0) * v, x, create_graph=True)
g, T.autograd.grad(g, v)""",
    "squeeze_of_a_0_dim_tensor_dims_double_backward": """
x = T.tensor(-4.8, dtype=T.float64, requires_grad=True)
v = T.tensor(2.0, dtype=T.float64, requires_grad=True)
g, = T.autograd.grad(T.squeeze(x, (-1,)) * v, x, create_graph=True)
g, T.autograd.grad(g, v)""",
    # piecewise-linear activations: the gradient's node takes the input, with a zero derivative there
    **{f"{name}_second_derivative": f"""
x = T.tensor([-1.5, 0.3, 2.5, 0.5, -0.5, 0.0], dtype=T.float64, requires_grad=True)
v = T.tensor([1.0, -2.0, 3.0, 0.5, 0.25, 2.0], dtype=T.float64, requires_grad=True)
g, = T.autograd.grad(({call} * v).sum(), x, create_graph=True)
saved = [getattr(g.grad_fn, a) for a in dir(g.grad_fn) if a.startswith("_saved") and a != "_saved_self"]
g, saved, T.autograd.grad((g * g).sum(), (x, v)), T.autograd.grad(g.sum(), v, create_graph=True)"""
       for name, call in (("leaky_relu", "F.leaky_relu(x, 0.2)"), ("hardtanh", "F.hardtanh(x, -1, 2)"),
                          ("relu6", "F.relu6(x)"), ("softshrink", "F.softshrink(x, 0.5)"),
                          ("hardshrink", "F.hardshrink(x, 0.5)"), ("threshold", "F.threshold(x, 0.1, 20.)"),
                          ("leaky_relu_in_place", "F.leaky_relu(x * 1, 0.2, inplace=True)"),
                          ("threshold_in_place", "F.threshold(x * 1, 0.1, 20., inplace=True)"))},
    "hessian_vector_product_of_a_leaky_relu_network": """
w1 = T.tensor([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]], requires_grad=True)
w2 = T.tensor([[1.0, -0.5, 0.25]], requires_grad=True)
x = T.tensor([[0.3, -0.2], [1.0, 0.5]], requires_grad=True)
y = F.linear(F.hardtanh(F.leaky_relu(F.linear(x, w1), 0.1)), w2).sum()
g, = T.autograd.grad(y, x, create_graph=True)
g, T.autograd.grad((g * T.tensor([[1.0, 2.0], [3.0, 4.0]])).sum(), (x, w1, w2))""",
    "scatter_and_index_reduce_prod_double_backward_with_two_zeros": """
input = T.tensor([1.0], dtype=T.float64, requires_grad=True)
src = T.tensor([0.0, 0.0], dtype=T.float64, requires_grad=True)
idx = T.tensor([0, 0])
r = []
for fn in (T.scatter_reduce, T.index_reduce):
    g = T.autograd.grad(fn(input, 0, idx, src, "prod").sum(), (input, src), create_graph=True)
    r.append((g[0], g[1].detach(), g[1].grad_fn.name(), T.autograd.grad(g[0].sum(), src)))
    try:
        T.autograd.grad(g[1].sum(), src)
    except RuntimeError as e:
        r.append(str(e))
r""",
    "scatter_reduce_prod_double_backward_with_one_zero": """
input = T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True)
src = T.tensor([0.0, 3.0, 0.0], dtype=T.float64, requires_grad=True)
g = T.autograd.grad(T.scatter_reduce(input, 0, T.tensor([0, 0, 1]), src, "prod").sum(), (input, src),
                    create_graph=True)
g, T.autograd.grad(g[1].sum(), (input, src))""",
    # float16: PyTorch sums in float32
    "half_vector_norms": _BIG_HALF + """
T.linalg.vector_norm(x), T.linalg.vector_norm(x, 3, dim=1), T.linalg.vector_norm(x, 0.5), x.norm(), x.norm(p=4)""",
    "half_linalg_norms": _BIG_HALF + """
T.linalg.norm(x), T.linalg.matrix_norm(x), T.norm(x, dim=0)""",
    "half_dist": _BIG_HALF + """
T.dist(x, -x), T.dist(x, -x, 3), F.pairwise_distance(x, -x)""",
    "half_cosine_similarity_and_normalize": _BIG_HALF + """
F.cosine_similarity(x, x + 1), F.normalize(x)""",
    "half_statistics": _BIG_HALF + """
x.var(1), x.std(), T.var_mean(x, 1), T.std_mean(x, 0, correction=0)""",
    "half_layer_and_group_norm": _BIG_HALF + """
F.layer_norm(x, (8,)), F.group_norm(x, 2)""",
    "half_renorm": _BIG_HALF + """
x.renorm(2, 0, 5), x.renorm(1, 1, 5)""",
    "half_norm_gradient": _BIG_HALF + """
x.requires_grad_()
T.autograd.grad(T.linalg.vector_norm(x), x)""",
    "half_layer_norm_module": """
T.manual_seed(0)
m = T.nn.LayerNorm(8).half()
m(T.arange(8.).half() * 100)""",
    "half_rms_norm_of_small_values": """
x = T.full((2, 8), 0.01, dtype=T.float16, requires_grad=True)
y = F.rms_norm(x, (8,))
y, T.autograd.grad(y.sum(), x)""",
    "half_rms_norm_of_large_values": """
x = T.full((2, 8), 300., dtype=T.float16)
F.rms_norm(x, (8,), T.ones(8, dtype=T.float16))""",
    "half_rms_norm_float32_weight": """
x = T.full((2, 8), 0.01, dtype=T.float16, requires_grad=True)
w = T.ones(8, requires_grad=True)
y = F.rms_norm(x, (8,), w)
y, T.autograd.grad(y.sum(), (x, w))""",
    "rms_norm_float64_weight_keeps_the_input_dtype": """
x = T.full((2, 8), 0.5, requires_grad=True)
w = T.ones(8, dtype=T.float64, requires_grad=True)
F.rms_norm(x, (8,), w)""",
    "half_cumulative_scans": """
x = T.full((3000,), 0.5, dtype=T.float16)
y = (T.arange(3000) % 7 * 0.03 + 0.9).half()
x.cumsum(0)[-3:], y.cumprod(0)[-3:], y.logcumsumexp(0)[-3:], x.cumsum(0, dtype=T.float32)[-1]""",
    "half_cumsum_gradient": """
x = T.full((2, 3000), 0.5, dtype=T.float16, requires_grad=True)
y = x.cumsum(1)
y.sum().backward()
y[:, -1], x.grad[:, :2]""",
    "half_products_scaled": """
a = T.full((2, 2), 200., dtype=T.float16, requires_grad=True)
z2, z1 = T.zeros(2, 2, dtype=T.float16), T.zeros(2, dtype=T.float16)
ys = (T.baddbmm(z2[None], a[None], a[None], alpha=0.5), T.addbmm(z2, a[None], a[None], alpha=0.5),
      T.addmv(z1, a, a[0], alpha=0.5), T.addr(z2, a[0] * 2, a[0], alpha=0.5))
ys, T.autograd.grad(sum(y.sum() for y in ys), a)""",
    "half_avg_pool_of_large_values": """
x = T.full((1, 1, 16, 16), 300., dtype=T.float16, requires_grad=True)
y = F.avg_pool2d(x, 16)
y.sum().backward()
y, x.grad[0, 0, 0, :3], F.local_response_norm(T.linspace(-3, 3, 24).reshape(2, 4, 3).half() * 100, 2)""",
    # node names (grad_fn) met by running op_db's samples
    "sum_over_an_empty_dim_list": """
x = T.tensor(-4.8, dtype=T.float64, requires_grad=True)
m = T.ones(2, 3, dtype=T.float64, requires_grad=True)
ys = (T.sum(x, dim=()), T.sum(m, dim=[]), m.sum(dim=(), keepdim=True))
ys, [y.grad_fn._saved_keepdim for y in ys], T.autograd.grad(sum(y.sum() for y in ys), (x, m))""",
    "vecdot_of_two_vectors_is_vdot": """
x = T.tensor([1.0, 2.0, 3.0], dtype=T.float64, requires_grad=True)
z = T.tensor([1 + 2j, 3 - 1j], requires_grad=True)
ys = (T.linalg.vecdot(x, x * 2), T.linalg.vecdot(x, x, dim=0), T.linalg.vecdot(z * 1j, z))
ys, [T.autograd.grad(y.real if y.is_complex() else y, v) for y, v in zip(ys, (x, x, z))]""",
    "vecdot_of_two_vectors_does_not_broadcast": "T.linalg.vecdot(T.ones(3, requires_grad=True), T.ones(1))",
    "vecdot_of_a_matrix_and_a_vector": """
m = T.ones(2, 3, requires_grad=True)
y = T.linalg.vecdot(m, T.tensor([1.0, 2.0, 3.0]))
y, T.autograd.grad(y.sum(), m)""",
    # integers and bools
    "addbmm_int32": """
b = T.ones(3, 2, 2, dtype=T.int32)
T.addbmm(T.ones(2, 2, dtype=T.int32), b, b)""",
    "addbmm_int16_beta_alpha": """
b = T.ones(3, 2, 2, dtype=T.int16)
T.addbmm(T.ones(2, 2, dtype=T.int16), b, b, beta=2, alpha=3)""",
    "addr_bool": """
a = T.tensor([[True, False], [False, True]]); u = T.tensor([True, False]); w = T.tensor([True, True])
T.addr(a, u, w), T.addr(a, u, w, beta=3, alpha=2), T.addr(a, u, w, beta=0), T.addr(a, u, w, alpha=0)""",
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_the_snippet_does_what_it_does_in_pytorch(name):
    ours, theirs = snippet_outcome(SNIPPETS[name], gradscope), snippet_outcome(SNIPPETS[name], torch)
    assert same_outcome(ours, theirs), (ours, theirs)


def test_the_2_norm_gradient_rounds_as_pytorch_in_float32():
    """PyTorch's 2-norm gradient is g · (x / norm): the same float32 bits, not x · (g / norm)'s, on every row whose
    norm has the same bits (NumPy and PyTorch sum the squares in different orders: 7 rows of 100 differ there)."""
    rng = np.random.default_rng(0)
    data, cotangent = rng.standard_normal((100, 7), dtype=np.float32), rng.standard_normal((100, 1), np.float32)
    norms, grads = [], []
    for lib in (gradscope, torch):
        x = lib.tensor(data, requires_grad=True)
        norm = lib.linalg.vector_norm(x, dim=1, keepdim=True)
        norms.append(norm.detach().numpy()[:, 0])
        grads.append(lib.autograd.grad(norm, x, lib.tensor(cotangent))[0].numpy())
    rows = norms[0] == norms[1]
    assert rows.sum() > 80
    assert np.array_equal(grads[0][rows], grads[1][rows])
