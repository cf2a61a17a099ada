"""convert_conv2d/3d_weight_memory_format: the weights of every (transposed) convolution in a module copied to a
memory format. gradscope's tensors are always laid out row-major (the format is accepted, not applied), so the
weights keep their values, Parameters and gradients' targets; scripts that call these run unchanged.

>>> convert_conv2d_weight_memory_format(nn.Conv2d(1, 2, 3), gradscope.channels_last)
Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))
"""

from __future__ import annotations

from gradscope.nn.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d
from gradscope.nn.module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def convert_conv2d_weight_memory_format(module: Module, memory_format) -> Module:
    """Every Conv2d/ConvTranspose2d weight below `module` (itself included) copied to `memory_format`."""
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module: Module, memory_format) -> Module:
    """Every Conv3d/ConvTranspose3d weight below `module` (itself included) copied to `memory_format`."""
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))


def _convert(module: Module, memory_format, kinds: tuple) -> Module:
    if isinstance(module, kinds):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module
