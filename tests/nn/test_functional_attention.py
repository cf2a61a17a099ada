"""scaled_dot_product_attention and multi_head_attention_forward beyond the op samples: PyTorch's errors
and warnings, rows masked out entirely, dropout (seeded, so differentiable by finite differences, and
scaled as PyTorch scales it), and agreement with nn.MultiheadAttention."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from gradscope.nn import functional as F

SETUP = ("F = torch.nn.functional\nq = torch.ones(2, 3, 4)\nk = torch.ones(2, 5, 4)\nv = torch.ones(2, 5, 6)\n"
         "x = torch.ones(3, 2, 4)\nW = torch.ones(12, 4)\nb = torch.ones(12)\nWo = torch.ones(4, 4)\n"
         "bo = torch.ones(4)\n"
         "def mha(*args, **options):\n    return F.multi_head_attention_forward(*args, 4, 2, W, b, None, None, False, "
         "0.0, Wo, bo, **options)\n")

ERRORS = {
    "sdpa 1-D": ("F.scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0])",
                 "RuntimeError: Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: 1 "
                 "key.dim: 1 and value.dim: 1 instead."),
    "sdpa dtypes": ("F.scaled_dot_product_attention(q, k.double(), v)",
                    "RuntimeError: Expected query, key, and value to have the same dtype, but got query.dtype: float "
                    "key.dtype: double and value.dtype: float instead."),
    "sdpa mask dtype": ("F.scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(3, 5, dtype=torch.long))",
                        "RuntimeError: Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                        "attn_mask.dtype: long int and  query.dtype: float instead."),
    "sdpa causal with a mask": ("F.scaled_dot_product_attention(q, k, v, torch.ones(3, 5, dtype=torch.bool), "
                                "is_causal=True)", "RuntimeError: _scaled_dot_product_attention: Explicit attn_mask "
                                                   "should not be set when is_causal=True"),
    "sdpa head sizes": ("F.scaled_dot_product_attention(q, k[..., :3], v)",
                        "RuntimeError: Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: "
                        "[2, 3]."),
    "sdpa sequence lengths": ("F.scaled_dot_product_attention(q, k, v[:, :4])",
                              "RuntimeError: Expected size for first two dimensions of batch2 tensor to be: [2, 5] but "
                              "got: [2, 4]."),
    "sdpa mask shape": ("F.scaled_dot_product_attention(q, k, v, torch.ones(4, 5, dtype=torch.bool))",
                        "RuntimeError: The size of tensor a (3) must match the size of tensor b (4) at non-singleton "
                        "dimension 1"),
    "sdpa gqa heads": ("F.scaled_dot_product_attention(torch.ones(1, 3, 2, 4), torch.ones(1, 2, 2, 4), "
                       "torch.ones(1, 2, 2, 4), enable_gqa=True)",
                       "RuntimeError: Number of heads in key and value must divide the number of heads in "),
    "sdpa dropout": ("F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)",
                     "RuntimeError: dropout probability has to be between 0 and 1, but got 1.5"),
    "mha 4-D query": ("mha(x[None], x, x)", "AssertionError: query should be unbatched 2D or batched 3D tensor but "
                                            "received 4-D query tensor"),
    "mha 2-D key": ("mha(x, x[0], x)", "AssertionError: For batched (3-D) `query`, expected `key` and `value` to be "
                                       "3-D but found 2-D and 3-D tensors respectively"),
    "mha 3-D padding mask": ("mha(x, x, x, key_padding_mask=torch.zeros(2, 3, 1, dtype=torch.bool))",
                             "AssertionError: For batched (3-D) `query`, expected `key_padding_mask` to be `None` or "
                             "2-D but found 3-D tensor instead"),
    "mha 4-D mask": ("mha(x, x, x, attn_mask=torch.zeros(1, 1, 3, 3))",
                     "AssertionError: For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                     "found 4-D tensor instead"),
    "mha embedding": ("F.multi_head_attention_forward(x, x, x, 5, 2, W, b, None, None, False, 0.0, Wo, bo)",
                      "AssertionError: was expecting embedding dimension of 5, but got 4"),
    "mha heads": ("F.multi_head_attention_forward(x, x, x, 4, 3, W, b, None, None, False, 0.0, Wo, bo)",
                  "AssertionError: embed_dim 4 not divisible by num_heads 3"),
    "mha key and value": ("mha(x, x, x[:2])", "AssertionError: key shape torch.Size([3, 2, 4]) does not match value "
                                              "shape torch.Size([2, 2, 4])"),
    "mha 2-D mask shape": ("mha(x, x, x, attn_mask=torch.zeros(2, 3))",
                           "RuntimeError: The shape of the 2D attn_mask is torch.Size([2, 3]), but should be (3, 3)."),
    "mha 3-D mask shape": ("mha(x, x, x, attn_mask=torch.zeros(2, 3, 3))",
                           "RuntimeError: The shape of the 3D attn_mask is torch.Size([2, 3, 3]), but should be "
                           "(4, 3, 3)."),
    "mha integer mask": ("mha(x, x, x, attn_mask=torch.zeros(3, 3, dtype=torch.long))",
                         "AssertionError: only bool and floating types of attn_mask are supported"),
    "mha causal without a mask": ("mha(x, x, x, is_causal=True)",
                                  "RuntimeError: Need attn_mask if specifying the is_causal hint. You may use the "
                                  "Transformer module method `generate_square_subsequent_mask` to create this mask."),
    "mha padding mask shape": ("mha(x, x, x, key_padding_mask=torch.zeros(2, 4, dtype=torch.bool))",
                               "AssertionError: Expected key_padded_mask.shape[1] to be 3, but got 4"),
    "mha no in-projection": ("F.multi_head_attention_forward(x, x, x, 4, 2, None, b, None, None, False, 0.0, Wo, bo)",
                             "AssertionError: use_separate_proj_weight is False but in_proj_weight is None"),
    "mha bias_k alone": ("F.multi_head_attention_forward(x, x, x, 4, 2, W, b, torch.zeros(1, 1, 4), None, False, 0.0, "
                         "Wo, bo)", "AssertionError: bias_k is set but bias_v is None"),
    "mha separate weights": ("F.multi_head_attention_forward(x, x, x, 4, 2, None, b, None, None, False, 0.0, Wo, bo, "
                             "use_separate_proj_weight=True, q_proj_weight=torch.zeros(4, 3), "
                             "k_proj_weight=torch.zeros(4, 4), v_proj_weight=torch.zeros(4, 4))",
                             "AssertionError: expecting query weights shape of (4, 4), but got torch.Size([4, 3])"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


def test_mismatched_mask_types_warn_as_in_torch(oracle):
    oracle.check(SETUP + "mha(x, x, x, attn_mask=torch.zeros(3, 3), key_padding_mask=torch.zeros(2, 3, "
                         "dtype=torch.bool))\n",
                 warns=("UserWarning: Support for mismatched key_padding_mask and attn_mask is deprecated. Use same "
                        "type for both instead.",))


def test_a_row_masked_out_entirely_attends_to_nothing():
    """PyTorch's safe softmax: zeros for the row and its gradients, not nan."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in ((2, 3, 4), (2, 5, 4), (2, 5, 6))]
    mask = rng.random((3, 5)) > 0.3
    mask[1] = False
    results = []
    for lib in (gradscope, torch):
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.nn.functional.scaled_dot_product_attention(*inputs, attn_mask=lib.tensor(mask))
        grads = lib.autograd.grad((out * out).sum(), inputs, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), inputs)
        results.append([out.detach().numpy(), *(g.detach().numpy() for g in grads + second)])
    assert not results[0][0][:, 1].any()
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def _attention_with_dropout(q, k, v, p=0.4, seed=11):
    gradscope.manual_seed(seed)
    return F.scaled_dot_product_attention(q, k, v, dropout_p=p)


