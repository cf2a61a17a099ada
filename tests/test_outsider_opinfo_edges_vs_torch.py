"""Edge cases met running PyTorch's own OpInfo sample inputs (torch.testing._internal.common_methods_invocations'
op_db, as shipped with PyTorch 2.13) through gradscope: 0-dim tensors, empty ones, a non-Hermitian matrix given to
pinv(hermitian=True), a vector's unreduced multi_margin_loss. Each snippet runs on both libraries; the values,
dtypes, shapes, grad_fn names and gradients, or the exception type and message, must be the same.

Silently wrong before: pinv(A, hermitian=True) of a non-Hermitian A was A's pseudo-inverse, where PyTorch's reads
A's lower triangle only (it goes through eigh); index_select of a 0-dim tensor was 1-dim; hinge_embedding_loss of
a 0-dim float32 input was float64 (its margin was wrapped as a float64 tensor, not as C++'s wrapped number);
pairwise_distance of integer tensors added eps into int64 (truncated: sqrt(101) for sqrt(116)); addmm and baddbmm of
integer tensors with a float beta or alpha were float64; istft(onesided=False) of a spectrum that isn't Hermitian."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _described(value, lib):
    """What is compared of a result: tensors by dtype, shape, values, grad_fn name and requires_grad."""
    if isinstance(value, lib.Tensor):
        node = type(value.grad_fn).__name__ if value.grad_fn is not None else None
        data = value.detach()
        values = np.asarray(data.resolve_conj().numpy() if hasattr(data, "resolve_conj") else data.numpy())
        return "tensor", str(value.dtype), tuple(value.shape), values, node, value.requires_grad
    if isinstance(value, (tuple, list)):
        return type(value).__name__ if type(value) in (tuple, list) else "named", [_described(v, lib) for v in value]
    if isinstance(value, lib.dtype):
        return "dtype", str(value)
    return value


def _outcome(code: str, lib):
    *statements, last = code.strip().split("\n")
    scope = {"T": lib, "F": lib.nn.functional}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec("\n".join(statements), scope)
            return "value", _described(eval(last, scope), lib)
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            return type(error).__name__, str(error)


SNIPPETS = {
    # pinv(hermitian=True): eigh of the lower triangle; the gradient is pinv_backward of the whole A, as PyTorch's
    "pinv_hermitian_non_symmetric": """
a = T.tensor([[2., 1., 0.5], [5., 3., 1.], [0.2, -1., 4.]], dtype=T.float64, requires_grad=True)
p = T.linalg.pinv(a, hermitian=True)
p, T.autograd.grad((p * T.arange(9.).reshape(3, 3)).sum(), a)""",
    "pinv_hermitian_float32_atol": """
a = T.tensor([[2., 1., 0.5], [5., 3., 1.], [0.2, -1., 4.]], requires_grad=True)
p = T.linalg.pinv(a, hermitian=True, atol=2.5)
p, T.autograd.grad((p * T.arange(9.).reshape(3, 3)).sum(), a)""",
    "pinv_hermitian_batch_singular": """
T.linalg.pinv(T.tensor([[[2., 1.], [1., -3.]], [[1., 0.], [0., 0.]]]), hermitian=True)""",
    # index_select of a 0-dim tensor: 0-dim, and one index only
    "index_select_0d": """
x = T.tensor(2.5, dtype=T.float64, requires_grad=True)
y = x.index_select(0, T.tensor([0]))
y, T.autograd.grad(y * 3, x)""",
    "index_select_0d_0d_index": "T.tensor(2.5).index_select(-1, T.tensor(0))",
    "index_select_0d_two_indices": "T.tensor(2.5).index_select(0, T.tensor([0, 0]))",
    "index_select_0d_no_index": "T.tensor(2.5).index_select(0, T.tensor([], dtype=T.long))",
    # the margin of hinge_embedding_loss is C++'s wrapped number: it doesn't promote a 0-dim float32 input
    "hinge_embedding_loss_0d_float32": """
x = T.tensor(-8.5, requires_grad=True)
l = F.hinge_embedding_loss(x, T.tensor(-1.75))
l, T.autograd.grad(l, x)""",
    "hinge_embedding_loss_0d_sum": "F.hinge_embedding_loss(T.tensor(0.25), T.tensor(-1.), reduction='sum')",
    # the scatters and index_reduce of 0-dim tensors address their one element
    "scatter_0d": """
x = T.tensor(2.5, requires_grad=True); s = T.tensor(-3., requires_grad=True)
y = x.scatter(0, T.tensor(0), s)
y, T.autograd.grad(y * 2, [x, s])""",
    "scatter_value_0d": """
