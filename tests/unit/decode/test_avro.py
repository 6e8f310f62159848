"""The Avro decoder: wire format, schema sources, resolution, bad input."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from lifeline.decode.avro_envelope import AvroEnvelopeDecoder
from lifeline.decode.change import UNCHANGED, ChangeEvent, DeadLetter
from lifeline.decode.records import KafkaRecord
from lifeline.decode.schema_source import RegistrySchemaSource, SchemaDirectory
from lifeline.errors import FatalError, RecordError, RetryableError
from tests.unit.decode.builders import (
    avro_bytes,
    avro_decimal,
    avro_envelope_schema,
    avro_field,
    avro_key_schema,
    avro_source,
)

NS = "identity.public.type_zoo"
TOPIC = NS
FIELDS_V1 = [
    {"name": "id", "type": "int"},
    avro_field("name", "string"),
    avro_decimal("amount", 2),
    avro_field("born", "int", name="io.debezium.time.Date", version=1),
    avro_field("seen", "long", name="io.debezium.time.MicroTimestamp", version=1),
    avro_field("photo", "bytes"),
]
FIELDS_V2 = [*FIELDS_V1, {"name": "tier", "type": "string", "default": "basic"}]
SCHEMAS: dict[int, Any] = {
    1: avro_key_schema(NS),
    2: avro_envelope_schema(NS, FIELDS_V1),
    3: avro_envelope_schema(NS, FIELDS_V2),
}


class DictSource:
    def __init__(self, schemas: dict[int, Any]) -> None:
        self.schemas = schemas
        self.calls = 0

    def schema(self, schema_id: int) -> Any:
        self.calls += 1
        if schema_id not in self.schemas:
            raise RecordError("unknown_schema", f"no schema id {schema_id}")
        return self.schemas[schema_id]


def row(**extra: Any) -> dict[str, Any]:
    return {
        "id": 7,
        "name": "Ada",
        "amount": Decimal("12.50"),
        "born": 365,
        "seen": 1_000_000,
        "photo": b"\x00\xff",
        **extra,
    }


def avro_record(
    op: str = "c",
    after: dict[str, Any] | None = None,
    schema_id: int = 2,
    offset: int = 0,
) -> KafkaRecord:
    envelope = {
        "before": None,
        "after": row() if after is None and op != "d" else after,
        "source": avro_source(100 + offset),
        "op": op,
        "ts_ms": 1,
    }
    key = avro_bytes(1, SCHEMAS[1], {"id": 7})
    return KafkaRecord(
        TOPIC, 0, offset, key, avro_bytes(schema_id, SCHEMAS[schema_id], envelope)
    )


def decode(rec: KafkaRecord, decoder: AvroEnvelopeDecoder | None = None) -> ChangeEvent:
    result = (decoder or AvroEnvelopeDecoder(DictSource(SCHEMAS))).decode_one(rec)
    assert isinstance(result, ChangeEvent), result
    return result


def dead(rec: KafkaRecord) -> DeadLetter:
    result = AvroEnvelopeDecoder(DictSource(SCHEMAS)).decode_one(rec)
    assert isinstance(result, DeadLetter), result
    return result


def test_avro_record_is_typed() -> None:
    event = decode(avro_record())
    assert event.key == {"id": 7}
    assert event.after is not None
    assert event.after["amount"] == Decimal("12.50")
    assert event.after["born"] == date(1971, 1, 1)
    assert event.after["seen"].isoformat() == "1970-01-01T00:00:01+00:00"
    assert event.after["photo"] == b"\x00\xff"
    assert event.position is not None


def test_schemas_are_prepared_once_per_id() -> None:
    source = DictSource(SCHEMAS)
    decoder = AvroEnvelopeDecoder(source)
    events, letters = decoder.decode_batch([avro_record(offset=i) for i in range(20)])
    assert (len(events), letters) == (20, [])
    assert source.calls == 2


def test_tombstone_and_delete() -> None:
    key = avro_bytes(1, SCHEMAS[1], {"id": 7})
    stone = decode(KafkaRecord(TOPIC, 0, 1, key, None))
    assert (stone.op, stone.key) == ("tombstone", {"id": 7})
    deleted = decode(avro_record("d"))
    assert deleted.after is None


def test_placeholder_in_decimal_bytes_and_text_is_unchanged() -> None:
    placeholder = "__debezium_unavailable_value"
    after = row(amount=Decimal(0), name=placeholder)
    rec = avro_record(after=after)
    # write the placeholder bytes where the decimal's bytes go
    schema = orjson.loads(orjson.dumps(SCHEMAS[2]))
    for field in schema["fields"][0]["type"][1]["fields"]:
        if field["name"] == "amount":
            field["type"][1] = "bytes"
    raw_after = after | {"amount": placeholder.encode()}
    envelope = {"before": None, "after": raw_after, "source": avro_source(1), "op": "u"}
    rec = KafkaRecord(
        TOPIC, 0, 0, rec.key, avro_bytes(2, schema, envelope | {"ts_ms": 1})
    )
    event = decode(rec)
    assert event.after is not None
    assert event.after["amount"] is UNCHANGED
    assert event.after["name"] is UNCHANGED


def test_reader_schema_resolution_across_versions() -> None:
    reader = SCHEMAS[3]
    decoder = AvroEnvelopeDecoder(DictSource(SCHEMAS), {TOPIC: reader})
    old = decode(avro_record(schema_id=2), decoder)
    new = decode(avro_record(after=row(tier="gold"), schema_id=3), decoder)
    assert old.after is not None and old.after["tier"] == "basic"
    assert new.after is not None and new.after["tier"] == "gold"
    assert old.after["amount"] == Decimal("12.50")
    # without a reader schema each version decodes as written
    plain = decode(avro_record(schema_id=2))
    assert plain.after is not None and "tier" not in plain.after


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda v: b"\x01" + v[1:], "bad_wire_format"),
        (lambda v: v[:3], "bad_wire_format"),
        (lambda v: v[:1] + (99).to_bytes(4, "big") + v[5:], "unknown_schema"),
        (lambda v: v[:-6], "undecodable"),
        (lambda v: v + b"\x00\x00", "undecodable"),
    ],
)
def test_bad_avro_values(mutate: Any, kind: str) -> None:
    good = avro_record()
    assert good.value is not None
    bad = KafkaRecord(TOPIC, 0, 5, good.key, mutate(good.value))
    letter = dead(bad)
    assert letter.kind == kind
    assert letter.value == bad.value
    assert "Ada" not in letter.reason


def test_schema_directory(tmp_path: Path) -> None:
    for schema_id, schema in SCHEMAS.items():
        (tmp_path / f"{schema_id}.avsc").write_bytes(orjson.dumps(schema))
    (tmp_path / "readers").mkdir()
    (tmp_path / "readers" / f"{TOPIC}.avsc").write_bytes(orjson.dumps(SCHEMAS[3]))
    directory = SchemaDirectory(tmp_path)
    assert directory.schema(2) == SCHEMAS[2]
    assert set(directory.reader_schemas()) == {TOPIC}
    with pytest.raises(RecordError):
        directory.schema(42)
    with pytest.raises(FatalError):
        SchemaDirectory(tmp_path / "missing")


class _Registry(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        schema_id = int(self.path.rsplit("/", 1)[-1])
        status = type(self).status
        if status == 200 and schema_id not in SCHEMAS:
            status = 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if status == 200:
            body = {"schema": orjson.dumps(SCHEMAS[schema_id]).decode()}
            self.wfile.write(orjson.dumps(body))

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def registry() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        _Registry.status = 200


def test_registry_source(registry: str) -> None:
    source = RegistrySchemaSource(registry)
    event = decode(avro_record(), AvroEnvelopeDecoder(source))
    assert event.after is not None
    with pytest.raises(RecordError) as missing:
        source.schema(404)
    assert missing.value.kind == "unknown_schema"
    _Registry.status = 503
    with pytest.raises(RetryableError):
        RegistrySchemaSource(registry).schema(2)
    _Registry.status = 401
    with pytest.raises(FatalError):
        RegistrySchemaSource(registry).schema(2)


def test_unreachable_registry_is_retryable_not_a_dead_letter() -> None:
    decoder = AvroEnvelopeDecoder(RegistrySchemaSource("http://127.0.0.1:9", timeout=1))
    with pytest.raises(RetryableError):
        decoder.decode_batch([avro_record()])
