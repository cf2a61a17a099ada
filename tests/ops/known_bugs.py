"""Samples that fail for bugs outside the op table (reported to their owners).

The marks are strict xfails: a fix makes the test pass, pytest reports XPASS as a failure, and the
entry here goes.
"""

from __future__ import annotations

import pytest
from samples import SAMPLES

_MULTI_ROOT = ("engine._graph expands a node once per root: with two outputs of one split/unbind node as "
               "roots, its children's dependency counts double and they never run")
_SAVED_INDICES = "saved.py: unpacking MaxBackward0._saved_indices gives a tensor that requires grad"
_INPLACE_VIEW = "inplace.py: create_graph=True through an in-place op on a view is not supported yet"

# a backward pass from every output of a split/unbind at once
FIRST_ORDER = {sample.name: _MULTI_ROOT for sample in SAMPLES if sample.name.startswith(("split", "chunk", "unbind"))}
SECOND_ORDER = {
    **{sample.name: _SAVED_INDICES for sample in SAMPLES
       if sample.name.startswith(("max_dim", "min_dim")) and not sample.name.endswith("[scalar]")},
    # cat's backward splits the gradient: differentiating it again starts from every output of that split
    **{sample.name: _MULTI_ROOT for sample in SAMPLES if sample.name.startswith("cat")},
    "setitem_int[2x3,3]": _INPLACE_VIEW,
    "setitem_slice[2x3,2]": _INPLACE_VIEW,
}


def with_xfails(samples, known: dict) -> list:
    """The samples as pytest params, the known failures marked."""
    return [pytest.param(sample, marks=pytest.mark.xfail(reason=known[sample.name], strict=True))
            if sample.name in known else sample for sample in samples]
