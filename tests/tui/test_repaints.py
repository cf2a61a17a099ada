"""A pass switch draws again what shows the pass (the tree, the detail pane, the title line), not the whole screen:
Textual repaints a screen whole when one of its reactives changes (the pass shown, the sub-title, the focus), and
lays it out again when the header's title is set."""

from textual.screen import Screen
from tui_helpers import NAN_MODEL, drive, recorded, sample, screen_lines

from gradscope.tui import make_app
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.widgets.title_header import FittedTitle


def test_a_pass_switch_repaints_what_shows_the_pass_not_the_whole_screen(monkeypatch):
    app = make_app(recorded(sample("td_lambda")))
    whole = []
    refresh = Screen.refresh

    def counted(screen, *regions, **options):
        if isinstance(screen, MainScreen) and not regions:
            whole.append(options)
        return refresh(screen, *regions, **options)

    monkeypatch.setattr(Screen, "refresh", counted)
    title_layouts = []
    title_refresh = FittedTitle.refresh

    def title_counted(title, *regions, **options):
        if options.get("layout"):
            title_layouts.append(options)
        return title_refresh(title, *regions, **options)

    monkeypatch.setattr(FittedTitle, "refresh", title_counted)

    async def scenario(pilot):
        assert screen_lines(app)[0].split("—")[-1].strip().startswith("pass 4 of 5")
        whole.clear()
        title_layouts.clear()
        for key, shown in (("right_square_bracket", 0), ("right_square_bracket", 1), ("left_square_bracket", 0)):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.pass_index == shown
            assert whole == [], key
            assert title_layouts == [], key  # the new title is drawn in the title's line, the screen not laid out
            title = screen_lines(app)[0]  # the title line shows the new pass
            assert title.split("—")[-1].strip().startswith(f"pass {shown} of 5"), title
            assert f"graph · pass {shown}" in screen_lines(app)[1]

    drive(app, scenario, size=(140, 40))


def test_a_focus_change_restyles_the_panes_it_concerns_not_the_whole_screen(monkeypatch):
    """tab, shift+tab, / and escape: the focused pane's top rule is heavy, the others' light, and the footer shows
    the focused widget's keys; Textual also repainted every cell of the screen at each focus change."""
    app = make_app(recorded(NAN_MODEL))
    whole = []
    refresh = Screen.refresh

    def counted(screen, *regions, **options):
        if isinstance(screen, MainScreen) and not regions:
            whole.append(options)
        return refresh(screen, *regions, **options)

    monkeypatch.setattr(Screen, "refresh", counted)

    def rules() -> tuple[bool, bool]:
        """Whether the graph's and the detail pane's top rules are heavy (focused)."""
        graph, detail = screen_lines(app)[1].split("node #", 1)
        return graph.startswith("━"), detail.strip("0123456789").startswith("━")

    async def scenario(pilot):
        assert rules() == (True, False)
        whole.clear()
        for key, heavy, footer in (("tab", (False, True), "n Next"), ("shift+tab", (True, False), "n Next"),
                                   ("slash", (False, False), "esc Close search"), ("escape", (True, False), "n Next")):
            await pilot.press(key)
            await pilot.pause()
            assert whole == [], key
            assert rules() == heavy, key
            assert footer in screen_lines(app)[-1], (key, screen_lines(app)[-1])

    drive(app, scenario)
