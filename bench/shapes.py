"""The connectors' record shapes, filled in fast: topics, keys, values, positions.

The key and value schemas captured in ``templates.json`` (see
:mod:`bench.capture`) are written verbatim around a payload built from a dict
with orjson, as Kafka Connect's JsonConverter lays a record out; nothing is
validated per event.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

TEMPLATES = Path(__file__).with_name("templates.json")
CUSTOMERS, ORDERS, INVOICES = "erp.erp.customers", "erp.erp.orders", "erp.erp.invoices"
PAYMENTS, USERS = "erp.erp.payments", "identity.public.users"
LINKS = "identity.public.external_ids"
TOPICS = (CUSTOMERS, ORDERS, INVOICES, PAYMENTS, USERS, LINKS)
_EPOCH_MS = 1_796_400_000_000

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    """One Kafka record to produce: topic, key bytes, value bytes (or None)."""

    topic: str
    key: bytes
    value: bytes | None
    partition: int = -1  # -1: the producer's partitioner picks


class Shapes:
    """Key and value prefixes (the schema parts) and source blocks per topic."""

    def __init__(self, path: Path = TEMPLATES) -> None:
        captured = orjson.loads(path.read_bytes())
        self.sources: dict[str, Row] = {}
        self._key: dict[str, bytes] = {}
        self._value: dict[str, bytes] = {}
        for topic in TOPICS:
            shape = captured[topic]
            self._key[topic] = _prefix(shape["key_schema"])
            self._value[topic] = _prefix(shape["value_schema"])
            self.sources[topic] = shape["source"]

    def key(self, topic: str, payload: Row) -> bytes:
        """A key record as JsonConverter writes it."""
        return self._key[topic] + orjson.dumps(payload) + b"}"

    def value(self, topic: str, payload: Row) -> bytes:
        """A value record as JsonConverter writes it."""
        return self._value[topic] + orjson.dumps(payload) + b"}"


def _prefix(schema: Any) -> bytes:
    return b'{"schema":' + orjson.dumps(schema) + b',"payload":'


def decimal(cents: int) -> str:
    """Debezium's precise decimal (scale 2): base64 of the unscaled integer."""
    size = max(1, (cents.bit_length() + 8) // 8)
    return base64.b64encode(cents.to_bytes(size, "big", signed=True)).decode()


def iso(ms: int) -> str:
    """A ``ZonedTimestamp`` value: ISO 8601 in UTC with microseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class Positions:
    """Source time and positions: a binlog offset (MariaDB), an LSN (PostgreSQL)."""

    now_ms: int = _EPOCH_MS
    binlog_pos: int = 4
    lsn: int = 30_000_000
    tx: int = 1_000

    def source(self, template: Row) -> Row:
        """The next change's ``source`` block, one millisecond later."""
        self.now_ms += 1
        source = dict(template)
        source["ts_ms"] = self.now_ms
        source["ts_us"] = self.now_ms * 1000
        source["ts_ns"] = self.now_ms * 1_000_000
        if source["connector"] == "mysql":
            source["pos"] = self.binlog_pos
            self.binlog_pos += 380
        else:
            self.lsn += 240
            self.tx += 1
            source["lsn"] = self.lsn
            source["txId"] = self.tx
            source["sequence"] = f'["{self.lsn - 120}","{self.lsn}"]'
        return source


def change(
    shapes: Shapes,
    positions: Positions,
    topic: str,
    key: Row,
    before: Row | None,
    after: Row | None,
) -> Event:
    """A create, update or delete of one row, at the next source position."""
    source = positions.source(shapes.sources[topic])
    op = "c" if before is None else ("d" if after is None else "u")
    ts = positions.now_ms + 12
    payload = {
        "before": before,
        "after": after,
        "source": source,
        "transaction": None,
        "op": op,
        "ts_ms": ts,
        "ts_us": ts * 1000,
        "ts_ns": ts * 1_000_000,
    }
    return Event(topic, shapes.key(topic, key), shapes.value(topic, payload))
