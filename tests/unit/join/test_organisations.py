"""The organisation join: memberships and organisations to party entries."""

from __future__ import annotations

import pickle
from typing import Any

from lifeline.decode.position import POSTGRES, SourcePosition
from lifeline.join.latest import RowChange
from lifeline.join.organisations import (
    OrganisationState,
    organisation_step,
    route_organisations,
    sample_organisation_join,
)
from lifeline.join.parties import (
    PartyChange,
    PartyPiece,
    PartyState,
    party_step,
    route_parties,
    sample_party_model,
)
from lifeline.resolve import RecordDelete
from lifeline.settings import Settings

JOIN = sample_organisation_join(Settings())
MODEL = sample_party_model(Settings())
ACME = {"id": "o-1", "name": "Acme AG", "domain": "acme.example", "country": "CH"}


def change(
    table: str, row_id: str, lsn: int, row: dict[str, Any] | None, old: Any = None
) -> RowChange:
    position = SourcePosition(POSTGRES, (lsn,))
    return RowChange("identity", table, row_id, old, row, position, 0)


def org(lsn: int, row: dict[str, Any] | None, old: Any = None) -> RowChange:
    return change("organisations", "o-1", lsn, row, old)


def member(user_id: str, lsn: int, role: str | None = "member") -> RowChange:
    row = {"user_id": user_id, "org_id": "o-1", "role": role}
    if role is None:  # deleted
        return change("memberships", f"{user_id}|o-1", lsn, None, row | {"role": "x"})
    return change("memberships", f"{user_id}|o-1", lsn, row)


class Join:
    """The organisation step, each batch's state passed through a pickle."""

    def __init__(self) -> None:
        self.states: dict[str, bytes] = {}
        self.step = organisation_step(JOIN)

    def feed(self, changes: list[RowChange]) -> list[PartyPiece]:
        out: list[PartyPiece] = []
        for group, pieces in route_organisations(changes, JOIN):
            saved = self.states.get(group)
            state = None if saved is None else pickle.loads(saved)
            state, emitted = self.step(state, pieces)
            self.states[group] = pickle.dumps(state)
            out += [p for batch in emitted for _, grouped in batch for p in grouped]
        return out


def entries(pieces: list[PartyPiece]) -> dict[str, Any]:
    return {p.ref: None if p.row is None else dict(p.row) for p in pieces}


def test_an_organisation_update_reaches_members_after_a_restore() -> None:
    join = Join()
    join.feed([org(10, ACME), member("u-1", 11), member("u-2", 12)])
    renamed = join.feed([org(20, ACME | {"name": "Acme Holding"}, old=ACME)])
    assert {p.kind for p in renamed} == {"org"}
    assert {ref: e["name"] for ref, e in entries(renamed).items()} == {
        "identity:u-1": "Acme Holding",
        "identity:u-2": "Acme Holding",
    }
    assert {p.position for p in renamed} == {SourcePosition(POSTGRES, (20,))}


def test_a_deleted_membership_leaves_the_fan_out() -> None:
    join = Join()
    join.feed([org(10, ACME), member("u-1", 11), member("u-2", 12)])
    (gone,) = join.feed([member("u-2", 13, role=None)])
    assert (gone.ref, gone.kind, gone.row) == ("identity:u-2", "unorg", None)
    renamed = join.feed([org(20, ACME | {"name": "Acme Holding"}, old=ACME)])
    assert [p.ref for p in renamed] == ["identity:u-1"]


def test_a_deleted_organisation_comes_back_with_its_members() -> None:
    join = Join()
    join.feed([member("u-1", 11)])
    deleted = join.feed([org(20, None, old=ACME)])
    assert [(p.kind, p.row) for p in deleted] == [("unorg", None)]
    (back,) = join.feed([org(30, ACME)])
    assert (back.kind, back.row and back.row["name"]) == ("org", "Acme AG")


def test_one_batch_equals_the_same_changes_in_several() -> None:
    changes = [
        member("u-1", 11, role="admin"),
        org(10, ACME),
        member("u-2", 12),
        org(20, ACME | {"name": "Acme Holding"}, old=ACME),
        member("u-2", 21, role=None),
    ]
    whole = Join().feed(changes)
    split, last = Join(), dict[str, PartyPiece]()
    for one in changes:
        last |= {p.ref: p for p in split.feed([one])}
    assert entries(whole) == entries(list(last.values()))
    assert entries(whole) == {
        "identity:u-1": {
            "org_id": "o-1",
            "user_id": "u-1",
            "role": "admin",
            "name": "Acme Holding",
            "domain": "acme.example",
            "tax_id": None,
            "country": "CH",
        },
        "identity:u-2": None,
    }


def test_state_pickles_without_its_member_index() -> None:
    state = OrganisationState()
    step = organisation_step(JOIN)
    for _, pieces in route_organisations([org(10, ACME), member("u-1", 11)], JOIN):
        state, _ = step(state, pieces)
    restored = pickle.loads(pickle.dumps(state))
    assert restored.members == {"o-1": {"u-1"}}
    assert b"members" not in pickle.dumps(state)


def parties(pieces: list[PartyPiece], state: PartyState | None) -> Any:
    step = party_step(MODEL)
    state, out = step(state, pieces)
    return state, [c for batch in out for c in batch]


def user_row(user_id: str) -> RowChange:
    row = {"id": user_id, "email": f"{user_id}@example.com", "given_name": "Ann"}
    return change("users", user_id, 5, row)


def party_pieces(changes: list[RowChange]) -> list[PartyPiece]:
    return [p for _, pieces in route_parties(changes, MODEL) for p in pieces]


def test_a_party_is_emitted_again_only_when_its_entry_changes() -> None:
    join = Join()
    state, _ = parties(party_pieces([user_row("u-1")]), None)
    state, (joined,) = parties(join.feed([org(10, ACME), member("u-1", 11)]), state)
    assert [e["name"] for e in joined.organisations] == ["Acme AG"]
    assert joined.row is not None and joined.row["id"] == "u-1"
    unrelated = ACME | {"created_at": "2026-12-04T10:00:00Z"}
    state, quiet = parties(join.feed([org(20, unrelated, old=ACME)]), state)
    assert quiet == []


def test_withdrawn_entries_do_not_hide_the_party_s_delete() -> None:
    join = Join()
    state, _ = parties(party_pieces([user_row("u-1")]), None)
    state, _ = parties(join.feed([org(10, ACME), member("u-1", 11)]), state)
    deleted = user_row("u-1")
    deleted.old, deleted.row = deleted.row, None
    pieces = party_pieces([deleted]) + join.feed([member("u-1", 12, role=None)])
    state, (gone,) = parties(pieces, state)
    assert isinstance(gone, PartyChange)
    assert isinstance(gone.change, RecordDelete)
