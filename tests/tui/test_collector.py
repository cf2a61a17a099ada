"""The browser keeps Python's full garbage collections off the keys: it collects the old generation itself
once input stops for a moment (not before the first input), freezes what it browses, and leaves the collector as
it found it."""

import gc
import shutil
import weakref

from tui_helpers import NAN_MODEL, ROOT, drive, recorded

from gradscope.tui import collector, make_app
from gradscope.tui.app import HELP_AHEAD_AFTER
from gradscope.tui.screens.main import MainScreen


class Cycle:
    def __init__(self) -> None:
        self.itself = self


def old_garbage() -> weakref.ref:
    """A reference cycle promoted to the old generation and then dropped: only a full collection frees it."""
    cycle = Cycle()
    gc.collect(1)  # survives the young generations: moved to the old one
    return weakref.ref(cycle)


def test_full_collections_wait_for_a_quiet_moment_and_then_free_the_old_generations_garbage(monkeypatch):
    monkeypatch.setattr(collector, "QUIET", 0.05)
    thresholds = gc.get_threshold()
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        await pilot.pause(HELP_AHEAD_AFTER + 0.1)  # the work done ahead first: its garbage too would wait for a key
        await pilot.app.workers.wait_for_complete()
        while not (pilot.app.screen.drawn_ahead and pilot.app.get_screen("help").laid_out_ahead):
            await pilot.pause(0.01)
        young, middle, old = thresholds
        assert gc.get_threshold() == (young, middle, old * collector.BURST)  # automatic ones: far rarer
        assert gc.get_freeze_count() > 0  # the trace and everything else alive as the app started
        dropped = old_garbage()
        await pilot.pause(4 * collector.QUIET)
        assert dropped() is not None and gc.get_count()[2] > 0  # no input yet: nothing to collect but this
        await pilot.press("j")
        await pilot.pause(4 * collector.QUIET)
        assert dropped() is None  # collected by the app once the key was a moment ago
        assert gc.get_count()[2] == 0

    drive(app, scenario)
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


def test_keys_postpone_the_collection(monkeypatch):
    monkeypatch.setattr(collector, "QUIET", 0.05)
    app = make_app(recorded(NAN_MODEL))
    postponed = []
    monkeypatch.setattr(app.collector, "postpone", lambda: postponed.append(True))

    async def scenario(pilot):
        await pilot.press("j")
        assert postponed

    drive(app, scenario)


def test_thawing_frees_what_was_frozen_with_the_old_content_and_then_freezes_again(monkeypatch):
    """Everything alive when content loads is frozen: the previous recording's screens and trace too, which after `r`
    died in cycles no collection walks (three re-runs of nan_log kept three screens and traces). `thaw` unfreezes;
    the quiet moments' collections wait for the old content to go, free it, then freeze what is alive."""
    idle = collector.IdleCollector()
    old, kept = Cycle(), Cycle()
    idle.freeze()
    gone, held = weakref.ref(old), weakref.ref(kept)
    idle.thaw(old, kept, 3)  # (a number can't be waited for)
    del old
    idle.collect()
    assert gone() is None and held() is not None
    assert gc.get_freeze_count() == 0  # still waiting for `kept`
    now = collector.time.monotonic()
    monkeypatch.setattr(collector.time, "monotonic", lambda: now + collector.REFREEZE_WITHIN)
    idle.collect()  # waited long enough: frozen anyway
    assert gc.get_freeze_count() > 0 and not idle._replaced
    idle.stop()
    del kept
    gc.collect()
    assert held() is None  # unfrozen as the app stops: collected


def test_r_thaws_the_previous_recording_and_its_screen(tmp_path, monkeypatch):
    script = tmp_path / "model.py"
    shutil.copy(ROOT / NAN_MODEL, script)
    app = make_app(source=script)
    thawed = []
    monkeypatch.setattr(app.collector, "thaw", lambda *replaced: thawed.append([weakref.ref(r) for r in replaced]))

    async def loaded(pilot, previous=None):
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, MainScreen) and app.screen is not previous:
                break
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)  # (its header filled in)

    async def scenario(pilot):
        await loaded(pilot)
        first, trace = app.screen, app.screen.trace
        assert not thawed  # the first recording: frozen as it loads
        await pilot.press("r")
        await loaded(pilot, previous=first)
        assert [[ref() for ref in replaced] for replaced in thawed] == [[first, trace]]

    drive(app, scenario)
