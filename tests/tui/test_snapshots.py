"""Snapshots of the main screens on sample models (update with `pytest --snapshot-update` after looking)."""

from tui_helpers import NAN_MODEL, recorded, sample

from gradscope.tui import make_app


def test_main_screen_on_the_culprit(snap_compare):
    assert snap_compare(make_app(recorded(NAN_MODEL)), press=["n"], terminal_size=(120, 36))


def test_main_screen_at_80_by_24(snap_compare):
    assert snap_compare(make_app(recorded(sample("mlp"))), press=["j"], terminal_size=(80, 24))


def test_culprit_at_80_by_24(snap_compare):
    """The culprit badge, its source line and the non-finite counts all fit an 80×24 terminal."""
    assert snap_compare(make_app(recorded(sample("nan_log"))), press=["n"], terminal_size=(80, 24))


def test_without_colour(snap_compare, monkeypatch):
    """NO_COLOR: every cell in the terminal's own colours; the cursor in reverse video, and still
    visible (underlined) in the tree while the detail pane has focus, which its heavy top rule shows."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make_app(recorded(NAN_MODEL)), press=["n", "tab"], terminal_size=(100, 30))


def test_parameters_sorted_by_grad_norm(snap_compare):
    assert snap_compare(make_app(recorded(sample("dead_relu"))), press=["p", "3"], terminal_size=(80, 24))


def test_anomalies(snap_compare):
    assert snap_compare(make_app(recorded(NAN_MODEL)), press=["a"], terminal_size=(100, 30))
