"""Counters per target or saga, for logs now and a metrics exporter later."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

DELIVERED = "delivered"
DUPLICATES = "duplicates"
ATTEMPTS = "attempts"
FAILED_ATTEMPTS = "failed_attempts"
RETRIED = "retried"
DEAD_LETTERED = "dead_lettered"
COMPLETED = "completed"
COMPENSATED = "compensated"
EXCEPTIONS = "exceptions"
LOST = "lost"


class Counters:
    """Thread-safe named counters; a missing name reads as 0."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to counter ``name``."""
        with self._lock:
            self._counts[name] += amount

    def get(self, name: str) -> int:
        """The value of counter ``name``."""
        with self._lock:
            return self._counts[name]


@dataclass(frozen=True)
class TargetStats:
    """A snapshot of one target's (or saga's) counters and state.

    ``delivered`` counts deliveries that took effect (``duplicates`` of them
    the target already had); ``attempts`` every HTTP request, of which
    ``failed_attempts`` failed; ``retried`` the waits before another attempt;
    ``dead_lettered`` deliveries handed to the dead-letter topic; ``lost``
    the deliveries (saga cases) the dead-letter (exception) topic refused.
    For sagas, ``completed``, ``compensated`` and ``exceptions`` count cases.
    ``breaker_state`` is the target's breaker (for a saga, the worst of its
    steps') and ``breaker_opened`` how often it opened.
    """

    name: str
    delivered: int
    duplicates: int
    attempts: int
    failed_attempts: int
    retried: int
    dead_lettered: int
    queued: int
    in_flight: int
    breaker_state: str
    breaker_opened: int
    lost: int = 0
    completed: int = 0
    compensated: int = 0
    exceptions: int = 0
