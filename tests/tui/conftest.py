"""Every browser test runs from the repository root, where the sample traces' relative source paths resolve."""

import pytest
from tui_helpers import ROOT


@pytest.fixture(autouse=True)
def _from_the_root(monkeypatch):
    monkeypatch.chdir(ROOT)
