"""Decode Debezium envelopes written by Kafka Connect's JsonConverter.

Both converter modes are read: with schemas (``{"schema":..,"payload":..}``,
where the schema gives decimal scales and temporal semantics, and every
column is checked against it) and without (the bare envelope: values stay as
JSON sent them, only the unavailable-value placeholder is recognised).

Parsing a schema and choosing converters is done once per distinct schema:
records of one table repeat the same schema text, so the schema part of the
raw bytes is the cache key and only the payload part is parsed per record. A
schema change (a column added or dropped) is a new schema text, hence a new
plan, with no restart; old and new records decode side by side.
"""

from __future__ import annotations

from typing import Any

import orjson

from lifeline.decode.batch import BatchDecoder
from lifeline.decode.change import Decoded, Row
from lifeline.decode.envelope import build, tombstone
from lifeline.decode.placeholder import DEFAULT_PLACEHOLDER, Placeholder
from lifeline.decode.plan import (
    EMPTY_PLAN,
    JSON,
    RowPlan,
    envelope_field,
    struct_plan,
)
from lifeline.decode.records import KafkaRecord
from lifeline.errors import RecordError

_SCHEMA_START = b'{"schema":'
_PAYLOAD_MARK = b',"payload":'


class _PlanCache:
    """Row plans keyed by the exact schema text that precedes the payload."""

    def __init__(self, pick: str | None, max_size: int) -> None:
        self._pick = pick  # the envelope field whose struct is the row, or None
        self._plans: dict[bytes, RowPlan] = {}
        self._last: dict[str, bytes] = {}
        self._max = max_size

    def split(self, topic: str, raw: bytes) -> tuple[Any, RowPlan, int]:
        """The payload of ``raw``, the plan of its schema, the payload's offset.

        The offset is where the payload text starts (0 when not known).
        """
        if not raw.startswith(_SCHEMA_START):
            return _loads(raw), EMPTY_PLAN, 0
        prefix = self._last.get(topic)
        if (
            prefix is None
            or not raw.startswith(prefix)
            or not raw.startswith(_PAYLOAD_MARK, len(prefix))
        ):
            cut = raw.find(_PAYLOAD_MARK)
            prefix = raw[:cut] if cut > 0 else None
        plan = self._plans.get(prefix) if prefix is not None else None
        if prefix is not None and plan is not None:
            start = len(prefix) + len(_PAYLOAD_MARK)
            payload = _payload_after(raw, start)
            if payload is not _NOTHING:
                self._last[topic] = prefix
                return payload, plan, start
        return self._slow(topic, raw, prefix)

    def _slow(
        self, topic: str, raw: bytes, prefix: bytes | None
    ) -> tuple[Any, RowPlan, int]:
        whole = _loads(raw)
        if type(whole) is not dict or "payload" not in whole:
            raise RecordError("malformed_envelope", "schema without payload")
        schema = whole.get("schema")
        plan = self._plan(schema)
        if prefix is not None and _is_schema_prefix(prefix, schema):
            if len(self._plans) >= self._max:
                self._plans.clear()
            self._plans[prefix] = plan
            self._last[topic] = prefix
        return whole["payload"], plan, 0

    def _plan(self, schema: Any) -> RowPlan:
        if schema is not None and not isinstance(schema, dict):
            raise RecordError("malformed_envelope", "schema is not an object")
        if self._pick is None:
            return struct_plan(schema, JSON)
        row = envelope_field(schema, self._pick) or envelope_field(schema, "before")
        return struct_plan(row, JSON)


class EnvelopeDecoder(BatchDecoder):
    """Turns JsonConverter records into ChangeEvents or DeadLetters.

    One decoder serves all topics; it caches a row plan per schema text.
    ``placeholder`` is the connector's ``unavailable.value.placeholder``.
    """

    def __init__(
        self, max_cached_schemas: int = 1024, placeholder: str = DEFAULT_PLACEHOLDER
    ) -> None:
        self._values = _PlanCache("after", max_cached_schemas)
        self._keys = _PlanCache(None, max_cached_schemas)
        self._placeholder = Placeholder(placeholder)

    def decode(self, record: KafkaRecord) -> Decoded:
        """Decode one record; raise RecordError when it is not a change event."""
        raw_key, value = record.key, record.value
        key = {} if raw_key is None else self._key(record.topic, raw_key)
        if value is None:
            return tombstone(record, key)
        payload, plan, start = self._values.split(record.topic, value)
        placeholder = self._placeholder
        found = placeholder if placeholder.maybe_in(value, start) else None
        return build(record, key, payload, plan, found, JSON)

    def _key(self, topic: str, raw: bytes) -> Row:
        try:
            key, plan, _ = self._keys.split(topic, raw)
        except RecordError as exc:
            raise RecordError("malformed_key", f"record key: {exc.reason}") from exc
        if type(key) is not dict:
            if key is None:
                return {}
            raise RecordError("malformed_key", "record key is not a JSON object")
        return key if plan is EMPTY_PLAN else plan.apply(key, "key")


_NOTHING: Any = object()


def _payload_after(raw: bytes, start: int) -> Any:
    """The JSON value between ``start`` and the final ``}``, or _NOTHING."""
    end = len(raw)
    while end > start and raw[end - 1] in b" \t\r\n":
        end -= 1
    if end <= start or raw[end - 1] != ord("}"):
        return _NOTHING
    try:
        return orjson.loads(raw[start : end - 1])
    except orjson.JSONDecodeError:
        return _NOTHING  # e.g. more keys after the payload: parse it whole


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
