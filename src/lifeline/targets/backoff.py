"""Retry delays: exponential backoff with jitter, and Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lifeline.targets.config import RetryPolicy


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (from 1).

    ``min(max_delay, base_delay * 2**(attempt-1))`` less a random fraction of
    itself up to ``policy.jitter``, so that many deliveries failing together
    do not retry together.
    """
    exponent = min(attempt - 1, 62)
    delay = min(policy.max_delay, policy.base_delay * 2.0**exponent)
    return delay * (1.0 - policy.jitter * rng.random())


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for, or None when absent or invalid.

    Accepts delta-seconds (``"120"``) and an HTTP date; a date in the past
    is 0. ``now`` must be timezone-aware.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def retry_delay(
    policy: RetryPolicy, attempt: int, retry_after: float | None, rng: random.Random
) -> float:
    """The wait before the next attempt: Retry-After (capped) when given."""
    if retry_after is not None:
        return min(retry_after, policy.retry_after_cap)
    return backoff_delay(policy, attempt, rng)
