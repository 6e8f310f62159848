"""The golden flow on Bytewax's testing source and sinks."""

from __future__ import annotations

from typing import Any

from bytewax.testing import TestingSink, TestingSource, run_main

from lifeline.cache.updates import Delete, Upsert
from lifeline.decode.records import KafkaRecord
from lifeline.events.models import CustomerCreated, CustomerUpdated
from lifeline.flows.golden import build_golden_flow
from lifeline.golden.step import GoldenOutput
from lifeline.settings import Settings
from tests.factories import customer, user


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
