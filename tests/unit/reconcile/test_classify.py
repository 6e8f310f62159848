"""Classifying source rows and cache entries into missing, stale and extra."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from lifeline.golden.ownership import OwnershipRules, load_ownership
from lifeline.reconcile.classify import (
    CachedGolden,
    RowChecker,
    SourceRow,
    expected_values,
    gone_index_entries,
    orphan_goldens,
    quick_values,
)
from lifeline.reconcile.findings import (
    EXTRA,
    FIELD_DIFFERS,
    MISSING,
    NO_GOLDEN_RECORD,
    NO_INDEX_ENTRY,
    NO_SOURCE_ROW,
    NOT_LISTED,
    SOURCE_ROW_GONE,
    STALE,
    Finding,
)
from lifeline.reconcile.model import Engine, ReconcileTable, Scope, owned_fields

RULES: OwnershipRules = load_ownership(
    Path(__file__).resolve().parents[3] / "config" / "ownership.yaml"
)


def table(system: str, name: str, id_column: str) -> ReconcileTable:
    columns = RULES.config.sources[f"{system}.{name}"]
    return ReconcileTable(
        system,
        name,
        Engine.MARIADB if system == "erp" else Engine.POSTGRES,
        id_column,
        tuple(columns.items()),
        owned_fields(RULES, system, name),
        "updated_at",
    )


CUSTOMERS = table("erp", "customers", "customer_no")
USERS = table("identity", "users", "id")


def customer(row_id: str = "C-1", **changes: Any) -> SourceRow:
    row: dict[str, Any] = {
        "legal_name": "Ada Lovelace Ltd",
        "tax_id": "GB123",
        "email": " Ada@Example.COM ",
        "phone": "+44 20 7946 0000",
        "billing_street": "1 Analytical Way",
        "billing_city": "London",
        "billing_postal_code": "N1",
        "billing_country": "GB",
        "credit_limit": Decimal("1000.00"),
        "status": "active",
    }
    row.update(changes)
    return SourceRow(CUSTOMERS, row_id, row)


def user(row_id: str = "u-1", **changes: Any) -> SourceRow:
    row: dict[str, Any] = {
        "email": "ada@example.com",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "phone": None,
    }
    row.update(changes)
    return SourceRow(USERS, row_id, row)


def golden_of(*rows: SourceRow, golden_id: str = "g-1", **fields: Any) -> CachedGolden:
    """The record the golden step builds from ``rows`` (owner values only)."""
    record: dict[str, Any] = {}
    for row in rows:
        record.update(expected_values(RULES, row))
    record["phone"] = "+44 20 7946 0000"  # the ERP's, as a fallback
    record.update(fields)
    return CachedGolden(golden_id, record, tuple(row.source_id for row in rows))


def check(
    rows: list[SourceRow], index: Mapping[str, str | None], *goldens: CachedGolden
) -> list[Finding]:
    checker = RowChecker(RULES)
    found = checker.check(rows, index, {g.golden_id: g for g in goldens})
    return found + checker.finish()


def test_each_field_is_checked_against_its_effective_owner_only() -> None:
    erp = {f.name: f.null_means_null for f in CUSTOMERS.owned}
    identity = {f.name: f.null_means_null for f in USERS.owned}
    # billing_email belongs to billing first, but no billing table is captured.
    assert "billing_email" in erp
    assert "phone" not in erp  # identity owns it; the ERP is a fallback
    assert identity == {
        "login_email": True,
        "given_name": True,
        "family_name": True,
        "phone": False,  # a null falls back to the ERP's phone
    }


def test_a_row_matching_its_golden_record_is_clean_after_normalisation() -> None:
    erp, person = customer(), user(email=" ADA@example.com")
    golden = golden_of(erp, person)
    assert golden.record["billing_email"] == "ada@example.com"
    assert golden.record["credit_limit"] == "1000.00"
    index = {erp.source_id: "g-1", person.source_id: "g-1"}
    assert check([erp, person], index, golden) == []


def test_a_row_without_index_entry_is_missing() -> None:
    (found,) = check([customer()], {"erp:C-1": None})
    assert (found.category, found.reason) == (MISSING, NO_INDEX_ENTRY)
    assert (found.where, found.source_id, found.golden_id) == (
        "erp.customers",
        "erp:C-1",
        None,
    )


def test_an_index_entry_naming_no_record_is_missing() -> None:
    (found,) = check([customer()], {"erp:C-1": "g-404"})
    assert (found.category, found.reason, found.golden_id) == (
        MISSING,
        NO_GOLDEN_RECORD,
        "g-404",
    )


def test_a_record_that_does_not_list_the_row_is_missing_it() -> None:
    other = golden_of(customer("C-2"))
    (found,) = check([customer()], {"erp:C-1": "g-1"}, other)
    assert (found.category, found.reason) == (MISSING, NOT_LISTED)


def test_an_owned_field_that_differs_is_stale_with_both_values() -> None:
    erp = customer(credit_limit=Decimal("2500.00"))
    golden = golden_of(customer())
    (found,) = check([erp], {"erp:C-1": "g-1"}, golden)
    assert (found.category, found.reason) == (STALE, FIELD_DIFFERS)
    assert [(d.field, d.cached, d.source) for d in found.diffs] == [
        ("credit_limit", "1000.00", "2500.00")
    ]


def test_a_field_another_system_owns_is_not_compared() -> None:
    erp = customer(phone="+44 1632 960000")  # identity owns phone
    golden = golden_of(customer(), phone="+1 555 0100")
    assert check([erp], {"erp:C-1": "g-1"}, golden) == []


def test_a_null_from_the_owner_is_compared_only_where_no_fallback_exists() -> None:
    person = user(given_name=None, phone=None)
    golden = golden_of(user(), phone="+44 20 7946 0000")
    (found,) = check([person], {"identity:u-1": "g-1"}, golden)
    assert [(d.field, d.cached, d.source) for d in found.diffs] == [
        ("given_name", "Ada", None)
    ]


def test_rows_changed_inside_the_grace_period_are_not_checked() -> None:
    recent = SourceRow(CUSTOMERS, "C-1", customer().row, recent=True)
    assert check([recent], {"erp:C-1": None}) == []


def test_several_rows_of_one_system_are_judged_together() -> None:
    older, newer = customer("C-1"), customer("C-2", legal_name="Ada Lovelace plc")
    golden = CachedGolden(
        "g-1",
        {**golden_of(older).record, "legal_name": "Ada Lovelace plc"},
        ("erp:C-1", "erp:C-2"),
    )
    index: dict[str, str | None] = {"erp:C-1": "g-1", "erp:C-2": "g-1"}
    assert check([older, newer], index, golden) == []

    drifted = CachedGolden(
        "g-1", {**golden.record, "legal_name": "Someone Else"}, golden.source_ids
    )
    (found,) = check([older, newer], index, drifted)
    assert (found.category, found.source_id, found.golden_id) == (
        STALE,
        "erp:C-1",
        "g-1",
    )
    assert [d.field for d in found.diffs] == ["legal_name"]


def test_a_group_with_a_recent_row_is_not_judged() -> None:
    # The record holds the value of C-2, changed inside the grace time: the
    # older row C-1 alone cannot confirm it, so nothing is reported yet.
    older = customer("C-1")
    newer = customer("C-2", legal_name="Ada Lovelace plc")
    recent = SourceRow(newer.table, newer.row_id, newer.row, recent=True)
    golden = CachedGolden(
        "g-1",
        {**golden_of(older).record, "legal_name": "Ada Lovelace plc"},
        ("erp:C-1", "erp:C-2"),
    )
    index: dict[str, str | None] = {"erp:C-1": "g-1", "erp:C-2": "g-1"}
    assert check([older, recent], index, golden) == []
    assert check([older], index, golden) != []  # without it: C-1 alone disagrees


def test_index_entries_of_gone_rows_are_extra() -> None:
    found = gone_index_entries(
        [("erp:C-9", "g-9"), ("erp:C-8", None)], lambda s: "erp.customers"
    )
    assert [(f.category, f.reason, f.source_id, f.golden_id) for f in found] == [
        (EXTRA, SOURCE_ROW_GONE, "erp:C-9", "g-9")
    ]


def test_golden_records_without_any_live_source_row_are_extra() -> None:
    scope = Scope(frozenset({"erp", "identity"}))
    goldens = [
        CachedGolden("g-live", {}, ("erp:C-1", "identity:u-gone")),
        CachedGolden("g-dead", {}, ("erp:C-gone", "identity:u-gone")),
        CachedGolden("g-crm", {}, ("crm:77",)),  # no system read here: not judged
        CachedGolden("g-empty", {}, ()),
    ]
    found = orphan_goldens(goldens, {"erp:C-1"}, scope, lambda s: s.split(":")[0])
    assert [(f.category, f.reason, f.golden_id, f.where) for f in found] == [
        (EXTRA, NO_SOURCE_ROW, "g-dead", "erp"),
        (EXTRA, NO_SOURCE_ROW, "g-empty", "golden"),
    ]


def test_a_scope_judges_only_ids_with_its_prefix() -> None:
    scope = Scope(frozenset({"erp", "identity"}), "t1-")
    assert scope.covers("erp:t1-C1")
    assert not scope.covers("erp:t2-C1")
    assert not scope.covers("crm:t1-C1")
    assert not scope.covers("t1-C1")
    goldens = [CachedGolden("g-1", {}, ("erp:t2-C1",)), CachedGolden("g-2", {}, ())]
    assert orphan_goldens(goldens, set(), scope, str) == []


texts = st.one_of(st.none(), st.text(max_size=12))


@given(
    legal_name=texts,
    email=texts,
    phone=texts,
    credit=st.decimals(places=2, allow_nan=False, allow_infinity=False),
    login=texts,
    given_name=texts,
)
def test_the_quick_values_are_the_golden_steps_values(
    legal_name: str | None,
    email: str | None,
    phone: str | None,
    credit: Decimal,
    login: str | None,
    given_name: str | None,
) -> None:
    erp = customer(legal_name=legal_name, email=email, phone=phone, credit_limit=credit)
    person = user(email=login, given_name=given_name, phone=phone)
    for row in (erp, person):
        assert quick_values(row) == expected_values(RULES, row)
