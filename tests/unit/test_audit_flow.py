"""Audit entries out of the golden flow, on Bytewax's testing source and sinks."""

from __future__ import annotations

from lifeline.audit.entry import AuditEntry
from lifeline.events.models import LifecycleStageChanged
from lifeline.golden.step import GoldenOutput
from tests.factories import customer, user
from tests.unit.test_golden_flow import erp_row, run


def entries(outputs: list[GoldenOutput]) -> list[AuditEntry]:
    return [entry for output in outputs for entry in output.audit]


def test_the_resolver_match_of_a_second_system_is_in_the_lineage() -> None:
    outputs = run(
        [
            [customer(1, "jane.doe@example.com", 100, name="Jane Doe")],
            [user("u-7", "jane.doe@example.com", 5000)],
        ]
    )
    created, updated = entries(outputs)
    assert (created.kind, updated.kind) == ("created", "updated")
    assert created.golden_id == updated.golden_id
    assert created.version < updated.version
    assert [(s.system, s.table, s.row_id) for s in created.sources] == [
        ("erp", "customers", "C-1")
    ]
    assert [m.rule for m in created.matches] == ["no_match"]
    (source,) = updated.sources
    assert (source.system, source.table, source.row_id) == ("identity", "users", "u-7")
    assert source.position.startswith("p:")
    (match,) = updated.matches
    assert (match.ref, match.rule, match.matched_with) == (
        "identity:u-7",
        "email",
        "erp:C-1",
    )
    assert "email" in match.matched_keys
    owners = {f.field: (f.system, f.rule) for f in updated.fields}
    assert owners["given_name"] == ("identity", "owner")
    assert owners["login_email"] == ("identity", "owner")
    event_ids = {e.event_id for output in outputs for e in output.events}
    assert {created.event_id, updated.event_id} <= event_ids


def test_stage_changes_name_the_commercial_rows_that_moved_them() -> None:
    order = {"id": 70, "order_no": "O-70", "customer_id": 7, "status": "open"}
    order |= {"currency": "EUR", "total": "99.50"}
    invoice = {"id": 71, "invoice_no": "I-71", "customer_id": 7, "order_id": 70}
    invoice |= {"status": "posted", "currency": "EUR", "amount": "99.50"}
    invoice |= {"issued_on": 20000, "due_on": 20030}
    failed = {"id": 72, "invoice_id": 71, "amount": "99.50", "status": "failed"}
    failed |= {"method": "card", "failure_reason": "declined"}
    outputs = run(
        [
            [customer(7, "buyer@example.com", 100, name="Bo Buyer")],
            [erp_row("orders", order, 200)],
            [erp_row("invoices", invoice, 300)],
            [erp_row("payments", failed, 400)],
        ]
    )
    stages = [e for e in entries(outputs) if e.kind == "stage_changed"]
    assert [(e.from_stage, e.to_stage, e.fact) for e in stages] == [
        ("prospect", "onboarding", "order_placed"),
        ("onboarding", "past_due", "payment_failed"),
    ]
    assert [[(s.table, s.row_id) for s in e.sources] for e in stages] == [
        [("orders", "70")],
        [("payments", "72")],
    ]
    events = {
        e.event_id: e
        for output in outputs
        for e in output.events
        if isinstance(e, LifecycleStageChanged)
    }
    assert [e.event_id for e in stages] == list(events)
    assert len({e.id for e in entries(outputs)}) == len(entries(outputs))
