"""Samples that fail for bugs outside the op table (reported to their owners), and those PyTorch does not
differentiate twice either.

The marks are strict xfails: a fix makes the test pass, pytest reports XPASS as a failure, and the
entry here goes.
"""

from __future__ import annotations

import pytest

FIRST_ORDER: dict[str, str] = {}
_NO_DOUBLE_BACKWARD = "as in PyTorch, the op has no double backward: its backward's node raises"
SECOND_ORDER: dict[str, str] = {name: _NO_DOUBLE_BACKWARD for name in (
    "embedding_bag_mean[5x3]", "embedding_bag_sum_weighted[5x3,5]", "embedding_bag_max_2d[4x2]",
    "ctc_loss_padded[4x2x3]", "ctc_loss_concatenated[3x3x3]")}


def with_xfails(samples, known: dict) -> list:
    """The samples as pytest params, the known failures marked."""
    return [pytest.param(sample, marks=pytest.mark.xfail(reason=known[sample.name], strict=True))
            if sample.name in known else sample for sample in samples]
