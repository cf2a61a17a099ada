"""What the tensor view prints: statistics, histogram, values (summarised when large, absent when not kept), and
how often it formats them."""

import numpy as np
import pytest
from tui_helpers import NAN_MODEL, drive, recorded, sample, screen_lines

from gradscope._stats import compute_stats
from gradscope.trace.model import TensorRecord
from gradscope.tui import make_app
from gradscope.tui.keys import KeyScroll
from gradscope.tui.screens.tensor import TensorScreen
from gradscope.tui.widgets import tensor_view
from gradscope.tui.widgets.tensor_table import TensorTable
from gradscope.tui.widgets.tensor_view import histogram_rows, sparkline, stats_text, values_text


def test_statistics_and_non_finite_counts():
    stats = compute_stats(np.array([3.0, 4.0, 0.0, np.nan, -np.inf]))
    assert stats_text(stats).plain == "norm nan  mean 2.333  std 1.7  min 0  max 4  zeros 20%  ✗ 1 nan 1 inf"


def test_histogram_as_a_line_and_as_bars():
    stats = compute_stats(np.array([0.0] * 3 + [1.0]))
    line = sparkline(stats).plain
    assert line.startswith("0 █") and line.endswith("▃ 1") and len(line) == len("0 ") + 16 + len(" 1")
    rows = histogram_rows(stats, width=40).plain.splitlines()
    assert len(rows) == 16
    assert rows[0].split() == ["0", "…", "0.0625", "████████", "3"]
    assert rows[-1].split()[-1] == "1" and rows[5].split()[-1] == "0"


def test_histograms_of_constant_or_non_finite_tensors_say_so():
    assert sparkline(compute_stats(np.full(5, 6.0))).plain == "every finite value is 6"
    assert histogram_rows(compute_stats(np.array([np.nan, np.inf])), 40).plain == "no finite values"


def test_values_are_summarised_when_large():
    values = np.arange(2 * 50 * 50, dtype=np.float32).reshape(2, 50, 50)
    compact = values_text(TensorRecord(values=values), width=60, full=False).plain
    full = values_text(TensorRecord(values=values), width=200, full=True).plain
    assert "..." in compact and "..." in full
    assert len(full.splitlines()) > len(compact.splitlines())
    assert values_text(TensorRecord(values=np.eye(2)), 60, False).plain == "[[1 0]\n [0 1]]"


def test_a_tensor_kept_as_statistics_only_says_its_values_were_not_kept():
    record = TensorRecord(stats=compute_stats(np.ones(10_000)))
    assert values_text(record, 60, False).plain == \
        "values not kept (10,000 elements; the trace kept statistics only)"


def test_a_record_is_formatted_once_per_width_until_another_is_shown(monkeypatch):
    formatted = []
    monkeypatch.setattr(tensor_view, "values_text",
                        lambda record, width, full: formatted.append(record) or values_text(record, width, full))
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        view = app.screen.query_one(tensor_view.TensorView)
        assert formatted.count(view.record) == 1  # measured, drawn and laid out again: formatted once
        await pilot.press("j")
        await pilot.pause()
        assert formatted.count(view.record) == 1  # the next line's record

    drive(app, scenario)


@pytest.mark.parametrize("size", [(160, 30), (80, 24), (120, 40)])
def test_a_tensor_and_its_gradient_start_their_histograms_on_the_same_line(size):
    """The culprit's output has a "✗ 16 inf" line its gradient doesn't: at 160 columns the value's histogram began a
    line below the gradient's."""
    app = make_app(recorded(sample("nan_log")))

    async def scenario(pilot):
        await pilot.press("n", "tab", "tab", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TensorScreen) and len(app.screen.tensors) == 2
        half = size[0] // 2
        lines = screen_lines(app)
        value = next(row for row, line in enumerate(lines) if " … " in line[:half])
        gradient = next(row for row, line in enumerate(lines) if " … " in line[half:])
        assert value == gradient
        assert any("✗ 16 inf" in line[:half] and "✗" not in line[half:] for line in lines)  # the line one side has

    drive(app, scenario, size=size)


def test_the_tensor_screen_is_kept_and_shows_each_row_opened_as_a_screen_composed_for_it():
    """Enter opens one tensor screen, kept and filled again with the row chosen (composed at each enter, it took three
    times as long to open): each row shows what a screen composed for it shows, from the top, its partner beside it
    or none, never the tensor opened before."""
    app = make_app(recorded(NAN_MODEL))

    async def opened(pilot, row: int, scroll: bool) -> tuple[list[str], tuple[str, ...]]:
        table = app.screen.query_one(TensorTable)
        table.cursor_row = row
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TensorScreen) and screen.query_one(KeyScroll).scroll_y == 0
        shown = screen_lines(app), tuple(view.title for view in screen.query(tensor_view.TensorView) if view.display)
        if scroll:  # the next row opens at its top all the same
            await pilot.press("end")
            await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        return shown

    async def composed(pilot, row: int) -> tuple[list[str], tuple[str, ...]]:
        chosen = app.screen.query_one(TensorTable).rows_shown[row]
        screen = TensorScreen(chosen.name, chosen.record, chosen.partner_name, chosen.partner)
        await app.push_screen(screen)
        await pilot.pause()
        shown = screen_lines(app), tuple(view.title for view in screen.query(tensor_view.TensorView) if view.display)
        await app.pop_screen()
        await pilot.pause()
        return shown

    async def scenario(pilot):
        await pilot.press("n", "tab", "tab")
        rows = app.screen.query_one(TensorTable).rows_shown
        kept, screens = [], set()
        for row in (0, 2, 1, 0, 4):
            kept.append(await opened(pilot, row, scroll=row == 0))
            screens.add(id(app.get_screen(f"TensorScreen-{id(app.screen)}")))
        assert len(screens) == 1
        assert [titles for _, titles in kept] == [
            (rows[row].name, rows[row].partner_name) if rows[row].partner is not None else (rows[row].name,)
            for row in (0, 2, 1, 0, 4)]
        assert {len(titles) for _, titles in kept} == {1, 2}  # rows with a partner and rows without
        for row, (lines, _) in zip((0, 2, 1, 0, 4), kept):
            assert lines == (await composed(pilot, row))[0], row

    drive(app, scenario, size=(120, 30))
