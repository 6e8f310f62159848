"""Identity organisations and memberships through the golden flow."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from lifeline.audit.entry import AuditEntry
from lifeline.decode.source_info import position_from_source
from lifeline.events.avro import EventCodec
from lifeline.events.models import CustomerUpdated, LifecycleEvent, Organisation
from lifeline.golden.step import GoldenOutput
from tests.factories import (
    customer,
    membership,
    organisation,
    pg_source,
    tombstone,
    user,
)
from tests.unit.test_golden_flow import final_upserts, run

ACME = {"org_id": "o-1", "user_id": "u-1", "role": "admin", "name": "Acme AG"}
ACME |= {"domain": "acme.example", "tax_id": "CHE-1", "country": "CH"}


def acme(lsn: int, name: str = "Acme AG", op: str = "c") -> Any:
    return organisation(
        "o-1", name, lsn, op, domain="acme.example", tax_id="CHE-1", country="CH"
    )


def organisations_of(outputs: list[GoldenOutput], ref: str) -> Any:
    """The cached record's organisations of the golden record holding ``ref``."""
    (upsert,) = [u for u in final_upserts(outputs).values() if ref in u.source_ids]
    return upsert.record["organisations"]


def updates(outputs: list[GoldenOutput]) -> list[CustomerUpdated]:
    return [e for o in outputs for e in o.events if isinstance(e, CustomerUpdated)]


def audit_of(outputs: list[GoldenOutput], event: CustomerUpdated) -> AuditEntry:
    (entry,) = [a for o in outputs for a in o.audit if a.event_id == event.event_id]
    return entry


def source_row(table: str, row_id: str, lsn: int, op: str) -> tuple[str, ...]:
    """``(system, table, row id, position)`` of an identity row's change."""
    position = position_from_source("postgresql", pg_source(table, lsn), op)
    return ("identity", table, row_id, position.encode())


def test_a_membership_insert_adds_the_organisation_with_the_role() -> None:
    outputs = run(
        [
            [user("u-1", "ann@example.com", 100), acme(110)],
            [membership("u-1", "o-1", 120, role="admin")],
        ]
    )
    assert organisations_of(outputs, "identity:u-1") == [ACME]
    (updated,) = updates(outputs)
    assert updated.changed_fields == ("organisations",)
    assert updated.profile.organisations == (Organisation(**ACME),)


def test_the_event_round_trips_through_its_avro_contract() -> None:
    outputs = run(
        [
            [user("u-1", "ann@example.com", 100), acme(110)],
            [membership("u-1", "o-1", 120, role="admin")],
        ]
    )
    codec = EventCodec()
    events: list[LifecycleEvent] = [e for o in outputs for e in o.events]
    decoded = [codec.decode(codec.encode(event)) for event in events]
    (updated,) = [e for e in decoded if isinstance(e, CustomerUpdated)]
    assert updated.profile.organisations == (Organisation(**ACME),)


def test_a_role_change_changes_the_entry() -> None:
    outputs = run(
        [
            [user("u-1", "ann@example.com", 100), acme(110)],
            [membership("u-1", "o-1", 120, role="admin")],
            [membership("u-1", "o-1", 130, op="u", role="viewer")],
        ]
    )
    assert organisations_of(outputs, "identity:u-1") == [ACME | {"role": "viewer"}]
    assert [e.changed_fields for e in updates(outputs)] == [("organisations",)] * 2


def test_a_membership_delete_withdraws_it_and_its_tombstone_changes_nothing() -> None:
    key = {"user_id": "u-1", "org_id": "o-1"}
    outputs = run(
        [
            [user("u-1", "ann@example.com", 100), acme(110)],
            [membership("u-1", "o-1", 120, role="admin")],
            [membership("u-1", "o-1", 130, op="d"), tombstone("memberships", key)],
            [tombstone("memberships", key)],
        ]
    )
    assert organisations_of(outputs, "identity:u-1") is None
    withdrawn = updates(outputs)[-1]
    assert withdrawn.changed_fields == ("organisations",)
    assert withdrawn.profile.organisations is None
    assert len(updates(outputs)) == 2


def test_an_organisation_rename_reaches_every_member() -> None:
    members = ["u-1", "u-2", "u-3"]
    outputs = run(
        [
            [user(u, f"{u}@example.com", 100 + i) for i, u in enumerate(members)],
            [
                acme(110),
                *(membership(u, "o-1", 120 + i) for i, u in enumerate(members)),
            ],
            [acme(200, name="Acme Holding AG", op="u")],
        ]
    )
    for u in members:
        (entry,) = organisations_of(outputs, f"identity:{u}")
        assert (entry["name"], entry["user_id"]) == ("Acme Holding AG", u)
    renamed = [
        e
        for e in updates(outputs)
        if any(o.name == "Acme Holding AG" for o in e.profile.organisations or ())
    ]
    assert len(renamed) == len(members)
    assert {e.changed_fields for e in renamed} == {("organisations",)}
    assert len({e.event_id for e in updates(outputs)}) == len(updates(outputs))


def test_an_organisation_rename_names_the_organisations_row_as_its_cause() -> None:
    outputs = run(
        [
            [user("u-1", "ann@example.com", 100), user("u-2", "bo@example.com", 101)],
            [acme(110), membership("u-1", "o-1", 120), membership("u-2", "o-1", 121)],
            [acme(200, name="Acme Holding AG", op="u")],
        ]
    )
    renamed = updates(outputs)[-2:]
    names = {o.name for e in renamed for o in e.profile.organisations or ()}
    assert names == {"Acme Holding AG"}
    row = source_row("organisations", "o-1", 200, "u")
    for event in renamed:
        lineage = [(s.system, s.table, s.row_id, s.position) for s in event.lineage]
        assert lineage == [row]
        sources = audit_of(outputs, event).sources
        assert [(s.system, s.table, s.row_id, s.position) for s in sources] == [row]
    assert len({e.event_id for e in renamed}) == len(renamed)


