"""A pass switch draws again what shows the pass (the tree, the detail pane, the title line), not the whole screen:
Textual repaints a screen whole when one of its reactives changes, and the pass shown and the screen's sub-title
are the main screen's."""

from textual.screen import Screen
from tui_helpers import drive, recorded, sample, screen_lines

from gradscope.tui import make_app
from gradscope.tui.screens.main import MainScreen


def test_a_pass_switch_repaints_what_shows_the_pass_not_the_whole_screen(monkeypatch):
    app = make_app(recorded(sample("td_lambda")))
    whole = []
    refresh = Screen.refresh

    def counted(screen, *regions, **options):
        if isinstance(screen, MainScreen) and not regions:
            whole.append(options)
        return refresh(screen, *regions, **options)

    monkeypatch.setattr(Screen, "refresh", counted)

    async def scenario(pilot):
        assert screen_lines(app)[0].split("—")[-1].strip().startswith("pass 4 of 5")
        whole.clear()
        for key, shown in (("right_square_bracket", 0), ("right_square_bracket", 1), ("left_square_bracket", 0)):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.pass_index == shown
            assert whole == [], key
            title = screen_lines(app)[0]  # the title line shows the new pass
            assert title.split("—")[-1].strip().startswith(f"pass {shown} of 5"), title
            assert f"graph · pass {shown}" in screen_lines(app)[1]

    drive(app, scenario, size=(140, 40))
