"""Decoded events as lossless JSON (the output of ``lifeline decode``).

Decimals become strings in plain notation, timestamps RFC 3339 with their
offset, dates/times ISO 8601, durations ISO 8601 (``PT838H59M59S``), bytes
base64, UUIDs their text, non-finite floats ``"NaN"``/``"Infinity"``/
``"-Infinity"``, and :data:`~lifeline.decode.change.UNCHANGED` the object
``{"$unchanged": true}``, so it can never be mistaken for a value.
"""

from __future__ import annotations

import base64
import math
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from lifeline.decode.change import (
    UNCHANGED,
    ChangeEvent,
    DeadLetter,
    TransactionBoundary,
    TransactionInfo,
)
from lifeline.decode.position import SourcePosition
from lifeline.decode.records import Coordinates

UNCHANGED_JSON: dict[str, bool] = {"$unchanged": True}


def render_value(value: Any) -> Any:
    """A JSON-ready, lossless form of one decoded value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if value is UNCHANGED:
        return dict(UNCHANGED_JSON)
    if isinstance(value, dict):
        return {str(k): render_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render_value(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot render a {type(value).__name__}")


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def iso_duration(value: timedelta) -> str:
    """ISO 8601 duration in hours, minutes and seconds: ``-PT1H2M3.5S``."""
    micros = value // timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    seconds, micro = divmod(abs(micros), 1_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    text = f"{sign}PT"
    if hours:
        text += f"{hours}H"
    if minute:
        text += f"{minute}M"
    if second or micro or not (hours or minute):
        fraction = f".{micro:06d}".rstrip("0") if micro else ""
        text += f"{second}{fraction}S"
    return text


def _commit_time(ts_ms: int, ts_us: int | None) -> str:
    micros = ts_us if ts_us is not None else ts_ms * 1000
    stamp = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    return stamp.isoformat()


def _coordinates(at: Coordinates) -> dict[str, Any]:
    return {"topic": at.topic, "partition": at.partition, "offset": at.offset}


def render_event(event: ChangeEvent) -> dict[str, Any]:
    """The normalised change event as one JSON object."""
    position, message = event.position, event.message
    return {
        "source": {
            "system": event.system,
            "connector": event.connector or None,
            "database": event.database or None,
            "schema": event.schema,
            "table": event.table,
        },
        "op": event.op,
        "key": render_value(event.key),
        "before": render_value(event.before),
        "after": render_value(event.after),
        "position": _position(position),
        "commit_ts": None
        if position is None
        else _commit_time(event.ts_ms, event.ts_us),
        "snapshot": event.snapshot,
        "transaction": _transaction(event.transaction),
        "message": None
        if message is None
        else {"prefix": message.prefix, "content": render_value(message.content)},
        "coordinates": _coordinates(event.coordinates),
    }


def _position(position: SourcePosition | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"kind": position.kind, "order": position.encode(), **position.details()}


def _transaction(transaction: TransactionInfo | None) -> dict[str, Any] | None:
    if transaction is None:
        return None
    return {
        "id": transaction.id,
        "total_order": transaction.total_order,
        "data_collection_order": transaction.data_collection_order,
    }


def render_boundary(boundary: TransactionBoundary) -> dict[str, Any]:
    """A transaction-metadata record as one JSON object."""
    collections = boundary.data_collections
    return {
        "transaction_boundary": {
            "status": boundary.status,
            "id": boundary.tx_id,
            "commit_ts": _commit_time(boundary.ts_ms, None),
            "event_count": boundary.event_count,
            "data_collections": None
            if collections is None
            else [
                {"data_collection": c.data_collection, "event_count": c.event_count}
                for c in collections
            ],
        },
        "coordinates": _coordinates(boundary.coordinates),
    }


def render_dead_letter(dead: DeadLetter) -> dict[str, Any]:
    """A dead letter as ``{"error": {...}}``; key and value in base64."""
    return {
        "error": {
            **_coordinates(dead.coordinates),
            "stage": dead.stage,
            "kind": dead.kind,
            "reason": dead.reason,
            "key": None if dead.key is None else base64.b64encode(dead.key).decode(),
            "value": None
            if dead.value is None
            else base64.b64encode(dead.value).decode(),
        }
    }