x = T.tensor(2.5, requires_grad=True)
y = x.scatter(-1, T.tensor(0), 7.)
y, T.autograd.grad(y * 2, x)""",
    "scatter_0d_out_of_range": "T.tensor(2.5).scatter(0, T.tensor(1), 7.)",
    "scatter_add_0d": """
x = T.tensor(2.5, requires_grad=True); s = T.tensor(-3., requires_grad=True)
y = x.scatter_add(0, T.tensor(0), s)
y, T.autograd.grad(y * 2, [x, s])""",
    "scatter_reduce_0d_prod": """
x = T.tensor(2.5, requires_grad=True); s = T.tensor(-3., requires_grad=True)
y = x.scatter_reduce(0, T.tensor(0), s, 'prod')
y, T.autograd.grad(y * 2, [x, s])""",
    "scatter_reduce_0d_mean_without_self": """
x = T.tensor(2.5, requires_grad=True); s = T.tensor(-3., requires_grad=True)
y = x.scatter_reduce(0, T.tensor(0), s, 'mean', include_self=False)
y, T.autograd.grad(y * 2, [x, s])""",
    "gather_0d": """
x = T.tensor(2.5, requires_grad=True)
y = x.gather(0, T.tensor(0))
y, T.autograd.grad(y * 2, x)""",
    "index_reduce_0d_mean": """
x = T.tensor(2.5, requires_grad=True); s = T.tensor(-5., requires_grad=True)
y = x.index_reduce(0, T.tensor([0]), s, 'mean')
y, T.autograd.grad(y * 2, [x, s])""",
    "index_reduce_0d_amax_without_self": """
x = T.tensor(2.5, requires_grad=True); s = T.tensor(-5., requires_grad=True)
y = x.index_reduce(0, T.tensor(0), s, 'amax', include_self=False)
y, T.autograd.grad(y * 2, [x, s])""",
    "index_reduce_0d_two_indices": "T.tensor(2.5).index_reduce(0, T.tensor([0, 0]), T.tensor(-5.), 'prod')",
    "index_reduce_0d_source_into_vector": "T.tensor([2.5, 1.]).index_reduce(0, T.tensor([0]), T.tensor(-5.), 'prod')",
    "index_reduce_vector_source_into_0d": "T.tensor(2.5).index_reduce(0, T.tensor([0]), T.tensor([-5.]), 'prod')",
    "index_reduce_source_shape": "T.ones(3, 4).index_reduce(0, T.tensor([0, 2]), T.ones(2, 3), 'prod')",
    "index_reduce_index_count": "T.ones(3, 4).index_reduce(-1, T.tensor([0, 2, 1]), T.ones(4, 2), 'amax')",
    "index_reduce_last_dim": """
x = T.ones(3, 4, requires_grad=True); s = T.arange(6.).reshape(3, 2).requires_grad_()
y = x.index_reduce(-1, T.tensor([0, 2]), s, 'amax', include_self=False)
y, T.autograd.grad((y * T.arange(12.).reshape(3, 4)).sum(), [x, s])""",
    # transpose of a 0-dim tensor (dims 0 and -1 are allowed), in place too, and mT, mH, adjoint()
    "transpose_0d": """
x = T.tensor(2.5, requires_grad=True)
y = x.transpose(0, -1)
y, y._base is x, T.autograd.grad(y * 2, x)""",
    "transpose_inplace_0d": """
x = T.tensor(2.5, requires_grad=True)
y = x.clone()
y.transpose_(0, 0)
y, T.autograd.grad(y * 2, x)""",
    "transpose_0d_dim_1": "T.tensor(2.5).transpose(0, 1)",
    "mT_mH_adjoint_0d": """
x = T.tensor(2.5, requires_grad=True)
x.mT is x, x.mH is x, x.adjoint() is x""",
    "mH_0d_complex": "T.tensor(2.5 + 1j, requires_grad=True).mH",
    "mT_1d": "T.tensor([2.5, 1.]).mT",
    "adjoint_1d": "T.tensor([2.5, 1.]).adjoint()",
    # select_scatter of a vector: its 0-dim slice written
    "select_scatter_vector": """
x = T.zeros(5, requires_grad=True); s = T.tensor(2., requires_grad=True)
y = T.select_scatter(x, s, 0, -1)
y, T.autograd.grad((y * T.arange(5.)).sum(), [x, s])""",
    # masked_select's gradient to a 0-dim input
    "masked_select_0d": """
a = T.tensor(2., requires_grad=True)
y = a.masked_select(T.tensor(True))
y, T.autograd.grad(y.sum() * 3, a)""",
    "masked_select_0d_not_selected": """
a = T.tensor(2., requires_grad=True)
y = a.masked_select(T.tensor(False))
y, T.autograd.grad(y.sum() * 3, a)""",
    "masked_select_0d_create_graph": """
