"""The Debezium envelope, once its converter's encoding is removed.

Both decoders (JSON and Avro) parse a record into plain Python values and
hand the envelope here with the row plan of its schema. This module checks
the envelope's shape, reads the source block and builds the ChangeEvent or
TransactionBoundary.
"""

from __future__ import annotations

from typing import Any

from lifeline.decode.change import (
    TOMBSTONE,
    ChangeEvent,
    DataCollectionCount,
    Decoded,
    LogicalMessage,
    Row,
    TransactionBoundary,
    TransactionInfo,
)
from lifeline.decode.placeholder import Placeholder
from lifeline.decode.plan import EMPTY_PLAN, Mode, RowPlan
from lifeline.decode.records import KafkaRecord
from lifeline.decode.source_info import position_from_source, snapshot_marker
from lifeline.errors import RecordError

OPS = frozenset({"c", "r", "u", "d", "t", "m"})
_BOUNDARY = frozenset({"BEGIN", "END"})


def build(
    record: KafkaRecord,
    key: Row,
    payload: Any,
    rows: RowPlan,
    placeholder: Placeholder | None,
    mode: Mode,
) -> Decoded:
    """The event a parsed envelope describes; RecordError when it is malformed.

    ``rows`` converts before/after; ``placeholder`` is given when the raw
    record may hold the unavailable-value placeholder.
    """
    if type(payload) is not dict:
        raise RecordError("malformed_envelope", "value is not an envelope object")
    op = payload.get("op")
    if op not in OPS:
        if op is None and payload.get("status") in _BOUNDARY:
            return _boundary(record, payload)
        if op is None and "payload" in payload:
            reason = "the value has a payload but no schema beside it"
            raise RecordError("malformed_envelope", reason)
        if op is None:
            raise RecordError("missing_field", "the envelope has no op")
        raise RecordError("unknown_op", f"op {_shown(op)} is not one of c r u d t m")
    source = payload.get("source")
    if type(source) is not dict:
        raise RecordError("missing_field", "the envelope has no source block")
    content = _content(op, payload, rows, placeholder, mode)
    return _event(record, op, key if op != "t" else {}, source, payload, content)


def _event(
    record: KafkaRecord,
    op: str,
    key: Row,
    source: dict[str, Any],
    payload: dict[str, Any],
    content: tuple[Row | None, Row | None, LogicalMessage | None],
) -> ChangeEvent:
    connector, ts_ms = source.get("connector"), source.get("ts_ms")
    if type(connector) is not str or type(ts_ms) is not int:
        raise RecordError(
            "missing_field", "source.connector or source.ts_ms is missing"
        )
    position = position_from_source(connector, source, op)
    if op in _ROW_OPS:
        _check_row_identity(source, key)
    block = payload.get("transaction")
    transaction = None if block is None else _transaction(block)
    database, schema = source.get("db"), source.get("schema") or None
    snap, ts_us = source.get("snapshot"), source.get("ts_us")
    before, after, message = content
    return ChangeEvent(
        record.topic.partition(".")[0],
        str(schema or database or ""),
        str(source.get("table") or ""),
        op,
        key,
        before,
        after,
        position,
        ts_ms,
        None if snap == "false" else snapshot_marker(snap),
        None if transaction is None else transaction.id,
        record.coordinates,
        connector,
        str(database or ""),
        None if schema is None else str(schema),
        ts_us if type(ts_us) is int else None,
        transaction,
        message,
    )


_ROW_OPS = frozenset("crud")


def _check_row_identity(source: dict[str, Any], key: Row) -> None:
    """A row change must name its table and carry a primary key.

    Later stages key state by (system, table, primary key); a change without
    them could only be stored under a wrong or empty key.
    """
    table, database = source.get("table"), source.get("db")
    if type(table) is not str or not table:
        raise RecordError("missing_field", "source.table is missing or not a string")
    if database is not None and type(database) is not str:
        raise RecordError("missing_field", "source.db is not a string")
    if not key:
        raise RecordError(
            "missing_key",
            "the record has no key: the table has no primary key "
            "(configure message.key.columns for it)",
        )


