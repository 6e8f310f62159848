"""The resolver's cluster life cycle: golden ids, merges, splits, deletes."""

from __future__ import annotations

import pickle

from lifeline.resolve import (
    ClusterEvent,
    RecordChange,
    RecordDelete,
    ResolutionBatch,
    Resolver,
    resolve_step,
)
from lifeline.resolve.state import golden_id_for
from tests.unit.resolve.helpers import make_record as rec

ANNA_ERP = rec("erp:C-1", name="Anna Müller", email="anna@example.com")
ANNA_ID = rec(
    "identity:u-1",
    first_name="Anna",
    last_name="Müller",
    email="anna@example.com",
    phone="+49 30 5551234",
)
ANNA_BILL = rec("billing:B-1", name="Müller, Anna", phone="030 5551234", country="DE")
LUKAS = rec("erp:C-2", name="Lukas Becker", email="lukas@example.com")


def events_of(batch: ResolutionBatch, kind: str) -> list[ClusterEvent]:
    return [event for event in batch.events if event.kind == kind]


def test_the_golden_id_is_the_founders_and_survives_additions() -> None:
    resolver = Resolver()
    first = resolver.resolve([ANNA_ERP])
    founded = golden_id_for("erp:C-1")
    assert first.decisions[0].golden_id == founded
    assert first.decisions[0].rule == "no_match"
    later = resolver.resolve([ANNA_ID, ANNA_BILL])
    assert [d.golden_id for d in later.decisions] == [founded, founded]
    assert later.events == ()
    assert set(resolver.members(founded)) == {"erp:C-1", "identity:u-1", "billing:B-1"}


def test_decisions_say_why() -> None:
    batch = Resolver().resolve([ANNA_ERP, ANNA_ID, ANNA_BILL, LUKAS])
    _, user, bill, lukas = batch.decisions
    assert (user.rule, user.matched_keys, user.matched_with) == (
        "email",
        ("email",),
        "erp:C-1",
    )
    assert bill.rule == "fuzzy"
    assert bill.matched_keys == ("name", "phone")
    assert bill.matched_with == "identity:u-1"
    assert 0.7 <= bill.score <= 1.0
    assert (lukas.rule, lukas.golden_id) == ("no_match", golden_id_for("erp:C-2"))


def test_a_replay_yields_the_same_ids_and_events() -> None:
    changes: list[RecordChange] = [ANNA_BILL, LUKAS, ANNA_ERP, ANNA_ID]
    assert Resolver().resolve(changes) == Resolver().resolve(changes)


def test_merge_keeps_the_older_cluster_and_reports_the_absorbed_one() -> None:
    resolver = Resolver()
    resolver.resolve([ANNA_BILL])  # founds the older cluster
    resolver.resolve([ANNA_ERP])  # no link to the bill: a second cluster
    batch = resolver.resolve([ANNA_ID])  # links both: email and name + phone
    [merged] = events_of(batch, "merged")
    older, younger = golden_id_for("billing:B-1"), golden_id_for("erp:C-1")
    assert merged.survivor == older
    assert merged.absorbed == (younger,)
    assert merged.moved == ("erp:C-1",)
    assert merged.trigger == "identity:u-1"
    assert "by email with erp:C-1" in merged.reason
    assert resolver.golden_id("erp:C-1") == older
    assert batch.decisions[0].golden_id == older


def test_merge_survivor_follows_the_founding_order() -> None:
    resolver = Resolver()
    resolver.resolve([ANNA_ERP])
    resolver.resolve([ANNA_BILL])
    [merged] = events_of(resolver.resolve([ANNA_ID]), "merged")
    assert merged.survivor == golden_id_for("erp:C-1")
    assert merged.absorbed == (golden_id_for("billing:B-1"),)


def test_an_absorbed_id_is_never_issued_again() -> None:
    resolver = Resolver()
    resolver.resolve([ANNA_ERP, ANNA_BILL, ANNA_ID])  # B-1's cluster absorbed
    resolver.resolve([RecordDelete("billing", "B-1")])
    again = resolver.resolve([rec("billing:B-1", name="Zofia Nowak")])
    assert again.decisions[0].golden_id == golden_id_for("billing:B-1") + "-1"


