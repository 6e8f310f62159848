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

Topics are read in no particular order: a payment may be read before the
order it follows. So each customer also keeps the *history* of its
stage-moving facts, ordered by source position (ties, as in a snapshot where
every row shares one position, broken by business time and then by the
natural order order < invoice < payment), and the lifecycle stage is always
derived from that whole history (:mod:`lifeline.golden.facts`), whatever
order the facts arrived in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lifeline.decode.change import Row
from lifeline.join.latest import RowChange

ORDERS, INVOICES, PAYMENTS = "orders", "invoices", "payments"
COMMERCE_TABLES = frozenset({ORDERS, INVOICES, PAYMENTS})

# Facts that can move a lifecycle stage, with their rank among facts at one
# source position, and the column holding each table's business time.
_STAGE_RANK = {
    "order_placed": 0,
    "payment_failed": 2,
    "payment_received": 2,
    "invoice_paid": 3,
}
_BUSINESS_TIME = {ORDERS: "ordered_at", INVOICES: "posted_at", PAYMENTS: "paid_at"}

HistoryKey = tuple[Any, ...]
"""Orders stage facts: (position key, business time, rank, row id)."""

StageHistory = tuple[tuple[HistoryKey, str], ...]
"""A customer's stage-moving facts as (order key, fact kind), in order."""


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
    # customer row id -> {(kind, table, row id): order key}: stage facts seen
    history: dict[str, dict[tuple[str, str, str], HistoryKey]] = field(
        default_factory=dict
    )
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
    record_history(state, facts)
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


def history_key(fact: Fact) -> HistoryKey:
    """Where ``fact`` stands in its customer's history (see module doc)."""
    change = fact.change
    when = fact.row.get(_BUSINESS_TIME.get(change.table, ""))
    row_id = change.row_id
    return (
        change.position.key,
        "" if when is None else str(when),
        _STAGE_RANK.get(fact.kind, 1),
        (len(row_id), row_id),
    )


def record_history(state: CommerceState, facts: Iterable[Fact]) -> None:
    """Add the stage-moving ``facts`` to their customers' histories, once each."""
    for fact in facts:
        if fact.kind not in _STAGE_RANK:
            continue
        seen = state.history.setdefault(fact.customer_row, {})
        ident = (fact.kind, fact.change.table, fact.change.row_id)
        if ident not in seen:
            seen[ident] = history_key(fact)


def history_of(state: CommerceState, customer_rows: Iterable[str]) -> StageHistory:
    """The stage facts of some customers (one golden record's), in order."""
    marks = [
        (key, ident[0])
        for row in customer_rows
        for ident, key in state.history.get(row, {}).items()
    ]
    marks.sort()
    return tuple(marks)
