"""The golden flow on Bytewax's testing source and sinks."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import pytest
from bytewax.testing import TestingSink, TestingSource, run_main

from lifeline.audit.entry import AuditEntry, SourceChange
from lifeline.cache.updates import Delete, Merge, Upsert
from lifeline.decode.records import KafkaRecord
from lifeline.decode.source_info import position_from_source
from lifeline.events.models import (
    CustomerCreated,
    CustomerMerged,
    CustomerSplit,
    CustomerUpdated,
    LifecycleEvent,
    Lineage,
)
from lifeline.flows.golden import build_golden_flow
from lifeline.golden.step import GoldenOutput
from lifeline.settings import Settings
from tests import factories
from tests.factories import customer, mysql_source, pg_source, user


def run(batches: list[list[KafkaRecord]]) -> list[GoldenOutput]:
    golden: list[GoldenOutput] = []
    ignored: list[Any] = []
    flow = build_golden_flow(
        Settings(),
        source=TestingSource(batches),
        row_sink=TestingSink(ignored),
        golden_sink=TestingSink(golden),
        event_sink=TestingSink(ignored),
        dead_letter_sink=TestingSink(ignored),
        audit_sink=TestingSink(ignored),
        late_sink=TestingSink(ignored),
    )
    run_main(flow)  # type: ignore[no-untyped-call]
    return golden


def final_upserts(outputs: list[GoldenOutput]) -> dict[str, Upsert]:
    latest: dict[str, Upsert] = {}
    for output in outputs:
        for update in output.updates:
            if isinstance(update, Upsert):
                latest[update.golden_id] = update
            elif isinstance(update, Delete):
                latest.pop(update.golden_id, None)
            elif isinstance(update, Merge):  # absorbed records are gone
                for absorbed in update.absorbed:
                    latest.pop(absorbed, None)
    return latest


def test_one_customer_in_two_systems_is_one_golden_record() -> None:
    outputs = run(
        [
            [customer(1, " Jane.Doe@Example.com", 100, name="Jane Doe")],
            [user("u-7", "jane.doe@example.com", 5000)],
        ]
    )
    (record,) = final_upserts(outputs).values()
    assert set(record.source_ids) == {"erp:C-1", "identity:u-7"}
    assert record.record["legal_name"] == "Jane Doe"  # owned by the ERP
    assert record.record["given_name"] == "Jane"  # owned by identity
    assert record.record["login_email"] == "jane.doe@example.com"
    assert record.record["billing_email"] == "jane.doe@example.com"  # trimmed
    assert record.record["credit_limit"] == "1500.00"
    events = [e for output in outputs for e in output.events]
    assert [type(e) for e in events] == [CustomerCreated, CustomerUpdated]
    assert events[1].golden_id == events[0].golden_id
    assert "given_name" in events[1].changed_fields  # type: ignore[attr-defined]


def test_replaying_the_stream_gives_the_same_event_ids_and_versions_rise() -> None:
    batches = [
        [customer(2, "bob@example.org", 100, name="Bob Ray")],
        [customer(2, "bob@example.org", 200, op="u", credit="10.00", name="Bob Ray")],
    ]
    first = run(batches)
    again = run(batches)
    ids = [e.event_id for o in first for e in o.events]
    assert ids == [e.event_id for o in again for e in o.events]
    versions = [u.version for o in first for u in o.updates]
    assert versions == sorted(versions)
    (record,) = final_upserts(first).values()
    assert record.record["credit_limit"] == "10.00"


def test_deleting_the_only_member_deletes_the_golden_record() -> None:
    outputs = run(
        [
            [customer(3, "c@example.com", 100, name="Carl Coe")],
            [
                customer(
                    3,
                    None,
                    300,
                    op="d",
                    before={"id": 3, "customer_no": "C-3", "email": "c@example.com"},
                )
            ],
        ]
    )
    assert final_upserts(outputs) == {}
    assert any(isinstance(u, Delete) for o in outputs for u in o.updates)


def test_every_event_of_a_run_has_its_own_id() -> None:
    outputs = run(
        [
            [customer(4, "jd@example.com", 100, name="Jane Doe")],
            [
                user("u-41", "jd@example.com", 5000),
                user("u-42", "jd@example.com", 5001),
            ],
            [user("u-41", "elsewhere@example.org", 5002, op="u")],  # leaves the cluster
            [user("u-42", "jd@example.com", 5003, op="d")],  # a member is deleted
        ]
    )
    events = [e for output in outputs for e in output.events]
    assert len(events) >= 4
    ids = [e.event_id for e in events]
    assert len(set(ids)) == len(ids), [type(e).__name__ for e in events]
    for event in events:
        assert event.lineage, f"{type(event).__name__} has no lineage"


def external_id(user_id: str, customer_no: str, lsn: int, op: str = "c") -> KafkaRecord:
    """A link row's change; a delete's before image is the key only."""
    row = {"system": "erp", "external_id": customer_no, "user_id": user_id}
    key = {"system": "erp", "external_id": customer_no}
    payload = {
        "before": key if op == "d" else None,
        "after": None if op == "d" else row,
        "op": op,
        "ts_ms": 1764800000200,
        "source": pg_source("external_ids", lsn),
    }
    return factories.record("identity.public.external_ids", key, payload)


def test_a_merge_is_written_before_the_survivor_upsert_of_its_batch() -> None:
    outputs = run(
        [
            [customer(5, "kim@example.com", 100, name="Kim Park")],
            [user("u-5", "other@example.org", 5000)],  # no shared key: two records
            [external_id("u-5", "C-5", 5001)],  # the user claims the customer
        ]
    )
    merges = [
        (output, update)
        for output in outputs
        for update in output.updates
        if isinstance(update, Merge)
    ]
    assert merges, "the link did not merge the two golden records"
    deletes = [u for o in outputs for u in o.updates if isinstance(u, Delete)]
    for output, merge in merges:
        (upsert,) = [
            u
            for u in output.updates
            if isinstance(u, Upsert) and u.golden_id == merge.survivor
        ]
        assert upsert.version > merge.version
        assert set(upsert.source_ids) == {"erp:C-5", "identity:u-5"}
        assert not [d for d in deletes if d.golden_id in merge.absorbed]


LINKED = [
    [customer(5, "kim@example.com", 100, name="Kim Park")],
    [user("u-5", "other@example.org", 5000)],  # no shared key: two records
    [external_id("u-5", "C-5", 5001)],  # the user claims the customer
]


def identity_row(table: str, row_id: str, lsn: int, op: str) -> tuple[str, ...]:
    """``(system, table, row id, position)`` of an identity row's change."""
    position = position_from_source("postgresql", pg_source(table, lsn), op)
    return ("identity", table, row_id, position.encode())


