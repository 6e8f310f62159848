"""A circuit breaker per endpoint: closed, open, half-open.

Closed, every request goes; ``failure_threshold`` failures in a row open it.
Open, no request goes for ``open_seconds``; then it is half-open and lets
``half_open_probes`` trial requests through. All trials succeeding close it;
any trial failing opens it again for another ``open_seconds``. A result that
says nothing about the endpoint's health (429 Too Many Requests) only frees
the trial slot. Results of requests that started before it opened are
ignored while it is open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum

from lifeline.targets.config import BreakerPolicy

logger = logging.getLogger(__name__)

_PROBE_POLL = 0.05


class BreakerState(StrEnum):
    """The state of a circuit breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Thread-safe breaker; ``clock`` is monotonic seconds (injectable)."""

    def __init__(
        self,
        name: str,
        policy: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes_out = 0
        self._probes_ok = 0
        self.times_opened = 0
        self.times_closed = 0

    @property
    def state(self) -> BreakerState:
        """The current state (an elapsed open period reads as half-open)."""
        with self._lock:
            self._advance()
            return self._state

    def acquire(self) -> float:
        """0.0 when a request may go now, else seconds to wait and ask again.

        In half-open state a 0.0 takes a trial slot, which the request's
        :meth:`success`, :meth:`failure` or :meth:`release` gives back.
        """
        with self._lock:
            self._advance()
            if self._state is BreakerState.CLOSED:
                return 0.0
            if self._state is BreakerState.OPEN:
                reopen = self._opened_at + self._policy.open_seconds
                return max(0.0, reopen - self._now())
            if self._probes_out + self._probes_ok < self._policy.half_open_probes:
                self._probes_out += 1
                return 0.0
            return min(_PROBE_POLL, self._policy.open_seconds)

    def success(self) -> None:
        """The endpoint answered sanely: reset failures or count a good trial."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                self._failures = 0
            elif self._state is BreakerState.HALF_OPEN:
                self._probes_out = max(0, self._probes_out - 1)
                self._probes_ok += 1
                if self._probes_ok >= self._policy.half_open_probes:
                    self._close()

    def failure(self) -> None:
        """The endpoint failed (5xx, timeout, connection): count it."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                self._failures += 1
                if self._failures >= self._policy.failure_threshold:
                    self._open()
            elif self._state is BreakerState.HALF_OPEN:
                self._open()

    def release(self) -> None:
        """The request says nothing about health: free its trial slot."""
        with self._lock:
            if self._state is BreakerState.HALF_OPEN:
                self._probes_out = max(0, self._probes_out - 1)

    def _advance(self) -> None:
        if self._state is BreakerState.OPEN and (
            self._now() >= self._opened_at + self._policy.open_seconds
        ):
            self._state = BreakerState.HALF_OPEN
            self._probes_out = self._probes_ok = 0
            logger.info("breaker half-open endpoint=%s", self.name)

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._now()
        self._failures = 0
        self.times_opened += 1
        logger.warning(
            "breaker open endpoint=%s open_seconds=%s",
            self.name,
            self._policy.open_seconds,
        )

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._failures = 0
        self.times_closed += 1
        logger.info("breaker closed endpoint=%s", self.name)

    def _now(self) -> float:
        return self._clock()
