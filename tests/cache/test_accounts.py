"""Open invoices and entitlements in the golden record, against a real Redis.

The maps come from :class:`~lifeline.join.accounts.AccountIndex` as the
golden flow builds them, and travel with the record under its version guard.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from lifeline.cache import CacheReader, GoldenCacheWriter, Upsert
from lifeline.decode.position import MYSQL, SourcePosition
from lifeline.join.accounts import AccountIndex
from lifeline.join.latest import RowChange
from tests.cache.helpers import version


def change(
    table: str, row_id: int, row: dict[str, Any] | None, old: dict[str, Any] | None
) -> RowChange:
    position = SourcePosition(MYSQL, (1, row_id, 0))
    return RowChange("erp", table, str(row_id), old, row, position, 0)


def invoice(row_id: int, status: str) -> dict[str, Any]:
    return {
        "id": row_id,
        "invoice_no": f"INV-{row_id}",
        "customer_id": 7,
        "status": status,
        "currency": "EUR",
        "amount": Decimal("12.50"),
        "issued_on": date(2024, 5, 1),
        "due_on": date(2024, 5, 31),
    }


SUBSCRIPTION = {
    "id": 3,
    "customer_id": 7,
    "product_code": "SW-3001",
    "plan_code": "pro",
    "seats": 4,
    "status": "active",
    "starts_on": date(2024, 1, 1),
    "ends_on": None,
}


def upsert(index: AccountIndex, at: int) -> Upsert:
    return Upsert(
        "g-acc",
        version(at),
        {"legal_name": f"Acme {at}"},
        source_ids=["erp:C-7"],
        open_invoices=index.open_invoices(["7"]),
        entitlements=index.entitlements(["7"]),
    )


def test_accounts_travel_with_the_record_under_its_version(
    writer: GoldenCacheWriter, reader: CacheReader
) -> None:
    index = AccountIndex()
    index.apply(change("invoices", 1, invoice(1, "posted"), None))
    index.apply(change("subscriptions", 3, SUBSCRIPTION, None))
    older = upsert(index, 1)
    index.apply(change("invoices", 2, invoice(2, "posted"), None))
    newer = upsert(index, 2)
    assert writer.apply([newer, older]).stale == 1
    found = reader.by_golden_id("g-acc")
    assert found is not None
    assert found.record == {"legal_name": "Acme 2"}
    assert found.open_invoices == {
        f"INV-{n}": {
            "invoice_no": f"INV-{n}",
            "amount": "12.50",
            "currency": "EUR",
            "issued_on": "2024-05-01",
            "due_on": "2024-05-31",
            "status": "posted",
        }
        for n in (1, 2)
    }
    assert found.entitlements == {
        "SW-3001": {
            "subscription_id": "3",
            "plan_code": "pro",
            "seats": 4,
            "status": "active",
            "starts_on": "2024-01-01",
            "ends_on": None,
        }
    }
    assert found.to_json()["entitlements"] == found.entitlements


def test_paid_invoices_leave_and_an_empty_account_clears_the_fields(
    writer: GoldenCacheWriter, reader: CacheReader
) -> None:
    index = AccountIndex()
    posted = invoice(1, "posted")
    index.apply(change("invoices", 1, posted, None))
    index.apply(change("subscriptions", 3, SUBSCRIPTION, None))
    writer.apply([upsert(index, 1)])
    index.apply(change("invoices", 1, invoice(1, "paid"), posted))
    index.apply(change("subscriptions", 3, None, SUBSCRIPTION))
    writer.apply([upsert(index, 2)])
    found = reader.by_golden_id("g-acc")
    assert found is not None
    assert (found.open_invoices, found.entitlements) == ({}, {})
