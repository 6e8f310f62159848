"""Decode throughput on one core: payload-only JSON, JSON with schema, Avro.

Run: ``.venv/bin/python bench/decode_bench.py [--events N] [--batch B]``.
Events are PostgreSQL updates of a 12-column customer row (text, decimal,
timestamps, date, boolean), as Debezium 3 writes them. Each format decodes
the same events in Kafka-sized batches with one decoder (schemas prepared
once); the figure is the best of five passes in CPU time of this process.
"parser alone" is orjson / fastavro parsing the same values and nothing
else: the ceiling on this machine, to read the figures against.
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import os
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
from fastavro import parse_schema, schemaless_writer

from lifeline.decode.avro_envelope import AvroEnvelopeDecoder
from lifeline.decode.batch import BatchDecoder
from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.records import KafkaRecord

TOPIC = "identity.public.customers"

COLUMNS: list[tuple[str, str, str | None, dict[str, str] | None]] = [
    ("id", "int64", None, None),
    ("customer_no", "string", None, None),
    ("legal_name", "string", None, None),
    ("email", "string", None, None),
    ("phone", "string", None, None),
    ("country", "string", None, None),
    ("credit_limit", "bytes", "org.apache.kafka.connect.data.Decimal", {"scale": "2"}),
    ("active", "boolean", None, None),
    ("born", "int32", "io.debezium.time.Date", None),
    ("created_at", "int64", "io.debezium.time.MicroTimestamp", None),
    ("updated_at", "string", "io.debezium.time.ZonedTimestamp", None),
    ("status", "string", None, None),
]

_AVRO_TYPES = {
    "int64": "long",
    "int32": "int",
    "string": "string",
    "boolean": "boolean",
}


def _row(i: int) -> dict[str, Any]:
    unscaled = 150_000 + i
    return {
        "id": i,
        "customer_no": f"C-{i:07d}",
        "legal_name": f"Customer {i} GmbH",
        "email": f"customer{i}@example.com",
        "phone": "+49 30 1234567",
        "country": "DE",
        "credit_limit": unscaled.to_bytes(4, "big", signed=True),
        "active": i % 2 == 0,
        "born": 7000 + i % 5000,
        "created_at": 1_700_000_000_000_000 + i,
        "updated_at": "2026-12-04T10:00:00.123456Z",
        "status": "active",
    }


def _source(i: int) -> dict[str, Any]:
    lsn = 50_000_000 + i * 64
    return {
        "version": "3.6.3.Final",
        "connector": "postgresql",
        "name": "identity",
        "ts_ms": 1_764_800_000_000 + i,
        "snapshot": "false",
        "db": "identity",
        "sequence": f'["{lsn - 200}","{lsn}"]',
        "ts_us": 1_764_800_000_000_000 + i,
        "ts_ns": 1_764_800_000_000_000_000 + i,
        "schema": "public",
        "table": "customers",
        "txId": 800 + i,
        "lsn": lsn,
        "xmin": None,
    }


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return row | {"credit_limit": base64.b64encode(row["credit_limit"]).decode()}


def _connect_schema() -> dict[str, Any]:
    fields = []
    for name, kind, semantic, params in COLUMNS:
        field: dict[str, Any] = {"type": kind, "optional": name != "id", "field": name}
        if semantic:
            field |= {"name": semantic, "version": 1}
        if params:
            field["parameters"] = params
        fields.append(field)
    row = {
        "type": "struct",
        "fields": fields,
        "optional": True,
        "name": f"{TOPIC}.Value",
    }
    source_fields = [
        {
            "type": "int64" if isinstance(v, int) else "string",
            "optional": True,
            "field": k,
        }
        for k, v in _source(0).items()
    ]
    return {
        "type": "struct",
        "fields": [
            {**row, "field": "before"},
            {**row, "field": "after"},
            {
                "type": "struct",
                "fields": source_fields,
                "optional": False,
                "field": "source",
            },
            {"type": "string", "optional": False, "field": "op"},
            {"type": "int64", "optional": True, "field": "ts_ms"},
        ],
        "optional": False,
        "name": f"{TOPIC}.Envelope",
        "version": 2,
    }


def json_records(count: int, with_schema: bool) -> list[KafkaRecord]:
    """JsonConverter records, with or without the schema part."""
    schema = _connect_schema()
    key_schema = {
        "type": "struct",
        "fields": [{"type": "int64", "optional": False, "field": "id"}],
        "optional": False,
        "name": f"{TOPIC}.Key",
    }
    records = []
    for i in range(count):
        row = _json_row(_row(i))
        payload = {
            "before": None,
            "after": row,
            "source": _source(i),
            "op": "u",
            "ts_ms": 1,
        }
        key: Any = {"id": i}
        if with_schema:
            payload = {"schema": schema, "payload": payload}
            key = {"schema": key_schema, "payload": key}
        records.append(
            KafkaRecord(TOPIC, 0, i, orjson.dumps(key), orjson.dumps(payload))
        )
    return records


def _avro_field(
    name: str, kind: str, semantic: str | None, params: Any
) -> dict[str, Any]:
    avro: Any = _AVRO_TYPES.get(kind, kind)
    if semantic:
        avro = {"type": avro, "connect.name": semantic}
        if params:
            avro["connect.parameters"] = params
        if semantic.endswith("Decimal"):
            avro |= {"logicalType": "decimal", "precision": 12, "scale": 2}
    return {"name": name, "type": ["null", avro], "default": None}


def avro_schemas() -> dict[int, Any]:
    """Writer schemas by id: 1 the key, 2 the envelope."""
    value = {
        "type": "record",
        "name": "Value",
        "namespace": TOPIC,
        "fields": [_avro_field(*column) for column in COLUMNS],
    }
    source = {
        "type": "record",
        "name": "Source",
        "namespace": "io.debezium.connector.postgresql",
        "fields": [
            {"name": k, "type": ["null", "long" if isinstance(v, int) else "string"]}
            for k, v in _source(0).items()
        ],
    }
    envelope = {
        "type": "record",
        "name": "Envelope",
        "namespace": TOPIC,
        "fields": [
            {"name": "before", "type": ["null", value], "default": None},
            {"name": "after", "type": ["null", f"{TOPIC}.Value"], "default": None},
            {"name": "source", "type": source},
            {"name": "op", "type": "string"},
            {"name": "ts_ms", "type": ["null", "long"], "default": None},
        ],
    }
    key = {
        "type": "record",
        "name": "Key",
        "namespace": TOPIC,
        "fields": [{"name": "id", "type": "long"}],
    }
    return {1: key, 2: envelope}


def avro_records(count: int, schemas: dict[int, Any]) -> list[KafkaRecord]:
    """Confluent-framed Avro records."""
    parsed = {schema_id: parse_schema(schema) for schema_id, schema in schemas.items()}
    records = []
    for i in range(count):
        row = _row(i) | {"credit_limit": Decimal(150_000 + i).scaleb(-2)}
        payload = {
            "before": None,
            "after": row,
            "source": _source(i),
            "op": "u",
            "ts_ms": 1,
        }
        records.append(
            KafkaRecord(
                TOPIC,
                0,
                i,
                _framed(1, parsed[1], {"id": i}),
                _framed(2, parsed[2], payload),
            )
        )
    return records


def _framed(schema_id: int, schema: Any, datum: Any) -> bytes:
    out = io.BytesIO()
    out.write(b"\x00" + schema_id.to_bytes(4, "big"))
    schemaless_writer(out, schema, datum)
    return out.getvalue()


class _Schemas:
    def __init__(self, schemas: dict[int, Any]) -> None:
        self._schemas = schemas

    def schema(self, schema_id: int) -> Any:
        return self._schemas[schema_id]


def measure(decoder: BatchDecoder, records: list[KafkaRecord], batch: int) -> float:
    """Events per CPU second, best of five passes.

    The pre-built input is moved out of the garbage collector's sight first:
    a consumer holds one batch at a time, not the bench's whole input, and
    collections scanning the input would be a cost of the bench alone.
    """
    gc.collect()
    gc.freeze()
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        decoded = 0
        for at in range(0, len(records), batch):
            events, dead = decoder.decode_batch(records[at : at + batch])
            decoded += len(events)
            if dead:
                raise SystemExit(
                    f"unexpected dead letter: {dead[0].kind} {dead[0].reason}"
                )
        best = min(best, time.process_time() - start)
    gc.unfreeze()
    return decoded / best


def floor(records: list[KafkaRecord], parse: Callable[[bytes], Any]) -> float:
    """Values per CPU second that the parser alone reaches (best of five)."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for record in records:
            parse(record.value or b"")
        best = min(best, time.process_time() - start)
    return len(records) / best