def _content(
    op: str, payload: dict[str, Any], rows: RowPlan, ph: Placeholder | None, mode: Mode
) -> tuple[Row | None, Row | None, LogicalMessage | None]:
    if op == "m":
        return None, None, _message(payload.get("message"), mode)
    if op == "t":
        return None, None, None
    before, after = payload.get("before"), payload.get("after")
    if ph is not None:
        ph.mark(before)
        ph.mark(after)
    if after is None:
        if op != "d":
            raise RecordError("missing_field", f"op '{op}' carries no after row")
    elif op == "d":
        raise RecordError("malformed_envelope", "a delete carries an after row")
    if rows is EMPTY_PLAN:
        if (before is None or type(before) is dict) and (
            after is None or type(after) is dict
        ):
            return before, after, None
        raise RecordError("malformed_envelope", "before/after is not an object")
    return (
        None if before is None else rows.apply(before, "before"),
        None if after is None else rows.apply(after, "after"),
        None,
    )


def _message(block: Any, mode: Mode) -> LogicalMessage:
    if type(block) is not dict:
        raise RecordError("missing_field", "op 'm' carries no message block")
    prefix, content = block.get("prefix"), block.get("content")
    if not isinstance(prefix, str):
        raise RecordError("missing_field", "message.prefix is missing")
    try:
        data = b"" if content is None else mode.to_bytes(content)
    except (TypeError, ValueError) as exc:
        raise RecordError("schema_mismatch", "message.content is not bytes") from exc
    return LogicalMessage(prefix, data)


def _transaction(block: Any) -> TransactionInfo | None:
    if block is None:
        return None
    if type(block) is not dict or not isinstance(block.get("id"), str):
        raise RecordError("malformed_envelope", "transaction block has no id")
    total, per_table = block.get("total_order"), block.get("data_collection_order")
    for value in (total, per_table):
        if value is not None and (type(value) is not int or value < 0):
            reason = "transaction order is not a whole number"
            raise RecordError("malformed_envelope", reason)
    return TransactionInfo(block["id"], total, per_table)


def _boundary(record: KafkaRecord, payload: dict[str, Any]) -> TransactionBoundary:
    tx_id, ts_ms = payload.get("id"), payload.get("ts_ms")
    if not isinstance(tx_id, str):
        raise RecordError("missing_field", "transaction record has no id")
    if type(ts_ms) is not int:
        raise RecordError("missing_field", "transaction record has no ts_ms")
    count = payload.get("event_count")
    if count is not None and type(count) is not int:
        raise RecordError("malformed_envelope", "event_count is not a number")
    collections = payload.get("data_collections")
    return TransactionBoundary(
        status=payload["status"],
        tx_id=tx_id,
        ts_ms=ts_ms,
        event_count=count,
        data_collections=None if collections is None else _counts(collections),
        coordinates=record.coordinates,
    )


def _counts(collections: Any) -> tuple[DataCollectionCount, ...]:
    if type(collections) is not list:
        raise RecordError("malformed_envelope", "data_collections is not a list")
    counts = []
    for item in collections:
        name = item.get("data_collection") if type(item) is dict else None
        count = item.get("event_count") if type(item) is dict else None
        if not isinstance(name, str) or type(count) is not int:
            reason = "data_collections entry lacks a name or count"
            raise RecordError("malformed_envelope", reason)
        counts.append(DataCollectionCount(name, count))
    return tuple(counts)


def tombstone(record: KafkaRecord, key: Row) -> ChangeEvent:
    """The event of a null-valued record (after a delete): key only."""
    system, _, rest = record.topic.partition(".")
    namespace, _, table = rest.rpartition(".")
    return ChangeEvent(
        system,
        namespace,
        table,
        TOMBSTONE,
        key,
        None,
        None,
        None,
        0,
        None,
        None,
        record.coordinates,
    )


def _shown(op: Any) -> str:
    """An op for a reason: short strings as they are, anything else by type."""
    if isinstance(op, str) and len(op) <= 8 and op.isprintable():
        return repr(op)
    return f"of type {type(op).__name__}" if op is not None else "missing"