def test_split_on_update_the_part_with_the_oldest_member_keeps_the_id() -> None:
    resolver = Resolver()
    resolver.resolve([ANNA_ERP, ANNA_ID, ANNA_BILL])
    founded = golden_id_for("erp:C-1")
    # u-1 drops the shared email: erp:C-1 no longer links to anyone.
    changed = rec(
        "identity:u-1", first_name="Anna", last_name="Müller", phone="+49 30 5551234"
    )
    batch = resolver.resolve([changed])
    [split] = events_of(batch, "split")
    assert split.survivor == founded
    assert split.created == (golden_id_for("identity:u-1"),)
    assert split.moved == ("billing:B-1", "identity:u-1")
    assert split.trigger == "identity:u-1"
    assert resolver.members(founded) == ("erp:C-1",)
    assert batch.decisions[0].golden_id == golden_id_for("identity:u-1")
    assert batch.decisions[0].rule == "fuzzy"


def test_an_update_can_split_off_and_merge_elsewhere() -> None:
    resolver = Resolver()
    resolver.resolve([ANNA_ERP, ANNA_ID, LUKAS])
    moved = rec(
        "identity:u-1",
        first_name="Lukas",
        last_name="Becker",
        email="lukas@example.com",
    )
    batch = resolver.resolve([moved])
    assert [e.kind for e in batch.events] == ["split", "merged"]
    assert resolver.golden_id("identity:u-1") == golden_id_for("erp:C-2")
    assert resolver.members(golden_id_for("erp:C-1")) == ("erp:C-1",)


def test_split_on_delete_of_the_record_that_held_the_cluster_together() -> None:
    resolver = Resolver()
    resolver.resolve([ANNA_ERP, ANNA_ID, ANNA_BILL])
    batch = resolver.resolve([RecordDelete("identity", "u-1")])
    [split] = events_of(batch, "split")
    assert split.survivor == golden_id_for("erp:C-1")
    assert split.created == (golden_id_for("billing:B-1"),)
    assert split.moved == ("billing:B-1",)
    [decision] = batch.decisions
    assert (decision.rule, decision.golden_id) == ("deleted", None)


def test_deleting_the_founder_keeps_the_id_for_the_rest() -> None:
    resolver = Resolver()
    resolver.resolve([ANNA_ERP, ANNA_ID, ANNA_BILL])
    batch = resolver.resolve([RecordDelete("erp", "C-1")])
    assert batch.events == ()
    assert resolver.golden_id("billing:B-1") == golden_id_for("erp:C-1")


def test_deleting_the_last_member_removes_the_cluster() -> None:
    resolver = Resolver()
    resolver.resolve([LUKAS])
    batch = resolver.resolve([RecordDelete("erp", "C-2"), RecordDelete("erp", "C-9")])
    [removed] = batch.events
    assert (removed.kind, removed.survivor) == ("removed", golden_id_for("erp:C-2"))
    assert [d.rule for d in batch.decisions] == ["deleted", "deleted"]
    assert len(resolver) == 0
    # A removed id (not an absorbed one) goes back to the same founder.
    assert resolver.resolve([LUKAS]).decisions[0].golden_id == golden_id_for("erp:C-2")


def test_an_unchanged_upsert_is_a_no_op() -> None:
    resolver = Resolver()
    resolver.resolve([ANNA_ERP, ANNA_ID])
    batch = resolver.resolve([ANNA_ID])
    assert batch.events == ()
    assert batch.decisions[0].rule == "unchanged"
    assert batch.decisions[0].golden_id == golden_id_for("erp:C-1")


def test_state_survives_pickling_mid_stream() -> None:
    straight = Resolver()
    straight.resolve([ANNA_BILL, LUKAS])
    restored = pickle.loads(pickle.dumps(straight))
    rest: list[RecordChange] = [ANNA_ERP, ANNA_ID, RecordDelete("erp", "C-2")]
    assert restored.resolve(rest) == straight.resolve(rest)
    assert restored.assignments() == straight.assignments()
    assert restored.stats() == straight.stats()


def test_resolve_step_keeps_one_resolver_per_key() -> None:
    step = resolve_step()
    state, [first] = step(None, [ANNA_ERP])
    same, [second] = step(state, [ANNA_ID])
    assert same is state
    assert second.decisions[0].golden_id == first.decisions[0].golden_id
    assert state.stats() == {"records": 2, "clusters": 1, "block_keys": 2}
