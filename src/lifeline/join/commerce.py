"""Commercial facts: orders, invoices and payments of a golden customer.

ERP orders and invoices name their customer by row id, payments name their
invoice; this module keeps those links (inside the resolver step, which knows
every party) and turns row changes into :class:`Fact` values for the golden
id they belong to. A fact whose customer is not known yet waits until the
customer's row arrives (snapshots do not order topics).

Facts are taken from what changed, so a re-snapshot that sends a row again
unchanged is no new fact: an order placed is an order row that appears, an
invoice posted or paid is a status that becomes ``posted`` or ``paid``, a
payment received or failed is a payment row that appears with that status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lifeline.decode.change import Row
from lifeline.join.latest import RowChange

ORDERS, INVOICES, PAYMENTS = "orders", "invoices", "payments"
COMMERCE_TABLES = frozenset({ORDERS, INVOICES, PAYMENTS})


@dataclass(frozen=True, slots=True)
class Fact:
    """A business fact about one ERP customer (by the customer's row id)."""

    kind: str  # order_placed | invoice_posted | invoice_paid | payment_*
    customer_row: str
    row: Row
    change: RowChange
    invoice: Row | None = None  # the invoice a payment settles


@dataclass(slots=True)
class CommerceState:
    """Invoices by id (for payments) and facts waiting for their customer."""

    invoices: dict[str, Row] = field(default_factory=dict)
    pending: dict[str, list[Fact]] = field(default_factory=dict)
    # payments whose invoice has not arrived yet, by invoice id
    unmatched: dict[str, list[RowChange]] = field(default_factory=dict)


def is_commerce(change: RowChange, erp_system: str) -> bool:
    """True for a row change of the ERP's orders, invoices or payments."""
    return change.system == erp_system and change.table in COMMERCE_TABLES


def facts_of(state: CommerceState, change: RowChange) -> list[Fact]:
    """The facts one commercial row change states (most state none)."""
    row, old = change.row, change.old
    if change.table == INVOICES and row is not None:
        invoice_id = str(row.get("id"))
        state.invoices[invoice_id] = row
        waiting = state.unmatched.pop(invoice_id, [])
        released = [f for payment in waiting for f in facts_of(state, payment)]
        return _invoice_facts(row, old, change) + released
    if row is None:
        return []
    if change.table == ORDERS and old is None:
        return [Fact("order_placed", _customer(row), row, change)]
    if change.table == PAYMENTS and old is None:
        invoice_id = str(row.get("invoice_id"))
        invoice = state.invoices.get(invoice_id)
        if invoice is None:  # its invoice is on another topic, not read yet
            state.unmatched.setdefault(invoice_id, []).append(change)
            return []
        status = row.get("status")
        if status in ("received", "failed"):
            return [Fact(f"payment_{status}", _customer(invoice), row, change, invoice)]
    return []


def _invoice_facts(row: Row, old: Row | None, change: RowChange) -> list[Fact]:
    return [
        Fact(f"invoice_{status}", _customer(row), row, change)
        for status in ("posted", "paid")
        if row.get("status") == status and (old or {}).get("status") != status
    ]


def _customer(row: Row) -> str:
    return str(row.get("customer_id"))


def settle(
    state: CommerceState,
    facts: list[Fact],
    golden_of_customer: Callable[[str], str | None],
) -> dict[str, list[Fact]]:
    """Facts by golden id; facts of unknown customers wait in ``pending``.

    ``golden_of_customer`` maps an ERP customer row id to its golden id (or
    None while the customer is unknown); waiting facts are retried each call.
    """
    ready: dict[str, list[Fact]] = {}
    for fact in facts:
        gid = golden_of_customer(fact.customer_row)
        if gid is None:
            state.pending.setdefault(fact.customer_row, []).append(fact)
        else:
            ready.setdefault(gid, []).append(fact)
    for customer_row in list(state.pending):
        gid = golden_of_customer(customer_row)
        if gid is not None:
            ready.setdefault(gid, []).extend(state.pending.pop(customer_row))
    return ready
