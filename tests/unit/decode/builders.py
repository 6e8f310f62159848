"""Debezium records as Kafka Connect writes them, for decoder tests."""

from __future__ import annotations

import base64
import io
from decimal import MAX_PREC, Context, Decimal
from typing import Any

import orjson
from fastavro import parse_schema, schemaless_writer

from lifeline.decode.records import KafkaRecord
from tests.factories import envelope_schema

Json = dict[str, Any]


def col(field: str, type_: str, name: str | None = None, **params: Any) -> Json:
    """A Connect field schema; ``params`` become the schema's parameters."""
    schema: Json = {"type": type_, "optional": True, "field": field}
    if name is not None:
        schema["name"] = name
    if params:
        schema["parameters"] = {k: str(v) for k, v in params.items()}
    return schema


def decimal_col(field: str, scale: int) -> Json:
    return col(
        field,
        "bytes",
        "org.apache.kafka.connect.data.Decimal",
        scale=scale,
        **{"connect.decimal.precision": 20},
    )


def unscaled_b64(value: str | Decimal, scale: int) -> str:
    return base64.b64encode(unscaled_bytes(Decimal(value), scale)).decode()


def unscaled_bytes(value: Decimal, scale: int) -> bytes:
    unscaled = int(value.scaleb(scale, Context(prec=MAX_PREC)))
    size = max(1, (unscaled.bit_length() + 8) // 8)
    return unscaled.to_bytes(size, "big", signed=True)


def key_schema(topic: str, columns: list[Json]) -> Json:
    return {
        "type": "struct",
        "fields": columns,
        "optional": False,
        "name": f"{topic}.Key",
    }


def pg_source(
    lsn: int,
    commit: int | None = None,
    snapshot: Any = "false",
    table: str = "type_zoo",
    tx_id: int = 770,
) -> Json:
    first = "null" if commit is None else f'"{commit}"'
    return {
        "version": "3.6.3.Final",
        "connector": "postgresql",
        "name": "identity",
        "ts_ms": 1764800000000,
        "ts_us": 1764800000000123,
        "snapshot": snapshot,
        "db": "identity",
        "sequence": f'[{first},"{lsn}"]',
        "schema": "public",
        "table": table,
        "txId": tx_id,
        "lsn": lsn,
        "xmin": None,
    }


def mysql_source(
    pos: int,
    row: int = 0,
    file: str = "mysql-bin.000003",
    snapshot: Any = "false",
    table: str = "type_zoo",
) -> Json:
    return {
        "version": "3.6.3.Final",
        "connector": "mysql",
        "name": "erp",
        "ts_ms": 1764800000000,
        "snapshot": snapshot,
        "db": "erp",
        "table": table,
        "server_id": 184054,
        "gtid": None,
        "file": file,
        "pos": pos,
        "row": row,
    }


def envelope(
    op: str,
    source: Json,
    after: Json | None = None,
    before: Json | None = None,
    **extra: Any,
) -> Json:
    return {
        "before": before,
        "after": after,
        "source": source,
        "op": op,
        "ts_ms": 1764800000200,
        **extra,
    }


def record(
    payload: Any,
    key: Any = None,
    columns: list[Json] | None = None,
    key_columns: list[Json] | None = None,
    topic: str = "identity.public.type_zoo",
    offset: int = 0,
) -> KafkaRecord:
    """A JsonConverter record; with ``columns`` the value carries its schema.

    A row change needs a key; without one given it gets ``{"id": 1}``.
    """
    if key is None and payload is not None:
        key = {"id": 1}
    if key is not None and key_columns is not None:
        key = {"schema": key_schema(topic, key_columns), "payload": key}
    key_bytes = None if key is None else orjson.dumps(key)
    if payload is None:
        return KafkaRecord(topic, 0, offset, key_bytes, None)
    if columns is not None:
        payload = {"schema": envelope_schema(topic, columns), "payload": payload}
    return KafkaRecord(topic, 0, offset, key_bytes, orjson.dumps(payload))


# --- Avro, as Confluent's AvroConverter writes it ---------------------------


def avro_field(field: str, type_: Any, **connect: Any) -> Json:
    """An optional Avro field; ``connect`` holds connect.* properties."""
    if connect:
        type_ = {"type": type_, **{f"connect.{k}": v for k, v in connect.items()}}
    return {"name": field, "type": ["null", type_], "default": None}


def avro_decimal(name: str, scale: int) -> Json:
    return avro_field(
        name,
        {
            "type": "bytes",
            "scale": scale,
            "precision": 20,
            "connect.version": 1,
            "connect.parameters": {"scale": str(scale)},
            "connect.name": "org.apache.kafka.connect.data.Decimal",
            "logicalType": "decimal",
        },
    )


def avro_envelope_schema(namespace: str, fields: list[Json]) -> Json:
    source_fields = [
        {"name": "version", "type": "string"},
        {"name": "connector", "type": "string"},
        {"name": "name", "type": "string"},
        {"name": "ts_ms", "type": "long"},
        {"name": "snapshot", "type": ["null", "string"], "default": None},
        {"name": "db", "type": "string"},
        {"name": "sequence", "type": ["null", "string"], "default": None},
        {"name": "schema", "type": "string"},
        {"name": "table", "type": "string"},
        {"name": "txId", "type": ["null", "long"], "default": None},
        {"name": "lsn", "type": ["null", "long"], "default": None},
    ]
    value = {
        "type": "record",
        "name": "Value",
        "namespace": namespace,
        "fields": fields,
    }
    return {
        "type": "record",
        "name": "Envelope",
        "namespace": namespace,
        "fields": [
            {"name": "before", "type": ["null", value], "default": None},
            {"name": "after", "type": ["null", f"{namespace}.Value"], "default": None},
            {
                "name": "source",
                "type": {
                    "type": "record",
                    "name": "Source",
                    "namespace": "io.debezium.connector.postgresql",
                    "fields": source_fields,
                },
            },
            {"name": "op", "type": "string"},
            {"name": "ts_ms", "type": ["null", "long"], "default": None},
        ],
    }


def avro_key_schema(namespace: str) -> Json:
    return {
        "type": "record",
        "name": "Key",
        "namespace": namespace,
        "fields": [{"name": "id", "type": "int"}],
    }


def avro_bytes(schema_id: int, schema: Json, datum: Any) -> bytes:
    """Confluent wire format: magic 0, schema id, Avro body."""
    out = io.BytesIO()
    out.write(b"\x00" + schema_id.to_bytes(4, "big"))
    schemaless_writer(out, parse_schema(schema), datum)
    return out.getvalue()


def avro_source(lsn: int, commit: int | None = None) -> Json:
    source = pg_source(lsn, commit)
    return {k: source[k] for k in source if k not in ("ts_us", "xmin")}
