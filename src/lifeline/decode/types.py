"""Converters from Debezium/Kafka Connect logical types to Python values.

A converter takes the JSON value of one column and returns the typed value:
``Decimal`` for decimals, ``date``/``time``/``datetime`` (always timezone-aware
for timestamps) for temporal types; other values pass through unchanged.
Converters are chosen once per schema (see :mod:`lifeline.decode.schema`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

Converter = Callable[[Any], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)
_MIDNIGHT = datetime(2000, 1, 1, tzinfo=UTC)


def _decimal_bytes(scale: int) -> Converter:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        raw = base64.b64decode(value)
        return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)

    return convert


def _variable_decimal(value: Any) -> Any:
    if value is None:
        return None
    raw = base64.b64decode(value["value"])
    return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-int(value["scale"]))


def _epoch_days(value: Any) -> Any:
    return None if value is None else _EPOCH_DATE + timedelta(days=value)


def _epoch_scaled(divisor: int) -> Converter:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        seconds, rest = divmod(value, divisor)
        return _EPOCH + timedelta(
            seconds=seconds, microseconds=rest * 1_000_000 // divisor
        )

    return convert


def _time_scaled(divisor: int) -> Converter:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        micros = value * 1_000_000 // divisor
        return (_MIDNIGHT + timedelta(microseconds=micros)).time()

    return convert


def _zoned(value: Any) -> Any:
    return None if value is None else datetime.fromisoformat(value)


def _zoned_time(value: Any) -> Any:
    return None if value is None else time.fromisoformat(value.replace("Z", "+00:00"))


def converter_for(field_schema: dict[str, Any]) -> Converter | None:
    """The converter for one field's schema, or None when values pass through."""
    name = field_schema.get("name")
    if name is None:
        return None
    if name == "org.apache.kafka.connect.data.Decimal":
        return _decimal_bytes(int(field_schema.get("parameters", {}).get("scale", 0)))
    return _BY_NAME.get(name)


_BY_NAME: dict[str, Converter] = {
    "io.debezium.data.VariableScaleDecimal": _variable_decimal,
    "io.debezium.time.Date": _epoch_days,
    "org.apache.kafka.connect.data.Date": _epoch_days,
    "io.debezium.time.Timestamp": _epoch_scaled(1_000),
    "org.apache.kafka.connect.data.Timestamp": _epoch_scaled(1_000),
    "io.debezium.time.MicroTimestamp": _epoch_scaled(1_000_000),
    "io.debezium.time.NanoTimestamp": _epoch_scaled(1_000_000_000),
    "io.debezium.time.ZonedTimestamp": _zoned,
    "io.debezium.time.Time": _time_scaled(1_000),
    "org.apache.kafka.connect.data.Time": _time_scaled(1_000),
    "io.debezium.time.MicroTime": _time_scaled(1_000_000),
    "io.debezium.time.NanoTime": _time_scaled(1_000_000_000),
    "io.debezium.time.ZonedTime": _zoned_time,
}
