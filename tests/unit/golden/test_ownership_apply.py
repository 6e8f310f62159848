"""Applying candidate values: owners win, fallbacks fill, conflicts recorded."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.decode.change import UNCHANGED
from lifeline.golden import (
    LOWER_PRIORITY,
    NOT_A_SOURCE,
    FieldSources,
    OwnershipRules,
    Provenance,
    combine,
    load_ownership,
)

RULES: OwnershipRules = load_ownership(
    Path(__file__).resolve().parents[3] / "config" / "ownership.yaml"
)
# phone: [identity, erp, crm]; legal_name: [erp, crm, billing]


def test_the_owner_wins_over_a_fallback() -> None:
    state: FieldSources = {}
    first = RULES.apply(state, "crm", "c:1", {"legal_name": "Acme"})
    assert first.changed_fields == ("legal_name",)
    second = RULES.apply(state, "erp", "m:1", {"legal_name": "Acme GmbH"})
    assert [(c.field, c.old, c.new) for c in second.changes] == [
        ("legal_name", "Acme", "Acme GmbH")
    ]
    assert second.changes[0].source == Provenance("erp", "m:1")
    assert second.conflicts == ()
    assert RULES.golden(state)["legal_name"] == "Acme GmbH"


def test_a_lower_priority_value_never_overwrites_and_is_a_conflict() -> None:
    state: FieldSources = {}
    RULES.apply(state, "erp", "m:1", {"legal_name": "Acme GmbH"})
    applied = RULES.apply(state, "crm", "c:1", {"legal_name": "ACME Inc"})
    assert applied.changes == ()
    (conflict,) = applied.conflicts
    assert (conflict.field, conflict.system, conflict.owner, conflict.reason) == (
        "legal_name",
        "crm",
        "erp",
        LOWER_PRIORITY,
    )
    assert conflict.rejected.startswith("b2:")
    assert "ACME" not in repr(conflict)
    assert RULES.golden(state)["legal_name"] == "Acme GmbH"


def test_agreeing_values_are_no_conflict() -> None:
    state: FieldSources = {}
    RULES.apply(state, "erp", "m:1", {"legal_name": "Acme GmbH"})
    assert RULES.apply(state, "crm", "c:1", {"legal_name": "Acme GmbH"}).conflicts == ()


def test_a_fallback_fills_only_while_higher_systems_have_no_value() -> None:
    state: FieldSources = {}
    RULES.apply(state, "crm", "c:1", {"phone": "+49 30 3"})
    assert RULES.golden(state)["phone"] == "+49 30 3"
    RULES.apply(state, "erp", "m:1", {"phone": "+49 30 2"})
    assert RULES.golden(state)["phone"] == "+49 30 2"
    applied = RULES.apply(state, "crm", "c:2", {"phone": "+49 30 4"})
    assert applied.changes == ()
    assert applied.conflicts[0].owner == "erp"
    assert RULES.provenance(state)["phone"] == Provenance("erp", "m:1")


def test_a_null_from_the_owner_falls_back_to_the_next_system() -> None:
    state: FieldSources = {}
    RULES.apply(state, "erp", "m:1", {"phone": "+49 30 2"})
    RULES.apply(state, "identity", "p:1", {"phone": "+49 30 1"})
    assert RULES.golden(state)["phone"] == "+49 30 1"
    applied = RULES.apply(state, "identity", "p:2", {"phone": None})
    assert [(c.old, c.new, c.source) for c in applied.changes] == [
        ("+49 30 1", "+49 30 2", Provenance("erp", "m:1"))
    ]
    gone = RULES.apply(state, "erp", "m:2", {"phone": None})
    assert [(c.new, c.source) for c in gone.changes] == [(None, None)]
    assert "phone" not in RULES.provenance(state)


def test_stale_and_duplicate_values_are_ignored() -> None:
    state: FieldSources = {}
    RULES.apply(state, "erp", "m:2", {"legal_name": "New"})
    applied = RULES.apply(state, "erp", "m:1", {"legal_name": "Old"})
    again = RULES.apply(state, "erp", "m:2", {"legal_name": "Other"})
    assert (applied.stale, again.stale) == (1, 1)
    assert applied.changes == again.changes == ()
    assert RULES.golden(state)["legal_name"] == "New"


def test_a_system_that_is_not_a_source_never_supplies_a_field() -> None:
    state: FieldSources = {}
    applied = RULES.apply(state, "support", "s:1", {"login_email": "a@example.test"})
    assert applied.changes == ()
    (conflict,) = applied.conflicts
    assert (conflict.owner, conflict.reason) == ("identity", NOT_A_SOURCE)
    assert RULES.golden(state)["login_email"] is None
    RULES.apply(state, "identity", "p:1", {"login_email": "a@example.test"})
    same = RULES.apply(state, "support", "s:2", {"login_email": "a@example.test"})
    assert same.conflicts == ()


def test_conflict_digests_are_stable_and_keyed() -> None:
    keyed = OwnershipRules(RULES.config, hash_key=b"secret")
    digests = set()
    for rules in (RULES, RULES, keyed):
        state: FieldSources = {}
        rules.apply(state, "erp", "m:1", {"legal_name": "A"})
        (conflict,) = rules.apply(state, "crm", "c:1", {"legal_name": "B"}).conflicts
        digests.add(conflict.rejected)
    assert len(digests) == 2


def test_changes_do_not_show_values() -> None:
    state: FieldSources = {}
    applied = RULES.apply(state, "erp", "m:1", {"tax_id": "DE123456789"})
    assert "DE123456789" not in repr(applied)


def test_candidates_map_columns_to_fields() -> None:
    row = {"id": 42, "legal_name": "Acme", "email": "bill@example.test", "phone": None}
    values = RULES.candidates("erp", "customers", row)
    assert values is not None
    assert values["legal_name"] == "Acme"
    assert values["billing_email"] == "bill@example.test"
    assert values["phone"] is None
    assert "credit_limit" not in values  # column missing from the row
    assert RULES.candidates("erp", "orders", row) is None


def test_a_deleted_row_nulls_its_fields_and_unchanged_columns_are_left_out() -> None:
    deleted = RULES.candidates("identity", "users", None)
    assert deleted == dict.fromkeys(
        ["login_email", "given_name", "family_name", "phone"]
    )
    toasted = {"email": "a@example.test", "given_name": UNCHANGED, "phone": "+1"}
    assert RULES.candidates("identity", "users", toasted) == {
        "login_email": "a@example.test",
        "phone": "+1",
    }


def test_equal_decimals_are_no_change() -> None:
    state: FieldSources = {}
    RULES.apply(state, "erp", "m:1", {"credit_limit": Decimal("100.00")})
    applied = RULES.apply(state, "erp", "m:2", {"credit_limit": Decimal("100.0")})
    assert applied.changes == ()


def test_combine_keeps_the_newer_value_per_system() -> None:
    survivor: FieldSources = {}
    absorbed: FieldSources = {}
    RULES.apply(survivor, "erp", "m:1", {"phone": "+2"})
    RULES.apply(absorbed, "erp", "m:3", {"phone": "+3"})
    RULES.apply(absorbed, "identity", "p:1", {"phone": "+1", "given_name": "Ann"})
    combine(survivor, absorbed)
    assert survivor["phone"]["erp"].value == "+3"
    assert RULES.golden(survivor)["phone"] == "+1"
    assert RULES.golden(survivor)["given_name"] == "Ann"


# Property: the golden value is the highest-priority system's latest value
# that is not null, whatever the interleaving of systems.

SYSTEMS = ["identity", "erp", "crm", "billing"]  # billing is not a phone source
updates = st.lists(
    st.tuples(st.sampled_from(SYSTEMS), st.sampled_from([None, "+1", "+2", "+3"])),
    max_size=30,
)


def expected_phone(sequence: list[tuple[str, str | None]]) -> str | None:
    latest: dict[str, str | None] = {}
    for system, value in sequence:
        latest[system] = value
    for system in RULES.order("phone"):
        if latest.get(system) is not None:
            return latest[system]
    return None


@settings(max_examples=300, deadline=None)
@given(updates)
def test_the_golden_value_follows_priority_in_any_interleaving(
    sequence: list[tuple[str, str | None]],
) -> None:
    state: FieldSources = {}
    shown: str | None = None
    for number, (system, value) in enumerate(sequence):
        applied = RULES.apply(state, system, f"x:{number:04d}", {"phone": value})
        for change in applied.changes:
            assert change.old == shown
            shown = change.new
    assert RULES.golden(state)["phone"] == expected_phone(sequence) == shown


@settings(max_examples=200, deadline=None)
@given(updates, st.integers(min_value=0, max_value=2**32))
def test_replays_and_reordering_across_systems_change_nothing(
    sequence: list[tuple[str, str | None]], seed: int
) -> None:
    numbered = [(s, v, f"x:{n:04d}") for n, (s, v) in enumerate(sequence)]
    in_order: FieldSources = {}
    for system, value, position in numbered:
        RULES.apply(in_order, system, position, {"phone": value})
    # Another interleaving of the systems (each system's own order kept),
    # then the whole sequence again as a replay.
    by_system = {s: [u for u in numbered if u[0] == s] for s in SYSTEMS}
    rng = random.Random(seed)
    shuffled = []
    while any(by_system.values()):
        system = rng.choice([s for s, pending in by_system.items() if pending])
        shuffled.append(by_system[system].pop(0))
    other: FieldSources = {}
    for system, value, position in shuffled + numbered:
        RULES.apply(other, system, position, {"phone": value})
    assert RULES.golden(other) == RULES.golden(in_order)
