"""Party assembly and clustering: rows of both systems to golden-record inputs."""

from __future__ import annotations

from typing import Any

from lifeline.decode.position import MYSQL, POSTGRES, SourcePosition
from lifeline.join.clusters import ClusterState, GoldenInput, cluster_step
from lifeline.join.latest import RowChange
from lifeline.join.parties import (
    PartyChange,
    PartyState,
    party_step,
    route_parties,
    sample_party_model,
)
from lifeline.settings import Settings

MODEL = sample_party_model(Settings())


def customer(
    row_id: int, pos: int, row: dict[str, Any] | None, old: dict[str, Any] | None = None
) -> RowChange:
    return RowChange(
        "erp", "customers", str(row_id), old, row, SourcePosition(MYSQL, (1, pos, 0)), 0
    )


def user(user_id: str, lsn: int, row: dict[str, Any] | None) -> RowChange:
    return RowChange(
        "identity", "users", user_id, None, row, SourcePosition(POSTGRES, (lsn,)), 0
    )


def link(user_id: str, customer_no: str, lsn: int, gone: bool = False) -> RowChange:
    row = {"system": "erp", "external_id": customer_no, "user_id": user_id}
    return RowChange(
        "identity",
        "external_ids",
        f"erp|{customer_no}",
        row if gone else None,
        None if gone else row,
        SourcePosition(POSTGRES, (lsn,)),
        0,
    )


class Pipeline:
    """parties -> clusters, the way the golden flow chains them."""

    def __init__(self) -> None:
        self.parties: dict[str, PartyState] = {}
        self.clusters: ClusterState | None = None
        self.party = party_step(MODEL)
        self.cluster = cluster_step()

    def feed(self, changes: list[RowChange]) -> list[GoldenInput]:
        party_changes: list[PartyChange] = []
        for group, pieces in route_parties(changes, MODEL):
            self.parties[group], out = self.party(self.parties.get(group), pieces)
            for batch in out:
                party_changes.extend(batch)
        if not party_changes:
            return []
        self.clusters, grouped = self.cluster(self.clusters, party_changes)
        return [item for batch in grouped for _, items in batch for item in items]


def members(inputs: list[GoldenInput]) -> dict[str, set[str]]:
    return {i.golden_id: {m.ref for m in i.members} for i in inputs}


ACME = {"customer_no": "C-1", "legal_name": "Jane Doe", "email": "Jane@Example.com"}
JANE = {
    "id": "u-1",
    "email": " jane@example.com",
    "given_name": "Jane",
    "family_name": "Doe",
}


def test_same_person_in_both_systems_gets_one_golden_id() -> None:
    pipe = Pipeline()
    first = pipe.feed([customer(1, 100, ACME)])
    (gid,) = members(first)
    second = pipe.feed([user("u-1", 10, JANE)])
    assert members(second) == {gid: {"erp:C-1", "identity:u-1"}}
    assert second[0].members[1].row["given_name"] == "Jane"


def test_external_id_link_joins_records_without_shared_keys() -> None:
    pipe = Pipeline()
    pipe.feed([customer(1, 100, {"customer_no": "C-9", "legal_name": "Foo Ltd"})])
    pipe.feed(
        [
            user(
                "u-9",
                10,
                {
                    "id": "u-9",
                    "email": "x@example.org",
                    "given_name": "Ann",
                    "family_name": "Other",
                },
            )
        ]
    )
    linked = pipe.feed([link("u-9", "C-9", 11)])
    assert {"erp:C-9", "identity:u-9"} in list(members(linked).values())
    split = pipe.feed([link("u-9", "C-9", 12, gone=True)])
    assert sorted(len(m) for m in members(split).values()) == [1, 1]


def test_versions_rise_and_a_delete_leaves_no_members() -> None:
    pipe = Pipeline()
    (created,) = pipe.feed([customer(1, 100, ACME)])
    (deleted,) = pipe.feed([customer(1, 200, None, old=ACME)])
    assert deleted.golden_id == created.golden_id
    assert deleted.members == ()
    assert deleted.version > created.version


def test_customer_number_change_moves_the_party() -> None:
    pipe = Pipeline()
    pipe.feed([customer(1, 100, ACME)])
    renamed = {**ACME, "customer_no": "C-2"}
    out = pipe.feed([customer(1, 200, renamed, old=ACME)])
    refs = set().union(*members(out).values())
    assert refs == {"erp:C-2"}
