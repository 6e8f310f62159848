"""Orders with lines, invoices and subscriptions on the real stack.

One customer orders (header and lines in one transaction), is invoiced
twice and pays one invoice, subscribes, renews, cancels; a line added to the
order afterwards is late. The lifecycle topic, the late topic and the golden
record in Redis must all show it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer

from lifeline.cache import CacheReader, GoldenRecord, build_client
from lifeline.events.avro import EventCodec
from lifeline.events.models import (
    EntitlementChanged,
    LifecycleEvent,
    LifecycleStageChanged,
    OrderPlaced,
    RenewalCompleted,
)
from lifeline.live import ErpChanges, Line, mariadb_connection
from lifeline.settings import Settings
from tests.e2e.waiting import wait_for as _wait_for

pytestmark = pytest.mark.stack


def _consume(
    settings: Settings,
    topic: str,
    key: bytes,
    enough: Callable[[list[bytes]], bool],
    timeout: float = 60.0,
) -> list[bytes]:
    """Values of ``topic``'s records with ``key``, read until ``enough``."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.broker.bootstrap_servers,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": "false",
        }
    )
    consumer.subscribe([topic])
    found: list[bytes] = []
    deadline = time.monotonic() + timeout
    while not enough(found) and time.monotonic() < deadline:
        for message in consumer.consume(500, 0.5):
            value = message.value()
            if message.error() is None and message.key() == key and value:
                found.append(value)
    consumer.close()
    return found


def _has(*kinds: type[LifecycleEvent]) -> Callable[[list[bytes]], bool]:
    codec = EventCodec()

    def enough(values: list[bytes]) -> bool:
        seen = {type(codec.decode(value)) for value in values}
        return all(kind in seen for kind in kinds)

    return enough


def _stage_is(stage: str, product: str, status: str) -> Callable[[Any], bool]:
    def done(record: GoldenRecord | None) -> bool:
        return (
            record is not None
            and record.stage == stage
            and record.entitlements.get(product, {}).get("status") == status
        )

    return done


def test_orders_invoices_and_a_subscription_lifecycle(
    stack_settings: Settings,
) -> None:
    tag = uuid.uuid4().hex[:8]
    reader = CacheReader(
        build_client(stack_settings.redis), stack_settings.cache_prefix
    )
    today = datetime.now(UTC).date()
    lines = [
        Line("SW-3001", Decimal("1.000"), Decimal("1200.00"), "Inventory suite"),
        Line("SVC-4001", Decimal("2.500"), Decimal("120.00")),
    ]
    with mariadb_connection(stack_settings) as conn:
        erp = ErpChanges(stack_settings, conn)
        customer = erp.insert(
            f"C-{tag}", f"Subscriber {tag} Ltd", f"s.{tag}@example.com"
        )
        order = erp.place_order(customer.row_id, f"O-{tag}", lines, "EUR")
        paid = erp.post_invoice(customer.row_id, f"IA-{tag}", Decimal("1500.00"), "EUR")
        erp.post_invoice(customer.row_id, f"IB-{tag}", Decimal("99.00"), "EUR")
        erp.pay_invoice(paid.row_id)
        year = today + timedelta(days=365)
        sub = erp.subscribe(customer.row_id, "SW-3001", "pro", 10, year, today)
        active = _wait_for(
            lambda: reader.by_source_id(f"erp:C-{tag}"),
            _stage_is("active", "SW-3001", "active"),
        )
        assert active is not None, "the golden record never reached the cache"
        assert active.stage == "active", active.to_json()
        erp.renew(sub.row_id, today + timedelta(days=730))
        erp.change_seats(sub.row_id, 12)
        erp.cancel(sub.row_id)
        # once OrderPlaced is out, the order's window has closed
        key = active.golden_id.encode()
        topic = stack_settings.topics.lifecycle
        assert _consume(stack_settings, topic, key, _has(OrderPlaced))
        erp.add_order_line(order.row_id, 3, Line("CON-2001", Decimal(1), Decimal(5)))
    record = _wait_for(
        lambda: reader.by_source_id(f"erp:C-{tag}"),
        _stage_is("churned", "SW-3001", "cancelled"),
    )
    assert record is not None
    assert record.stage == "churned", record.to_json()
    assert record.entitlements["SW-3001"] == {
        "subscription_id": sub.row_id,
        "plan_code": "pro",
        "seats": 12,
        "status": "cancelled",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=730)).isoformat(),
    }
    # the paid invoice left; the other one is still open
    assert list(record.open_invoices) == [f"IB-{tag}"]
    assert record.open_invoices[f"IB-{tag}"]["amount"] == "99.00"
    assert record.open_invoices[f"IB-{tag}"]["status"] == "posted"

    codec = EventCodec()
    values = _consume(
        stack_settings,
        stack_settings.topics.lifecycle,
        record.golden_id.encode(),
        _has(OrderPlaced, RenewalCompleted, EntitlementChanged, LifecycleStageChanged),
    )
    events = [codec.decode(value) for value in values]
    (placed,) = {e.event_id: e for e in events if isinstance(e, OrderPlaced)}.values()
    assert isinstance(placed, OrderPlaced)
    assert placed.order_number == f"O-{tag}"
    assert placed.line_count == 2
    assert placed.lines is not None
    assert [(x.sku, x.quantity) for x in placed.lines] == [
        ("SW-3001", Decimal(1)),
        ("SVC-4001", Decimal("2.5")),
    ]
    assert placed.total == Decimal("1500.00")
    changes = [e.change for e in events if isinstance(e, EntitlementChanged)]
    assert changes[:3] == ["granted", "changed", "revoked"]
    (renewal,) = {
        e.event_id: e for e in events if isinstance(e, RenewalCompleted)
    }.values()
    assert isinstance(renewal, RenewalCompleted)
    assert renewal.contract_id == sub.row_id
    stages = [
        (e.from_stage, e.to_stage, e.fact)
        for e in events
        if isinstance(e, LifecycleStageChanged)
    ]
    assert ("active", "churned", "contracts_ended") in stages

    late = _consume(
        stack_settings, stack_settings.topics.late, order.row_id.encode(), bool
    )
    assert late, "the line added later never reached the late topic"
    late_record = orjson.loads(late[0])
    assert late_record["kind"] == "late"
    assert late_record["reason"] == "window_closed"
    assert late_record["table"] == "order_lines"
    assert late_record["row"]["sku"] == "CON-2001"
    assert late_record["tx_id"], "the connector sent no transaction metadata"
