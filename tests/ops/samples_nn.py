"""Sample calls of the torch.nn.functional families: convolution, padding, interpolation, pooling,
normalisation, embedding. Each is `(name, fn, shapes)`, which samples.py turns into a Sample (same
contract: `fn(lib, *inputs)` on float64 inputs the tests build); this module imports nothing from it.
Shapes are tiny because the second-order check differentiates every element numerically.

Random functions (dropout) have no samples here: their values can't match torch's random stream.
tests/nn/test_functional_random.py checks their mask semantics instead.
"""

from __future__ import annotations

Call = tuple  # (name, fn(lib, *inputs), input shapes)


def _samples(name: str, fn, shapes) -> Call:
    return name, fn, shapes


def const(lib, values, like):
    """A constant tensor (running statistics) with the dtype of the tensor `like`."""
    return lib.tensor(values, dtype=like.dtype)


def _convolution() -> list[Call]:
    return [
        _samples("conv1d", lambda lib, x, w: lib.F.conv1d(x, w), ((1, 2, 5), (3, 2, 3))),
        _samples("conv1d_bias_strided", lambda lib, x, w, b: lib.F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
                 ((2, 2, 7), (3, 2, 2), (3,))),
        _samples("conv1d_groups", lambda lib, x, w: lib.F.conv1d(x, w, groups=2), ((1, 4, 4), (4, 2, 2))),
        _samples("conv1d_same", lambda lib, x, w: lib.F.conv1d(x, w, padding="same"), ((1, 2, 4), (2, 2, 3))),
        _samples("conv1d_same_even", lambda lib, x, w: lib.F.conv1d(x, w, padding="same", dilation=1),
                 ((1, 1, 4), (2, 1, 2))),
        _samples("conv1d_valid_unbatched", lambda lib, x, w: lib.F.conv1d(x, w, padding="valid"), ((2, 4), (1, 2, 2))),
        _samples("conv2d", lambda lib, x, w, b: lib.F.conv2d(x, w, b), ((1, 2, 4, 4), (2, 2, 2, 2), (2,))),
        _samples("conv2d_strided", lambda lib, x, w: lib.F.conv2d(x, w, stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
                 ((1, 1, 5, 5), (2, 1, 2, 2))),
        _samples("conv2d_groups", lambda lib, x, w, b: lib.F.conv2d(x, w, b, padding=1, groups=2),
                 ((1, 4, 3, 3), (2, 2, 2, 2), (2,))),
        _samples("conv2d_same_even", lambda lib, x, w: lib.F.conv2d(x, w, padding="same"),
                 ((1, 1, 3, 4), (1, 1, 2, 3))),
        _samples("conv2d_unbatched", lambda lib, x, w: lib.F.conv2d(x, w), ((1, 3, 3), (2, 1, 2, 2))),
        _samples("conv_transpose1d", lambda lib, x, w, b: lib.F.conv_transpose1d(x, w, b, stride=2, padding=1,
                                                                                output_padding=1),
                 ((1, 2, 3), (2, 2, 3), (2,))),
        _samples("conv_transpose1d_groups", lambda lib, x, w: lib.F.conv_transpose1d(x, w, groups=2),
                 ((1, 4, 3), (4, 1, 2))),
        # output_padding >= stride is allowed when it is below the dilation
        _samples("conv_transpose1d_dilated", lambda lib, x, w: lib.F.conv_transpose1d(x, w, output_padding=1,
                                                                                    dilation=2),
                 ((1, 1, 3), (1, 2, 2))),
        _samples("conv_transpose2d", lambda lib, x, w, b: lib.F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                                output_padding=(1, 0)),
                 ((1, 2, 2, 3), (2, 1, 3, 2), (1,))),
        _samples("conv_transpose2d_groups", lambda lib, x, w: lib.F.conv_transpose2d(x, w, stride=(1, 2), groups=2,
                                                                                   dilation=(2, 1)),
                 ((1, 2, 2, 2), (2, 1, 2, 2))),
        _samples("conv_transpose2d_unbatched", lambda lib, x, w: lib.F.conv_transpose2d(x, w),
                 ((1, 2, 2), (1, 2, 2, 2))),
        _samples("conv3d", lambda lib, x, w, b: lib.F.conv3d(x, w, b, stride=(1, 2, 1), padding=(0, 1, 1)),
                 ((1, 2, 2, 3, 3), (2, 2, 2, 2, 1), (2,))),
        _samples("conv3d_groups_same_unbatched", lambda lib, x, w: lib.F.conv3d(x, w, padding="same", groups=2),
                 ((2, 2, 3, 2), (2, 1, 2, 1, 2))),
        _samples("conv_transpose3d", lambda lib, x, w, b: lib.F.conv_transpose3d(x, w, b, stride=(2, 1, 2), padding=1,
                                                                                output_padding=(1, 0, 0)),
                 ((1, 2, 2, 2, 2), (2, 1, 3, 2, 2), (1,))),
        _samples("unfold", lambda lib, x: lib.F.unfold(x, 2), ((1, 2, 3, 3),)),
        _samples("unfold_strided", lambda lib, x: lib.F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2),
                 ((2, 1, 4, 5),)),
        _samples("unfold_unbatched", lambda lib, x: lib.F.unfold(x, 2, stride=(1, 2)), ((2, 3, 4),)),
        _samples("fold", lambda lib, x: lib.F.fold(x, (3, 3), 2), ((1, 8, 4),)),
        _samples("fold_strided", lambda lib, x: lib.F.fold(x, (4, 5), (2, 3), dilation=(1, 2), padding=1, stride=2),
                 ((1, 6, 6),)),
        _samples("fold_unbatched", lambda lib, x: lib.F.fold(x, (3, 4), 2, stride=(1, 2)), ((4, 4),)),
    ]


