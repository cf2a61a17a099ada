"""The browser keeps Python's full garbage collections off the keys: it collects the old generation itself
once input stops for a moment (not before the first input), freezes what it browses, and leaves the collector as
it found it."""

import gc
import weakref

from tui_helpers import NAN_MODEL, drive, recorded

from gradscope.tui import collector, make_app


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
