"""Every browser test runs from the repository root, where the sample traces' relative source paths resolve;
`keys` runs `gradscope browse` headless."""

import pytest
from tui_helpers import ROOT

from gradscope.tui.app import GradscopeApp

STUCK = 99


@pytest.fixture(autouse=True)
def _from_the_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(autouse=True)
def _colour(monkeypatch):
    """Colour on, whatever the terminal running the tests says; the NO_COLOR tests set it themselves."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def keys(monkeypatch):
    """Makes the browser run headless; after loading, the auto-pilot presses the keys put in the returned list.

    An app still running 10 s after the keys is ended with return code STUCK, so that a test fails instead of hanging.
    """
    pressed: list[str] = []
    seen: list[type] = []
    run = GradscopeApp.run

    def headless_run(self, **options):
        async def auto_pilot(pilot):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            seen.append(type(pilot.app.screen))
            await pilot.press(*pressed)
            pilot.app.set_timer(10, lambda: pilot.app.exit(return_code=STUCK))

        return run(self, headless=True, size=(100, 30), auto_pilot=auto_pilot)

    monkeypatch.setattr(GradscopeApp, "run", headless_run)
    return pressed, seen
