"""Converters from Debezium / Kafka Connect semantic types to Python values.

A converter takes one column's value as the converter delivered it (JSON
value, or fastavro's decoded value) and returns the typed value, or raises
ValueError/TypeError/OverflowError when the value contradicts its schema:

* decimals (``Decimal`` and ``VariableScaleDecimal``) -> ``decimal.Decimal``,
  exact at any precision;
* dates -> ``date``; timestamps -> timezone-aware ``datetime`` (UTC for the
  epoch-based ones, the sent offset for ``ZonedTimestamp``); times of day ->
  ``time`` (aware for ``ZonedTime``). Time values outside one day (MySQL
  ``TIME`` is a duration up to 838 hours, PostgreSQL allows 24:00) and the
  ``*Duration`` types -> ``timedelta``. Nanosecond types keep microseconds
  (floor): Python's datetime holds no finer unit;
* ``Json`` -> the parsed JSON value; ``Uuid`` -> ``uuid.UUID``; ``EnumSet`` ->
  tuple of str; ``Bits`` -> a string of ``0``/``1``, most significant bit
  first, as long as the column's ``length``; plain ``bytes`` -> ``bytes``.

PostgreSQL's infinite timestamps (sent as the JDBC driver's infinity instants,
or ``infinity``/``-infinity`` when zoned) become ``datetime.max``/``min`` in
UTC. Other values Python cannot hold (years before 1 or after 9999) raise
OverflowError, which decoders report as ``out_of_range``.
Converters are chosen once per schema (:mod:`lifeline.decode.plan`).
"""

from __future__ import annotations

import binascii
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any

import orjson

Converter = Callable[[Any], Any]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH_DATE.toordinal()
_MAX_ORDINAL = date.max.toordinal()
DAY_MICROS = 86_400_000_000
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_MAX_UTC = datetime.max.replace(tzinfo=UTC)
_MIN_UTC = datetime.min.replace(tzinfo=UTC)
_LONG_DIGITS = re.compile(r"\d{19}")
_INFINITE = {"infinity": _MAX_UTC, "+infinity": _MAX_UTC, "-infinity": _MIN_UTC}


def unscaled_decimal(raw: bytes, scale: int) -> Decimal:
    """A decimal from its big-endian two's-complement unscaled bytes."""
    if not raw:
        raise ValueError("a decimal needs at least one byte")
    unscaled = int.from_bytes(raw, "big", signed=True)
    return Decimal(unscaled).scaleb(-scale, _EXACT)


def b64_bytes(value: Any) -> bytes:
    """Bytes from JsonConverter's base64 text (strict: bad input raises)."""
    if type(value) is not str:
        raise TypeError("expected base64 text")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc


def raw_bytes(value: Any) -> bytes:
    """Bytes as fastavro delivers them."""
    if not isinstance(value, bytes):
        raise TypeError("expected bytes")
    return value


def decimal_converter(scale: int, to_bytes: Converter) -> Converter:
    """``org.apache.kafka.connect.data.Decimal`` with a fixed ``scale``."""

    def convert(value: Any) -> Decimal:
        return unscaled_decimal(to_bytes(value), scale)

    return convert


def variable_decimal_converter(to_bytes: Converter) -> Converter:
    """``io.debezium.data.VariableScaleDecimal``: a struct of scale and value."""

    def convert(value: Any) -> Decimal:
        scale = value["scale"]
        if isinstance(scale, bool) or not isinstance(scale, int):
            raise TypeError("decimal scale is not an integer")
        return unscaled_decimal(to_bytes(value["value"]), scale)

    return convert


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected a whole number")
    whole: int = value
    return whole


def epoch_days(value: Any) -> date:
    """Days since 1970-01-01."""
    ordinal = _EPOCH_ORDINAL + _whole(value)
    if not 1 <= ordinal <= _MAX_ORDINAL:
        raise OverflowError("date outside years 1-9999")
    return date.fromordinal(ordinal)


def _infinities(units_per_second: int) -> dict[int, datetime]:
    """The counts that stand for PostgreSQL's +/-infinity in one unit.

    The PostgreSQL JDBC driver's infinity instants, in milliseconds, scaled
    to the unit; and the extreme 64-bit values.
    """
    scale = units_per_second // 1_000
    return {
        9_223_372_036_825_200 * scale: _MAX_UTC,
        -9_223_372_036_832_400 * scale: _MIN_UTC,
        2**63 - 1: _MAX_UTC,
        -(2**63): _MIN_UTC,
    }