def _padding() -> list[Call]:
    samples = [
        _samples("pad_constant", lambda lib, x: lib.F.pad(x, (1, 2, 0, 1), value=0.5), ((1, 2, 2, 3),)),
        _samples("pad_constant_crop", lambda lib, x: lib.F.pad(x, (-1, 1, 1, -2)), ((2, 3, 4),)),
        _samples("pad_constant_first_dims", lambda lib, x: lib.F.pad(x, (0, 0, 1, 0, 0, 1)), ((2, 3, 2),)),
        _samples("pad_circular_crop", lambda lib, x: lib.F.pad(x, (-1, 2), mode="circular"), ((1, 2, 3),)),
    ]
    for mode in ("reflect", "replicate", "circular"):
        samples += [
            _samples(f"pad_{mode}_1d", lambda lib, x, m=mode: lib.F.pad(x, (2, 1), mode=m), ((1, 2, 3),)),
            _samples(f"pad_{mode}_1d_unbatched", lambda lib, x, m=mode: lib.F.pad(x, (1, 2), mode=m), ((2, 3),)),
            _samples(f"pad_{mode}_2d", lambda lib, x, m=mode: lib.F.pad(x, (1, 2, 2, 0), mode=m), ((1, 1, 3, 3),)),
            _samples(f"pad_{mode}_3d", lambda lib, x, m=mode: lib.F.pad(x, (1, 0, 0, 1, 1, 1), mode=m),
                     ((1, 2, 2, 2),)),
        ]
    return samples


