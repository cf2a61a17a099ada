"""Rearranging elements: flip, roll, rot90, triangles and diagonals, repeat, unfold. Flips, rolls and
triangles are copies, as in PyTorch; diagonal and unfold are views."""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import primitive

flip = primitive("flip", lambda a, dims: np.flip(a, dims).copy(), "FlipBackward0", inputs=("self",), params=("dims",),
                 vjp=(lambda g, s: s.xp.flip(g, s.dims),))
