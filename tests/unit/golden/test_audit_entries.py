"""Audit entries of the golden step: what changed, from which source, by which rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from lifeline.audit.entry import (
    AuditDecodeError,
    AuditEntry,
    decode_entry,
    derive_audit_id,
    encode_entry,
    value_digest,
)
from lifeline.decode.position import BinlogPosition, PostgresPosition
from lifeline.events.models import CustomerCreated, CustomerUpdated
from lifeline.golden.ownership import LOWER_PRIORITY, load_ownership
from lifeline.golden.step import GoldenOutput, GoldenState, golden_step
from lifeline.join.cause import Cause
from lifeline.join.clusters import GoldenInput, Member, version_string
from lifeline.resolve import ClusterEvent, ResolutionDecision

SHIPPED = Path(__file__).parents[3] / "config" / "ownership.yaml"
RULES = load_ownership(SHIPPED)
THRESHOLD = 0.7
T0 = 1_764_800_000_000  # ms

ERP_ROW = {
    "id": 1,
    "customer_no": "C-1",
    "legal_name": "Jane Doe",
    "email": "Jane.Doe@Example.com",
    "phone": "+49 30 1111",
    "credit_limit": "1500.00",
    "status": "active",
}
USER_ROW = {
    "id": "u-7",
    "email": "jane.doe@example.com",
    "given_name": "Jane",
    "family_name": "Doe",
    "phone": "+49 30 2222",
}


def erp(pos: int, row: dict[str, Any] | None = None) -> Member:
    position = BinlogPosition("mysql-bin.000001", pos, 0, "c")
    return Member("erp:C-1", "erp", "customers", row or ERP_ROW, position, T0 + pos)


def identity(lsn: int, ref: str = "identity:u-7") -> Member:
    position = PostgresPosition(lsn, lsn - 1, 770, "c")
    row = {**USER_ROW, "id": ref.partition(":")[2]}
    return Member(ref, "identity", "users", row, position, T0 + lsn)


def cause(member: Member) -> Cause:
    return Cause(member.ref, member.system, member.table, member.position, member.ts_ms)


def decision(
    member: Member, gid: str | None, rule: str, **link: Any
) -> ResolutionDecision:
    system, _, id_ = member.ref.partition(":")
    return ResolutionDecision(system, id_, gid, rule, **link)


def run(*batches: list[GoldenInput]) -> list[GoldenOutput]:
    step = golden_step(RULES, THRESHOLD)
    state: GoldenState | None = None
    outputs: list[GoldenOutput] = []
    for batch in batches:
        state, produced = step(state, batch)
        outputs.extend(produced)
    return outputs


def entries(outputs: list[GoldenOutput]) -> list[AuditEntry]:
    return [entry for output in outputs for entry in output.audit]


def created_input(gid: str = "g-1", sequence: int = 1) -> GoldenInput:
    member = erp(100)
    return GoldenInput(
        gid,
        version_string(sequence),
        (member,),
        decisions=(decision(member, gid, "no_match"),),
        causes=(cause(member),),
    )


def positions(*members: Member) -> list[str]:
    return [member.position.encode() for member in members]


def test_a_new_record_names_its_source_change_match_and_field_owners() -> None:
    (output,) = run([created_input()])
    (entry,) = output.audit
    (event,) = output.events
    assert isinstance(event, CustomerCreated)
    assert entry.kind == "created"
    assert (entry.golden_id, entry.version) == ("g-1", version_string(1))
    assert entry.id == derive_audit_id("g-1", version_string(1), "created")
    assert entry.event_id == event.event_id
    (source,) = entry.sources
    assert (source.system, source.table, source.row_id) == ("erp", "customers", "C-1")
    assert source.position == erp(100).position.encode()
    assert source.committed_at == datetime.fromtimestamp((T0 + 100) / 1000, UTC)
    assert entry.committed_at == source.committed_at
    (match,) = entry.matches
    assert (match.ref, match.rule, match.score) == ("erp:C-1", "no_match", None)
    fields = {f.field: f for f in entry.fields}
    assert set(fields) == {
        "legal_name",
        "billing_email",
        "phone",
        "credit_limit",
        "erp_status",
    }
    assert (fields["legal_name"].system, fields["legal_name"].rule) == ("erp", "owner")
    assert fields["legal_name"].rank == 0
    # billing owns billing_email; the ERP's value stands as the first fallback.
    billing = fields["billing_email"]
    assert (billing.system, billing.rule, billing.rank) == ("erp", "fallback", 1)
    assert billing.digest == value_digest("jane.doe@example.com")
    assert billing.position == erp(100).position.encode()
    assert entry.members == ("erp:C-1",)


def test_no_field_value_is_written_in_clear() -> None:
    (entry,) = entries(run([created_input()]))
    encoded = encode_entry(entry)
    for value in ("Jane", "Doe", "example.com", "1111", "1500"):
        assert value.encode() not in encoded


def test_a_joining_record_records_its_match_keys_and_the_owner_taking_over() -> None:
    first = created_input()
    user = identity(200)
    second = GoldenInput(
        "g-1",
        version_string(2),
        (first.members[0], user),
        decisions=(
            decision(
                user,
                "g-1",
                "email",
                matched_keys=("email",),
                score=1.0,
                matched_with="erp:C-1",
            ),
        ),
        causes=(cause(user),),
    )
    outputs = run([first], [second])
    updated = [e for e in entries(outputs) if e.version == version_string(2)]
    (entry,) = updated
    (event,) = outputs[1].events
    assert isinstance(event, CustomerUpdated)
    assert entry.kind == "updated"
    assert entry.event_id == event.event_id
    assert [s.position for s in entry.sources] == positions(user)
    (match,) = entry.matches
    assert (match.ref, match.rule, match.matched_keys) == (
        "identity:u-7",
        "email",
        ("email",),
    )
    assert (match.matched_with, match.score, match.threshold) == ("erp:C-1", 1.0, None)
    fields = {f.field: f for f in entry.fields}
    assert set(fields) == set(event.changed_fields)
    # identity owns phone: its value replaces the ERP's fallback value.
    phone = fields["phone"]
    assert (phone.system, phone.rule, phone.rank) == ("identity", "owner", 0)
    assert phone.digest == value_digest("+49 30 2222")
    assert phone.position == user.position.encode()
    assert fields["given_name"].system == "identity"
    assert entry.members == ("erp:C-1", "identity:u-7")


def test_a_fuzzy_match_records_its_score_and_the_threshold() -> None:
    first = created_input()
    user = identity(200)
    second = GoldenInput(
        "g-1",
        version_string(2),
        (first.members[0], user),
        decisions=(
            decision(
                user,
                "g-1",
                "fuzzy",
                matched_keys=("name", "phone"),
                score=0.82,
                matched_with="erp:C-1",
            ),
        ),
        causes=(cause(user),),
    )
    (entry,) = [e for e in entries(run([first], [second])) if e.kind == "updated"]
    (match,) = entry.matches
    assert (match.rule, match.score, match.threshold) == ("fuzzy", 0.82, THRESHOLD)
    assert match.matched_keys == ("name", "phone")


def merge_batches() -> tuple[list[GoldenInput], list[GoldenInput]]:
    customer, user = erp(100), identity(200)
    apart = [
        created_input("g-erp"),
        GoldenInput(
            "g-user",
            version_string(1),
            (user,),
            decisions=(decision(user, "g-user", "no_match"),),
            causes=(cause(user),),
        ),
    ]
    linked = identity(300)  # the user row now lists the ERP customer's id
    event = ClusterEvent(
        "merged",
        "g-erp",
        linked.ref,
        "identity:u-7 explicit_link erp:C-1",
        absorbed=("g-user",),
        moved=(linked.ref,),
    )
    version = version_string(2)
    merge = [
        GoldenInput(
            "g-erp",
            version,
            (customer, linked),
            absorbed=("g-user",),
            decisions=(
                decision(
                    linked,
                    "g-erp",
                    "explicit_link",
                    matched_keys=("links",),
                    score=1.0,
                    matched_with="erp:C-1",
                ),
            ),
            events=(event,),
            causes=(cause(linked),),
        ),
        GoldenInput("g-user", version, (), merged_into="g-erp"),
    ]
    return apart, merge


def test_a_merge_names_the_absorbed_id_the_match_keys_and_retires_the_id() -> None:
    apart, merge = merge_batches()
    found = [e for e in entries(run(apart, merge)) if e.version == version_string(2)]
    kinds = {e.kind: e for e in found}
    assert set(kinds) == {"merged", "updated", "retired"}
    merged = kinds["merged"]
    assert (merged.golden_id, merged.related) == ("g-erp", ("g-user",))
    assert merged.moved_refs == ("identity:u-7",)
    assert "explicit_link" in merged.reason
    (match,) = merged.matches
    assert (match.rule, match.matched_keys, match.matched_with) == (
        "explicit_link",
        ("links",),
        "erp:C-1",
    )
    assert [s.position for s in merged.sources] == positions(identity(300))
    # The merge explains the membership; the field changes go on their own.
    assert kinds["updated"].matches == ()
    assert {f.field for f in kinds["updated"].fields} >= {"given_name", "phone"}
    retired = kinds["retired"]
    assert (retired.golden_id, retired.related) == ("g-user", ("g-erp",))
    assert len({e.id for e in found}) == 3


def test_an_id_merged_away_is_retired_when_its_key_group_has_nothing_else() -> None:
    apart, merge = merge_batches()
    step = golden_step(RULES, THRESHOLD)
    state, _ = step(None, [apart[1]])
    _, (output,) = step(state, [merge[1]])  # the absorbed id's input alone
    assert (output.updates, output.events) == ((), ())
    (entry,) = output.audit
    assert (entry.kind, entry.golden_id, entry.related) == (
        "retired",
        "g-user",
        ("g-erp",),
    )


def test_a_losing_value_is_recorded_as_a_conflict_without_its_value(
    tmp_path: Path,
) -> None:
    shipped = SHIPPED.read_text()
    assert "phone: [identity, erp, crm]" in shipped
    config = tmp_path / "ownership.yaml"
    config.write_text(shipped.replace("[identity, erp, crm]", "[erp, identity, crm]"))
    step = golden_step(load_ownership(config), THRESHOLD)
    state, _ = step(None, [created_input()])
    # A user row that supplies only a phone, which loses to the ERP's.
    user = replace(identity(200), row={"id": "u-7", "phone": "+49 30 2222"})
    joined = GoldenInput(
        "g-1",
        version_string(2),
        (erp(100), user),
        decisions=(decision(user, "g-1", "unchanged"),),
        causes=(cause(user),),
    )
    _, (output,) = step(state, [joined])
    (entry,) = output.audit
    assert entry.kind == "conflict"
    assert (entry.matches, entry.fields) == ((), ())
    assert [s.position for s in entry.sources] == positions(user)
    (conflict,) = entry.conflicts
    assert (conflict.field, conflict.system, conflict.owner) == (
        "phone",
        "identity",
        "erp",
    )
    assert conflict.reason == LOWER_PRIORITY
    assert conflict.rejected == value_digest("+49 30 2222")
    assert b"2222" not in encode_entry(entry)


def test_a_record_whose_last_source_went_is_deleted() -> None:
    member = erp(100)
    gone = GoldenInput(
        "g-1",
        version_string(2),
        (),
        decisions=(decision(member, None, "deleted"),),
        causes=(cause(erp(150)),),
    )
    outputs = run([created_input()], [gone])
    (entry,) = [e for e in entries(outputs) if e.version == version_string(2)]
    assert entry.kind == "deleted"
    assert [s.position for s in entry.sources] == positions(erp(150))
    assert [(m.rule, m.golden_id, m.score) for m in entry.matches] == [
        ("deleted", None, None)
    ]


def test_a_replay_gives_the_same_entry_ids() -> None:
    apart, merge = merge_batches()
    first = [e.id for e in entries(run(apart, merge))]
    again = [e.id for e in entries(run(apart, merge))]
    assert first == again
    assert len(set(first)) == len(first)


def test_an_entry_reads_back_as_it_was_written() -> None:
    apart, merge = merge_batches()
    for entry in entries(run(apart, merge)):
        document = orjson.loads(encode_entry(entry))
        assert document["schema_version"] == 1
        assert decode_entry(encode_entry(entry)) == entry


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'{"schema_version": 99}', "schema_version 99"),
        (b'{"schema_version": 1, "golden_id": "g-1"}', "id: Field required"),
    ],
)
def test_a_value_that_is_no_entry_is_refused_naming_the_problem(
    value: bytes, problem: str
) -> None:
    with pytest.raises(AuditDecodeError, match=problem):
        decode_entry(value)
