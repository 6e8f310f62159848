"""Semantic type converters: hand-picked edge cases and properties."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifeline.decode import types as t
from lifeline.decode.plan import AVRO, JSON, converter_for
from tests.unit.decode.builders import col, decimal_col, unscaled_bytes

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def convert(schema: dict[str, Any], value: Any, mode: Any = JSON) -> Any:
    converter = converter_for(schema, mode)
    assert converter is not None
    return converter(value)


# --- decimals in every decimal.handling.mode ---------------------------------


def _plain_exponent(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and -60 <= exponent <= 0


decimals: st.SearchStrategy[Decimal] = st.decimals(
    allow_nan=False, allow_infinity=False
).filter(_plain_exponent)


@given(st.integers(-(10**60), 10**60), st.integers(0, 40))
def test_precise_decimal_is_exact_at_any_precision(unscaled: int, scale: int) -> None:
    raw = unscaled.to_bytes(
        max(1, (unscaled.bit_length() + 8) // 8), "big", signed=True
    )
    value = t.unscaled_decimal(raw, scale)
    assert value == Decimal(unscaled).scaleb(-scale, t._EXACT)
    assert value.as_tuple().exponent == -scale
    assert int(value.scaleb(scale, t._EXACT)) == unscaled


@given(decimals)
def test_precise_decimal_round_trips_through_json_and_avro(value: Decimal) -> None:
    scale = -int(value.as_tuple().exponent)
    raw = unscaled_bytes(value, scale)
    schema = decimal_col("d", scale)
    assert convert(schema, base64.b64encode(raw).decode()) == value
    assert convert(schema, raw, AVRO) == value


@given(decimals)
def test_variable_scale_decimal(value: Decimal) -> None:
    scale = -int(value.as_tuple().exponent)
    raw = unscaled_bytes(value, scale)
    schema = col("d", "struct", "io.debezium.data.VariableScaleDecimal")
    payload = {"scale": scale, "value": base64.b64encode(raw).decode()}
    assert convert(schema, payload) == value
    assert convert(schema, {"scale": scale, "value": raw}, AVRO) == value


def test_decimal_edge_cases() -> None:
    schema = decimal_col("d", 2)
    assert convert(schema, base64.b64encode(b"\x00").decode()) == Decimal("0.00")
    assert str(convert(schema, base64.b64encode(b"\xff").decode())) == "-0.01"
    assert convert(schema, base64.b64encode(b"\x80\x00").decode()) == Decimal("-327.68")
    with pytest.raises(ValueError):
        convert(schema, "")


def test_string_and_double_decimal_modes_pass_through() -> None:
    assert convert(col("d", "string"), "12345678901234567890.123456789") == (
        "12345678901234567890.123456789"
    )
    assert convert(col("d", "double"), 1.25) == 1.25
    assert convert(col("d", "double"), 3) == 3.0
    nan = convert(col("d", "double"), "NaN")
    assert nan != nan
    assert convert(col("d", "double"), "-Infinity") == float("-inf")


# --- temporal types -----------------------------------------------------------


@given(st.integers(-719162, 2932896))
def test_date_is_days_since_epoch(days: int) -> None:
    for name in ("io.debezium.time.Date", "org.apache.kafka.connect.data.Date"):
        value = convert(col("d", "int32", name), days)
        assert value == date(1970, 1, 1) + timedelta(days=days)
        assert (value - date(1970, 1, 1)).days == days


aware = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(aware)
def test_epoch_timestamps_round_trip(moment: datetime) -> None:
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    ms = micros // 1000
    micro_ts = convert(col("t", "int64", "io.debezium.time.MicroTimestamp"), micros)
    assert micro_ts == moment and micro_ts.tzinfo is not None
    nano = convert(
        col("t", "int64", "io.debezium.time.NanoTimestamp"), micros * 1000 + 999
    )
    assert nano == moment
    for name in (
        "io.debezium.time.Timestamp",
        "org.apache.kafka.connect.data.Timestamp",
    ):
        milli = convert(col("t", "int64", name), ms)
        assert milli == EPOCH + timedelta(milliseconds=ms)


@given(st.integers(-(2**62), 2**62), st.integers(-(2**62), 2**62))
def test_epoch_timestamp_order_is_kept(a: int, b: int) -> None:
    convert_ns = t.epoch_timestamp(1_000_000_000)
    try:
        left, right = convert_ns(a), convert_ns(b)
    except OverflowError:
        return
    assert (a <= b) <= (left <= right)


def test_infinite_and_out_of_range_timestamps() -> None:
    micro = col("t", "int64", "io.debezium.time.MicroTimestamp")
    milli = col("t", "int64", "org.apache.kafka.connect.data.Timestamp")
    top, bottom = datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)
    # PostgreSQL's infinity as the JDBC driver reports it, as captured
    assert convert(micro, 9223372036825200000) == top
    assert convert(micro, -9223372036832400000) == bottom
    assert convert(milli, 9223372036825200) == top
    assert convert(micro, 2**63 - 1) == top
    assert convert(micro, -(2**63)) == bottom
    with pytest.raises(OverflowError):
        convert(col("d", "int32", "io.debezium.time.Date"), -800_000)
    zoned = col("t", "string", "io.debezium.time.ZonedTimestamp")
    assert convert(zoned, "infinity") == datetime.max.replace(tzinfo=UTC)
    assert convert(zoned, "-infinity") == datetime.min.replace(tzinfo=UTC)
    with pytest.raises(OverflowError):
        convert(micro, 2**62)


@given(st.integers(0, 86_399_999_999))
def test_times_of_day(micros: int) -> None:
    midnight = datetime(2000, 1, 1, tzinfo=UTC)
    expected = (midnight + timedelta(microseconds=micros)).time()
    assert convert(col("t", "int64", "io.debezium.time.MicroTime"), micros) == expected
    nanos = convert(col("t", "int64", "io.debezium.time.NanoTime"), micros * 1000 + 7)
    assert nanos == expected
    ms_expected = expected.replace(microsecond=expected.microsecond // 1000 * 1000)
    for name in ("io.debezium.time.Time", "org.apache.kafka.connect.data.Time"):
        assert convert(col("t", "int32", name), micros // 1000) == ms_expected


def test_times_outside_one_day_are_durations() -> None:
    micro = col("t", "int64", "io.debezium.time.MicroTime")
    mysql_max = (838 * 3600 + 59 * 60 + 59) * 1_000_000
    assert convert(micro, mysql_max) == timedelta(hours=838, minutes=59, seconds=59)
    assert convert(micro, -1_000_000) == timedelta(seconds=-1)
    assert convert(micro, 86_400_000_000) == timedelta(hours=24)


def test_zoned_types() -> None:
    zoned = col("t", "string", "io.debezium.time.ZonedTimestamp")
    value = convert(zoned, "2026-12-04T10:00:00.123456+02:00")
    assert value == datetime(2026, 12, 4, 8, 0, 0, 123456, tzinfo=UTC)
    assert value.utcoffset() == timedelta(hours=2)
    assert convert(zoned, "2026-12-04T10:00:00Z").tzinfo is not None
    # nanosecond digits (SQL Server datetimeoffset(7)) keep microseconds
    assert convert(zoned, "2026-12-04T10:00:00.1234567Z").microsecond == 123456
    zoned_time = col("t", "string", "io.debezium.time.ZonedTime")
    assert convert(zoned_time, "10:15:30.5Z") == time(10, 15, 30, 500000, tzinfo=UTC)
    with pytest.raises(ValueError):
        convert(zoned, "2026-12-04T10:00:00")


def test_mysql_zero_dates() -> None:
    # Debezium sends zero dates as null (nullable column) or the epoch (NOT NULL)
    assert convert(col("d", "int32", "io.debezium.time.Date"), 0) == date(1970, 1, 1)
    assert convert(col("t", "int64", "io.debezium.time.Timestamp"), 0) == EPOCH
    zoned = col("t", "string", "io.debezium.time.ZonedTimestamp")
    assert convert(zoned, "1970-01-01T00:00:00Z") == EPOCH
    assert convert(zoned, "0000-00-00T00:00:00Z") is None


def test_iso_string_and_duration_types() -> None:
    assert convert(
        col("d", "string", "io.debezium.time.IsoDate"), "2024-02-29"
    ) == date(2024, 2, 29)
    assert convert(
        col("t", "string", "io.debezium.time.IsoTime"), "23:59:59.5"
    ) == time(23, 59, 59, 500000)
    stamp = convert(
        col("t", "string", "io.debezium.time.IsoTimestamp"), "2024-02-29T01:02:03"
    )
    assert stamp == datetime(2024, 2, 29, 1, 2, 3, tzinfo=UTC)
    micro = col("t", "int64", "io.debezium.time.MicroDuration")
    assert convert(micro, 90_000_000) == timedelta(seconds=90)


# --- other semantic types -----------------------------------------------------


def test_json_uuid_enum_enumset_bits_arrays() -> None:
    doc = convert(col("j", "string", "io.debezium.data.Json"), '{"a": [1, 2.5, null]}')
    assert doc == {"a": [1, 2.5, None]}
    big = convert(
        col("j", "string", "io.debezium.data.Json"), '{"n": 123456789012345678901234}'
    )
    assert big == {"n": 123456789012345678901234}
    text = "6f1c2c9e-2f4b-4c2a-9a4e-0d1e2f3a4b5c"
    assert convert(col("u", "string", "io.debezium.data.Uuid"), text) == uuid.UUID(text)
    assert (
        convert(col("e", "string", "io.debezium.data.Enum", allowed="a,b"), "b") == "b"
    )
    enum_set = col("s", "string", "io.debezium.data.EnumSet", allowed="a,b,c")
    assert convert(enum_set, "a,c") == ("a", "c")
    assert convert(enum_set, "") == ()
    bits = col("b", "bytes", "io.debezium.data.Bits", length=10)
    # little-endian bytes: 0b10_0000_0101 = 0x205 -> 05 02
    assert convert(bits, base64.b64encode(b"\x05\x02").decode()) == "1000000101"
    assert convert(bits, b"\x05\x02", AVRO) == "1000000101"
    array = col("a", "array") | {"items": decimal_col("x", 1)}
    items = [base64.b64encode(b"\x0c").decode(), None]
    assert convert(array, items) == [Decimal("1.2"), None]
    dates = col("a", "array") | {"items": col("x", "int32", "io.debezium.time.Date")}
    assert convert(dates, [1]) == [date(1970, 1, 2)]


def test_maps_and_nested_structs() -> None:
    hstore = col("m", "map") | {
        "keys": {"type": "string"},
        "values": {"type": "string"},
    }
    assert convert(hstore, {"a": "1"}) == {"a": "1"}
    geometry = col("g", "struct", "io.debezium.data.geometry.Point") | {
        "fields": [col("x", "double"), col("y", "double"), col("wkb", "bytes")]
    }
    value = convert(
        geometry, {"x": 1.0, "y": 2.0, "wkb": base64.b64encode(b"\x01").decode()}
    )
    assert value == {"x": 1.0, "y": 2.0, "wkb": b"\x01"}


def test_avro_plain_values_need_no_converter() -> None:
    assert converter_for(col("s", "string"), AVRO) is None
    assert converter_for(col("b", "bytes"), AVRO) is None
    assert converter_for(col("i", "int64"), AVRO) is None


def test_unknown_offsets_kept() -> None:
    value = convert(
        col("t", "string", "io.debezium.time.ZonedTimestamp"),
        "2026-01-01T00:00:00-03:30",
    )
    assert value.tzinfo == timezone(-timedelta(hours=3, minutes=30))