a = T.tensor(2., requires_grad=True)
y = a.masked_select(T.tensor(True))
T.autograd.grad(y.sum() * 3, a, create_graph=True)""",
    # take_along_dim counts negative indices from the end
    "take_along_dim_negative": """
x = T.arange(10.).reshape(2, 5).requires_grad_()
y = T.take_along_dim(x, T.tensor([[-1, -5, -3, -2, -5]]), 1)
y, T.autograd.grad((y * T.arange(10.).reshape(2, 5)).sum(), x)""",
    "take_along_dim_negative_first_dim": "T.take_along_dim(T.arange(10.).reshape(2, 5), T.tensor([[-1]]), 0)",
    # torch.gradient takes spacing=None (OpInfo passes it)
    "gradient_spacing_none": "T.gradient(T.tensor([1., 4., 9., 16.]), dim=None, spacing=None, edge_order=1)",
    # the multi-class margin losses take a 0-dim input (one sample of one class); unreduced, a vector's loss has its
    # target's shape
    "multi_margin_loss_0d": """
x = T.tensor(1.5, requires_grad=True)
l = F.multi_margin_loss(x, T.tensor(0))
l, T.autograd.grad(l, x)""",
    "multi_margin_loss_0d_target_out_of_range": "F.multi_margin_loss(T.tensor(1.5), T.tensor(1))",
    "multi_margin_loss_0d_vector_target_unreduced":
        "F.multi_margin_loss(T.tensor(1.5), T.tensor([0]), reduction='none')",
    "multi_margin_loss_vector_unreduced": """
x = T.tensor([1.5, 0.2], requires_grad=True)
l = F.multi_margin_loss(x, T.tensor([1]), reduction='none', p=2)
l, T.autograd.grad(l.sum(), x)""",
    "multi_margin_loss_vector_0d_target_unreduced":
        "F.multi_margin_loss(T.tensor([1.5, 0.2]), T.tensor(1), reduction='none')",
    "multilabel_margin_loss_0d": """
x = T.tensor(1.5, requires_grad=True)
l = F.multilabel_margin_loss(x, T.tensor(-1), reduction='sum')
l, T.autograd.grad(l, x)""",
    "multilabel_margin_loss_0d_out_of_range": "F.multilabel_margin_loss(T.tensor(1.5), T.tensor(3))",
    # integer tensors (OpInfo's int64 samples): C++'s `t + number` promotes an integer tensor to the default dtype
    # (pairwise_distance's eps was added into int64 and truncated: other distances, silently); its `number - t`
    # keeps t's dtype; addmm, addmv, baddbmm and addbmm read a float beta/alpha as an integer (float64 results
    # before, or a refusal), addr refuses it; clamp by an integer tensor stays integer
    "pairwise_distance_int": "F.pairwise_distance(T.tensor([-8, 6, 9]), T.tensor([0, 0, 5]))",
    "triplet_margin_loss_int": "F.triplet_margin_loss(T.tensor([[-8, 6, 9]]), T.tensor([[0, 0, 5]]), "
                               "T.tensor([[1, 1, 2]]))",
    "margin_ranking_loss_int": "F.margin_ranking_loss(T.tensor([-8, 2]), T.tensor([6, 1]), T.tensor([9, 1]), margin=1)",
    "margin_ranking_loss_int_0d": "F.margin_ranking_loss(T.tensor(-8), T.tensor(6), T.tensor(9), reduction='sum')",
    "hinge_embedding_loss_int_mean": "F.hinge_embedding_loss(T.tensor([-8, 2]), T.tensor([1, -1]))",
    "hinge_embedding_loss_int_sum":
        "F.hinge_embedding_loss(T.tensor([-8, 2]), T.tensor([1, -1]), 0.5, reduction='sum')",
    "gradient_int_second_order": "T.gradient(T.tensor([[1, 4, 9], [2, 2, 5], [0, 1, 1]]), edge_order=2)",
    "addmm_int_float_scalars": "T.addmm(T.ones(2, 2, dtype=T.long), T.ones(2, 2, dtype=T.long), "
                               "T.ones(2, 2, dtype=T.long), beta=1.7, alpha=2.6)",
    "addmm_int_inplace": """
a = T.ones(2, 2, dtype=T.long)
a.addmm_(a.clone(), a.clone(), beta=0.2, alpha=2.6)""",
    "baddbmm_int_float_scalars": """
