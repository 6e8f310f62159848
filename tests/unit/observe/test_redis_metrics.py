"""Redis retries are exported as metrics, counted where the Retrier waits."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from lifeline.cache.client import Retrier, build_client
from lifeline.cache.errors import CacheUnavailableError
from lifeline.settings import RedisSettings
from tests.ports import free_port


def value(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_an_outage_counts_its_retries_once_and_its_waits() -> None:
    names = (
        "lifeline_redis_retries_total",
        "lifeline_redis_outages_total",
        "lifeline_redis_retry_wait_seconds_total",
    )
    before = [value(name) for name in names]
    # Nothing listens on the port: every call is refused, an outage.
    client = build_client(RedisSettings(port=free_port(), connect_timeout=0.5))
    waits: list[float] = []
    retrier = Retrier(
        max_wait=0.35, initial_delay=0.1, max_delay=0.1, sleep=waits.append
    )
    try:
        with pytest.raises(CacheUnavailableError):
            retrier.call(client.ping, "ping")
    finally:
        client.close()
    after = [value(name) for name in names]
    assert waits == [0.1, 0.1, 0.1]
    assert after[0] - before[0] == 3
    assert after[1] - before[1] == 1
    assert after[2] - before[2] == pytest.approx(0.3)
