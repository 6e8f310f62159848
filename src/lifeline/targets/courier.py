"""Delivering one request to an endpoint: retries, backoff, breaker, pacing."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lifeline.targets.backoff import retry_delay
from lifeline.targets.breaker import CircuitBreaker
from lifeline.targets.config import Endpoint
from lifeline.targets.http import Attempt, EndpointClient, Health, Verdict
from lifeline.targets.limiter import Pacer
from lifeline.targets.stats import ATTEMPTS, FAILED_ATTEMPTS, RETRIED, Counters

EXHAUSTED = "exhausted"
PERMANENT = "permanent"
DEADLINE = "deadline"
SHUTDOWN = "shutdown"


@dataclass(frozen=True)
class Request:
    """One logical call; every attempt of it sends the same key and body."""

    method: str
    url: str
    body: Mapping[str, Any] | None
    idempotency_key: str
    gone_is_success: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a request ended; ``reason`` is empty when it was delivered.

    ``reason`` is one of ``exhausted``, ``permanent``, ``deadline`` or
    ``shutdown``; ``last_error`` the last attempt's error text.
    """

    delivered: bool
    attempts: int
    reason: str = ""
    last_error: str = ""
    status: int | None = None
    response: Any = None
    duplicate: bool = False
    first_attempt_at: str = ""


class Courier:
    """Tries a request until it is delivered, fails for good or runs out of time.

    Shared by every worker thread of one endpoint, so the breaker and the
    pacing are per endpoint. :meth:`deliver` blocks the calling thread
    (backoff waits included) and returns early when ``stop`` is set.
    """

    def __init__(
        self,
        name: str,
        endpoint: Endpoint,
        client: EndpointClient,
        *,
        stop: threading.Event,
        counters: Counters,
        rate_per_second: float | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.client = client
        self.breaker = CircuitBreaker(name, endpoint.breaker, clock)
        self.pacer = Pacer(rate_per_second, clock)
        self._policy = endpoint.retry
        self._stop = stop
        self._counters = counters
        self._rng = rng or random.Random()
        self._clock = clock

    def deliver(self, request: Request, deadline: float) -> Outcome:
        """Deliver ``request``; give up at ``deadline`` (the clock's seconds)."""
        attempts, first_at, last = 0, "", Attempt(Verdict.RETRY, Health.NEUTRAL)
        while True:
            blocked = self._wait_for_turn(deadline)
            if blocked:
                return _failed(blocked, attempts, last, first_at)
            first_at = first_at or datetime.now(UTC).isoformat()
            last = self._attempt(request)
            attempts += 1
            if last.verdict is Verdict.DELIVERED:
                return Outcome(
                    True, attempts, status=last.status, response=last.response,
                    duplicate=last.duplicate, first_attempt_at=first_at,
                )  # fmt: skip
            if last.verdict is Verdict.PERMANENT:
                return _failed(PERMANENT, attempts, last, first_at)
            if attempts >= self._policy.max_attempts:
                return _failed(EXHAUSTED, attempts, last, first_at)
            stopped = self._back_off(attempts, last, deadline)
            if stopped:
                return _failed(stopped, attempts, last, first_at)

    def _attempt(self, request: Request) -> Attempt:
        attempt = self.client.send(
            request.method, request.url, request.body, request.idempotency_key,
            gone_is_success=request.gone_is_success,
        )  # fmt: skip
        self._counters.add(ATTEMPTS)
        if attempt.verdict is not Verdict.DELIVERED:
            self._counters.add(FAILED_ATTEMPTS)
        if attempt.health is Health.GOOD:
            self.breaker.success()
        elif attempt.health is Health.BAD:
            self.breaker.failure()
        else:
            self.breaker.release()
        return attempt

    def _wait_for_turn(self, deadline: float) -> str:
        """Wait for a pacing slot, then for the breaker; the reason if not."""
        wait = self.pacer.reserve()
        if wait > 0:
            stopped = self._sleep(wait, deadline)
            if stopped:
                return stopped
        while (wait := self.breaker.acquire()) > 0:
            stopped = self._sleep(wait, deadline)
            if stopped:
                return stopped
        return SHUTDOWN if self._stop.is_set() else ""

    def _back_off(self, attempts: int, last: Attempt, deadline: float) -> str:
        delay = retry_delay(self._policy, attempts, last.retry_after, self._rng)
        if last.retry_after is not None:
            self.pacer.pause_until(self._clock() + delay)
        stopped = self._sleep(delay, deadline)
        if not stopped:
            self._counters.add(RETRIED)
        return stopped

    def _sleep(self, seconds: float, deadline: float) -> str:
        """Wait ``seconds``; ``deadline`` or ``shutdown`` when that is cut short."""
        if self._clock() + seconds > deadline:
            return DEADLINE
        return SHUTDOWN if self._stop.wait(seconds) else ""


def _failed(reason: str, attempts: int, last: Attempt, first_at: str) -> Outcome:
    return Outcome(
        False, attempts, reason, last.error or reason, last.status,
        first_attempt_at=first_at,
    )  # fmt: skip