def sources_of(lines: Iterable[Lineage | SourceChange]) -> list[tuple[str, ...]]:
    return [(s.system, s.table, s.row_id, s.position) for s in lines]


def added_by_last_batch(
    batches: list[list[KafkaRecord]],
) -> tuple[list[LifecycleEvent], list[AuditEntry]]:
    """The events and audit entries the last batch adds to those before it."""
    before = {e.event_id for o in run(batches[:-1]) for e in o.events}
    outputs = run(batches)
    events = [e for o in outputs for e in o.events if e.event_id not in before]
    ids = {e.event_id for e in events}
    return events, [a for o in outputs for a in o.audit if a.event_id in ids]


def test_a_link_insert_names_the_external_ids_row_behind_the_merge() -> None:
    events, entries = added_by_last_batch(LINKED)
    assert {CustomerMerged, CustomerUpdated} <= {type(e) for e in events}
    row = identity_row("external_ids", "erp|C-5", 5001, "c")
    for event in events:
        assert sources_of(event.lineage) == [row], type(event).__name__
    assert {a.kind for a in entries} >= {"merged", "updated"}
    for entry in entries:
        assert sources_of(entry.sources) == [row], entry.kind


def test_a_link_delete_names_the_external_ids_row_behind_the_split() -> None:
    events, entries = added_by_last_batch(
        [*LINKED, [external_id("u-5", "C-5", 5002, op="d")]]
    )
    assert CustomerSplit in {type(e) for e in events}
    row = identity_row("external_ids", "erp|C-5", 5002, "d")
    for event in events:
        assert sources_of(event.lineage) == [row], type(event).__name__
    assert "split" in {a.kind for a in entries}
    for entry in entries:
        assert sources_of(entry.sources) == [row], entry.kind


def test_a_user_change_with_its_link_in_one_batch_names_both_rows() -> None:
    events, _ = added_by_last_batch(
        [
            *LINKED[:2],
            [
                user("u-5", "other@example.net", 5003, op="u"),
                external_id("u-5", "C-5", 5004),
            ],
        ]
    )
    assert events
    rows = {
        identity_row("users", "u-5", 5003, "u"),
        identity_row("external_ids", "erp|C-5", 5004, "c"),
    }
    for event in events:
        assert set(sources_of(event.lineage)) == rows, type(event).__name__


