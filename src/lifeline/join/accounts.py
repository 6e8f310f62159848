"""Each ERP customer's open invoices and entitlements, for the golden cache.

The resolver step keeps, per ERP customer row, the invoices that are open
(status ``posted``: a paid or void one leaves) and the latest row of each of
its subscriptions. :meth:`AccountIndex.open_invoices` and
:meth:`AccountIndex.entitlements` render them as the golden record's
``open_invoices`` and ``entitlements`` cache fields (docs/cache.md): JSON
objects keyed by invoice number and by product code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lifeline.decode.change import Row
from lifeline.decode.render import render_value
from lifeline.join.latest import RowChange

INVOICES, SUBSCRIPTIONS = "invoices", "subscriptions"
OPEN_INVOICE_STATUS = "posted"
ACTIVE = "active"

_INVOICE_FIELDS = ("invoice_no", "amount", "currency", "issued_on", "due_on", "status")
_ENTITLEMENT_FIELDS = ("plan_code", "seats", "status", "starts_on", "ends_on")

Index = dict[str, dict[str, Row]]
"""Customer row id -> row id -> row."""


@dataclass(slots=True)
class AccountIndex:
    """Open invoices and subscriptions by ERP customer row id."""

    invoices: Index = field(default_factory=dict)
    subscriptions: Index = field(default_factory=dict)

    def apply(self, change: RowChange) -> None:
        """Track one invoice or subscription change (other tables: nothing)."""
        if change.table == INVOICES:
            _reindex(self.invoices, change, _is_open)
        elif change.table == SUBSCRIPTIONS:
            _reindex(self.subscriptions, change, lambda _: True)

    def open_invoices(self, customer_rows: Iterable[str]) -> dict[str, Any]:
        """The open invoices of some customers, by invoice number."""
        return {
            str(row.get("invoice_no")): _pick(row, _INVOICE_FIELDS)
            for customer in customer_rows
            for row in self.invoices.get(customer, {}).values()
        }

    def entitlements(self, customer_rows: Iterable[str]) -> dict[str, Any]:
        """One entitlement per product code: its best subscription.

        Best: an active one, then the one ending last, then the newest id.
        """
        best: dict[str, tuple[tuple[Any, ...], Row]] = {}
        for customer in customer_rows:
            for sub_id, row in self.subscriptions.get(customer, {}).items():
                ends = row.get("ends_on")
                # An open-ended subscription (no end date) ends last.
                active = row.get("status") == ACTIVE
                rank = (active, ends is None, str(ends), len(sub_id), sub_id)
                product = str(row.get("product_code"))
                if product not in best or rank > best[product][0]:
                    best[product] = (rank, row)
        return {
            product: {
                "subscription_id": str(row.get("id")),
                **_pick(row, _ENTITLEMENT_FIELDS),
            }
            for product, (_, row) in sorted(best.items())
        }


def _is_open(row: Row) -> bool:
    return row.get("status") == OPEN_INVOICE_STATUS


def _reindex(index: Index, change: RowChange, keep: Callable[[Row], bool]) -> None:
    """Move the row from its old customer's entry to its new one's."""
    if change.old is not None:
        customer = str(change.old.get("customer_id"))
        rows = index.get(customer)
        if rows is not None:
            rows.pop(change.row_id, None)
            if not rows:
                del index[customer]
    row = change.row
    if row is not None and keep(row):
        index.setdefault(str(row.get("customer_id")), {})[change.row_id] = row


def _pick(row: Row, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: render_value(row.get(name)) for name in names}
