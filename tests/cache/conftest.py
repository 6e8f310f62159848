"""One Redis server of our own for the cache tests, started once per session.

It runs on port 27379 (shifted by ``LIFELINE_TEST_SLOT``) from a fresh,
world-traversable temporary state directory and is stopped at the end. If
it cannot start the tests fail with the component's error; they are never
skipped. Every test works under its own key prefix, so tests never see each
other's keys.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from lifeline.cache import CacheReader, GoldenCacheWriter, Retrier, build_client
from lifeline.settings import Settings
from lifeline.stack.redis_server import RedisServer

CACHE_TEST_PORT = 27379 + 10 * int(os.environ.get("LIFELINE_TEST_SLOT", "0"))


def make_state_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="lifeline-cache-test-"))
    path.chmod(path.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    return path


def make_settings(state_dir: Path, port: int, **redis_values: Any) -> Settings:
    """Settings for a managed Redis; every redis field given beats LIFELINE_*."""
    values: dict[str, Any] = {
        "managed": True,
        "host": "127.0.0.1",
        "port": port,
        "db": 0,
        "username": None,
        "password": None,
        "tls": False,
        "tls_ca_file": None,
        "tls_cert_file": None,
        "tls_key_file": None,
        **redis_values,
    }
    return Settings.model_validate(
        {"state_dir": state_dir, "cache_prefix": "ll", "redis": values}
    )


@pytest.fixture(scope="session")
def cache_settings() -> Iterator[Settings]:
    state_dir = make_state_dir()
    settings = make_settings(state_dir, CACHE_TEST_PORT)
    server = RedisServer(settings)
    try:
        server.start()
        yield settings
    finally:
        server.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def client(cache_settings: Settings) -> Iterator[redis.Redis]:
    made = build_client(cache_settings.redis)
    try:
        yield made
    finally:
        made.close()


def new_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def prefix() -> str:
    return new_prefix()


@pytest.fixture
def writer(client: redis.Redis, prefix: str) -> GoldenCacheWriter:
    return GoldenCacheWriter(client, prefix, retrier=Retrier(max_wait=0.0))


@pytest.fixture
def reader(client: redis.Redis, prefix: str) -> CacheReader:
    return CacheReader(client, prefix)
