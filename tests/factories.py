"""Builders of Debezium change events as Kafka Connect's JsonConverter writes them."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import orjson

from lifeline.decode.records import KafkaRecord

CUSTOMER_COLUMNS: list[dict[str, Any]] = [
    {"type": "int32", "optional": False, "field": "id"},
    {"type": "string", "optional": False, "field": "customer_no"},
    {"type": "string", "optional": False, "field": "legal_name"},
    {"type": "string", "optional": True, "field": "email"},
    {
        "type": "bytes",
        "optional": False,
        "name": "org.apache.kafka.connect.data.Decimal",
        "version": 1,
        "parameters": {"scale": "2", "connect.decimal.precision": "12"},
        "field": "credit_limit",
    },
    {
        "type": "int64",
        "optional": False,
        "name": "io.debezium.time.Timestamp",
        "version": 1,
        "field": "updated_at",
    },
]

USER_COLUMNS: list[dict[str, Any]] = [
    {"type": "string", "optional": False, "field": "id"},
    {"type": "string", "optional": False, "field": "email"},
    {"type": "string", "optional": True, "field": "given_name"},
    {
        "type": "string",
        "optional": False,
        "name": "io.debezium.time.ZonedTimestamp",
        "version": 1,
        "field": "updated_at",
    },
]


def decimal_bytes(value: str, scale: int = 2) -> str:
    """Debezium's precise decimal: base64 of the big-endian unscaled integer."""
    unscaled = int(Decimal(value).scaleb(scale))
    size = max(1, (unscaled.bit_length() + 8) // 8)
    return base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode()


def envelope_schema(name: str, columns: list[dict[str, Any]]) -> dict[str, Any]:
    row = {
        "type": "struct",
        "fields": columns,
        "optional": True,
        "name": f"{name}.Value",
    }
    return {
        "type": "struct",
        "fields": [
            {**row, "field": "before"},
            {**row, "field": "after"},
            {"type": "struct", "fields": [], "optional": False, "field": "source"},
            {"type": "string", "optional": False, "field": "op"},
            {"type": "int64", "optional": True, "field": "ts_ms"},
        ],
        "optional": False,
        "name": f"{name}.Envelope",
        "version": 2,
    }


def mysql_source(
    table: str,
    pos: int,
    row: int = 0,
    file: str = "bin.000003",
    snapshot: str = "false",
) -> dict[str, Any]:
    return {
        "version": "3.6.3.Final",
        "connector": "mysql",
        "name": "erp",
        "ts_ms": 1764800000000,
        "snapshot": snapshot,
        "db": "erp",
        "table": table,
        "server_id": 184054,
        "file": file,
        "pos": pos,
        "row": row,
    }


def pg_source(table: str, lsn: int, snapshot: str = "false") -> dict[str, Any]:
    return {
        "version": "3.6.3.Final",
        "connector": "postgresql",
        "name": "identity",
        "ts_ms": 1764800000000,
        "snapshot": snapshot,
        "db": "identity",
        "schema": "public",
        "table": table,
        "txId": 770,
        "lsn": lsn,
        "sequence": f'[null,"{lsn}"]',
    }


def record(
    topic: str,
    key: dict[str, Any] | None,
    payload: dict[str, Any] | None,
    columns: list[dict[str, Any]] | None = None,
    offset: int = 0,
) -> KafkaRecord:
    """A Kafka record; with ``columns`` the value carries the schema."""
    key_bytes = None if key is None else orjson.dumps(key)
    if payload is None:
        return KafkaRecord(topic, 0, offset, key_bytes, None)
    if columns is None:
        value = orjson.dumps(payload)
    else:
        schema = envelope_schema(topic, columns)
        value = orjson.dumps({"schema": schema, "payload": payload})
    return KafkaRecord(topic, 0, offset, key_bytes, value)


def customer(
    id_: int,
    email: str | None,
    pos: int,
    op: str = "c",
    before: dict[str, Any] | None = None,
    offset: int = 0,
    credit: str = "1500.00",
    name: str = "Acme GmbH",
) -> KafkaRecord:
    after = (
        None
        if op == "d"
        else {
            "id": id_,
            "customer_no": f"C-{id_}",
            "legal_name": name,
            "email": email,
            "credit_limit": decimal_bytes(credit),
            "updated_at": 1764800000123,
        }
    )
    payload = {
        "before": before,
        "after": after,
        "source": mysql_source("customers", pos),
        "op": op,
        "ts_ms": 1764800000200,
    }
    return record("erp.erp.customers", {"id": id_}, payload, CUSTOMER_COLUMNS, offset)


def user(id_: str, email: str, lsn: int, op: str = "c", offset: int = 0) -> KafkaRecord:
    after = (
        None
        if op == "d"
        else {
            "id": id_,
            "email": email,
            "given_name": "Jane",
            "updated_at": "2026-12-04T10:00:00.123456Z",
        }
    )
    before = (
        {
            "id": id_,
            "email": email,
            "given_name": "Jane",
            "updated_at": "2026-12-04T10:00:00.123456Z",
        }
        if op == "d"
        else None
    )
    payload = {
        "before": before,
        "after": after,
        "source": pg_source("users", lsn),
        "op": op,
        "ts_ms": 1764800000200,
    }
    return record("identity.public.users", {"id": id_}, payload, USER_COLUMNS, offset)


ORGANISATION_COLUMNS: list[dict[str, Any]] = [
    {"type": "string", "optional": False, "field": "id"},
    {"type": "string", "optional": False, "field": "name"},
    {"type": "string", "optional": True, "field": "domain"},
    {"type": "string", "optional": True, "field": "tax_id"},
    {"type": "string", "optional": True, "field": "country"},
]

MEMBERSHIP_COLUMNS: list[dict[str, Any]] = [
    {"type": "string", "optional": False, "field": "user_id"},
    {"type": "string", "optional": False, "field": "org_id"},
    {"type": "string", "optional": False, "field": "role"},
]


def _identity_change(
    table: str,
    key: dict[str, Any],
    row: dict[str, Any],
    lsn: int,
    op: str,
    columns: list[dict[str, Any]],
) -> KafkaRecord:
    """A change of an identity row; a delete's before image is the key only."""
    payload = {
        "before": key if op == "d" else None,
        "after": None if op == "d" else row,
        "source": pg_source(table, lsn),
        "op": op,
        "ts_ms": 1764800000200,
    }
    return record(f"identity.public.{table}", key, payload, columns)


def organisation(
    id_: str,
    name: str,
    lsn: int,
    op: str = "c",
    domain: str | None = None,
    tax_id: str | None = None,
    country: str | None = None,
) -> KafkaRecord:
    row = {
        "id": id_,
        "name": name,
        "domain": domain,
        "tax_id": tax_id,
        "country": country,
    }
    key = {"id": id_}
    return _identity_change("organisations", key, row, lsn, op, ORGANISATION_COLUMNS)


def membership(
    user_id: str, org_id: str, lsn: int, op: str = "c", role: str = "member"
) -> KafkaRecord:
    row = {"user_id": user_id, "org_id": org_id, "role": role}
    key = {"user_id": user_id, "org_id": org_id}
    return _identity_change("memberships", key, row, lsn, op, MEMBERSHIP_COLUMNS)


def tombstone(table: str, key: dict[str, Any]) -> KafkaRecord:
    """The tombstone Debezium writes after a delete (null value)."""
    return record(f"identity.public.{table}", key, None)