def test_a_membership_change_names_the_memberships_row_as_its_cause() -> None:
    key = {"user_id": "u-1", "org_id": "o-1"}
    outputs = run(
        [
            [user("u-1", "ann@example.com", 100), acme(110)],
            [membership("u-1", "o-1", 120, role="admin")],
            [membership("u-1", "o-1", 130, op="d"), tombstone("memberships", key)],
        ]
    )
    inserted, deleted = updates(outputs)
    for event, lsn, op in ((inserted, 120, "c"), (deleted, 130, "d")):
        row = source_row("memberships", "u-1|o-1", lsn, op)
        lineage = [(s.system, s.table, s.row_id, s.position) for s in event.lineage]
        assert lineage == [row]
        sources = audit_of(outputs, event).sources
        assert [(s.system, s.table, s.row_id, s.position) for s in sources] == [row]
        assert sources[0].committed_at == event.lineage[0].committed_at


def test_a_user_change_with_a_membership_in_one_batch_names_both_rows() -> None:
    outputs = run(
        [
            [user("u-1", "ann@example.com", 100), acme(110)],
            [
                user("u-1", "ann@example.org", 140, op="u"),
                membership("u-1", "o-1", 150, role="admin"),
            ],
        ]
    )
    (updated,) = updates(outputs)
    assert {(s.table, s.row_id, s.position) for s in updated.lineage} == {
        source_row("users", "u-1", 140, "u")[1:],
        source_row("memberships", "u-1|o-1", 150, "c")[1:],
    }


def test_an_organisation_delete_withdraws_it_from_every_member() -> None:
    outputs = run(
        [
            [user("u-1", "ann@example.com", 100), user("u-2", "bo@example.com", 101)],
            [acme(110), membership("u-1", "o-1", 120), membership("u-2", "o-1", 121)],
            [acme(200, op="d")],
        ]
    )
    assert organisations_of(outputs, "identity:u-1") is None
    assert organisations_of(outputs, "identity:u-2") is None


def test_a_membership_before_its_organisation_carries_the_org_id_until_it_comes() -> (
    None
):
    early = run(
        [
            [user("u-1", "ann@example.com", 100)],
            [membership("u-1", "o-1", 120, role="admin")],
        ]
    )
    bare = dict.fromkeys(("name", "domain", "tax_id", "country"))
    expected = {"org_id": "o-1", "user_id": "u-1", "role": "admin"} | bare
    assert organisations_of(early, "identity:u-1") == [expected]
    later = run(
        [
            [user("u-1", "ann@example.com", 100)],
            [membership("u-1", "o-1", 120, role="admin")],
            [acme(110)],  # committed first, read last
        ]
    )
    assert organisations_of(later, "identity:u-1") == [ACME]


def test_duplicate_and_stale_changes_change_nothing() -> None:
    batches = [
        [user("u-1", "ann@example.com", 100), acme(110)],
        [membership("u-1", "o-1", 120, role="admin")],
        [acme(200, name="Acme Holding AG", op="u")],
    ]
    clean = run(batches)
    replayed = run(
        [
            *batches,
            [membership("u-1", "o-1", 120, role="admin")],  # redelivered
            [acme(200, name="Acme Holding AG", op="u")],  # redelivered
            [acme(150, name="Acme Old Name", op="u")],  # stale
            [membership("u-1", "o-1", 115, op="d")],  # stale delete
        ]
    )
    assert organisations_of(replayed, "identity:u-1") == organisations_of(
        clean, "identity:u-1"
    )
    assert organisations_of(clean, "identity:u-1")[0]["name"] == "Acme Holding AG"
    assert [e.event_id for o in replayed for e in o.events] == [
        e.event_id for o in clean for e in o.events
    ]


def test_one_golden_record_lists_every_user_s_organisations_by_org_id() -> None:
    outputs = run(
        [
            [customer(1, "jane.doe@example.com", 10, name="Jane Doe")],
            [
                user("u-1", "jane.doe@example.com", 100),
                user("u-2", "jane.doe@example.com", 101),
            ],
            [organisation("o-2", "Beta", 110), organisation("o-1", "Alpha", 111)],
            [membership("u-1", "o-2", 120), membership("u-2", "o-1", 121)],
            [membership("u-1", "o-1", 122, role="owner")],
        ]
    )
    entries = organisations_of(outputs, "identity:u-1")
    assert [(e["org_id"], e["user_id"], e["role"]) for e in entries] == [
        ("o-1", "u-1", "owner"),
        ("o-1", "u-2", "member"),
        ("o-2", "u-1", "member"),
    ]
    assert organisations_of(outputs, "identity:u-2") == entries
    assert organisations_of(outputs, "erp:C-1") == entries


@pytest.mark.parametrize(
    "order",
    sorted(itertools.permutations(range(3))),
    ids=lambda order: "".join(map(str, order)),
)
def test_the_entry_does_not_depend_on_the_order_topics_are_read_in(
    order: tuple[int, ...],
) -> None:
    batches = [
        [user("u-1", "ann@example.com", 100)],
        [acme(110)],
        [membership("u-1", "o-1", 120, role="admin")],
    ]
    outputs = run([batches[i] for i in order])
    assert organisations_of(outputs, "identity:u-1") == [ACME]
