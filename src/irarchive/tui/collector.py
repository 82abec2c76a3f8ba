"""Python's cyclic garbage collector, kept out of the time between a key and its results.

Measured while typing at a million articles: drawing makes about 700 objects of
cyclic garbage a keystroke (Textual's strips keep caches that refer back to
themselves), so every ten keystrokes or so a full collection ran in the middle of a
search or a paint and took 25-70 ms of CPU, and those were the slowest keystrokes.
Textual itself pauses the collector during smooth scrolling (``PAUSE_GC_ON_SCROLL``);
the browser does the same from a keystroke until its results are on screen, and the
collector catches up at once after the paint, while the person reads.

The same goes for every key and its frame (a PgDn draws a screenful of new rows and
a new preview: scrolling to row 10,000 ran 17 full collections of 20-60 ms, 15 of
them between a key and its frame), and for a page of rows arriving. Held never
longer than ``HOLD_AT_MOST``: typing faster than results come, or a key held down,
would otherwise keep the collector off for as long as that lasts.

Also, once the browser is up, the objects alive then (modules, widgets, styles)
live as long as it does: they are frozen (``gc.freeze``) so full collections stop
walking them, and thawed when the browser closes (it may run inside another
program, such as the tests).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: Seconds the collector may stay held (see ``limit``).
HOLD_AT_MOST = 2.0


class QuietCollector:
    """Holds automatic collection while results are being made and drawn."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._held = False  # we disabled the collector (and must enable it again)
        self._held_since = 0.0
        self._clock = clock
        self._frozen = False

    def settle(self) -> None:
        """The browser is up: collect once and freeze what is alive (once)."""
        if self._frozen:
            return
        self._frozen = True
        gc.collect()
        gc.freeze()

    def hold(self) -> None:
        """A keystroke is being answered: no automatic collection until ``release``."""
        if not self._held and gc.isenabled():
            self._held = True
            self._held_since = self._clock()
            gc.disable()

    def limit(self) -> None:
        """Release a hold older than ``HOLD_AT_MOST`` (called every second or two)."""
        if self._held and self._clock() - self._held_since > HOLD_AT_MOST:
            self.release()

    def release(self) -> None:
        """Its results are on screen (or will not come): collect as usual again."""
        if self._held:
            self._held = False
            gc.enable()

    def close(self) -> None:
        self.release()
        if self._frozen:
            self._frozen = False
            gc.unfreeze()