a = T.ones(1, 2, 2, dtype=T.long)
T.baddbmm(a, a, a, beta=0.2, alpha=0.6), T.baddbmm(a, a, a, beta=1.7, alpha=2.6)""",
    "addmv_int_float_scalars": "T.addmv(T.ones(2, dtype=T.long), T.ones(2, 2, dtype=T.long), T.ones(2, dtype=T.long), "
                               "beta=1.7, alpha=2.6)",
    "addbmm_int_float_scalars": "T.addbmm(T.ones(2, 2, dtype=T.long), T.ones(1, 2, 2, dtype=T.long), "
                                "T.ones(1, 2, 2, dtype=T.long), beta=1.7, alpha=2.6)",
    "addr_int_float_scalars": "T.addr(T.ones(2, 2, dtype=T.long), T.ones(2, dtype=T.long), T.ones(2, dtype=T.long), "
                              "beta=1.7)",
    "addmm_float_scalars_gradient": """
a = T.ones(2, 2, requires_grad=True); b = T.ones(2, 2, requires_grad=True)
y = T.addmm(a, b, b, beta=0.5, alpha=1.5)
y, T.autograd.grad(y.sum(), [a, b])""",
    "clamp_int_by_tensor_min": "T.clamp(T.tensor([1, 5, 9]), T.tensor([2, 2, 2]))",
    "clamp_int32_by_tensor_max": "T.clamp(T.tensor([1, 5, 9], dtype=T.int32), None, T.tensor(6))",
    "clamp_by_tensor_max_gradient": """
x = T.tensor([1., 5, 9], requires_grad=True); hi = T.tensor([2., 2, 20], requires_grad=True)
y = T.clamp(x, max=hi)
y, T.autograd.grad(y.sum(), [x, hi])""",
    "scatter_reduce_int_amax_without_self": "T.tensor([1, 2, 3]).scatter_reduce(0, T.tensor([0, 0, 1]), "
                                            "T.tensor([5, -3, 7]), 'amax', include_self=False)",
    "index_reduce_int_amin_without_self": "T.tensor([1, 2, 3]).index_reduce(0, T.tensor([0, 0]), T.tensor([5, -3]), "
                                          "'amin', include_self=False)",
    # istft of a two-sided spectrum to a real signal reads its first half (as Hermitian), as PyTorch's: it was the
    # real part of the full inverse transform, other numbers for a spectrum that isn't Hermitian
    "istft_two_sided_real": """
a = T.arange(18., dtype=T.float64).reshape(6, 3)
x = T.complex(a.sin(), a.cos()).requires_grad_()
y = T.istft(x, 6, onesided=False, window=T.ones(6, dtype=T.float64))
y, T.autograd.grad((y * T.tensor([1., -2.], dtype=T.float64)).sum(), x)""",
    "istft_two_sided_complex": """
a = T.arange(18., dtype=T.float64).reshape(6, 3)
x = T.complex(a.sin(), a.cos())
T.istft(x, 6, onesided=False, window=T.ones(6, dtype=T.float64), return_complex=True)""",
    # empty tensors: a batch of 0 × 0 matrices, a product over an empty dim, cumprod's gradient
    "cholesky_ex_0x0": "T.linalg.cholesky_ex(T.ones(0, 0), upper=True)",
    "inv_ex_0x0_batch": "T.linalg.inv_ex(T.ones(2, 0, 0))",
    "inv_0x0_gradient": """
a = T.ones(0, 0, requires_grad=True)
y = T.linalg.inv(a)
y, T.autograd.grad(y.sum(), a)""",
    "matmul_batch_empty_inner": """
a = T.ones(5, 5, 0, requires_grad=True); b = T.ones(0, 5, requires_grad=True)
y = T.matmul(a, b)
y, T.autograd.grad(y.sum(), [a, b])""",
    "cumprod_empty_gradient": """
a = T.ones(3, 0, requires_grad=True)
T.autograd.grad(a.cumprod(0).sum(), a)""",
}


def _same(ours, theirs) -> bool:
    """Equal, but for arrays: float32 values to float32 rounding (eigh's and SVD's LAPACK paths differ), float64
    ones to 1e-12."""
    if isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray):
        if ours.shape != theirs.shape or ours.dtype != theirs.dtype:
            return False
        tolerance = 1e-5 if ours.dtype in (np.float32, np.complex64) else 1e-12
        return bool(np.allclose(ours, theirs, rtol=tolerance, atol=tolerance, equal_nan=True))
    if isinstance(ours, (tuple, list)) and isinstance(theirs, (tuple, list)):
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
    return ours == theirs


@pytest.mark.parametrize("name", SNIPPETS)
def test_the_snippet_does_what_it_does_in_pytorch(name):
    ours, theirs = _outcome(SNIPPETS[name], gradscope), _outcome(SNIPPETS[name], torch)
    assert _same(ours, theirs), (ours, theirs)
