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
    "get_default_device device"
).split()
# torch.trace is not gradscope.trace: that is the debugger's package (Tensor.trace works)
NOT_IN_GRADSCOPE = {("torch", "trace")}
# in-place view ops (they change a tensor's shape in place) belong with the engine's view work
NOT_YET = {"swapaxes_"}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("name", NAMES)
def test_function_exists_where_torch_has_it(torch, name):
    if hasattr(torch, name) and ("torch", name) not in NOT_IN_GRADSCOPE:
        assert callable(getattr(gradscope, name)), name


@pytest.mark.parametrize("name", NAMES)
def test_method_and_in_place_variant_exist_where_torch_has_them(torch, name):
    for method in (name, name + "_"):
        if method in NOT_YET:
            continue
        assert hasattr(gradscope.Tensor, method) == hasattr(torch.Tensor, method), method
