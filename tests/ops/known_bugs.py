"""Samples that fail for bugs outside the op table (reported to their owners).

The marks are strict xfails: a fix makes the test pass, pytest reports XPASS as a failure, and the
entry here goes.
"""

from __future__ import annotations

import pytest

_INPLACE_VIEW = "inplace.py: create_graph=True through an in-place op on a view is not supported yet"

FIRST_ORDER: dict[str, str] = {}
SECOND_ORDER = {
    "setitem_int[2x3,3]": _INPLACE_VIEW,
    "setitem_slice[2x3,2]": _INPLACE_VIEW,
}


def with_xfails(samples, known: dict) -> list:
    """The samples as pytest params, the known failures marked."""
    return [pytest.param(sample, marks=pytest.mark.xfail(reason=known[sample.name], strict=True))
            if sample.name in known else sample for sample in samples]
