"""The torch.* / Tensor.* names issue 11 asked for exist in both forms wherever PyTorch has both, in-place
variants included (a name PyTorch lacks in one form must be absent here too, so scripts fail alike)."""

from __future__ import annotations

import pytest

import gradscope

NAMES = (
    "acos asin atan atan2 cosh sinh tan expm1 log2 log10 lgamma digamma polygamma erfinv xlogy logaddexp fmod "
    "remainder frac nan_to_num lerp arccos arcsin arctan arctan2 cumsum cumprod cummax cummin logcumsumexp diff sort "
    "argsort msort topk median nansum nanmean var_mean std_mean unique searchsorted diag diag_embed diagonal trace "
    "tril triu flip fliplr flipud roll rot90 movedim moveaxis swapaxes narrow select take index_select index_add "
    "index_fill scatter scatter_add scatter_reduce put masked_select repeat repeat_interleave tile unfold hstack "
    "vstack dstack row_stack column_stack atleast_1d atleast_2d atleast_3d broadcast_tensors broadcast_to "
    "broadcast_shapes tensordot kron cross cdist dist baddbmm chain_matmul cartesian_prod meshgrid bernoulli "
    "multinomial normal randperm new_zeros new_ones new_full new_empty new_tensor set_default_device "
    "get_default_device device det logdet slogdet inverse pinverse matrix_power cholesky_inverse cholesky_solve "
    "cholesky qr svd transpose swapdims t squeeze unsqueeze"
).split()
# order statistics, counts, and indexing, splitting and placing (tests/ops/samples_selection.py)
NAMES += (
    "kthvalue mode nanmedian quantile nanquantile aminmax count_nonzero argwhere cov corrcoef histc bincount bucketize "
    "isin unique_consecutive index_copy index_put masked_scatter select_scatter slice_scatter diagonal_scatter "
    "fill_diagonal narrow_copy take_along_dim as_strided storage_offset tensor_split hsplit vsplit dsplit "
    "split_with_sizes unflatten ravel reshape_as diagflat block_diag combinations vander trapezoid trapz "
    "cumulative_trapezoid inner vdot renorm tril_indices triu_indices unravel_index logspace range nan_to_num "
    "gradient unsafe_split unsafe_chunk unsafe_split_with_sizes histogram nonzero_static "
    "index_reduce as_strided_scatter view_copy alias_copy t_copy transpose_copy permute_copy unsqueeze_copy "
    "squeeze_copy expand_copy select_copy slice_copy unbind_copy split_copy split_with_sizes_copy diagonal_copy "
    "unfold_copy as_strided_copy"
).split()


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("name", NAMES)
def test_function_exists_where_torch_has_it(torch, name):
    if hasattr(torch, name):
        assert callable(getattr(gradscope, name)), name


@pytest.mark.parametrize("name", NAMES)
def test_method_and_in_place_variant_exist_where_torch_has_them(torch, name):
    for method in (name, name + "_"):
        assert hasattr(gradscope.Tensor, method) == hasattr(torch.Tensor, method), method


LINALG = ("inv det slogdet solve norm vector_norm matrix_norm cholesky qr eigh eigvalsh svd svdvals pinv "
          "matrix_power").split()
FUNCTIONAL = (
    "conv1d conv2d conv_transpose1d conv_transpose2d unfold fold max_pool1d max_pool2d avg_pool1d avg_pool2d "
    "adaptive_avg_pool1d adaptive_avg_pool2d adaptive_max_pool2d interpolate pad dropout dropout1d dropout2d embedding "
    "one_hot layer_norm rms_norm batch_norm group_norm instance_norm normalize relu6 elu selu celu glu hardtanh "
    "hardswish hardsigmoid logsigmoid mish softplus softsign softmin threshold prelu gumbel_softmax cosine_similarity "
    "pairwise_distance bilinear scaled_dot_product_attention multi_head_attention_forward binary_cross_entropy "
    "l1_loss smooth_l1_loss huber_loss kl_div cosine_embedding_loss margin_ranking_loss hinge_embedding_loss "
    "triplet_margin_loss gaussian_nll_loss poisson_nll_loss soft_margin_loss multilabel_soft_margin_loss "
    "cross_entropy nll_loss"
).split()


@pytest.mark.parametrize("name", LINALG)
def test_linalg_function_exists_where_torch_has_it(torch, name):
    assert hasattr(torch.linalg, name)
    assert callable(getattr(gradscope.linalg, name)), name


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_exists_where_torch_has_it(torch, name):
    import gradscope.nn.functional as F

    assert hasattr(torch.nn.functional, name)
    assert callable(getattr(F, name)), name
