"""A fresh snapshot of ERP tables, taken while the regular connector streams.

A second MySQL connector with ``snapshot.mode=initial_only`` (its own name,
server id and schema history file) reads the chosen tables once and writes
every row again, as snapshot reads (``op`` ``r``), to the very topics the
regular connector feeds - what an operator's re-snapshot does. It is
deleted once the topic holds its reads of every row.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import orjson
from confluent_kafka import OFFSET_END, Consumer, TopicPartition

from lifeline.capture.connect_client import ConnectClient
from lifeline.capture.templates import load_templates, placeholder_context, render
from lifeline.live import mariadb_connection
from lifeline.settings import Settings

NAME = "lifeline-chaos-resnapshot"
MYSQL = "io.debezium.connector.mysql.MySqlConnector"
# Keys of the regular template a one-off snapshot must not share.
_DROPPED = ("signal.", "notification.", "incremental.", "read.only")


@dataclass(frozen=True)
class Resnapshot:
    """What the re-snapshot wrote: rows per table at its start, reads seen."""

    rows: dict[str, int]
    reads: dict[str, int]
    seconds: float


def resnapshot(
    settings: Settings, tables: list[str], timeout: float = 90.0
) -> Resnapshot:
    """Re-snapshot ``tables`` of the ERP database; block until every row is read."""
    started = time.monotonic()
    database = settings.mariadb.database
    topics = {f"{settings.topics.erp_prefix}.{database}.{t}": t for t in tables}
    consumer = _tail(settings, list(topics))
    rows = _count_rows(settings, tables)
    client = ConnectClient(settings.connect.url)
    client.put_config(NAME, _config(settings, tables))
    reads = dict.fromkeys(tables, 0)
    try:
        deadline = time.monotonic() + timeout
        while any(reads[t] < rows[t] for t in tables):
            if time.monotonic() > deadline:
                state = client.status(NAME)
                detail = "gone" if state is None else state.summary
                trace = "" if state is None else state.failure_trace[:2000]
                msg = f"re-snapshot stalled: {reads} < {rows}; {detail} {trace}"
                raise AssertionError(msg)
            for message in consumer.consume(500, 0.5):
                value = message.value()
                if message.error() is None and value and _is_read(value):
                    reads[topics[str(message.topic())]] += 1
    finally:
        consumer.close()
        client.delete(NAME)
    return Resnapshot(rows, reads, round(time.monotonic() - started, 1))


def _config(settings: Settings, tables: list[str]) -> dict[str, str]:
    (template,) = [t for t in load_templates() if t.config["connector.class"] == MYSQL]
    config = {
        key: value
        for key, value in render(template, settings).items()
        if not key.startswith(_DROPPED)
    }
    history = placeholder_context(settings)["connect.schema_history_dir"]
    database = settings.mariadb.database
    config.update(
        {
            "snapshot.mode": "initial_only",
            # Its metrics beside the regular connector's, which has the same
            # topic prefix (else the task waits a minute for the name).
            "custom.metric.tags": "lifeline=resnapshot",
            "table.include.list": ",".join(f"{database}.{t}" for t in tables),
            "database.server.id": str(settings.mariadb.server_id + 7),
            "schema.history.internal.file.filename": (
                f"{history}/{NAME}-{uuid.uuid4().hex[:8]}.history"
            ),
        }
    )
    return config


def _tail(settings: Settings, topics: list[str]) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"chaos-{uuid.uuid4().hex}",
            "enable.auto.commit": "false",
        }
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_END) for topic in topics])
    consumer.consume(10, 1.0)  # takes the assignment before the snapshot starts
    return consumer


def _count_rows(settings: Settings, tables: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with mariadb_connection(settings) as conn, conn.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            (counts[table],) = cur.fetchone()
        conn.rollback()
    return counts


def _is_read(value: bytes) -> bool:
    try:
        envelope = orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    payload = envelope.get("payload") if isinstance(envelope, dict) else None
    return isinstance(payload, dict) and payload.get("op") == "r"