def test_dropout_is_seeded_and_differentiable():
    """With the same seed the same weights drop: the output is a function of the inputs, whose gradient
    central differences confirm."""
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape) for shape in ((1, 3, 2), (1, 4, 2), (1, 4, 2))]
    inputs = [gradscope.tensor(a, requires_grad=True) for a in arrays]
    out = _attention_with_dropout(*inputs)
    np.testing.assert_array_equal(out.detach().numpy(), _attention_with_dropout(*inputs).detach().numpy())
    grads = gradscope.autograd.grad(out.sum(), inputs)
    eps = 1e-6
    for array, grad in zip(arrays, grads, strict=True):
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            values = []
            for step in (eps, -eps):
                shifted = [a.copy() for a in arrays]
                shifted[[a is array for a in arrays].index(True)][index] += step
                values.append(_attention_with_dropout(*map(gradscope.tensor, shifted)).sum().item())
            numeric[index] = (values[0] - values[1]) / (2 * eps)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_dropout_zeroes_weights_and_rescales_the_rest():
    """Dropout acts on the attention weights, not the output; the kept ones are scaled by 1/(1 - p), in eval
    mode too (scaled_dot_product_attention has no training flag)."""
    q, k = gradscope.zeros(1, 1, 2), gradscope.zeros(1, 4000, 2)  # uniform weights 1/4000
    v = gradscope.ones(1, 4000, 1)
    gradscope.manual_seed(0)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).item()
    assert out == pytest.approx(1.0, abs=0.03)  # E[Σ mask·w/(1-p)] = Σ w = 1
    assert F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).item() == 0.0


@pytest.mark.parametrize("options", [{}, {"need_weights": False}, {"average_attn_weights": False},
                                     {"key_padding_mask": [[False, True, False], [False, False, True]]}])
def test_agrees_with_multihead_attention_module(options):
    gradscope.manual_seed(0)
    module = gradscope.nn.MultiheadAttention(4, 2, dtype=gradscope.float64)
    x = gradscope.randn(3, 2, 4, dtype=gradscope.float64)
    options = {name: gradscope.tensor(value) if isinstance(value, list) else value for name, value in options.items()}
    expected = module(x, x, x, **options)
    got = F.multi_head_attention_forward(x, x, x, 4, 2, module.in_proj_weight, module.in_proj_bias, None, None, False,
                                         0.0, module.out_proj.weight, module.out_proj.bias, **options)
    for ours, theirs in zip(got, expected, strict=True):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("call", [
    lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=gradscope.ones(3, 5, dtype=gradscope.bool)),
    lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=gradscope.zeros(3, 5), is_causal=False),
    lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.2),
])
def test_float32_stays_float32(call):
    q, k, v = (gradscope.randn(2, n, 4, requires_grad=True) for n in (3, 5, 5))
    out = call(q, k, v)
    grads = gradscope.autograd.grad(out.sum(), [q, k, v])
    assert out.dtype == gradscope.float32 and all(g.dtype == gradscope.float32 for g in grads)
