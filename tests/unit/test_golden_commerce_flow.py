"""Orders with lines, subscriptions and renewals through the golden flow.

Bytewax's testing source and sinks; the order windows close by the watermark
(source commit times) or at the end of the input, never by the wall clock
(the idle timeout is an hour here).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from bytewax.testing import TestingSink, TestingSource, run_main

from lifeline.cache.updates import Upsert
from lifeline.decode.records import KafkaRecord
from lifeline.events.models import (
    EntitlementChanged,
    LifecycleEvent,
    LifecycleStageChanged,
    OrderPlaced,
    RenewalCompleted,
)
from lifeline.flows.golden import build_golden_flow
from lifeline.golden.step import GoldenOutput
from lifeline.join.latest import RowChange
from lifeline.join.windows import NOT_IN_WINDOW, WINDOW_CLOSED, LateLine
from lifeline.settings import Settings, WindowSettings
from tests import factories
from tests.factories import customer, mysql_source

T0 = 1_764_800_000_000
SETTINGS = Settings(windows=WindowSettings(idle_timeout=3600))


@dataclass
class Run:
    outputs: list[GoldenOutput]
    late: list[LateLine]
    rows: list[RowChange]

    @property
    def events(self) -> list[LifecycleEvent]:
        return [event for output in self.outputs for event in output.events]

    def of(self, kind: type[LifecycleEvent]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]

    def stages(self) -> list[tuple[str | None, str, str]]:
        return [
            (e.from_stage, e.to_stage, e.fact) for e in self.of(LifecycleStageChanged)
        ]

    def upserts(self) -> list[Upsert]:
        return [
            update
            for output in self.outputs
            for update in output.updates
            if isinstance(update, Upsert)
        ]


def run(batches: list[list[KafkaRecord]]) -> Run:
    outputs: list[GoldenOutput] = []
    late: list[LateLine] = []
    rows: list[Any] = []
    ignored: list[Any] = []
    flow = build_golden_flow(
        SETTINGS,
        source=TestingSource(batches),
        row_sink=TestingSink(rows),
        golden_sink=TestingSink(outputs),
        event_sink=TestingSink(ignored),
        dead_letter_sink=TestingSink(ignored),
        audit_sink=TestingSink(ignored),
        late_sink=TestingSink(late),
    )
    run_main(flow)  # type: ignore[no-untyped-call]
    changes = [c for batch in rows for c in batch if isinstance(c, RowChange)]
    return Run(outputs, late, changes)


def erp(
    table: str,
    row: dict[str, Any],
    pos: int,
    *,
    ts: int = T0,
    before: dict[str, Any] | None = None,
    tx: str | None = None,
    snapshot: str | None = None,
) -> KafkaRecord:
    """A change of an ERP row committed at ``ts`` (ms)."""
    op = "r" if snapshot else ("c" if before is None else "u")
    source = mysql_source(table, pos, snapshot=snapshot or "false") | {"ts_ms": ts}
    payload: dict[str, Any] = {
        "before": before,
        "after": row,
        "op": op,
        "ts_ms": ts + 50,
        "source": source,
    }
    if tx is not None:
        payload["transaction"] = {
            "id": tx,
            "total_order": 1,
            "data_collection_order": 1,
        }
    return factories.record(f"erp.erp.{table}", {"id": row["id"]}, payload)


def order(order_id: int, customer_id: int, pos: int, **kw: Any) -> KafkaRecord:
    row = {"id": order_id, "order_no": f"O-{order_id}", "customer_id": customer_id}
    row |= {"status": "confirmed", "currency": "EUR", "total": "30.00"}
    return erp("orders", row, pos, **kw)


def order_line(
    line_id: int, order_id: int, line_no: int, pos: int, **kw: Any
) -> KafkaRecord:
    row: dict[str, Any] = {"id": line_id, "order_id": order_id, "line_no": line_no}
    row |= {"sku": f"SKU-{line_no}", "description": None}
    row |= {"quantity": "1.000", "unit_price": "10.00"}
    return erp("order_lines", row, pos, **kw)


def placed(result: Run, order_id: int) -> list[OrderPlaced]:
    return [e for e in result.of(OrderPlaced) if e.order_number == f"O-{order_id}"]


# --- an order and its lines: one OrderPlaced ----------------------------------


LAYOUTS = {
    # lines read after their header, within the 2 s window
    "lines_after": lambda o, c: [
        [order(o, c, 200)],
        [order_line(o * 10 + 1, o, 1, 210, ts=T0 + 500)],
        [order_line(o * 10 + 2, o, 2, 220, ts=T0 + 1500)],
    ],
    # the lines' topic read first: they wait for their header
    "lines_before": lambda o, c: [
        [order_line(o * 10 + 1, o, 1, 210, ts=T0 + 300)],
        [order_line(o * 10 + 2, o, 2, 220, ts=T0 + 400)],
        [order(o, c, 200)],
    ],
    # one transaction, split over batches in any order
    "transaction": lambda o, c: [
        [order_line(o * 10 + 2, o, 2, 220, tx="gtid-7")],
        [order(o, c, 200, tx="gtid-7")],
        [order_line(o * 10 + 1, o, 1, 210, tx="gtid-7")],
    ],
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_an_order_and_its_lines_publish_one_order_placed(layout: str) -> None:
    buyer = customer(3, "lines@example.com", 100, name="Lia Lines")
    result = run([[buyer], *LAYOUTS[layout](30, 3)])
    (event,) = placed(result, 30)
    assert event.line_count == 2
    assert event.lines is not None
    assert [(line.line_no, line.sku) for line in event.lines] == [
        (1, "SKU-1"),
        (2, "SKU-2"),
    ]
    assert {line.table for line in event.lineage} == {"orders", "order_lines"}
    assert result.late == []
    assert ("prospect", "onboarding", "order_placed") in result.stages()


def test_a_line_after_its_window_is_late_and_the_order_is_not_sent_again() -> None:
    result = run(
        [
            [customer(4, "late.line@example.com", 100, name="Lu Late")],
            [order(40, 4, 200), order_line(401, 40, 1, 210, ts=T0 + 100)],
            [order(41, 4, 300, ts=T0 + 5000)],  # the watermark passes order 40
            [order_line(402, 40, 2, 220, ts=T0 + 200)],
            [order_line(411, 41, 1, 310, ts=T0 + 5100, tx="gtid-other")],
        ]
    )
    (first,) = placed(result, 40)
    assert first.line_count == 1
    assert [(x.change.row_id, x.order_id, x.reason) for x in result.late] == [
        ("402", "40", WINDOW_CLOSED)
    ]
    # late or not, the line still reaches the row cache
    assert "402" in {c.row_id for c in result.rows if c.table == "order_lines"}
    (second,) = placed(result, 41)
    assert second.line_count == 1  # no transaction id on the header: time decides


def test_a_line_of_another_transaction_is_not_in_the_burst() -> None:
    result = run(
        [
            [customer(5, "tx@example.com", 100, name="Tom Tx")],
            [order(50, 5, 200, tx="gtid-1"), order_line(501, 50, 1, 210, tx="gtid-1")],
            [order_line(502, 50, 2, 230, ts=T0 + 300, tx="gtid-2")],
        ]
    )
    (event,) = placed(result, 50)
    assert event.line_count == 1
    assert [(x.change.row_id, x.reason) for x in result.late] == [
        ("502", NOT_IN_WINDOW)
    ]


# --- subscriptions, renewals and the account in the cache ----------------------

DAY = 20_000  # days since the epoch, as a DATE arrives without a schema


def subscription(pos: int, *, before: dict[str, Any] | None = None, **row: Any) -> Any:
    base = {"id": 60, "customer_id": 6, "product_code": "SW-3001"}
    base |= {"plan_code": "standard", "seats": 5, "status": "active"}
    base |= {"starts_on": DAY, "ends_on": DAY + 365, "renewed_at": None}
    base |= {"updated_at": T0}
    full = (before or base) | row
    return full, erp("subscriptions", full, pos, ts=T0 + pos, before=before)


def invoice(pos: int, status: str, before: dict[str, Any] | None = None) -> Any:
    row = {"id": 61, "invoice_no": "I-61", "customer_id": 6, "order_id": 62}
    row |= {"status": status, "currency": "EUR", "amount": "30.00"}
    row |= {"issued_on": DAY, "due_on": DAY + 30, "posted_at": None}
    return row, erp("invoices", row, pos, ts=T0 + pos, before=before)


def lifecycle_batches() -> list[list[KafkaRecord]]:
    """A customer orders, pays, subscribes, renews, adds seats and cancels."""
    posted, posted_record = invoice(300, "posted")
    _, paid_record = invoice(400, "paid", before=posted)
    granted, granted_record = subscription(500)
    renewed, renewed_record = subscription(
        600, before=granted, ends_on=DAY + 730, renewed_at=T0 + 600
    )
    more, more_record = subscription(700, before=renewed, seats=8)
    _, cancelled_record = subscription(800, before=more, status="cancelled")
    return [
        [customer(6, "subscriber@example.com", 100, name="Sam Sub")],
        [order(62, 6, 200)],
        [posted_record],
        [paid_record],
        [granted_record],
        [renewed_record],
        [more_record],
        [cancelled_record],
    ]


def test_subscribe_renew_change_and_cancel() -> None:
    result = run(lifecycle_batches())
    changes = [(e.change, e.active, e.quantity) for e in result.of(EntitlementChanged)]
    assert changes == [
        ("granted", True, 5),
        ("changed", True, 8),
        ("revoked", False, 8),
    ]
    granted = result.of(EntitlementChanged)[0]
    assert granted.entitlement == "SW-3001"
    assert granted.plan == "standard"
    assert granted.contract_id == "60"
    # ends_on is the last day, 2025-10-04: valid until the midnight after it
    assert granted.valid_until.isoformat() == "2025-10-05T00:00:00+00:00"
    (renewal,) = result.of(RenewalCompleted)
    assert renewal.contract_id == "60"
    assert renewal.term_end is not None
    assert renewal.term_end.date().isoformat() == "2026-10-05"
    assert result.stages() == [
        ("prospect", "onboarding", "order_placed"),
        ("onboarding", "active", "invoice_paid"),
        ("active", "churned", "contracts_ended"),
    ]
    assert len({e.event_id for e in result.events}) == len(result.events)


def test_the_cache_holds_open_invoices_and_entitlements() -> None:
    upserts = run(lifecycle_batches()).upserts()
    invoices = [u.open_invoices for u in upserts]
    assert {"I-61": {
        "invoice_no": "I-61", "amount": "30.00", "currency": "EUR",
        "issued_on": DAY, "due_on": DAY + 30, "status": "posted",
    }} in invoices  # fmt: skip
    last = upserts[-1]
    assert last.stage == "churned"
    assert last.open_invoices == {}  # paid: no longer open
    assert last.entitlements == {
        "SW-3001": {
            "subscription_id": "60",
            "plan_code": "standard",
            "seats": 8,
            "status": "cancelled",
            "starts_on": DAY,
            "ends_on": DAY + 730,
        }
    }
    while_active = [u.entitlements for u in upserts if u.stage == "active"]
    assert while_active
    assert while_active[-1] is not None
    assert while_active[-1]["SW-3001"]["status"] == "active"


def test_a_subscription_that_arrives_ended_ends_contracts_quietly() -> None:
    ended, record = subscription(
        500, status="expired", ends_on=DAY + 365, updated_at=T0 + 10
    )
    assert ended["status"] == "expired"
    posted, _ = invoice(300, "posted")
    _, paid = invoice(400, "paid", before=posted)
    result = run(
        [
            [customer(6, "ended@example.com", 100, name="Eda End")],
            [order(62, 6, 200)],
            [paid],
            [record],
        ]
    )
    assert result.of(EntitlementChanged) == []
    assert result.stages()[-1] == ("active", "churned", "contracts_ended")


TOPICS = ("customers", "orders", "invoices", "subscriptions")


@pytest.mark.parametrize(
    "read_order",
    sorted(itertools.permutations(range(4))),
    ids=lambda order: "".join(map(str, order)),
)
def test_the_subscription_stage_does_not_depend_on_topic_read_order(
    read_order: tuple[int, ...],
) -> None:
    batches = lifecycle_batches()
    by_topic = [
        batches[0],
        batches[1],
        batches[2] + batches[3],
        [r for batch in batches[4:] for r in batch],  # one topic: its order holds
    ]
    result = run([by_topic[i] for i in read_order] + [by_topic[read_order[0]]])
    last = result.upserts()[-1]
    assert last.stage == "churned"
    assert last.entitlements is not None
    assert last.entitlements["SW-3001"]["status"] == "cancelled"
    assert result.stages()[-1][1] == "churned"
    assert len(result.of(RenewalCompleted)) == 1