def _interpolate() -> list[Call]:
    def resize(**options):
        return lambda lib, x: lib.F.interpolate(x, **options)
    return [
        _samples("interpolate_nearest1d", resize(size=5), ((1, 2, 3),)),
        _samples("interpolate_nearest1d_double", resize(scale_factor=2), ((1, 1, 3),)),
        _samples("interpolate_nearest2d", resize(scale_factor=(2, 1.5)), ((1, 1, 2, 3),)),
        _samples("interpolate_nearest2d_down", resize(size=(2, 2)), ((1, 1, 3, 4),)),
        _samples("interpolate_nearest_exact1d", resize(size=4, mode="nearest-exact"), ((1, 2, 3),)),
        _samples("interpolate_nearest_exact2d", resize(scale_factor=1.5, mode="nearest-exact"), ((1, 1, 2, 3),)),
        _samples("interpolate_linear", resize(size=5, mode="linear"), ((1, 2, 3),)),
        _samples("interpolate_linear_corners", resize(scale_factor=1.7, mode="linear", align_corners=True),
                 ((2, 1, 3),)),
        _samples("interpolate_linear_down", resize(scale_factor=0.6, mode="linear", recompute_scale_factor=True),
                 ((1, 1, 5),)),
        _samples("interpolate_bilinear", resize(size=(4, 3), mode="bilinear"), ((1, 1, 3, 2),)),
        _samples("interpolate_bilinear_corners", resize(size=(3, 5), mode="bilinear", align_corners=True),
                 ((1, 2, 2, 3),)),
        _samples("interpolate_bilinear_down", resize(scale_factor=0.6, mode="bilinear"), ((1, 1, 4, 4),)),
        _samples("interpolate_area", resize(size=(2, 3), mode="area"), ((1, 1, 4, 5),)),
        _samples("interpolate_area1d", resize(scale_factor=0.5, mode="area"), ((1, 2, 5),)),
        _samples("interpolate_bicubic", resize(size=(5, 3), mode="bicubic"), ((1, 1, 3, 4),)),
        _samples("interpolate_bicubic_corners", resize(scale_factor=1.6, mode="bicubic", align_corners=True),
                 ((1, 2, 3, 2),)),
        _samples("interpolate_bicubic_down", resize(scale_factor=0.6, mode="bicubic"), ((1, 1, 5, 5),)),
        _samples("interpolate_trilinear", resize(size=(3, 2, 4), mode="trilinear"), ((1, 1, 2, 3, 2),)),
        _samples("interpolate_trilinear_corners", resize(scale_factor=1.5, mode="trilinear", align_corners=True),
                 ((1, 1, 2, 2, 3),)),
        _samples("interpolate_nearest3d", resize(scale_factor=(2, 1, 1.5), mode="nearest"), ((1, 1, 2, 3, 2),)),
        _samples("interpolate_nearest_exact3d", resize(size=(3, 2, 2), mode="nearest-exact"), ((1, 1, 2, 3, 3),)),
        _samples("interpolate_area3d", resize(size=(1, 2, 2), mode="area"), ((1, 1, 2, 3, 4),)),
    ]


