"""Redis clients for the cache, and the retry loop that waits out outages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from lifeline.cache.errors import CacheUnavailableError, is_retryable, translate
from lifeline.observe import metrics
from lifeline.settings import RedisSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")


def build_client(settings: RedisSettings, **overrides: Any) -> redis.Redis:
    """A client for the cache from ``settings``: AUTH or ACL user, TLS, timeouts.

    Responses are decoded as UTF-8. redis-py's own retries are switched off:
    :class:`Retrier` does the waiting, so that it can be bounded and counted.
    """
    kwargs: dict[str, Any] = {
        **settings.client_kwargs(),
        "socket_timeout": settings.socket_timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "retry": Retry(NoBackoff(), 0),
        "decode_responses": True,
        **overrides,
    }
    return redis.Redis(**kwargs)


class Retrier:
    """Runs Redis calls, waiting out outages with capped exponential backoff.

    An outage (connection refused or lost, timeout, a server still loading its
    data or a read-only replica during fail-over) is retried after a delay
    that starts at ``initial_delay`` and doubles up to ``max_delay``, until
    the delays would add up to more than ``max_wait`` seconds; then
    :class:`~lifeline.cache.errors.CacheUnavailableError` (a
    ``RetryableError``) is raised from the last failure. Refused credentials,
    permissions or certificates and every other Redis error are raised at
    once, translated (see :mod:`lifeline.cache.errors`). The callable must be
    safe to run again after a failure.

    ``retries`` (retries made), ``outages`` (calls that needed at least one)
    and ``waited_seconds`` only grow; the process-wide ``lifeline_redis_*``
    metrics count the same. Safe to share between threads; the attributes
    may then miss an increment.
    """

    def __init__(
        self,
        max_wait: float = 300.0,
        initial_delay: float = 0.1,
        max_delay: float = 5.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self.retries = 0
        self.outages = 0
        self.waited_seconds = 0.0

    @classmethod
    def from_settings(cls, settings: RedisSettings) -> Retrier:
        """A retrier with the ``retry_*`` settings."""
        return cls(
            settings.retry_max_wait,
            settings.retry_initial_delay,
            settings.retry_max_delay,
        )

    def call(self, fn: Callable[[], T], what: str) -> T:
        """Return ``fn()``, retrying outages; ``what`` names the call in errors."""
        delay, waited = self.initial_delay, 0.0
        while True:
            try:
                return fn()
            except redis.RedisError as exc:
                if not is_retryable(exc) or waited + delay > self.max_wait:
                    raise self._give_up(exc, what, waited) from exc
                if waited == 0.0:
                    self.outages += 1
                    metrics.REDIS_OUTAGES.inc()
                logger.warning(
                    "redis unavailable what=%s retry_in=%.2fs waited=%.1fs error=%s",
                    what,
                    delay,
                    waited,
                    _kind(exc),
                )
                self._sleep(delay)
                waited += delay
                self.retries += 1
                self.waited_seconds += delay
                metrics.REDIS_RETRIES.inc()
                metrics.REDIS_RETRY_WAIT.inc(delay)
                delay = min(delay * 2, self.max_delay)

    def _give_up(self, exc: redis.RedisError, what: str, waited: float) -> Exception:
        error = translate(exc, what)
        if isinstance(error, CacheUnavailableError) and waited > 0:
            return CacheUnavailableError(f"{error} (gave up after {waited:.1f}s)")
        return error


def _kind(exc: BaseException) -> str:
    """The error's type, with its cause's (``ConnectionError(SSLEOFError)``)."""
    cause = exc.__cause__ or exc.__context__
    name = type(exc).__name__
    return name if cause is None else f"{name}({type(cause).__name__})"
