"""Decode Debezium envelopes written by Kafka Connect's JsonConverter.

Both converter modes are read: with schemas (``{"schema":..,"payload":..}``,
where the schema gives decimal scales and temporal semantics) and without
(the bare envelope). Parsing a schema and choosing converters is done once
per distinct schema: records of one table repeat the same schema text, so the
schema prefix of the raw bytes is the cache key and only the payload part is
parsed per record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from lifeline.decode.change import TOMBSTONE, ChangeEvent, DeadLetter, Row
from lifeline.decode.position import position_from_source
from lifeline.decode.records import KafkaRecord
from lifeline.decode.types import Converter, converter_for
from lifeline.errors import RecordError

STAGE = "decode"
_PAYLOAD_MARK = b',"payload":'
_OPS = frozenset({"c", "r", "u", "d"})

RowConverters = tuple[tuple[str, Converter], ...]


class EnvelopeDecoder:
    """Turns Kafka records into ChangeEvents or DeadLetters.

    One decoder is used for all topics; it caches per-schema converters.
    ``decode_batch`` never raises for a bad record: it returns a DeadLetter.
    """

    def __init__(self, max_cached_schemas: int = 1024) -> None:
        self._converters: dict[bytes, RowConverters] = {}
        self._max = max_cached_schemas

    def decode_batch(
        self, records: Iterable[KafkaRecord]
    ) -> tuple[list[ChangeEvent], list[DeadLetter]]:
        """Decode many records; bad ones become dead letters, in input order."""
        events: list[ChangeEvent] = []
        dead: list[DeadLetter] = []
        for record in records:
            try:
                events.append(self.decode(record))
            except RecordError as exc:
                dead.append(_dead_letter(record, exc.kind, exc.reason))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                reason = f"{type(exc).__name__} while decoding"
                dead.append(_dead_letter(record, "malformed_envelope", reason))
        return events, dead

    def decode(self, record: KafkaRecord) -> ChangeEvent:
        """Decode one record; raise RecordError when it is not a change event."""
        key = _decode_key(record.key)
        if record.value is None:
            return _tombstone(record, key)
        payload, converters = self._split(record.value)
        if not isinstance(payload, dict):
            raise RecordError("malformed_envelope", "value is not a JSON object")
        op = payload.get("op")
        if op not in _OPS:
            raise RecordError("unknown_op", f"op {op!r} is not one of c, r, u, d")
        source = payload.get("source")
        if not isinstance(source, dict):
            raise RecordError("missing_field", "the envelope has no source block")
        before = _convert(payload.get("before"), converters)
        after = _convert(payload.get("after"), converters)
        if op != "d" and after is None:
            raise RecordError("missing_field", f"op '{op}' carries no after row")
        namespace = source.get("schema") or source.get("db") or ""
        system, _, _ = record.topic.partition(".")
        tx = payload.get("transaction")
        return ChangeEvent(
            system=system,
            namespace=namespace,
            table=source.get("table", ""),
            op=op,
            key=key,
            before=before,
            after=after,
            position=position_from_source(source.get("connector", ""), source),
            ts_ms=int(source.get("ts_ms") or 0),
            snapshot=_snapshot(source.get("snapshot")),
            tx_id=str(tx["id"]) if isinstance(tx, dict) and "id" in tx else None,
            coordinates=record.coordinates,
        )

    def _split(self, value: bytes) -> tuple[Any, RowConverters]:
        if not value.startswith(b'{"schema":'):
            return _loads(value), ()
        cut = value.find(_PAYLOAD_MARK)
        prefix = value[:cut] if cut > 0 else b""
        converters = self._converters.get(prefix) if prefix else None
        if converters is not None:
            return _loads(value[cut + len(_PAYLOAD_MARK) : -1]), converters
        whole = _loads(value)
        if not isinstance(whole, dict) or "payload" not in whole:
            raise RecordError("malformed_envelope", "schema without payload")
        converters = _row_converters(whole.get("schema"))
        if prefix and _is_schema_prefix(prefix, whole.get("schema")):
            if len(self._converters) >= self._max:
                self._converters.clear()
            self._converters[prefix] = converters
        return whole["payload"], converters


def _is_schema_prefix(prefix: bytes, schema: Any) -> bool:
    """True when ``prefix`` is exactly the record's schema part.

    Only then may later records with the same prefix skip the schema parse.
    """
    try:
        return bool(orjson.loads(prefix + b"}") == {"schema": schema})
    except orjson.JSONDecodeError:
        return False


def _loads(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError(
            "malformed_json", f"not valid JSON: {exc.msg} at {exc.pos}"
        ) from exc


def _decode_key(raw: bytes | None) -> Row:
    if raw is None:
        return {}
    key = _loads(raw)
    if isinstance(key, dict) and "payload" in key and "schema" in key:
        key = key["payload"]
    if not isinstance(key, dict):
        raise RecordError("malformed_key", "record key is not a JSON object")
    return key


def _row_converters(schema: Any) -> RowConverters:
    """Converters for the columns of the envelope's ``after`` struct."""
    if not isinstance(schema, dict):
        return ()
    for field in schema.get("fields", ()):
        if field.get("field") == "after":
            return tuple(
                (column["field"], convert)
                for column in field.get("fields", ())
                if (convert := converter_for(column)) is not None
            )
    return ()


def _convert(row: Any, converters: RowConverters) -> Row | None:
    if row is None:
        return None
    if not isinstance(row, dict):
        raise RecordError("malformed_envelope", "before/after is not an object")
    for column, convert in converters:
        if column in row:
            try:
                row[column] = convert(row[column])
            except (ValueError, TypeError, KeyError, OverflowError) as exc:
                reason = f"column '{column}' does not match its schema type"
                raise RecordError("schema_mismatch", reason) from exc
    return row


def _snapshot(marker: Any) -> str | None:
    if marker in (None, False, "false"):
        return None
    return str(marker).lower()


def _tombstone(record: KafkaRecord, key: Row) -> ChangeEvent:
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


def _dead_letter(record: KafkaRecord, kind: str, reason: str) -> DeadLetter:
    return DeadLetter(record.coordinates, record.key, record.value, STAGE, kind, reason)