def _grid_sampling() -> list[Call]:
    def sample(mode, padding_mode, align_corners, scale=0.8):
        return lambda lib, x, grid: lib.F.grid_sample(x, grid * scale, mode, padding_mode, align_corners)
    return [
        _samples("affine_grid", lambda lib, theta: lib.F.affine_grid(theta, (2, 1, 3, 4), align_corners=False),
                 ((2, 2, 3),)),
        _samples("affine_grid_corners_3d", lambda lib, theta: lib.F.affine_grid(theta, (1, 2, 2, 3, 2), True),
                 ((1, 3, 4),)),
        _samples("grid_sample_bilinear", sample("bilinear", "zeros", False), ((2, 2, 3, 4), (2, 2, 3, 2))),
        _samples("grid_sample_bilinear_corners", sample("bilinear", "zeros", True), ((1, 1, 2, 3), (1, 3, 2, 2))),
        _samples("grid_sample_border", sample("bilinear", "border", True, 1.2), ((1, 2, 3, 3), (1, 2, 3, 2))),
        _samples("grid_sample_reflection", sample("bilinear", "reflection", False, 2.5), ((1, 1, 3, 4), (1, 2, 3, 2))),
        _samples("grid_sample_nearest", sample("nearest", "zeros", False), ((1, 2, 3, 3), (1, 2, 2, 2))),
        _samples("grid_sample_nearest_reflection", sample("nearest", "reflection", True, 2.0),
                 ((1, 1, 2, 3), (1, 3, 1, 2))),
        _samples("grid_sample_bicubic", sample("bicubic", "zeros", False), ((1, 2, 3, 4), (1, 2, 2, 2))),
        _samples("grid_sample_bicubic_border", sample("bicubic", "border", True, 1.3), ((1, 1, 4, 3), (1, 3, 1, 2))),
        _samples("grid_sample_bicubic_reflection", sample("bicubic", "reflection", False, 2.0),
                 ((1, 1, 3, 3), (1, 2, 2, 2))),
        _samples("grid_sample_trilinear", sample("bilinear", "zeros", False), ((1, 2, 2, 3, 2), (1, 2, 1, 2, 3))),
        _samples("grid_sample_trilinear_reflection", sample("bilinear", "reflection", True, 1.5),
                 ((1, 1, 2, 2, 3), (1, 1, 2, 2, 3))),
        _samples("grid_sample_nearest_3d_border", sample("nearest", "border", False, 1.2),
                 ((1, 1, 2, 3, 2), (1, 2, 1, 1, 3))),
        _samples("affine_grid_then_grid_sample",
                 lambda lib, x, theta: lib.F.grid_sample(x, lib.F.affine_grid(theta * 0.7, (1, 1, 2, 3), False),
                                                         align_corners=False),
                 ((1, 1, 3, 3), (1, 2, 3))),
    ]


def _weight_norm() -> list[Call]:
    return [
        _samples("weight_norm_first_dim", lambda lib, v, g: lib._weight_norm(v, g, 0), ((3, 4), (3, 1))),
        _samples("weight_norm_last_dim", lambda lib, v, g: lib._weight_norm(v, g, 2), ((2, 2, 3), (1, 1, 3))),
        _samples("weight_norm_middle_dim", lambda lib, v, g: lib._weight_norm(v, g, 1), ((2, 3, 2), (1, 3, 1))),
        _samples("weight_norm_whole", lambda lib, v, g: lib._weight_norm(v, g, -1), ((2, 3), ())),
    ]


def _unpooling() -> list[Call]:
    indices = [[[[0, 3], [9, 14]], [[1, 2], [12, 7]]]]
    return [
        _samples("max_unpool2d", lambda lib, x: lib.F.max_unpool2d(x, lib.tensor(indices), 2), ((1, 2, 2, 2),)),
        _samples("max_unpool2d_unbatched_sized", lambda lib, x: lib.F.max_unpool2d(x, lib.tensor(indices[0]), 2,
                                                                                   output_size=(5, 4)),
                 ((2, 2, 2),)),
        _samples("max_unpool1d", lambda lib, x: lib.F.max_unpool1d(x, lib.tensor([[[1, 2, 5]]]), 2),
                 ((1, 1, 3),)),
        _samples("max_unpool3d", lambda lib, x: lib.F.max_unpool3d(x, lib.tensor([[[[[0, 3]], [[13, 6]]]]]),
                                                                   (1, 2, 2)), ((1, 1, 2, 1, 2),)),
        # windows that don't overlap: an index unpooled twice keeps one value but gets both gradients, in PyTorch too
        _samples("max_unpool_of_max_pool", lambda lib, x: lib.F.max_unpool2d(*lib.F.max_pool2d(x, 2,
                                                                                              return_indices=True), 2),
                 ((1, 1, 4, 4),)),
    ]


def _pdist() -> list[Call]:
    return [_samples(f"pdist_{p}", lambda lib, x, p=p: lib.F.pdist(x, p), ((4, 3),))
            for p in (2.0, 1.0, 3.0, 0.5, 1.5, float("inf"), 0.0)]


