"""Request pacing per endpoint: a rate limit and server-requested pauses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """Spaces request starts ``1/rate`` seconds apart and honours pauses.

    :meth:`reserve` books the next start slot and returns how long the
    caller must wait for it; a Retry-After from the server
    (:meth:`pause_until`) moves every later slot past that moment, so one
    429 slows down all workers of the endpoint, not only the one that got it.
    """

    def __init__(
        self, rate_per_second: float | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = 0.0 if rate_per_second is None else 1.0 / rate_per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0

    def reserve(self) -> float:
        """Seconds until the caller's booked start slot (0.0: go now)."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot, self._paused_until)
            self._next_slot = slot + self._interval
            return slot - now

    def pause_until(self, moment: float) -> None:
        """Start no request before ``moment`` (in the clock's seconds)."""
        with self._lock:
            self._paused_until = max(self._paused_until, moment)

    def now(self) -> float:
        """The pacer's clock."""
        return self._clock()
