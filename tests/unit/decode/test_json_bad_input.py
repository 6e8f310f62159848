"""Bad JsonConverter records become dead letters; the flow goes on."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from lifeline.decode.change import DeadLetter
from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.records import KafkaRecord
from tests.unit.decode.builders import (
    col,
    decimal_col,
    envelope,
    mysql_source,
    pg_source,
    record,
)
from tests.unit.decode.test_json_envelope import COLUMNS, ROW


def dead(rec: KafkaRecord) -> DeadLetter:
    result = EnvelopeDecoder().decode_one(rec)
    assert isinstance(result, DeadLetter), result
    return result


SECRET = "Ada-Lovelace-secret"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (b"{not json", "malformed_json"),
        (b"[1,2]", "malformed_envelope"),
        (orjson.dumps(envelope("x", pg_source(1), {"n": SECRET})), "unknown_op"),
        (
            orjson.dumps({"source": pg_source(1), "after": {"n": SECRET}}),
            "missing_field",
        ),
        (
            orjson.dumps({"payload": envelope("c", pg_source(1), {"n": 1})}),
            "malformed_envelope",
        ),
        (orjson.dumps({"op": "c", "after": {"n": SECRET}}), "missing_field"),
        (orjson.dumps(envelope("c", pg_source(1), None)), "missing_field"),
        (
            orjson.dumps(envelope("c", {"connector": "oracle", "ts_ms": 1}, {"a": 1})),
            "unknown_connector",
        ),
        (
            orjson.dumps(envelope("c", pg_source(1) | {"lsn": None}, {"a": 1})),
            "missing_field",
        ),
        (
            orjson.dumps(envelope("c", pg_source(1) | {"ts_ms": "x"}, {"a": 1})),
            "missing_field",
        ),
        (
            orjson.dumps(envelope("d", pg_source(1), {"n": SECRET}, {"n": SECRET})),
            "malformed_envelope",
        ),
        (
            orjson.dumps(envelope("c", pg_source(1) | {"sequence": "[1]"}, {"a": 1})),
            "bad_position",
        ),
        (
            orjson.dumps(envelope("c", mysql_source(1, file="binlog"), {"a": 1})),
            "bad_position",
        ),
    ],
)
def test_bad_values_become_dead_letters_without_row_values(
    value: bytes, kind: str
) -> None:
    rec = KafkaRecord("identity.public.t", 3, 99, b'{"id":1}', value)
    letter = dead(rec)
    assert letter.kind == kind
    assert (letter.coordinates.partition, letter.coordinates.offset) == (3, 99)
    assert letter.value == value
    assert letter.key == b'{"id":1}'
    assert letter.stage == "decode"
    assert SECRET not in letter.reason


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (col("n", "int32"), "Ada-Lovelace-secret"),
        (col("n", "int32"), 2**40),
        (col("n", "boolean"), 1),
        (col("n", "string"), 5),
        (decimal_col("n", 2), "not base64 Ada-Lovelace-secret!"),
        (col("n", "int32", "io.debezium.time.Date"), "2020-01-01"),
        (col("n", "string", "io.debezium.data.Uuid"), "Ada-Lovelace-secret"),
        (col("n", "string", "io.debezium.time.ZonedTimestamp"), "yesterday"),
        (col("n", "string", "io.debezium.data.Json"), "{Ada-Lovelace-secret"),
    ],
)
def test_payload_contradicting_its_schema(column: dict[str, Any], value: Any) -> None:
    rec = record(envelope("c", pg_source(1), {"n": value}), None, [column])
    letter = dead(rec)
    assert letter.kind == "schema_mismatch"
    assert "'n'" in letter.reason
    assert SECRET not in letter.reason


def test_column_missing_from_schema_is_a_mismatch() -> None:
    letter = dead(
        record(
            envelope("c", pg_source(1), {"id": 1, "ghost": 2}),
            None,
            [col("id", "int32")],
        )
    )
    assert letter.kind == "schema_mismatch"


def test_bad_key_is_a_dead_letter() -> None:
    base = record(envelope("c", pg_source(1), {"id": 1}))
    for key in (b"{oops", b"[1]"):
        letter = dead(KafkaRecord(base.topic, 0, 0, key, base.value))
        assert letter.kind == "malformed_key"


def test_the_flow_goes_on_after_bad_records() -> None:
    good = record(envelope("c", pg_source(1), dict(ROW)), {"id": 7}, COLUMNS)
    bad = KafkaRecord(good.topic, 0, 5, None, b"\xff\xfe")
    events, letters = EnvelopeDecoder().decode_batch([bad, good, bad, good])
    assert len(events) == 2
    assert [d.coordinates.offset for d in letters] == [5, 5]


def test_value_beyond_python_range_is_out_of_range() -> None:
    column = col("n", "int64", "io.debezium.time.MicroTimestamp")
    letter = dead(record(envelope("c", pg_source(1), {"n": 2**62}), None, [column]))
    assert letter.kind == "out_of_range"
    assert "'n'" in letter.reason