def _margin_losses() -> list[Call]:
    def multi(**options):
        return lambda lib, x: lib.F.multi_margin_loss(x, lib.tensor([2, 0, 3]), **options)

    def multilabel(reduction):
        return lambda lib, x: lib.F.multilabel_margin_loss(x, lib.tensor([[2, 0, -1, 1], [3, -1, 0, 0], [1, 2, 3, 0]]),
                                                           reduction=reduction)
    return [
        _samples("multi_margin_loss", multi(), ((3, 4),)),
        _samples("multi_margin_loss_squared_weighted", lambda lib, x: lib.F.multi_margin_loss(
            x, lib.tensor([2, 0, 3]), p=2, margin=0.7, weight=lib.tensor([0.5, 1.0, 2.0, 1.5], dtype=x.dtype),
            reduction="none"), ((3, 4),)),
        _samples("multi_margin_loss_sum_unbatched", lambda lib, x: lib.F.multi_margin_loss(
            x, lib.tensor(1), p=2, reduction="sum"), ((4,),)),
        _samples("multilabel_margin_loss", multilabel("mean"), ((3, 4),)),
        _samples("multilabel_margin_loss_none", multilabel("none"), ((3, 4),)),
    ]


def _pooling() -> list[Call]:
    return [
        _samples("max_pool2d", lambda lib, x: lib.F.max_pool2d(x, 2), ((1, 2, 4, 4),)),
        # overlapping windows: an element that is the maximum of two windows gets both gradients
        _samples("max_pool2d_overlapping_indices", lambda lib, x: lib.F.max_pool2d(x, 3, 1, 1, return_indices=True),
                 ((1, 1, 3, 4),)),
        _samples("max_pool2d_ceil_dilated", lambda lib, x: lib.F.max_pool2d(x, (2, 3), (2, 1), (1, 1), dilation=(2, 1),
                                                                          ceil_mode=True),
                 ((1, 1, 5, 4),)),
        _samples("max_pool2d_unbatched", lambda lib, x: lib.F.max_pool2d(x, (1, 2), stride=(2, 1)), ((2, 3, 3),)),
        _samples("max_pool1d", lambda lib, x: lib.F.max_pool1d(x, 2), ((1, 2, 5),)),
        _samples("max_pool1d_indices_ceil", lambda lib, x: lib.F.max_pool1d(x, 3, 2, 1, ceil_mode=True,
                                                                          return_indices=True), ((2, 6),)),
        _samples("avg_pool2d", lambda lib, x: lib.F.avg_pool2d(x, 2), ((1, 2, 4, 4),)),
        _samples("avg_pool2d_padded", lambda lib, x: lib.F.avg_pool2d(x, 3, 2, 1), ((1, 1, 4, 5),)),
        _samples("avg_pool2d_exclude_pad_ceil", lambda lib, x: lib.F.avg_pool2d(x, (3, 2), 2, 1, ceil_mode=True,
                                                                              count_include_pad=False),
                 ((1, 1, 4, 5),)),
        _samples("avg_pool2d_divisor", lambda lib, x: lib.F.avg_pool2d(x, 2, 1, divisor_override=3), ((2, 3, 3),)),
        _samples("avg_pool1d", lambda lib, x: lib.F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                 ((1, 2, 6),)),
        _samples("adaptive_avg_pool2d", lambda lib, x: lib.F.adaptive_avg_pool2d(x, (2, 3)), ((1, 2, 5, 4),)),
        _samples("adaptive_avg_pool2d_none", lambda lib, x: lib.F.adaptive_avg_pool2d(x, (None, 2)), ((2, 3, 3),)),
        _samples("adaptive_avg_pool2d_one", lambda lib, x: lib.F.adaptive_avg_pool2d(x, 1), ((1, 2, 3, 3),)),
        _samples("adaptive_avg_pool1d", lambda lib, x: lib.F.adaptive_avg_pool1d(x, 3), ((1, 2, 5),)),
        _samples("adaptive_max_pool2d", lambda lib, x: lib.F.adaptive_max_pool2d(x, (2, 3), return_indices=True),
                 ((1, 2, 5, 4),)),
        _samples("adaptive_max_pool2d_upsampling", lambda lib, x: lib.F.adaptive_max_pool2d(x, 4), ((1, 3, 3),)),
        _samples("adaptive_max_pool1d", lambda lib, x: lib.F.adaptive_max_pool1d(x, 3), ((1, 2, 5),)),
        _samples("max_pool3d", lambda lib, x: lib.F.max_pool3d(x, 2, stride=(1, 2, 1), padding=(0, 1, 1),
                                                             return_indices=True), ((1, 1, 3, 3, 3),)),
        _samples("max_pool3d_ceil_dilated_unbatched", lambda lib, x: lib.F.max_pool3d(x, 2, dilation=(1, 1, 2),
                                                                                    ceil_mode=True),
                 ((2, 3, 2, 4),)),
        _samples("avg_pool3d", lambda lib, x: lib.F.avg_pool3d(x, (2, 3, 2), 2, 1, ceil_mode=True,
                                                             count_include_pad=False), ((1, 1, 3, 4, 3),)),
        _samples("avg_pool3d_divisor", lambda lib, x: lib.F.avg_pool3d(x, 2, 1, divisor_override=5), ((2, 3, 2, 3),)),
        _samples("adaptive_avg_pool3d", lambda lib, x: lib.F.adaptive_avg_pool3d(x, (2, None, 3)), ((1, 2, 3, 2, 4),)),
        _samples("adaptive_avg_pool3d_one", lambda lib, x: lib.F.adaptive_avg_pool3d(x, 1), ((2, 2, 3, 2),)),
        _samples("adaptive_max_pool3d", lambda lib, x: lib.F.adaptive_max_pool3d(x, (2, 1, 3), return_indices=True),
                 ((1, 2, 3, 3, 4),)),
    ]


