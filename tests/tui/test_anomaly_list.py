"""The anomaly list: each anomaly's height counted without drawing it, and only the anomalies on screen drawn."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.text import Text
from synthetic import synthetic_trace, with_propagators
from textual.style import Style
from tui_helpers import NAN_MODEL, drive, plain, recorded, sample

from gradscope.tui import make_app
from gradscope.tui.present import ordered_anomalies
from gradscope.tui.screens.anomalies import AnomaliesScreen
from gradscope.tui.widgets.anomaly_list import AnomalyList, AnomalyPrompt, breaks, fitted

WIDTHS = [12, 14, 20, 31, 40, 47, 55, 64, 80, 97, 118, 160]


class Options:
    """The render options an option list passes (only the rules are read)."""

    rules: dict = {}
    selection = selection_style = post_style = None

    @staticmethod
    def get_style(style):
        return Style()


@pytest.mark.parametrize("script", [NAN_MODEL, sample("nan_training_loop"), sample("nan_log")])
def test_the_counted_height_is_the_height_drawn_at_every_width(script):
    trace = recorded(script)
    assert trace.anomalies
    for anomaly in ordered_anomalies(trace):
        for width in WIDTHS:
            prompt = AnomalyPrompt(trace, anomaly)
            lines = prompt.lines(width)
            assert prompt.get_height({}, width) == len(lines), (anomaly, width)
            assert len(prompt.render_strips(width, None, Style(), Options())) == len(lines)
            assert max(line.cell_len for line in lines) <= width
            assert plain(prompt, width).splitlines() == [line.plain.rstrip() for line in lines]


def test_an_anomaly_reads_role_then_node_then_its_message_under_the_node():
    trace = recorded(sample("nan_training_loop"))
    prompt = AnomalyPrompt(trace, ordered_anomalies(trace)[1])
    assert [line.rstrip() for line in plain(prompt, 80).splitlines()] == [
        " culprit   backward AddmmBackward0 (addmm) model.0",
        "           sample_models/nan_training_loop.py:31 pass 3",
        "           AddmmBackward0 returned 8 nan from a finite gradient: its saved mat1",
        "           is already non-finite (1 -inf): look at the forward pass",
    ]
    # the badge fills the role's column in the culprit style; a propagator is named in full
    head, console = prompt.lines(80)[0], Console()
    assert {head.get_style_at_offset(console, offset).reverse for offset in range(10)} == {True}
    assert not head.get_style_at_offset(console, 10).reverse
    propagator = next(anomaly for anomaly in trace.anomalies if anomaly.role == "propagator")
    assert plain(AnomalyPrompt(trace, propagator), 80).startswith("propagator forward  AddmmBackward0 (addmm)")


def test_a_piece_wider_than_a_line_breaks_at_its_spaces_and_a_word_wider_than_a_line_is_cut():
    assert breaks("forward  log (outside the autograd graph)", 20) == [(0, 12), (13, 25), (26, 41)]
    lines = fitted(Text("backward PowBackward0 sample_models/nan_training_loop.py:31"), 20)
    assert [line.plain for line in lines] == ["backward", "PowBackward0", "sample_models/nan_t…"]
    trace = recorded(sample("nan_training_loop"))
    shown = plain(AnomalyPrompt(trace, ordered_anomalies(trace)[0]), 46).splitlines()
    assert [line.rstrip() for line in shown[:3]] == [" culprit   forward  log (outside the autograd",
                                                       "           graph)",
                                                       "           sample_models/nan_training_loop.py…"]


def test_the_list_of_thousands_of_anomalies_draws_only_those_on_screen(monkeypatch):
    trace = with_propagators(synthetic_trace(2_000, passes=2), 2_519)
    drawn = []
    lines = AnomalyPrompt.lines
    monkeypatch.setattr(AnomalyPrompt, "lines", lambda prompt, width: drawn.append(prompt) or lines(prompt, width))
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AnomaliesScreen)
        listed = app.screen.query_one(AnomalyList)
        assert listed.option_count == 2_520
        assert 10 < len({id(prompt) for prompt in drawn}) < 40  # a screen of them (3 lines each), not 2,520
        # every anomaly was measured: the list knows its full height and scrolls to the last one
        assert listed.virtual_size.height == sum(AnomalyPrompt(trace, anomaly).get_height({}, listed.size.width - 2)
                                                 for anomaly in listed.anomalies)
        await pilot.press("G")
        await pilot.pause()
        assert listed.highlighted == 2_519
        assert listed.scroll_offset.y == listed.max_scroll_y > 0

    drive(app, scenario)
