"""Capture the Debezium record shapes the event generator fills in.

On a bench stack of its own (databases, broker, Connect), inserts a few rows
into each table the generator writes, lets the connectors snapshot them,
updates some, and keeps, per topic, the key schema, the value schema and a
real ``source`` block of a streamed change. ``bench/templates.json`` is the
result; the generator copies the schemas verbatim, so its records are the
connectors' own shapes with other values.

    .venv/bin/python -m bench.capture
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, TopicPartition

from bench.stack import BenchStack
from lifeline.capture.apply import apply_connectors
from lifeline.flows.cdc import kafka_config
from lifeline.live import mariadb_connection, postgres_connection
from lifeline.samples.schema import apply_schemas
from lifeline.settings import Settings

TEMPLATES = Path(__file__).with_name("templates.json")
TABLES = {
    "erp.erp.customers": "customers",
    "erp.erp.orders": "orders",
    "erp.erp.invoices": "invoices",
    "erp.erp.payments": "payments",
    "identity.public.users": "users",
    "identity.public.external_ids": "external_ids",
}

_ERP_ROWS = [
    "INSERT INTO customers (id, customer_no, legal_name, tax_id, email, phone,"
    " billing_street, billing_city, billing_postal_code, billing_country,"
    " credit_limit, status) VALUES (1, 'C-1', 'Acme GmbH', 'DE123456789',"
    " 'ops@acme.example', '+49 30 5550101', 'Lindenstraße 1', 'Berlin', '10115',"
    " 'DE', 5000.00, 'active')",
    "INSERT INTO orders (id, order_no, customer_id, status, currency, total)"
    " VALUES (1, 'SO-1', 1, 'open', 'EUR', 120.50)",
    "INSERT INTO invoices (id, invoice_no, customer_id, order_id, status, currency,"
    " amount, issued_on, due_on) VALUES (1, 'INV-1', 1, 1, 'draft', 'EUR', 120.50,"
    " '2026-12-01', '2026-12-31')",
]
_ERP_CHANGES = [
    "UPDATE customers SET credit_limit = 7500.00, status = 'on_hold' WHERE id = 1",
    "UPDATE orders SET status = 'confirmed' WHERE id = 1",
    "UPDATE invoices SET status = 'posted', posted_at = NOW(3) WHERE id = 1",
    "INSERT INTO payments (id, invoice_id, amount, status, method, paid_at)"
    " VALUES (1, 1, 120.50, 'received', 'card', NOW(3))",
]
_IDENTITY_ROWS = [
    "INSERT INTO users (id, email, email_verified, given_name, family_name,"
    " display_name, phone, locale) VALUES ('u-1', 'jane@acme.example', true,"
    " 'Jane', 'Doe', 'Jane Doe', '+4930555010', 'de-DE')",
]
_IDENTITY_CHANGES = [
    "UPDATE users SET given_name = 'Janet', updated_at = now() WHERE id = 'u-1'",
    "INSERT INTO external_ids (system, external_id, user_id)"
    " VALUES ('erp', 'C-1', 'u-1')",
]


def make_changes(settings: Settings, erp: list[str], identity: list[str]) -> None:
    """Run the statements, one transaction per database."""
    with mariadb_connection(settings) as my, my.cursor() as cursor:
        for statement in erp:
            cursor.execute(statement)
        my.commit()
    with postgres_connection(settings) as pg:
        for statement in identity:
            pg.execute(statement)
        pg.commit()


def last_records(settings: Settings, timeout: float = 60.0) -> dict[str, Any]:
    """The newest record of each topic, once every topic has a streamed change."""
    consumer = Consumer({**kafka_config(settings), "group.id": "bench-capture"})
    consumer.assign([TopicPartition(t, 0, 0) for t in TABLES])
    newest: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _streamed(newest):
        for message in consumer.consume(500, 1.0):
            topic = message.topic()
            if message.error() is None and message.value() is not None and topic:
                newest[topic] = message
    consumer.close()
    if not _streamed(newest):
        raise SystemExit(f"no streamed change on every topic; got {sorted(newest)}")
    return newest


def _streamed(newest: dict[str, Any]) -> bool:
    return len(newest) == len(TABLES) and all(
        orjson.loads(m.value())["payload"]["source"]["snapshot"] == "false"
        for m in newest.values()
    )


def template(message: Any) -> dict[str, Any]:
    """Key schema, value schema and source block of one captured record."""
    key, value = orjson.loads(message.key()), orjson.loads(message.value())
    return {
        "key_schema": key["schema"],
        "value_schema": value["schema"],
        "source": value["payload"]["source"],
        "example": {"key": key["payload"], "payload": value["payload"]},
    }


def main() -> None:
    stack = BenchStack(partitions=1)
    try:
        s = stack
        stack.need(s.broker, s.postgres, s.mariadb, s.redis, s.connect)
        apply_schemas(stack.settings)
        make_changes(stack.settings, _ERP_ROWS, _IDENTITY_ROWS)
        apply_connectors(stack.settings)
        time.sleep(5)  # the snapshot first, then the streamed changes
        make_changes(stack.settings, _ERP_CHANGES, _IDENTITY_CHANGES)
        newest = last_records(stack.settings)
        shapes = {topic: template(newest[topic]) for topic in TABLES}
        TEMPLATES.write_bytes(orjson.dumps(shapes, option=orjson.OPT_INDENT_2) + b"\n")
        print(f"wrote {TEMPLATES.name}: {', '.join(shapes)}")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