def erp_row(table: str, row: dict[str, object], pos: int) -> KafkaRecord:
    payload = {
        "before": None,
        "after": row,
        "op": "c",
        "ts_ms": 1764800000200,
        "source": mysql_source(table, pos),
    }
    return factories.record(f"erp.erp.{table}", {"id": row["id"]}, payload)


@pytest.mark.parametrize("payment_first", [False, True])
def test_orders_invoices_and_payments_publish_events_and_move_the_stage(
    payment_first: bool,
) -> None:
    order = {
        "id": 70,
        "order_no": "O-70",
        "customer_id": 7,
        "status": "open",
        "currency": "EUR",
        "total": "99.50",
    }
    invoice = {
        "id": 71,
        "invoice_no": "I-71",
        "customer_id": 7,
        "order_id": 70,
        "status": "posted",
        "currency": "EUR",
        "amount": "99.50",
        "issued_on": 20000,
        "due_on": 20030,
    }
    failed = {
        "id": 72,
        "invoice_id": 71,
        "amount": "99.50",
        "status": "failed",
        "method": "card",
        "failure_reason": "declined",
    }
    outputs = run(
        [
            # the order arrives before its customer: it waits for the customer
            [erp_row("orders", order, 200)],
            [customer(7, "buyer@example.com", 100, name="Bo Buyer")],
            [erp_row("invoices", invoice, 300)],
            [erp_row("payments", failed, 400)],
        ]
    )
    events = [e for output in outputs for e in output.events]
    kinds = [type(e).__name__ for e in events]
    for kind in ("OrderPlaced", "InvoicePosted", "PaymentFailed"):
        assert kinds.count(kind) == 1, kinds
    stages = [
        (e.from_stage, e.to_stage)  # type: ignore[attr-defined]
        for e in events
        if type(e).__name__ == "LifecycleStageChanged"
    ]
    assert stages == [("prospect", "onboarding"), ("onboarding", "past_due")]
    (record,) = final_upserts(outputs).values()
    assert record.stage == "past_due"
    assert len({e.event_id for e in events}) == len(events)


def _commerce_batches(n: int) -> list[list[KafkaRecord]]:
    """A customer, an order, its invoice and a failed payment, in source order."""
    order = {"id": n, "order_no": f"O-{n}", "customer_id": n, "status": "open"}
    order |= {"currency": "EUR", "total": "10.00"}
    invoice = {"id": n + 1, "invoice_no": f"I-{n}", "customer_id": n}
    invoice |= {"order_id": n, "status": "posted", "currency": "EUR"}
    invoice |= {"amount": "10.00", "issued_on": 20000, "due_on": 20030}
    failed = {"id": n + 2, "invoice_id": n + 1, "amount": "10.00"}
    failed |= {"status": "failed", "method": "card", "failure_reason": "declined"}
    return [
        [customer(n, f"late{n}@example.com", 100, name="Lee Late")],
        [erp_row("orders", order, 200)],
        [erp_row("invoices", invoice, 300)],
        [erp_row("payments", failed, 400)],
    ]


@pytest.mark.parametrize(
    "order",
    sorted(set(itertools.permutations(range(4)))),
    ids=lambda order: "".join(map(str, order)),
)
def test_the_stage_does_not_depend_on_the_order_topics_are_read_in(
    order: tuple[int, ...],
) -> None:
    batches = _commerce_batches(90)
    outputs = run([batches[i] for i in order] + [batches[order[0]]])
    (record,) = final_upserts(outputs).values()
    assert record.stage == "past_due"
    stage_events = [
        e
        for output in outputs
        for e in output.events
        if type(e).__name__ == "LifecycleStageChanged"
    ]
    assert stage_events, "the stage moved without an event"
    assert stage_events[-1].to_stage == "past_due"  # type: ignore[attr-defined]


def test_every_cache_update_of_a_golden_id_has_a_newer_version() -> None:
    order = {
        "id": 80,
        "order_no": "O-80",
        "customer_id": 8,
        "status": "open",
        "currency": "EUR",
        "total": "10.00",
    }
    outputs = run(
        [
            [customer(8, "v@example.com", 100, name="Val Vers")],
            [erp_row("orders", order, 200)],  # a batch of commercial rows only
        ]
    )
    versions: dict[str, list[str]] = {}
    for output in outputs:
        for update in output.updates:
            if isinstance(update, Upsert):
                versions.setdefault(update.golden_id, []).append(update.version)
    (seen,) = versions.values()
    # the customer, the order (its stage) and the order's burst (OrderPlaced)
    assert len(seen) == 3
    assert seen == sorted(set(seen)), "the cache would drop an update as stale"
