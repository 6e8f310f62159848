"""The managed PostgreSQL, MariaDB and Redis, started cold on private ports.

These tests start their own servers from the machine's binaries in a fresh
state directory (world-traversable, so the ``postgres`` account can reach its
data directory), on ports picked free at run time, and stop them at the end.
A missing server binary fails them with the Debian package to install.
"""

from __future__ import annotations

import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
import redis

from lifeline.errors import ComponentError
from lifeline.samples import schema, seed
from lifeline.settings import Settings
from lifeline.stack.base import Component, State
from lifeline.stack.mariadb import MariaDB
from lifeline.stack.postgres import Postgres
from lifeline.stack.process import port_open
from lifeline.stack.redis_server import RedisServer
from tests.ports import free_port

pytestmark = pytest.mark.stack


@dataclass
class Databases:
    settings: Settings
    postgres: Postgres
    mariadb: MariaDB
    redis: RedisServer
    cold_start_seconds: dict[str, float]

    @property
    def components(self) -> list[Component]:
        return [self.postgres, self.mariadb, self.redis]


def _state_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="lifeline-db-test-"))
    # The postgres account must be able to reach its data directory below.
    path.chmod(path.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    return path


def _settings(state_dir: Path, **overrides: dict[str, Any]) -> Settings:
    parts: dict[str, dict[str, Any]] = {
        name: {"managed": True, "host": "127.0.0.1", "port": free_port()}
        for name in ("postgres", "mariadb", "redis")
    }
    for name, values in overrides.items():
        parts[name].update(values)
    # These values win over LIFELINE_* variables (e.g. the session stack's).
    return Settings.model_validate({"state_dir": state_dir, **parts})


@pytest.fixture(scope="module")
def dbs() -> Iterator[Databases]:
    state_dir = _state_dir()
    settings = _settings(state_dir)
    found = Databases(
        settings, Postgres(settings), MariaDB(settings), RedisServer(settings), {}
    )
    try:
        for component in found.components:
            began = time.monotonic()
            component.start()
            found.cold_start_seconds[component.name] = time.monotonic() - began
        yield found
    finally:
        for component in reversed(found.components):
            component.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def _pg(settings: Settings, **kwargs: Any) -> psycopg.Connection[tuple[Any, ...]]:
    pg = settings.postgres
    params: dict[str, Any] = {
        "host": pg.host,
        "port": pg.port,
        "dbname": "postgres",
        "user": pg.user,
        "password": pg.password.get_secret_value(),
        "autocommit": True,
    }
    params.update(kwargs)
    return psycopg.connect(**params)


def _my(settings: Settings, **kwargs: Any) -> Any:
    db = settings.mariadb
    params: dict[str, Any] = {
        "host": db.host,
        "port": db.port,
        "user": db.user,
        "password": db.password.get_secret_value(),
    }
    params.update(kwargs)
    return pymysql.connect(**params)


def _my_scalar(settings: Settings, query: str, **kwargs: Any) -> Any:
    conn = _my(settings, **kwargs)
    try:
        with conn.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchone()[0]
    finally:
        conn.close()


def test_cold_start_reports_running_with_pid_and_start_time(dbs: Databases) -> None:
    print("cold start seconds:", dbs.cold_start_seconds)
    for component in dbs.components:
        status = component.status()
        assert status.state is State.RUNNING, status
        assert status.pid is not None
        assert status.started_at is not None
        assert status.started_at.tzinfo is not None


def test_second_start_is_a_quick_no_op(dbs: Databases) -> None:
    for component in dbs.components:
        pid_before = component.status().pid
        began = time.monotonic()
        component.start()
        assert time.monotonic() - began < 1.0
        assert component.status().pid == pid_before


def test_postgres_has_logical_decoding_on_loopback_only(dbs: Databases) -> None:
    with _pg(dbs.settings) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('wal_level', 'max_replication_slots', 'max_wal_senders', "
                "'listen_addresses')"
            ).fetchall()
        )
    assert settings == {
        "wal_level": "logical",
        "max_replication_slots": "10",
        "max_wal_senders": "10",
        "listen_addresses": "127.0.0.1",
    }


def test_postgres_tcp_logins_need_the_right_password(dbs: Databases) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication"):
        _pg(dbs.settings, password="not-the-password").close()


def test_mariadb_writes_a_row_binlog_and_reports_the_spoofed_version(
    dbs: Databases,
) -> None:
    row = _my_scalar(
        dbs.settings,
        "SELECT CONCAT_WS('|', @@version, @@log_bin, @@binlog_format, "
        "@@binlog_row_image, @@server_id, @@character_set_server, @@time_zone)",
    )
    server_id = dbs.settings.mariadb.server_id
    assert row == f"5.7.19-log|ON|ROW|FULL|{server_id}|utf8mb4|+00:00"


def test_mariadb_root_cannot_log_in_over_tcp(dbs: Databases) -> None:
    with pytest.raises(pymysql.err.OperationalError) as caught:
        _my(dbs.settings, user="root", password="")
    assert caught.value.args[0] == 1698 or caught.value.args[0] == 1045


def test_redis_answers_with_append_only_file_and_no_snapshots(dbs: Databases) -> None:
    client = redis.Redis(**dbs.settings.redis.client_kwargs(), decode_responses=True)
    try:
        assert client.set("lifeline:test:restart", "kept")
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
    finally:
        client.close()


