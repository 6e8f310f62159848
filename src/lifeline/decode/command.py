"""``lifeline decode``: Kafka records as JSON lines in, decoded events out.

Each input line is one record: ``{"topic": .., "partition": .., "offset": ..,
"key": .., "value": ..}``. Key and value are the record's bytes: text for
``--format json`` (a JSON object or array is accepted as well), base64 for
``--format avro`` or when the line says ``"encoding": "base64"``; null for
none. Each output line is the decoded event, a transaction boundary, or
``{"error": {...}}`` (see docs/decode.md). A bad line (an empty one too) is
reported with its line number and never stops the run.

``--format lifecycle`` reads records of the lifecycle events topic instead
(values base64): Avro single-object or Confluent frames, whose schema ids are
fetched from ``--registry`` or the configured schema registry.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from lifeline.decode.avro_envelope import AvroEnvelopeDecoder
from lifeline.decode.batch import BatchDecoder, dead_letter
from lifeline.decode.change import ChangeEvent, DeadLetter, TransactionBoundary
from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.placeholder import DEFAULT_PLACEHOLDER
from lifeline.decode.records import KafkaRecord
from lifeline.decode.render import render_boundary, render_dead_letter, render_event
from lifeline.decode.schema_source import (
    RegistrySchemaSource,
    SchemaDirectory,
    SchemaSource,
)
from lifeline.errors import FatalError, RecordError
from lifeline.events.avro import EventCodec
from lifeline.events.schema_registry import SchemaRegistryClient
from lifeline.settings import SchemaRegistrySettings, Settings

_OPTIONS = orjson.OPT_APPEND_NEWLINE


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the ``decode`` subcommand."""
    parser = subparsers.add_parser(
        "decode", help="decode Debezium records given as JSON lines on stdin"
    )
    parser.add_argument(
        "--format",
        choices=["json", "avro", "lifecycle"],
        default="json",
        help="Debezium JsonConverter or AvroConverter records, or lifecycle events",
    )
    parser.add_argument(
        "--schemas",
        type=Path,
        help="Avro schema directory: <id>.avsc, and readers/<topic>.avsc",
    )
    parser.add_argument(
        "--registry",
        help="schema registry URL (avro; lifecycle: default schema_registry.url)",
    )
    parser.add_argument(
        "--placeholder",
        default=DEFAULT_PLACEHOLDER,
        help="the connectors' unavailable.value.placeholder",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Decode stdin to stdout; 0 when every line was read (errors are output)."""
    if args.format == "lifecycle":
        codec = lifecycle_codec(settings.schema_registry, args.registry)
        decode_lifecycle_stream(codec, sys.stdin.buffer, sys.stdout.buffer)
        return 0
    decoder = build_decoder(args.format, args.schemas, args.registry, args.placeholder)
    decode_stream(decoder, sys.stdin.buffer, sys.stdout.buffer, args.format == "avro")
    return 0


def build_decoder(
    fmt: str, schemas: Path | None, registry: str | None, placeholder: str
) -> BatchDecoder:
    """The decoder for ``fmt``; FatalError when Avro has no schema source."""
    if fmt == "json":
        return EnvelopeDecoder(placeholder=placeholder)
    source: SchemaSource
    readers: dict[str, Any] = {}
    if schemas is not None:
        directory = SchemaDirectory(schemas)
        source, readers = directory, directory.reader_schemas()
    elif registry:
        source = RegistrySchemaSource(registry)
    else:
        raise FatalError("--format avro needs --schemas DIR or --registry URL")
    return AvroEnvelopeDecoder(source, readers, placeholder=placeholder)


def lifecycle_codec(registry: SchemaRegistrySettings, url: str | None) -> EventCodec:
    """The event codec, resolving schema ids at ``url`` or the configured one."""
    if url is not None:
        try:
            registry = SchemaRegistrySettings.model_validate(
                {**registry.model_dump(), "url": url}
            )
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise FatalError(f"--registry {url}: {problem}") from exc
    return EventCodec(schema_source=SchemaRegistryClient.from_settings(registry))


def decode_lifecycle_stream(
    codec: EventCodec, lines: Iterable[bytes], out: IO[bytes]
) -> int:
    """Decode lifecycle event records to ``out``; return how many were errors.

    Each output line is the event as JSON with its ``event_type`` first, or
    ``{"error": {...}}`` for a line or record that could not be read.
    """
    errors = 0
    for number, line in enumerate(lines, 1):
        result = _lifecycle_line(codec, line, number)
        errors += "error" in result
        out.write(orjson.dumps(result, option=_OPTIONS))
    out.flush()
    return errors


def _lifecycle_line(codec: EventCodec, line: bytes, number: int) -> dict[str, Any]:
    try:
        record = parse_record(line, base64_input=True)
    except ValueError as exc:
        return _input_error(number, str(exc))
    try:
        if record.value is None:
            raise RecordError("missing_value", "lifecycle record has no value")
        event = codec.decode(record.value)
    except RecordError as exc:
        return render_dead_letter(dead_letter(record, exc.kind, exc.reason))
    return {"event_type": event.EVENT_TYPE, **event.model_dump(mode="json")}


def decode_stream(
    decoder: BatchDecoder, lines: Iterable[bytes], out: IO[bytes], base64_input: bool
) -> int:
    """Decode every line to ``out``; return how many lines were errors."""
    errors = 0
    for number, line in enumerate(lines, 1):
        result = _decode_line(decoder, line, number, base64_input)
        errors += "error" in result
        out.write(orjson.dumps(result, option=_OPTIONS))
    out.flush()
    return errors


def _decode_line(
    decoder: BatchDecoder, line: bytes, number: int, base64_input: bool
) -> dict[str, Any]:
    try:
        record = parse_record(line, base64_input)
    except ValueError as exc:
        return _input_error(number, str(exc))
    result = decoder.decode_one(record)
    if isinstance(result, ChangeEvent):
        return render_event(result)
    if isinstance(result, TransactionBoundary):
        return render_boundary(result)
    assert isinstance(result, DeadLetter)
    return render_dead_letter(result)


def parse_record(line: bytes, base64_input: bool) -> KafkaRecord:
    """One input line as a KafkaRecord; ValueError says what is wrong."""
    if not line.strip():
        raise ValueError("line is empty")
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"line is not JSON: {exc.msg}") from exc
    if type(item) is not dict:
        raise ValueError("line is not a JSON object")
    topic, partition, offset = (
        item.get("topic"),
        item.get("partition"),
        item.get("offset"),
    )
    if (
        not isinstance(topic, str)
        or type(partition) is not int
        or type(offset) is not int
    ):
        raise ValueError("line needs topic (text), partition and offset (numbers)")
    b64 = base64_input or item.get("encoding") == "base64"
    return KafkaRecord(
        topic,
        partition,
        offset,
        _bytes("key", item.get("key"), b64),
        _bytes("value", item.get("value"), b64),
    )


def _bytes(name: str, value: Any, b64: bool) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not b64:
            return value.encode()
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"{name} is not base64") from exc
    if isinstance(value, dict | list) and not b64:
        return orjson.dumps(value)
    raise ValueError(f"{name} must be text, base64 text or null")


def _input_error(number: int, reason: str) -> dict[str, Any]:
    return {
        "error": {
            "topic": None,
            "partition": None,
            "offset": None,
            "line": number,
            "stage": "input",
            "kind": "malformed_input",
            "reason": reason,
            "key": None,
            "value": None,
        }
    }
