"""The browser keeps Python's full garbage collections off the keys: it collects the old generation itself
once input stops for a moment (not before the first input), freezes what it browses, and leaves the collector as
it found it."""

import gc
import shutil
import weakref

from tui_helpers import NAN_MODEL, ROOT, drive, recorded

from gradscope.tui import collector, make_app
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


def test_a_script_recorded_again_frees_the_previous_recording_and_freezes_the_new_one(monkeypatch, tmp_path):
    """Everything alive when content loads is frozen, the previous recording's screens and trace too: after `r`
    they died in cycles no collection walked, and each re-run kept a whole recording for the app's life."""
    monkeypatch.setattr(collector, "QUIET", 0.05)
    script = tmp_path / "model.py"
    shutil.copy(ROOT / NAN_MODEL, script)
    app = make_app(source=script)

    async def loaded(pilot, previous=None):
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, MainScreen) and app.screen is not previous:
                break
        await app.workers.wait_for_complete()

    async def scenario(pilot):
        await loaded(pilot)
        replaced = []
        for _ in range(2):
            screen = app.screen
            replaced.append((weakref.ref(screen), weakref.ref(screen.trace)))
            await pilot.press("r")
            await loaded(pilot, previous=screen)
            del screen
        for _ in range(100):  # the quiet moments' collections, until the old screens are gone
            await pilot.pause(collector.QUIET)
            if all(screen() is None for screen, _ in replaced) and gc.get_freeze_count():
                break
        assert [(screen(), trace()) for screen, trace in replaced] == [(None, None), (None, None)]
        assert gc.get_freeze_count() > 0
        shown = app.screen.trace
        assert not any(tracked is shown for tracked in gc.get_objects())  # the new recording is frozen

    drive(app, scenario)
