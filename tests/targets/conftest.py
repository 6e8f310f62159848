"""Fixtures: a fake SaaS server per test, and fast target settings."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from lifeline.targets.config import TargetsConfig, parse_targets
from tests.targets.fake_saas import FakeSaaS

SECRET = "test-hmac-secret"
TOKEN = "test-token"
ENV = {"HOOK_SECRET": SECRET, "HOOK_TOKEN": TOKEN}

# Milliseconds, not seconds: tests wait on behaviour, never on the clock.
FAST_RETRY = {
    "max_attempts": 4,
    "base_delay": 0.002,
    "max_delay": 0.01,
    "jitter": 0.5,
    "retry_after_cap": 0.05,
    "deadline": 10.0,
}
FAST_BREAKER = {"failure_threshold": 50, "open_seconds": 0.05, "half_open_probes": 1}


@pytest.fixture
def saas() -> Iterator[FakeSaaS]:
    server = FakeSaaS(SECRET.encode())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def target(name: str, url: str, **overrides: Any) -> dict[str, Any]:
    """A target config dict with fast timings; ``overrides`` replace keys."""
    config: dict[str, Any] = {
        "name": name,
        "url": url,
        "events": ["customer.updated"],
        "hmac_secret_env": "HOOK_SECRET",
        "auth": {"type": "bearer", "token_env": "HOOK_TOKEN"},
        "connect_timeout": 1.0,
        "timeout": 1.0,
        "retry": dict(FAST_RETRY),
        "breaker": dict(FAST_BREAKER),
        "limits": {"max_in_flight": 4},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


def refused_url(path: str) -> str:
    """A 127.0.0.1 URL on a port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def config_of(*targets: dict[str, Any], **extra: Any) -> TargetsConfig:
    return parse_targets({"targets": list(targets), **extra})


def event(
    event_id: str,
    golden_id: str = "g-1",
    event_type: str = "customer.updated",
    **payload: Any,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": event_type,
        "golden_id": golden_id,
        "payload": {"email_hash": "h", **payload},
        "occurred_at": "2024-05-01T10:00:00+00:00",
    }
