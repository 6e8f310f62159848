"""AUTH, ACL users, TLS settings and waiting out Redis outages."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr, ValidationError

from lifeline.cache import (
    CacheAccessError,
    CacheReader,
    CacheUnavailableError,
    GoldenCacheWriter,
    Merge,
    Retrier,
    build_client,
)
from lifeline.decode.position import MYSQL, SourcePosition
from lifeline.emit.redis_sink import RedisCacheSink
from lifeline.errors import FatalError, RetryableError
from lifeline.join.latest import RowChange
from lifeline.settings import RedisSettings, Settings
from lifeline.stack.redis_server import RedisServer
from tests.cache.conftest import make_settings, make_state_dir, new_prefix
from tests.cache.helpers import upsert, version
from tests.ports import free_port

PASSWORD = 'cache "secret" \\ pw'


def _server(**redis_values: Any) -> Iterator[tuple[Settings, RedisServer]]:
    state_dir = make_state_dir()
    settings = make_settings(state_dir, free_port(), **redis_values)
    server = RedisServer(settings)
    try:
        server.start()
        yield settings, server
    finally:
        server.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def password_server() -> Iterator[tuple[Settings, RedisServer]]:
    yield from _server(password=PASSWORD)


@pytest.fixture(scope="module")
def acl_server() -> Iterator[tuple[Settings, RedisServer]]:
    yield from _server(username="lifeline-cache", password=PASSWORD)


def _with(settings: RedisSettings, **changes: Any) -> RedisSettings:
    return settings.model_copy(update=changes)


def _write_and_read(settings: RedisSettings) -> None:
    client = build_client(settings)
    try:
        prefix = new_prefix()
        writer = GoldenCacheWriter(client, prefix, retrier=Retrier(max_wait=0))
        assert writer.apply([upsert("g1", version(1), source_ids=["erp:1"])]).applied
        assert [r.golden_id for r in CacheReader(client, prefix).lookup("erp:1")] == [
            "g1"
        ]
    finally:
        client.close()


@pytest.mark.parametrize("which", ["password_server", "acl_server"])
def test_the_right_credentials_work(which: str, request: pytest.FixtureRequest) -> None:
    settings, _ = request.getfixturevalue(which)
    _write_and_read(settings.redis)


@pytest.mark.parametrize(
    ("which", "changes"),
    [
        ("password_server", {"password": SecretStr("wrong")}),
        ("password_server", {"password": None}),
        ("acl_server", {"username": None}),
        ("acl_server", {"username": "someone-else"}),
    ],
)
def test_refused_credentials_fail_at_once_without_retrying(
    which: str, changes: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    settings, _ = request.getfixturevalue(which)
    client = build_client(_with(settings.redis, **changes))
    retrier = Retrier(max_wait=30.0)
    began = time.monotonic()
    try:
        with pytest.raises(CacheAccessError) as caught:
            GoldenCacheWriter(client, new_prefix(), retrier=retrier).apply(
                [upsert("g1", version(1))]
            )
    finally:
        client.close()
    assert isinstance(caught.value, FatalError)
    assert PASSWORD not in str(caught.value)
    assert (retrier.retries, retrier.outages) == (0, 0)
    assert time.monotonic() - began < 5.0


def _acl_client(
    settings: Settings,
    user: str,
    keys: str,
    categories: list[str],
    commands: list[str] | None = None,
) -> redis.Redis:
    """A client for a fresh ACL user with exactly these rules (docs/cache.md)."""
    admin = build_client(settings.redis)
    try:
        admin.acl_setuser(
            user,
            enabled=True,
            reset=True,
            passwords=["+pw"],
            keys=[keys],
            categories=categories,
            commands=commands or [],
        )
    finally:
        admin.close()
    return build_client(_with(settings.redis, username=user, password=SecretStr("pw")))


def test_the_documented_acl_rules_are_enough(
    acl_server: tuple[Settings, RedisServer],
) -> None:
    settings, _ = acl_server
    prefix = new_prefix()
    keys = f"{prefix}:*"
    writer = _acl_client(
        settings, "cache-writer", keys, ["+@read", "+@write", "+@scripting"]
    )
    reader = _acl_client(
        settings, "cache-reader", keys, ["+@read"], ["+evalsha_ro", "+eval_ro"]
    )
    plain = _acl_client(settings, "plain-reader", keys, ["+@read"])
    try:
        GoldenCacheWriter(writer, prefix).apply(
            [
                upsert("g1", version(1), source_ids=["erp:1"]),
                upsert("g2", version(1), source_ids=["erp:2"]),
                Merge("g2", ["g1"], version(2)),
            ]
        )
        scripted = CacheReader(reader, prefix)
        assert [r.golden_id for r in scripted.lookup("erp:1")] == ["g2"]
        assert scripted.scripted
        # Without the script commands the reader reads by steps, same answer.
        by_steps = CacheReader(plain, prefix)
        assert [r.golden_id for r in by_steps.lookup("erp:1")] == ["g2"]
        assert not by_steps.scripted
        assert by_steps.lookup("g1") == scripted.lookup("g1")
        with pytest.raises(CacheAccessError, match="apply"):
            GoldenCacheWriter(reader, prefix).apply([upsert("g3", version(1))])
        with pytest.raises(CacheAccessError):
            GoldenCacheWriter(writer, new_prefix()).apply([upsert("g1", version(1))])
    finally:
        writer.close()
        reader.close()
        plain.close()


def test_an_outage_is_waited_out_and_counted(
    password_server: tuple[Settings, RedisServer],
) -> None:
    settings, server = password_server
    client = build_client(settings.redis)
    prefix = new_prefix()
    retrier = Retrier(max_wait=60.0, initial_delay=0.05, max_delay=0.5)
    writer = GoldenCacheWriter(client, prefix, retrier=retrier)
    writer.apply([upsert("g1", version(1))])
    server.stop()
    results: list[Any] = []
    thread = threading.Thread(
        target=lambda: results.append(
            writer.apply([upsert("g1", version(2)), upsert("g2", version(1))])
        )
    )
    try:
        thread.start()
        time.sleep(1.5)
        assert thread.is_alive()  # waiting, not dropping the batch
        server.start()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert results[0].applied == 2
        assert retrier.outages == 1
        assert retrier.retries >= 3
        assert retrier.waited_seconds >= 1.0
        found = CacheReader(client, prefix).by_golden_id("g1")
        assert found is not None and found.version == version(2)
    finally:
        server.start()
        client.close()


def test_the_row_sink_waits_out_an_outage_and_writes_the_whole_batch(
    password_server: tuple[Settings, RedisServer],
) -> None:
    settings, server = password_server
    fast = _with(settings.redis, retry_initial_delay=0.05, retry_max_delay=0.5)
    prefix = new_prefix()
    part = RedisCacheSink(fast, prefix).build("rows", 0, 1)
    rows = [
        RowChange(
            "erp",
            "customers",
            str(n),
            None,
            {"id": n},
            SourcePosition(MYSQL, (1, 100 + n, 0)),
            0,
        )
        for n in range(3)
    ]
    server.stop()
    thread = threading.Thread(target=lambda: part.write_batch([rows]))
    try:
        thread.start()
        time.sleep(1.0)
        assert thread.is_alive()  # waiting, not dropping the batch
        server.start()
        thread.join(timeout=30)
        assert not thread.is_alive()
        client = build_client(settings.redis)
        stored = [
            client.hget(f"{prefix}:row:erp:customers:{n}", "row") for n in range(3)
        ]
        assert all(value is not None for value in stored), stored
        client.close()
    finally:
        server.start()
        part.close()


def test_the_wait_is_bounded(password_server: tuple[Settings, RedisServer]) -> None:
    settings, server = password_server
    client = build_client(settings.redis)
    retrier = Retrier(max_wait=0.75, initial_delay=0.1, max_delay=0.2)
    server.stop()
    began = time.monotonic()
    try:
        with pytest.raises(CacheUnavailableError, match="gave up") as caught:
            GoldenCacheWriter(client, new_prefix(), retrier=retrier).apply(
                [upsert("g1", version(1))]
            )
    finally:
        server.start()
        client.close()
    assert isinstance(caught.value, RetryableError)
    assert 0.5 <= time.monotonic() - began < 5.0
    assert retrier.retries == 4  # 0.1 + 0.2 + 0.2 + 0.2; another would pass 0.75


def test_backoff_doubles_up_to_the_cap_within_the_budget() -> None:
    slept: list[float] = []
    retrier = Retrier(
        max_wait=3.0, initial_delay=0.1, max_delay=1.0, sleep=slept.append
    )

    def fail() -> None:
        raise redis.ConnectionError("refused")

    with pytest.raises(CacheUnavailableError):
        retrier.call(fail, "test")
    assert slept == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert sum(slept) <= 3.0
    assert retrier.retries == 5
    calls = iter([redis.TimeoutError("slow"), redis.ConnectionError("gone")])

    def flaky() -> str:
        error = next(calls, None)
        if error is not None:
            raise error
        return "ok"

    assert retrier.call(flaky, "test") == "ok"
    assert (retrier.outages, retrier.retries) == (2, 7)


def test_from_settings_uses_the_retry_settings() -> None:
    settings = RedisSettings(
        retry_max_wait=9, retry_initial_delay=0.5, retry_max_delay=2
    )
    retrier = Retrier.from_settings(settings)
    assert (retrier.max_wait, retrier.initial_delay, retrier.max_delay) == (9, 0.5, 2)


def test_tls_settings_reach_the_client(tmp_path: Path) -> None:
    ca, cert, key = (tmp_path / name for name in ("ca.pem", "client.pem", "key.pem"))
    settings = RedisSettings(
        managed=False,
        host="cache.internal",
        username="svc",
        password=SecretStr("pw"),
        tls=True,
        tls_ca_file=ca,
        tls_cert_file=cert,
        tls_key_file=key,
    )
    kwargs = settings.client_kwargs()
    assert kwargs["ssl"] is True
    assert kwargs["ssl_cert_reqs"] == "required"
    assert kwargs["ssl_check_hostname"] is True
    assert (kwargs["ssl_ca_certs"], kwargs["ssl_certfile"], kwargs["ssl_keyfile"]) == (
        str(ca),
        str(cert),
        str(key),
    )
    assert (kwargs["username"], kwargs["password"]) == ("svc", "pw")
    client = build_client(settings)
    try:
        pool_kwargs = client.connection_pool.connection_kwargs
        assert pool_kwargs["ssl_ca_certs"] == str(ca)
        assert pool_kwargs["ssl_certfile"] == str(cert)
        assert client.connection_pool.connection_class is redis.SSLConnection
    finally:
        client.close()
    assert "ssl" not in RedisSettings().client_kwargs()


def test_tls_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="set together"):
        RedisSettings(tls=True, tls_cert_file=tmp_path / "c.pem")
    with pytest.raises(ValidationError, match="tls is false"):
        RedisSettings(tls_ca_file=tmp_path / "ca.pem")
