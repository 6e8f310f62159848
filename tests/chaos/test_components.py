"""Restarts and outages of the stack's servers while a load runs.

The durations are the real ones: Redis is down for 30 s and the webhook
target fails for a full minute.
"""

from __future__ import annotations

import time

import pytest

from tests.chaos.faults import restart_connect, start_redis, stop_redis
from tests.chaos.harness import Harness
from tests.chaos.load import Background

pytestmark = pytest.mark.stack

REDIS_OUTAGE = 30.0
TARGET_OUTAGE = 60.0


def test_connect_worker_restart(harness: Harness) -> None:
    load = harness.load("connect")
    with Background(load):
        time.sleep(2)
        began = time.monotonic()
        restart_connect(harness.settings)
        restart = round(time.monotonic() - began, 1)
        time.sleep(2)
    harness.verify(load, connect_restart_seconds=restart, waves=load.waves)
    load.close()


def test_redis_stopped_for_30_seconds(harness: Harness) -> None:
    load = harness.load("redis")
    with Background(load, pause=0.5):
        time.sleep(2)
        stop_redis(harness.settings)
        time.sleep(REDIS_OUTAGE)
        start_redis(harness.settings)
        restarted = time.monotonic()
        time.sleep(2)
    problems = harness.cache_settled(load)
    assert not problems, f"no catch-up after Redis came back: {problems}"
    caught_up = round(time.monotonic() - restarted, 1)
    harness.verify(load, caught_up_seconds=caught_up, waves=load.waves)
    load.close()


def test_webhook_target_failing_for_a_minute(harness: Harness) -> None:
    load = harness.load("webhook")
    target = harness.target
    target.fail_for(TARGET_OUTAGE)
    with Background(load, pause=1.0):
        while target.failing:
            time.sleep(0.5)
    failed = [r for r in target.requests if r.key and not r.signature_ok]
    assert not failed, "requests arrived with a bad signature"
    verdict = harness.verify(load, waves=load.waves)
    assert verdict.effects > 0
    assert verdict.suppressed > 0, "no repeat of an applied request was suppressed"
    load.close()