def test_apply_schemas_is_idempotent_and_sets_up_cdc(dbs: Databases) -> None:
    schema.apply_schemas(dbs.settings)
    schema.apply_schemas(dbs.settings)
    pg = dbs.settings.postgres
    with _pg(dbs.settings, dbname=pg.database) as conn:
        published = conn.execute(
            "SELECT tablename FROM pg_publication_tables WHERE pubname = %s "
            "ORDER BY tablename",
            (schema.IDENTITY_PUBLICATION,),
        ).fetchall()
        identity = conn.execute(
            "SELECT relreplident FROM pg_class WHERE relname = 'users'"
        ).fetchone()
    # The signal and heartbeat tables Debezium reads join the captured ones.
    side = ("lifeline_heartbeat", "lifeline_signal")
    assert [row[0] for row in published] == sorted((*schema.IDENTITY_TABLES, *side))
    assert identity == ("f",)
    cdc = {"user": pg.cdc_user, "password": pg.cdc_password.get_secret_value()}
    with _pg(dbs.settings, dbname=pg.database, **cdc) as conn:
        role = conn.execute(
            "SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert role == (True, False)
        assert conn.execute("SELECT count(*) FROM users").fetchone() is not None
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO users (id, email) VALUES ('u-x', 'x@example.com')"
            )


def test_mariadb_cdc_user_has_exactly_the_debezium_privileges(dbs: Databases) -> None:
    schema.apply_schemas(dbs.settings)
    db = dbs.settings.mariadb
    cdc = {"user": db.cdc_user, "password": db.cdc_password.get_secret_value()}
    grants = _my_scalar(dbs.settings, "SHOW GRANTS", **cdc)
    for privilege in ("SELECT", "RELOAD", "SHOW DATABASES", "LOCK TABLES"):
        assert privilege in grants
    assert "REPLICATION SLAVE" in grants
    assert "BINLOG MONITOR" in grants  # MariaDB's name for REPLICATION CLIENT
    assert "INSERT" not in grants
    position = _my_scalar(dbs.settings, "SHOW MASTER STATUS", **cdc)
    assert str(position).startswith("binlog.")


def test_load_of_1000_generated_customers_is_fast_and_repeatable(
    dbs: Databases,
) -> None:
    schema.apply_schemas(dbs.settings)
    data = seed.generate(1000, seed=11)
    began = time.monotonic()
    seed.load(dbs.settings, data)
    assert time.monotonic() - began < 5.0
    again = seed.load(dbs.settings, data)  # the same rows again: nothing changes
    assert again.inserted == dict.fromkeys(again.offered, 0)
    assert again.already_there("erp.customers") == len(data.customers)
    assert again.already_there("identity.users") == len(data.users)
    assert schema.customer_count(dbs.settings) == len(data.customers)
    erp_total = _my_scalar(
        dbs.settings,
        "SELECT SUM(total) FROM orders",
        database=dbs.settings.mariadb.database,
    )
    assert erp_total == sum(order.total for order in data.orders)
    with _pg(dbs.settings, dbname=dbs.settings.postgres.database) as conn:
        users = conn.execute("SELECT count(*) FROM users").fetchone()
        accents = conn.execute(
            "SELECT count(*) FROM users WHERE family_name ~ '[^\\x01-\\x7e]'"
        ).fetchone()
    assert users == (len(data.users),)
    assert accents is not None and accents[0] > 0  # UTF-8 survived the trip


def test_stop_then_start_keeps_the_data(dbs: Databases) -> None:
    before = schema.customer_count(dbs.settings)
    assert before > 0
    for component in dbs.components:
        component.stop()
    for component in dbs.components:
        status = component.status()
        assert status.state is State.STOPPED, status
        host, port = status.address.rsplit(":", 1)
        assert not port_open(host, int(port))
    for component in dbs.components:
        component.start()
    assert schema.customer_count(dbs.settings) == before
    client = redis.Redis(**dbs.settings.redis.client_kwargs(), decode_responses=True)
    try:
        assert client.get("lifeline:test:restart") == "kept"
    finally:
        client.close()


def test_start_refuses_a_port_someone_else_listens_on() -> None:
    state_dir = _state_dir()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = _settings(state_dir, redis={"port": port})
        server = RedisServer(settings)
        try:
            with pytest.raises(ComponentError, match="in use"):
                server.start()
            status = server.status()
            assert status.state is State.STOPPED
            assert "did not start" in status.detail
        finally:
            server.stop()
            shutil.rmtree(state_dir, ignore_errors=True)


def test_unmanaged_components_are_only_checked(dbs: Databases) -> None:
    state_dir = _state_dir()
    try:
        closed = _settings(state_dir, redis={"managed": False})
        with pytest.raises(ComponentError, match="not usable"):
            RedisServer(closed).start()
        assert RedisServer(closed).status().state is State.UNREACHABLE
        running = dbs.settings.redis.port
        external = _settings(state_dir, redis={"managed": False, "port": running})
        server = RedisServer(external)
        server.start()
        server.stop()  # must not stop a server it does not manage
        assert server.status().state is State.EXTERNAL
        assert dbs.redis.status().state is State.RUNNING
        assert not list(state_dir.glob("run/*.pid"))
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def test_redis_password_from_settings_is_required() -> None:
    state_dir = _state_dir()
    settings = _settings(state_dir, redis={"password": 'p "w\\d'})
    server = RedisServer(settings)
    try:
        server.start()
        config = (state_dir / "redis" / "redis.conf").stat()
        assert stat.S_IMODE(config.st_mode) == 0o600
        anonymous = redis.Redis(host="127.0.0.1", port=settings.redis.port)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        assert server.status().state is State.RUNNING
    finally:
        server.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