def _batch_norm_with_running_stats(training: bool):
    def call(lib, x, w, b):
        mean, var = const(lib, [0.1, -0.2, 0.3], x), const(lib, [0.5, 1.5, 1.0], x)
        return lib.F.batch_norm(x, mean, var, w, b, training=training, momentum=0.2)
    return call


def _normalization() -> list[Call]:
    return [
        _samples("layer_norm", lambda lib, x, w, b: lib.F.layer_norm(x, (3,), w, b), ((2, 3), (3,), (3,))),
        _samples("layer_norm_two_dims", lambda lib, x, w, b: lib.F.layer_norm(x, (3, 2), w, b, eps=1e-3),
                 ((2, 3, 2), (3, 2), (3, 2))),
        _samples("layer_norm_plain", lambda lib, x: lib.F.layer_norm(x, [4]), ((2, 4),)),
        _samples("layer_norm_weight_only", lambda lib, x, w: lib.F.layer_norm(x, (3,), w), ((3,), (3,))),
        _samples("rms_norm", lambda lib, x, w: lib.F.rms_norm(x, (3,), w), ((2, 3), (3,))),
        _samples("rms_norm_plain", lambda lib, x: lib.F.rms_norm(x, (2, 2), eps=1e-3), ((2, 2, 2),)),
        _samples("batch_norm", lambda lib, x, w, b: lib.F.batch_norm(x, None, None, w, b, training=True),
                 ((3, 2, 2), (2,), (2,))),
        _samples("batch_norm_plain", lambda lib, x: lib.F.batch_norm(x, None, None, training=True), ((4, 2),)),
        _samples("batch_norm_running", _batch_norm_with_running_stats(True), ((2, 3, 2), (3,), (3,))),
        _samples("batch_norm_eval", _batch_norm_with_running_stats(False), ((2, 3, 2), (3,), (3,))),
        _samples("group_norm", lambda lib, x, w, b: lib.F.group_norm(x, 2, w, b), ((2, 4, 2), (4,), (4,))),
        _samples("group_norm_plain", lambda lib, x: lib.F.group_norm(x, 3, eps=1e-3), ((1, 3, 2, 2),)),
        _samples("instance_norm", lambda lib, x, w, b: lib.F.instance_norm(x, weight=w, bias=b),
                 ((2, 2, 3), (2,), (2,))),
        _samples("instance_norm_running", lambda lib, x: lib.F.instance_norm(
            x, const(lib, [0.5, -1.0], x), const(lib, [2.0, 0.5], x), use_input_stats=False), ((2, 2, 3),)),
        _samples("normalize", lambda lib, x: lib.F.normalize(x), ((2, 3),)),
        _samples("normalize_p1_dim0", lambda lib, x: lib.F.normalize(x, p=1, dim=0), ((2, 3),)),
    ]


