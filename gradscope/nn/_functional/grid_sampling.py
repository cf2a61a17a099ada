"""affine_grid and grid_sample (Spatial Transformer Networks): PyTorch's arguments, checks, warnings and
error texts over the primitives of ops/grid_sampling.py."""

from __future__ import annotations

import warnings

from gradscope.autograd.dispatch import apply
from gradscope.autograd.tensor import Tensor
from gradscope.nn._functional._args import scalar_type, size_list
from gradscope.ops import grid_sampling as G

_ALIGN_CORNERS_DEFAULT = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                          "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                          "documentation of grid_sample for details.")
GRID_SAMPLE_INTERPOLATION_MODES = {"bilinear": G.BILINEAR, "nearest": G.NEAREST, "bicubic": G.BICUBIC}
GRID_SAMPLE_PADDING_MODES = {"zeros": G.ZEROS, "border": G.BORDER, "reflection": G.REFLECTION}
_MODES, _PADDING_MODES = GRID_SAMPLE_INTERPOLATION_MODES, GRID_SAMPLE_PADDING_MODES


def _default_align_corners(align_corners: bool | None) -> bool:
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_DEFAULT, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) of a batch of 2-D affine maps theta (N, 2, 3), for grid_sample to
    read an output of `size` (N, C, H, W) from (AffineGridGeneratorBackward0).

    >>> F.affine_grid(gradscope.tensor([[[1., 0, 0], [0, 1, 0]]]), (1, 1, 2, 2), align_corners=True)[0, 0]
    tensor([[-1., -1.],
            [ 1., -1.]])
    """
    align_corners = _default_align_corners(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {theta.shape}.")
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {theta.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", UserWarning, stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return affine_grid_generator(theta, size, align_corners)


def affine_grid_generator(theta: Tensor, size, align_corners: bool) -> Tensor:
    """torch.affine_grid_generator: affine_grid without its Python-side checks."""
    size = tuple(int(n) for n in size)
    k = len(size) - 2
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {k + 1}] but "
                           f"got: [{theta.shape[0]}, {k + 1}].")
    return apply(G.affine_grid_generator, (theta,), (size, bool(align_corners)))


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample input (N, C, H, W) at the points of grid (N, Ho, Wo, 2), x then y in [-1, 1]: an
    (N, C, Ho, Wo) output (GridSampler2DBackward0); or (N, C, D, H, W) input at grid (N, Do, Ho, Wo, 3)
    (GridSampler3DBackward0). Modes 'bilinear' (trilinear in 3-D), 'nearest' and (4-D) 'bicubic'; padding
    'zeros', 'border' or 'reflection' for points outside.

    >>> F.grid_sample(gradscope.arange(4.).view(1, 1, 2, 2), gradscope.zeros(1, 1, 1, 2), align_corners=True)
    tensor([[[[1.5000]]]])
    """
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in _PADDING_MODES:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    align_corners = _default_align_corners(align_corners)
    return grid_sampler(input, grid, _MODES[mode], _PADDING_MODES[padding_mode], align_corners)


def grid_sampler(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                 align_corners: bool) -> Tensor:
    """torch.grid_sampler: grid_sample with its modes as PyTorch's enum values."""
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {scalar_type(input)} but found {scalar_type(grid)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {size_list(input)} and grid with sizes {size_list(grid)}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but "
                           f"got grid with sizes {size_list(grid)}")
    for dim in range(2, input.dim()):
        if input.shape[dim] <= 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {size_list(input)} with dimension {dim} being empty")
    if input.dim() == 5 and interpolation_mode == G.BICUBIC:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError("grid_sampler(): expected 5D input and grid with same number of dimensions, but got input "
                           f"with sizes {size_list(input)} and grid with sizes {size_list(grid)}")
    if not input.is_floating_point():
        kernel = "grid_sampler_2d_cpu_kernel_impl" if input.dim() == 4 else "grid_sampler_3d_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type(input)}\'')
    op = G.grid_sampler_2d if input.dim() == 4 else G.grid_sampler_3d
    return apply(op, (input, grid), (int(interpolation_mode), int(padding_mode), bool(align_corners)))
