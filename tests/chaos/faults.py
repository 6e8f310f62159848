"""The faults the chaos scenarios inject, each on a process the suite started.

Every function acts on one component of the stack the settings describe,
by its pid file under ``state/run``, and returns once the fault is in place
(or, for restarts, once the component answers again).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable

from confluent_kafka import Producer

from lifeline.capture.apply import apply_connectors
from lifeline.capture.connect_client import ConnectClient
from lifeline.capture.templates import load_templates
from lifeline.flows.runner import FlowProcess
from lifeline.live import mariadb_connection, postgres_connection
from lifeline.settings import Settings
from lifeline.stack.broker import Broker
from lifeline.stack.connect import ConnectWorker
from lifeline.stack.process import ManagedProcess, port_open
from lifeline.stack.redis_server import RedisServer


def kill_flow(settings: Settings, flow: str) -> int:
    """SIGKILL a running dataflow process; its pid."""
    process = FlowProcess(settings, flow).process
    pid = process.pid()
    assert pid is not None, f"flow {flow} is not running"
    _kill9(process, pid)
    return pid


def _kill9(process: ManagedProcess, pid: int) -> None:
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while process.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.pid() is None, f"pid {pid} survived SIGKILL"


def restart_connect(settings: Settings) -> None:
    """Stop the Connect worker (SIGTERM), start it, wait for RUNNING tasks."""
    worker = ConnectWorker(settings)
    worker.stop()
    worker.start()
    wait_connectors(settings)


def wait_connectors(settings: Settings, timeout: float = 120.0) -> None:
    """Block until every connector of the templates runs with its tasks."""
    client = ConnectClient(settings.connect.url)
    for template in load_templates():
        client.wait_running(template.name, timeout=timeout, failed_grace=10.0)


def restart_broker(settings: Settings, *, kill: bool = False) -> None:
    """Stop the broker (SIGTERM, or SIGKILL with ``kill``) and start it again."""
    broker = Broker(settings)
    pid = broker.process.pid()
    assert pid is not None, "the broker is not running"
    if kill:
        _kill9(broker.process, pid)
    else:
        broker.stop()
    # The leader thread shows as a zombie before the last thread closed the
    # listening socket.
    host, port = settings.broker.host, settings.broker.port
    deadline = time.monotonic() + 10
    while port_open(host, port) and time.monotonic() < deadline:
        time.sleep(0.05)
    broker.start()


def stop_redis(settings: Settings) -> None:
    """Stop the managed Redis (it saves its append-only file on the way out)."""
    RedisServer(settings).stop()


def start_redis(settings: Settings) -> None:
    """Start the managed Redis again and wait until it answers."""
    RedisServer(settings).start()


POISON: tuple[bytes, ...] = (
    b'{"schema": {"type": "struct"}, "payload": {not json',
    b'{"schema": null, "payload": {"op": "c"}}',
    b"\x00\x01\x02 binary noise",
    b'["an", "array"]',
)


def inject_poison(settings: Settings, topics: Iterable[str]) -> list[tuple[str, int]]:
    """Produce every poison value to each topic; their (topic, offset)."""
    producer = Producer({"bootstrap.servers": settings.broker.bootstrap_servers})
    placed: list[tuple[str, int]] = []

    def done(err: object, msg: object) -> None:
        assert err is None, f"poison not produced: {err}"
        placed.append((msg.topic(), msg.offset()))  # type: ignore[attr-defined]

    for topic in topics:
        for value in POISON:
            producer.produce(topic, key=b'{"id": -1}', value=value, on_delivery=done)
    assert producer.flush(15) == 0, "poison records not acknowledged"
    return placed


def add_columns(settings: Settings, column: str) -> None:
    """ALTER both captured customer tables to add ``column`` (nullable text).

    The MariaDB statement keeps to MySQL syntax: Debezium's MySQL grammar
    does not parse MariaDB's ``ADD COLUMN IF NOT EXISTS``, and the ERP
    connector's task fails on such a statement in the binlog.
    """
    if column not in _erp_columns(settings):
        with mariadb_connection(settings) as conn, conn.cursor() as cur:
            cur.execute(f"ALTER TABLE customers ADD COLUMN {column} VARCHAR(40) NULL")
    with postgres_connection(settings) as pg:
        pg.execute(f"ALTER TABLE users ADD COLUMN IF NOT EXISTS {column} text")
        pg.commit()


def drop_columns(settings: Settings, column: str) -> None:
    """ALTER both tables to drop ``column`` again (where it exists)."""
    if column in _erp_columns(settings):
        with mariadb_connection(settings) as conn, conn.cursor() as cur:
            cur.execute(f"ALTER TABLE customers DROP COLUMN {column}")
    with postgres_connection(settings) as pg:
        pg.execute(f"ALTER TABLE users DROP COLUMN IF EXISTS {column}")
        pg.commit()


def _erp_columns(settings: Settings) -> set[str]:
    with mariadb_connection(settings) as conn, conn.cursor() as cur:
        cur.execute("SHOW COLUMNS FROM customers")
        columns = {str(row[0]) for row in cur.fetchall()}
        conn.rollback()
    return columns


def fill_column(settings: Settings, column: str, erp_rows: list[str]) -> None:
    """Write the new column in the ERP rows (changes that carry it)."""
    with mariadb_connection(settings) as conn:
        with conn.cursor() as cur:
            for row in erp_rows:
                sql = f"UPDATE customers SET {column}=%s WHERE id=%s"
                cur.execute(sql, (f"note {row}", row))
        conn.commit()


def reapply_connectors(settings: Settings) -> None:
    """Apply the connector templates again (e.g. after Connect lost them)."""
    apply_connectors(settings)