def epoch_timestamp(units_per_second: int) -> Converter:
    """A UTC timestamp from a count of ms, µs or ns since the epoch.

    Counts beyond year 9999 (other than the infinities) raise OverflowError.
    """
    per_micro = units_per_second // 1_000_000
    infinities = _infinities(units_per_second)

    def convert(value: Any) -> datetime:
        count = _whole(value)
        try:
            if units_per_second == 1_000:
                return EPOCH + timedelta(milliseconds=count)
            return EPOCH + timedelta(microseconds=count // per_micro)
        except OverflowError:
            infinite = infinities.get(count)
            if infinite is None:
                raise
            return infinite

    return convert


def time_of_day(units_per_second: int) -> Converter:
    """A time of day (or a duration, outside 00:00-24:00) from ms, µs or ns."""

    def convert(value: Any) -> time | timedelta:
        micros = _whole(value) * 1_000_000 // units_per_second
        if not 0 <= micros < DAY_MICROS:
            return timedelta(microseconds=micros)
        seconds, micro = divmod(micros, 1_000_000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        return time(hour, minute, second, micro)

    return convert


def duration(units_per_second: int) -> Converter:
    """A duration from µs or ns (``MicroDuration``, ``NanoDuration``)."""

    def convert(value: Any) -> timedelta:
        return timedelta(microseconds=_whole(value) * 1_000_000 // units_per_second)

    return convert


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def zoned_timestamp(value: Any) -> datetime | None:
    """``ZonedTimestamp``: ISO 8601 with offset; MySQL zero dates -> None."""
    text = _text(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        infinite = _INFINITE.get(text.lower())
        if infinite is not None:
            return infinite
        if text.startswith("0000-00-00"):
            return None
        raise
    if parsed.tzinfo is None:
        raise ValueError("zoned timestamp without offset")
    return parsed


def zoned_time(value: Any) -> time:
    """``ZonedTime``: ISO 8601 time of day with offset."""
    parsed = time.fromisoformat(_text(value))
    if parsed.tzinfo is None:
        raise ValueError("zoned time without offset")
    return parsed


def iso_date(value: Any) -> date | None:
    """``IsoDate`` text (``time.precision.mode=isostring``)."""
    text = _text(value)
    return None if text.startswith("0000-00-00") else date.fromisoformat(text)


def iso_time(value: Any) -> time:
    """``IsoTime`` text."""
    return time.fromisoformat(_text(value))


def iso_timestamp(value: Any) -> datetime | None:
    """``IsoTimestamp`` text: UTC when it carries no offset."""
    text = _text(value)
    if text.startswith("0000-00-00"):
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def json_value(value: Any) -> Any:
    """``io.debezium.data.Json``: the parsed document."""
    text = _text(value)
    if _LONG_DIGITS.search(text):
        # orjson turns integers beyond 64 bits into floats; json keeps them exact.
        return json.loads(text)
    return orjson.loads(text)


def uuid_value(value: Any) -> uuid.UUID:
    """``io.debezium.data.Uuid``."""
    return uuid.UUID(_text(value))


def enum_set(value: Any) -> tuple[str, ...]:
    """``io.debezium.data.EnumSet``: comma-separated members."""
    text = _text(value)
    return tuple(text.split(",")) if text else ()


def bits_converter(length: int | None, to_bytes: Converter) -> Converter:
    """``io.debezium.data.Bits``: little-endian bytes -> bit string."""

    def convert(value: Any) -> str:
        raw = to_bytes(value)
        width = length if length is not None else len(raw) * 8
        number = int.from_bytes(raw, "little")
        if number.bit_length() > width:
            raise ValueError("more bits than the column holds")
        return format(number, f"0{width}b") if width else ""

    return convert


def checked(kind: type) -> Converter:
    """A pass-through that only checks the JSON value's type."""

    def convert(value: Any) -> Any:
        if type(value) is not kind:
            raise TypeError("value does not match its schema type")
        return value

    return convert


_NON_FINITE = {
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
}


def json_float(value: Any) -> float:
    """A float column as JSON: a number, or Jackson's quoted non-finite names."""
    kind = type(value)
    if kind is float:
        return float(value)
    if kind is int:
        return float(value)
    if kind is str and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise TypeError("value does not match its schema type")


def int_range(bits: int) -> Converter:
    """An integer column of ``bits`` width, checked."""
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def convert(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise TypeError("value does not match its schema type")
        return value

    return convert
