"""The JsonConverter decoder: envelope shapes, both converter modes, bad input."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from lifeline.decode.change import (
    TOMBSTONE,
    UNCHANGED,
    ChangeEvent,
    DeadLetter,
    TransactionBoundary,
)
from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.position import BinlogPosition, PostgresPosition
from lifeline.decode.records import KafkaRecord
from tests.unit.decode.builders import (
    col,
    decimal_col,
    envelope,
    mysql_source,
    pg_source,
    record,
    unscaled_b64,
)

COLUMNS = [
    col("id", "int32"),
    col("name", "string"),
    decimal_col("amount", 2),
    col("born", "int32", "io.debezium.time.Date"),
    col("notes", "string"),
    col("photo", "bytes"),
]
KEY = [col("id", "int32")]
ROW = {
    "id": 7,
    "name": "Ada",
    "amount": unscaled_b64("12.50", 2),
    "born": 365,
    "notes": "long text",
    "photo": base64.b64encode(b"\x00\xff").decode(),
}


def decode(rec: KafkaRecord) -> ChangeEvent:
    result = EnvelopeDecoder().decode_one(rec)
    assert isinstance(result, ChangeEvent), result
    return result


def dead(rec: KafkaRecord) -> DeadLetter:
    result = EnvelopeDecoder().decode_one(rec)
    assert isinstance(result, DeadLetter), result
    return result


@pytest.mark.parametrize("op", ["c", "r", "u"])
def test_row_ops_with_schema_are_typed(op: str) -> None:
    before = dict(ROW) if op == "u" else None
    event = decode(
        record(envelope(op, pg_source(100), dict(ROW), before), {"id": 7}, COLUMNS, KEY)
    )
    assert event.op == op
    assert event.after is not None
    assert event.after["amount"] == Decimal("12.50")
    assert event.after["born"] == date(1971, 1, 1)
    assert event.after["photo"] == b"\x00\xff"
    assert event.key == {"id": 7}
    assert (event.system, event.namespace, event.table) == (
        "identity",
        "public",
        "type_zoo",
    )
    assert (event.database, event.schema, event.connector) == (
        "identity",
        "public",
        "postgresql",
    )
    assert event.ts_ms == 1764800000000
    assert event.ts_us == 1764800000000123
    if op == "u":
        assert event.before is not None
        assert event.before["amount"] == Decimal("12.50")


def test_payload_only_mode_keeps_json_values() -> None:
    event = decode(record(envelope("c", pg_source(100), dict(ROW)), {"id": 7}))
    assert event.after == ROW
    assert isinstance(event.position, PostgresPosition)


def test_delete_with_key_only_before_and_tombstone() -> None:
    key_only = {name: None for name in ROW} | {"id": 7}
    event = decode(
        record(envelope("d", pg_source(300), None, key_only), {"id": 7}, COLUMNS)
    )
    assert event.op == "d"
    assert event.after is None
    assert event.before == key_only
    stone = decode(record(None, {"id": 7}))
    assert stone.op == TOMBSTONE
    assert stone.position is None
    assert stone.key == {"id": 7}
    assert (stone.system, stone.namespace, stone.table) == (
        "identity",
        "public",
        "type_zoo",
    )


def test_update_without_before_replica_identity_default() -> None:
    event = decode(
        record(envelope("u", pg_source(200), dict(ROW), None), {"id": 7}, COLUMNS)
    )
    assert event.before is None
    assert event.after is not None


def test_truncate_has_no_key_and_no_rows() -> None:
    event = decode(record(envelope("t", pg_source(400)), None, COLUMNS))
    assert event.op == "t"
    assert event.key == {}
    assert event.before is None
    assert event.after is None
    assert event.table == "type_zoo"
    assert event.position is not None


def test_logical_decoding_message() -> None:
    source = pg_source(500) | {"schema": "", "table": ""}
    payload = {
        "op": "m",
        "ts_ms": 1,
        "source": source,
        "message": {"prefix": "audit", "content": base64.b64encode(b"hi").decode()},
    }
    event = decode(record(payload, {"prefix": "audit"}, topic="identity.message"))
    assert event.op == "m"
    assert event.message is not None
    assert (event.message.prefix, event.message.content) == ("audit", b"hi")
    assert event.before is None and event.after is None


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("true", "true"),
        ("first", "first"),
        ("first_in_data_collection", "first_in_data_collection"),
        ("last_in_data_collection", "last_in_data_collection"),
        ("last", "last"),
        ("incremental", "incremental"),
        ("false", None),
        (None, None),
        (True, "true"),
        (False, None),
    ],
)
def test_snapshot_markers(marker: Any, expected: str | None) -> None:
    event = decode(
        record(envelope("r", pg_source(1, snapshot=marker), dict(ROW)), {"id": 7})
    )
    assert event.snapshot == expected


def test_unknown_snapshot_marker_is_a_dead_letter() -> None:
    letter = dead(record(envelope("r", pg_source(1, snapshot="sometimes"), dict(ROW))))
    assert letter.kind == "bad_field"


def test_transaction_block() -> None:
    tx = {"id": "571:53195829", "total_order": 3, "data_collection_order": 2}
    event = decode(
        record(envelope("c", pg_source(1), dict(ROW), transaction=tx), {"id": 7})
    )
    assert event.tx_id == "571:53195829"
    assert event.transaction is not None
    assert (event.transaction.total_order, event.transaction.data_collection_order) == (
        3,
        2,
    )


def test_transaction_topic_begin_and_end() -> None:
    begin = {"status": "BEGIN", "id": "571:1", "ts_ms": 5, "event_count": None}
    end = {
        "status": "END",
        "id": "571:1",
        "ts_ms": 6,
        "event_count": 2,
        "data_collections": [{"data_collection": "public.type_zoo", "event_count": 2}],
    }
    decoder = EnvelopeDecoder()
    records = [
        record(begin, {"id": "571:1"}, topic="identity.transaction"),
        record(end, {"id": "571:1"}, topic="identity.transaction"),
    ]
    batch = decoder.decode_all(records)
    assert batch.events == [] and batch.dead_letters == []
    first, second = batch.boundaries
    assert isinstance(first, TransactionBoundary)
    assert (first.status, first.event_count, first.data_collections) == (
        "BEGIN",
        None,
        None,
    )
    assert second.event_count == 2
    assert second.data_collections is not None
    assert second.data_collections[0].data_collection == "public.type_zoo"
    # decode_batch keeps its (events, dead letters) contract
    assert decoder.decode_batch(records) == ([], [])


def test_mysql_envelope_position() -> None:
    event = decode(
        record(
            envelope("c", mysql_source(4711, row=2), {"id": 1}),
            {"id": 1},
            topic="erp.erp.type_zoo",
        )
    )
    assert isinstance(event.position, BinlogPosition)
    assert (event.position.file, event.position.pos, event.position.row) == (
        "mysql-bin.000003",
        4711,
        2,
    )
    assert (event.namespace, event.database, event.schema) == ("erp", "erp", None)


def test_schema_evolution_mid_stream() -> None:
    decoder = EnvelopeDecoder()
    old = record(envelope("c", pg_source(1), dict(ROW)), {"id": 7}, COLUMNS)
    added = [*COLUMNS, decimal_col("bonus", 3)]
    new_row = ROW | {"bonus": unscaled_b64("1.250", 3)}
    new = record(envelope("c", pg_source(2), new_row), {"id": 8}, added)
    dropped_cols = [c for c in COLUMNS if c["field"] != "notes"]
    dropped_row = {k: v for k, v in ROW.items() if k != "notes"}
    dropped = record(envelope("c", pg_source(3), dropped_row), {"id": 9}, dropped_cols)
    events, letters = decoder.decode_batch([old, new, old, dropped, new])
    assert letters == []
    assert [e.after is not None and "bonus" in e.after for e in events] == [
        False,
        True,
        False,
        False,
        True,
    ]
    assert events[1].after is not None and events[1].after["bonus"] == Decimal("1.250")
    assert events[3].after is not None and "notes" not in events[3].after


def test_cached_schema_does_not_leak_between_payloads() -> None:
    decoder = EnvelopeDecoder()
    first = record(envelope("c", pg_source(1), dict(ROW)), {"id": 7}, COLUMNS)
    second_row = ROW | {"amount": unscaled_b64("-0.01", 2)}
    second = record(envelope("c", pg_source(2), second_row), {"id": 8}, COLUMNS)
    events, _ = decoder.decode_batch([first, second])
    assert [e.after and e.after["amount"] for e in events] == [
        Decimal("12.50"),
        Decimal("-0.01"),
    ]


def test_trailing_whitespace_and_extra_keys_still_decode() -> None:
    decoder = EnvelopeDecoder()
    base = record(envelope("c", pg_source(1), dict(ROW)), {"id": 7}, COLUMNS)
    assert base.value is not None
    padded = KafkaRecord(base.topic, 0, 1, base.key, base.value + b"\n ")
    extra = KafkaRecord(base.topic, 0, 2, base.key, base.value[:-1] + b',"x":1}')
    events, letters = decoder.decode_batch([base, padded, extra, padded])
    assert letters == []
    assert len(events) == 4


def test_unchanged_toast_placeholder_in_every_form() -> None:
    columns = [
        *COLUMNS,
        col("doc", "string", "io.debezium.data.Json"),
        col("tags", "array"),
    ]
    columns[-1]["items"] = {"type": "string", "optional": True}
    placeholder = "__debezium_unavailable_value"
    row = ROW | {
        "notes": placeholder,
        "photo": base64.b64encode(placeholder.encode()).decode(),
        "amount": base64.b64encode(placeholder.encode()).decode(),
        "doc": placeholder,
        "tags": [placeholder],
    }
    event = decode(record(envelope("u", pg_source(9), row), {"id": 7}, columns))
    assert event.after is not None
    for name in ("notes", "photo", "amount", "doc", "tags"):
        assert event.after[name] is UNCHANGED, name
    assert event.after["name"] == "Ada"
    # payload-only records are recognised too
    plain = decode(record(envelope("u", pg_source(9), {"id": 7, "notes": placeholder})))
    assert plain.after == {"id": 7, "notes": UNCHANGED}


def test_custom_placeholder() -> None:
    decoder = EnvelopeDecoder(placeholder="~gone~")
    result = decoder.decode(
        record(envelope("u", pg_source(9), {"id": 1, "n": "~gone~"}))
    )
    assert isinstance(result, ChangeEvent)
    assert result.after == {"id": 1, "n": UNCHANGED}


def test_typed_key_with_schema() -> None:
    key_columns = [decimal_col("code", 1), col("day", "int32", "io.debezium.time.Date")]
    key = {"code": unscaled_b64("4.2", 1), "day": 0}
    event = decode(
        record(envelope("c", pg_source(1), dict(ROW)), key, COLUMNS, key_columns)
    )
    assert event.key == {"code": Decimal("4.2"), "day": date(1970, 1, 1)}
    assert event.row_id == "4.2|1970-01-01"


def test_commit_time_is_kept() -> None:
    event = decode(record(envelope("c", pg_source(1), dict(ROW))))
    assert datetime.fromtimestamp(event.ts_ms / 1000, UTC).year == 2025


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (mysql_source(4, 1) | {"connector": "mariadb"}, "mysql"),
        (
            {
                "connector": "sqlserver",
                "ts_ms": 1,
                "db": "crm",
                "schema": "dbo",
                "table": "accounts",
                "commit_lsn": "00000025:00000d08:0026",
                "change_lsn": "00000025:00000d08:0025",
                "event_serial_no": 1,
                "snapshot": "false",
            },
            "sqlserver",
        ),
    ],
)
def test_other_connectors(source: dict[str, Any], kind: str) -> None:
    event = decode(record(envelope("c", source, {"id": 1}), {"id": 1}, topic="crm.t"))
    assert event.position is not None
    assert event.position.kind == kind