def _embedding() -> list[Call]:
    """padding_idx and scale_grad_by_freq change the gradient on purpose (it is no longer the
    derivative): test_kinks_nn.py states theirs by hand."""
    def indices(lib):
        return lib.tensor([[1, 2, 1], [0, 2, 3]])
    return [
        _samples("embedding", lambda lib, w: lib.F.embedding(indices(lib), w), ((4, 3),)),
        _samples("embedding_1d", lambda lib, w: lib.F.embedding(lib.tensor([2, 2, 0]), w), ((3, 2),)),
        # bags [1, 2], [] and [4, 0, 1] (an empty bag gives zeros and no gradient)
        _samples("embedding_bag_mean", lambda lib, w: lib.F.embedding_bag(
            lib.tensor([1, 2, 4, 0, 1]), w, lib.tensor([0, 2, 2])), ((5, 3),)),
        _samples("embedding_bag_sum_weighted", lambda lib, w, p: lib.F.embedding_bag(
            lib.tensor([1, 2, 4, 0, 1]), w, lib.tensor([0, 2, 2]), mode="sum", per_sample_weights=p),
            ((5, 3), (5,))),
        _samples("embedding_bag_max_2d", lambda lib, w: lib.F.embedding_bag(
            lib.tensor([[1, 3], [0, 2]]), w, mode="max"), ((4, 2),)),
    ]


def _fractional_pooling() -> list[Call]:
    """Windows fixed by given samples (no draw), overlapping in the 2-D one."""
    return [
        _samples("fractional_max_pool2d", lambda lib, x: lib.F.fractional_max_pool2d(
            x, (2, 3), output_size=(3, 2), _random_samples=lib.tensor([[[0.3, 0.8]], [[0.6, 0.1]]], dtype=x.dtype)),
            ((2, 1, 4, 5),)),
        _samples("fractional_max_pool3d_unbatched", lambda lib, x: lib.F.fractional_max_pool3d(
            x, 2, output_size=(1, 2, 2), _random_samples=lib.tensor([[[0.5, 0.2, 0.9]]], dtype=x.dtype)),
            ((1, 3, 4, 4),)),
    ]


def _ctc() -> list[Call]:
    """PyTorch's ctc_loss gradient is the logits' one when log_probs is their log_softmax: the samples take
    logits (a repeated label, a frame short of its target, an empty target)."""
    return [
        _samples("ctc_loss_padded", lambda lib, x: lib.F.ctc_loss(
            x.log_softmax(2), lib.tensor([[1, 1], [2, 1]]), (4, 3), (2, 2), blank=0), ((4, 2, 3),)),
        _samples("ctc_loss_concatenated", lambda lib, x: lib.F.ctc_loss(
            x.log_softmax(2), lib.tensor([0, 1, 1]), lib.tensor([3, 2, 3]), lib.tensor([2, 0, 1]), blank=2,
            reduction="none"), ((3, 3, 3),)),
    ]


