"""Samples that fail for bugs outside the op table (reported to their owners).

The marks are strict xfails: a fix makes the test pass, pytest reports XPASS as a failure, and the
entry here goes.
"""

from __future__ import annotations

import pytest

FIRST_ORDER: dict[str, str] = {}
SECOND_ORDER: dict[str, str] = {}


def with_xfails(samples, known: dict) -> list:
    """The samples as pytest params, the known failures marked."""
    return [pytest.param(sample, marks=pytest.mark.xfail(reason=known[sample.name], strict=True))
            if sample.name in known else sample for sample in samples]