def _avro_parser(schemas: dict[int, Any]) -> Callable[[bytes], Any]:
    from fastavro import schemaless_reader

    from lifeline.decode.avro_schema import without_logical_types

    writer = parse_schema(without_logical_types(schemas[2]))

    def parse(value: bytes) -> Any:
        body = io.BytesIO(value)
        body.seek(5)
        return schemaless_reader(body, writer, None)

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    schemas = avro_schemas()
    cases: list[tuple[str, Callable[[], BatchDecoder], list[KafkaRecord]]] = [
        ("json, payload only", EnvelopeDecoder, json_records(args.events, False)),
        ("json, with schema", EnvelopeDecoder, json_records(args.events, True)),
        (
            "avro",
            lambda: AvroEnvelopeDecoder(_Schemas(schemas)),
            avro_records(args.events, schemas),
        ),
    ]
    parsers = [orjson.loads, orjson.loads, _avro_parser(schemas)]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'format':20s} {'decoded':>12s} {'parser alone':>14s}")
    for (name, make, records), parse in zip(cases, parsers, strict=True):
        size = sum(len(r.value or b"") for r in records) / len(records)
        rate = measure(make(), records, args.batch)
        alone = floor(records, parse)
        figures = f"{rate:>12,.0f} {alone:>14,.0f}"
        print(f"{name:20s} {figures}   events/s per core, {size:,.0f} B/value")


if __name__ == "__main__":
    main()