def _rearranging_and_shrinking() -> list[Call]:
    return [
        _samples("hardshrink", lambda lib, x: lib.F.hardshrink(x, 0.3), ((3, 4),)),
        _samples("softshrink", lambda lib, x: lib.F.softshrink(x), ((3, 4),)),
        _samples("tanhshrink", lambda lib, x: lib.F.tanhshrink(x), ((2, 3),)),
        _samples("pixel_shuffle", lambda lib, x: lib.F.pixel_shuffle(x, 2), ((1, 8, 2, 3),)),
        _samples("pixel_shuffle_unbatched", lambda lib, x: lib.F.pixel_shuffle(x, 3), ((9, 1, 2),)),
        _samples("pixel_unshuffle", lambda lib, x: lib.F.pixel_unshuffle(x, 2), ((2, 1, 2, 4),)),
        _samples("channel_shuffle", lambda lib, x: lib.F.channel_shuffle(x, 3), ((2, 6, 2),)),
        _samples("local_response_norm_3d", lambda lib, x: lib.F.local_response_norm(x, 3, alpha=0.5), ((2, 4, 3),)),
        _samples("local_response_norm_4d", lambda lib, x: lib.F.local_response_norm(x, 2, 0.3, 0.5, 2.0),
                 ((1, 3, 2, 2),)),
        _samples("lp_pool1d", lambda lib, x: lib.F.lp_pool1d(x, 2, 3, stride=2), ((1, 2, 7),)),
        _samples("lp_pool2d", lambda lib, x: lib.F.lp_pool2d(x, 2.0, (2, 3), ceil_mode=True), ((1, 2, 3, 4),)),
        _samples("lp_pool2d_inf", lambda lib, x: lib.F.lp_pool2d(x, float("inf"), 2), ((1, 1, 4, 4),)),
        _samples("lp_pool3d", lambda lib, x: lib.F.lp_pool3d(x, 2, 2), ((1, 1, 2, 4, 2),)),
    ]


def _gradient_of(op):
    """`op`'s gradient for the incoming gradient v, as a function of x and v: its backward's own op
    (AvgPool2DBackwardBackward0 …), whose rules these samples check, constant in x."""
    def call(lib, x, v):
        with lib.enable_grad():
            leaf = x if x.requires_grad else x.detach().requires_grad_()
            return lib.autograd.grad(op(lib, leaf), leaf, v, create_graph=True)[0]
    return call


def _backward_ops() -> list[Call]:
    return [
        _samples("avg_pool2d_gradient", _gradient_of(lambda lib, x: lib.F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)),
                 ((1, 2, 4, 5), (1, 2, 3, 3))),
        _samples("avg_pool3d_gradient", _gradient_of(lambda lib, x: lib.F.avg_pool3d(x, 2)), ((1, 1, 2, 4, 2),
                                                                                            (1, 1, 1, 2, 1))),
        _samples("adaptive_avg_pool2d_gradient", _gradient_of(lambda lib, x: lib.F.adaptive_avg_pool2d(x, (2, 3))),
                 ((1, 2, 5, 4), (1, 2, 2, 3))),
        _samples("adaptive_avg_pool3d_gradient", _gradient_of(lambda lib, x: lib.F.adaptive_avg_pool3d(x, 2)),
                 ((1, 3, 3, 2), (1, 2, 2, 2))),
        *[_samples(f"pad_{mode}_{d}d_gradient", _gradient_of(lambda lib, x, m=mode, d=d: lib.F.pad(x, (2, 1) * d,
                                                                                                     mode=m)),
                   ((1, 2) + (3,) * d, (1, 2) + (6,) * d))
          for mode in ("reflect", "replicate") for d in (1, 2, 3)],
    ]


def nn_calls() -> list[Call]:
    return (_convolution() + _padding() + _interpolate() + _grid_sampling() + _weight_norm() + _unpooling() + _pdist()
            + _margin_losses() + _pooling() + _normalization() + _embedding() + _ctc() + _fractional_pooling()
            + _rearranging_and_shrinking() + _backward_ops())

