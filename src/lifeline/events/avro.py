"""Encoding events to Avro bytes and back.

Two framings, told apart by their first byte when decoding:

* single-object encoding (the default): ``C3 01``, the writer schema's 8-byte
  CRC-64-AVRO fingerprint (little-endian), then the Avro body;
* Confluent wire format, when a schema-registry id is given: ``00``, the id
  as 4 bytes big-endian, then the Avro body.

Decoding reads with the writer schema the frame names (a Confluent id it does
not know yet is fetched from the codec's schema source, once) and resolves to
the current schema, so data written with any released version reads as today's
model (new fields take their defaults). A bad frame or body is a
:class:`~lifeline.errors.RecordError` (a dead letter): its reason names the
problem and the event type, never a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from io import BytesIO
from typing import Any, Final

from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import SchemaParseException, parse_schema
from pydantic import ValidationError

from lifeline.decode.schema_source import SchemaSource
from lifeline.errors import RecordError
from lifeline.events.models import LifecycleEvent
from lifeline.events.registry import EventSchema, EventSchemas, schema_fingerprint

SINGLE_OBJECT_MARKER: Final = b"\xc3\x01"
CONFLUENT_MAGIC: Final = b"\x00"
_SINGLE_HEADER = len(SINGLE_OBJECT_MARKER) + 8
_CONFLUENT_HEADER = len(CONFLUENT_MAGIC) + 4
_MAX_SCHEMA_ID = (1 << 31) - 1

# Dead-letter kinds of the errors this module raises.
BAD_FRAMING: Final = "bad_framing"
UNKNOWN_SCHEMA: Final = "unknown_schema"
SCHEMA_MISMATCH: Final = "schema_mismatch"
UNENCODABLE_EVENT: Final = "unencodable_event"


class EventCodec:
    """Encodes and decodes lifecycle events with the schemas it was given.

    A Confluent frame's schema id is resolved with :meth:`add_schema_id`
    beforehand or, failing that, by ``schema_source`` (a schema registry)
    on first sight; without a source an unknown id is a bad record. A
    source that cannot answer raises its RetryableError or FatalError from
    :meth:`decode`. Safe to share between threads.
    """

    __slots__ = ("_by_id", "_headers", "_schemas", "_source", "_writers")

    def __init__(
        self,
        schemas: EventSchemas | None = None,
        schema_source: SchemaSource | None = None,
    ) -> None:
        self._schemas = schemas if schemas is not None else EventSchemas.load()
        self._source = schema_source
        self._writers: dict[type[LifecycleEvent], EventSchema] = {}
        self._headers: dict[type[LifecycleEvent], bytes] = {}
        for name in self._schemas.names():
            schema = self._schemas.current(name)
            self._writers[schema.model] = schema
            self._headers[schema.model] = SINGLE_OBJECT_MARKER + schema.fingerprint
        self._by_id: dict[int, EventSchema] = {}

    def add_schema_id(self, schema_id: int, definition: Mapping[str, Any]) -> None:
        """Decode Confluent frames with ``schema_id`` using ``definition``.

        ``definition`` is the schema the registry holds under that id (any
        released version of an event). Raises :class:`RecordError` when it
        is not a known event schema.
        """
        if not 0 <= schema_id <= _MAX_SCHEMA_ID:
            msg = f"schema id {schema_id} is out of range"
            raise RecordError(UNKNOWN_SCHEMA, msg)
        try:
            fingerprint = schema_fingerprint(parse_schema(dict(definition), {}))
        except (SchemaParseException, ValueError, TypeError, KeyError) as exc:
            msg = f"schema id {schema_id} is not valid Avro"
            raise RecordError(UNKNOWN_SCHEMA, msg) from exc
        schema = self._schemas.by_fingerprint(fingerprint)
        if schema is None:
            msg = f"schema id {schema_id} is no released event schema"
            raise RecordError(UNKNOWN_SCHEMA, msg)
        self._by_id[schema_id] = schema

    def encode(self, event: LifecycleEvent, schema_id: int | None = None) -> bytes:
        """The event's bytes: single-object, or Confluent with ``schema_id``.

        Raises :class:`RecordError` (``unencodable_event``) when a value
        does not fit the schema, ``ValueError`` for an id out of range.
        """
        model = type(event)
        schema = self._writers[model]
        if schema_id is None:
            header = self._headers[model]
        elif 0 <= schema_id <= _MAX_SCHEMA_ID:
            header = CONFLUENT_MAGIC + schema_id.to_bytes(4, "big")
        else:
            msg = f"schema id {schema_id} is out of range"
            raise ValueError(msg)
        buffer = BytesIO()
        buffer.write(header)
        try:
            schemaless_writer(
                buffer,
                schema.parsed,
                event.model_dump(warnings=False),
                disable_tuple_notation=True,
            )
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            msg = f"{schema.name}: a value does not fit ({type(exc).__name__})"
            raise RecordError(UNENCODABLE_EVENT, msg) from exc
        return buffer.getvalue()

    def encode_many(
        self, events: Iterable[LifecycleEvent], schema_id: int | None = None
    ) -> list[bytes]:
        """:meth:`encode` each event, in order."""
        return [self.encode(event, schema_id) for event in events]

    def decode(self, data: bytes) -> LifecycleEvent:
        """The validated event in ``data``, as today's model.

        Raises :class:`RecordError` of kind ``bad_framing``,
        ``unknown_schema`` or ``schema_mismatch``.
        """
        writer, offset = self._writer_of(data)
        current = self._schemas.current(writer.name)
        reader = None if writer is current else current.parsed
        buffer = BytesIO(data)
        buffer.seek(offset)
        try:
            record = schemaless_reader(buffer, writer.parsed, reader)
        except Exception as exc:  # fastavro raises many types on bad input
            msg = f"{writer.name}: the Avro body does not match its schema"
            raise RecordError(SCHEMA_MISMATCH, msg) from exc
        if buffer.tell() != len(data):
            msg = f"{writer.name}: bytes left after the Avro body"
            raise RecordError(SCHEMA_MISMATCH, msg)
        return _validated(current, record)

    def _writer_of(self, data: bytes) -> tuple[EventSchema, int]:
        if data[:2] == SINGLE_OBJECT_MARKER and len(data) >= _SINGLE_HEADER:
            schema = self._schemas.by_fingerprint(data[2:_SINGLE_HEADER])
            if schema is None:
                msg = f"unknown schema fingerprint {data[2:_SINGLE_HEADER].hex()}"
                raise RecordError(UNKNOWN_SCHEMA, msg)
            return schema, _SINGLE_HEADER
        if data[:1] == CONFLUENT_MAGIC and len(data) >= _CONFLUENT_HEADER:
            schema_id = int.from_bytes(data[1:_CONFLUENT_HEADER], "big")
            return self._schema_of_id(schema_id), _CONFLUENT_HEADER
        msg = "neither an Avro single-object nor a Confluent frame"
        raise RecordError(BAD_FRAMING, msg)

    def _schema_of_id(self, schema_id: int) -> EventSchema:
        schema = self._by_id.get(schema_id)
        if schema is not None:
            return schema
        if self._source is None:
            msg = f"schema id {schema_id} was not registered with the codec"
            raise RecordError(UNKNOWN_SCHEMA, msg)
        definition = self._source.schema(schema_id)
        if not isinstance(definition, Mapping):
            msg = f"schema id {schema_id} is no event record schema"
            raise RecordError(UNKNOWN_SCHEMA, msg)
        self.add_schema_id(schema_id, definition)
        return self._by_id[schema_id]


def _validated(schema: EventSchema, record: Any) -> LifecycleEvent:
    try:
        return schema.model.model_validate(record)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['type']}"
            for err in exc.errors()
        )
        msg = f"{schema.name}: invalid event ({where})"
        raise RecordError(SCHEMA_MISMATCH, msg) from exc
