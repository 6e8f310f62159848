"""Decode Debezium envelopes written by Confluent's AvroConverter.

Each key and value is in the Confluent wire format: magic byte 0, the writer
schema's id as 4 big-endian bytes, then the Avro binary body. Writer schemas
come from a :class:`~lifeline.decode.schema_source.SchemaSource`; each id is
prepared once (fastavro parse, row plan). When a reader schema is configured
for a topic, values are resolved to it (Avro schema resolution: fields added
since get their defaults, fields dropped since are skipped), so the rows of
one topic keep one shape across schema versions.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastavro import parse_schema, schemaless_reader

from lifeline.decode.avro_schema import connect_schema, without_logical_types
from lifeline.decode.batch import BatchDecoder
from lifeline.decode.change import Decoded, Row
from lifeline.decode.envelope import build, tombstone
from lifeline.decode.placeholder import DEFAULT_PLACEHOLDER, Placeholder
from lifeline.decode.plan import AVRO, RowPlan, envelope_field, struct_plan
from lifeline.decode.records import KafkaRecord
from lifeline.decode.schema_source import SchemaSource
from lifeline.errors import RecordError

_HEADER = 5


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What decoding with one writer schema (and reader schema) needs."""

    writer: Any
    reader: Any
    rows: RowPlan
    label: str


class AvroEnvelopeDecoder(BatchDecoder):
    """Turns AvroConverter records into ChangeEvents or DeadLetters.

    ``reader_schemas`` maps a topic to the Avro schema its values are read
    as. Raises RetryableError when the schema source cannot be reached.
    """

    def __init__(
        self,
        schemas: SchemaSource,
        reader_schemas: Mapping[str, Any] | None = None,
        placeholder: str = DEFAULT_PLACEHOLDER,
    ) -> None:
        self._schemas = schemas
        self._readers = {
            topic: without_logical_types(schema)
            for topic, schema in (reader_schemas or {}).items()
        }
        self._prepared: dict[tuple[int, str | None], _Prepared] = {}
        self._placeholder = Placeholder(placeholder)

    def decode(self, record: KafkaRecord) -> Decoded:
        """Decode one record; raise RecordError when it is not decodable."""
        key: Row = {}
        if record.key is not None:
            data, plan = self._read(record.key, None, "key")
            if data is not None:
                if type(data) is not dict:
                    raise RecordError("malformed_key", "record key is not a record")
                key = plan.apply(data, "key")
        if record.value is None:
            return tombstone(record, key)
        payload, rows = self._read(record.value, record.topic, "value")
        placeholder = self._placeholder
        found = placeholder if placeholder.maybe_in(record.value) else None
        return build(record, key, payload, rows, found, AVRO)

    def _read(self, raw: bytes, topic: str | None, part: str) -> tuple[Any, RowPlan]:
        if len(raw) < _HEADER or raw[0] != 0:
            kind = "malformed_key" if part == "key" else "bad_wire_format"
            raise RecordError(kind, f"{part} is not in the Confluent Avro wire format")
        schema_id = int.from_bytes(raw[1:_HEADER], "big")
        reader_topic = topic if topic in self._readers else None
        prepared = self._prepared.get((schema_id, reader_topic))
        if prepared is None:
            prepared = self._prepare(schema_id, reader_topic, part)
        body = io.BytesIO(raw)
        body.seek(_HEADER)
        try:
            data = schemaless_reader(body, prepared.writer, prepared.reader)
        except Exception as exc:  # fastavro raises many kinds; all mean "bad body"
            reason = f"{part} body does not decode with {prepared.label}"
            raise RecordError("undecodable", reason) from exc
        if body.tell() != len(raw):
            reason = f"{part} body is longer than {prepared.label} describes"
            raise RecordError("undecodable", reason)
        return data, prepared.rows

    def _prepare(
        self, schema_id: int, reader_topic: str | None, part: str
    ) -> _Prepared:
        raw_schema = self._schemas.schema(schema_id)
        reader_raw = self._readers.get(reader_topic) if reader_topic else None
        label = f"schema id {schema_id}"
        try:
            writer = parse_schema(without_logical_types(raw_schema))
            reader = None if reader_raw is None else parse_schema(reader_raw)
        except Exception as exc:  # fastavro's SchemaParseException and friends
            raise RecordError(
                "unknown_schema", f"{label} is not a valid Avro schema"
            ) from exc
        shape = connect_schema(reader_raw if reader_raw is not None else raw_schema)
        if part == "key":
            rows = struct_plan(shape, AVRO)
        else:
            after = envelope_field(shape, "after") or envelope_field(shape, "before")
            rows = struct_plan(after, AVRO)
        prepared = _Prepared(writer, reader, rows, label)
        self._prepared[(schema_id, reader_topic)] = prepared
        return prepared
