"""Python's garbage collector kept off the keys: the browser collects the old generation itself, between keys.

A full collection walks every object the app keeps alive and not frozen (the tree's lines, drawn strips,
Textual's caches: ~60,000-100,000 objects after some browsing of a 50,000-node trace) and frees the cycles
it finds: 20-60 ms, landing on whichever key happens to allocate past Python's threshold. While the browser
runs, automatic full collections wait for `BURST` times the usual number of young collections, and the
browser runs one itself once no key or mouse event came for `QUIET` seconds (the user reads the screen).
The young generations are still collected automatically, as always: they are small and cheap.
"""

from __future__ import annotations

import gc
import time
import weakref

from textual.app import App
from textual.timer import Timer

QUIET = 0.5  # seconds without input before the old generation is collected (the timer fires 1-2 QUIETs after)
BURST = 100  # a key held down for long still gets full collections, this many times rarer than Python's
REFREEZE_WITHIN = 30  # seconds after `thaw` to wait for the old content to go before freezing anyway


class IdleCollector:
    """Collects the old generation when the app is quiet; what is browsed is frozen (never walked).

    >>> collector = IdleCollector()
    >>> collector.start(app)      # on mount: freezes what exists, defers automatic full collections
    >>> collector.postpone()      # on each input event
    >>> collector.thaw()          # new content replaced the old: the old, frozen with it, can go
    >>> collector.stop()          # on unmount: Python's thresholds back, nothing frozen
    """

    def __init__(self) -> None:
        self._thresholds: tuple[int, int, int] | None = None
        self._timer: Timer | None = None
        self._replaced: list[weakref.ref] = []  # after `thaw`: the old content, until it is freed
        self._thawed_at = 0.0

    def start(self, app: App) -> None:
        self._thresholds = gc.get_threshold()
        young, middle, old = self._thresholds
        gc.set_threshold(young, middle, old * BURST)
        self.freeze()
        self._timer = app.set_interval(QUIET, self.collect, name="collect garbage", pause=True)  # until input

    @staticmethod
    def freeze() -> None:
        """Keep the collector off everything alive now (call it when content was loaded): a 50,000-node trace
        is millions of objects that live as long as the app, which every full collection would walk."""
        gc.freeze()

    def thaw(self, *replaced: object) -> None:
        """New content took the place of `replaced` (the old recording and its screen, after a script was recorded
        again): what was frozen with them can die now, in cycles only a full collection frees (its screens,
        outline and trace: frozen, each `r` kept them for the app's life). Everything is unfrozen; the quiet
        moments' collections walk all of it until `replaced` are gone (Textual's timer task of a removed screen
        holds it a while: over a second on a loaded machine), then freeze what is alive."""
        gc.unfreeze()
        for old in replaced:
            try:
                self._replaced.append(weakref.ref(old))
            except TypeError:  # no weak reference to it: nothing to wait for
                pass
        self._thawed_at = time.monotonic()
        self.postpone()

    def postpone(self) -> None:
        """Input came: collect once QUIET seconds pass without more."""
        if self._timer is not None:
            self._timer.reset()  # (and resumed, when paused)

    def collect(self) -> None:
        """Collect every generation if the old one took in objects since the last full collection (or after `thaw`,
        then freeze what is left); then wait for input again."""
        if self._replaced:
            gc.collect()
            self._replaced = [old for old in self._replaced if old() is not None]
            if self._replaced and time.monotonic() - self._thawed_at < REFREEZE_WITHIN:
                return  # not gone yet: again at the next tick
            self._replaced = []
            self.freeze()
        elif gc.get_count()[2]:  # young collections since the last full one moved survivors into the old generation
            gc.collect()
        if self._timer is not None:
            self._timer.pause()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        gc.unfreeze()
