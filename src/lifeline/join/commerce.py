"""Commercial facts: orders, invoices, payments and subscriptions of a customer.

ERP orders, invoices and subscriptions name their customer by row id,
payments name their invoice; this module keeps those links (inside the
resolver step, which knows every party) and turns row changes into
:class:`Fact` values for the golden id they belong to. A fact whose customer
is not known yet waits until the customer's row arrives (snapshots do not
order topics).

Facts are taken from what changed, so a re-snapshot that sends a row again
unchanged is no new fact: an order placed is an order row that appears, an
invoice posted or paid is a status that becomes ``posted`` or ``paid``, a
payment received or failed is a payment row that appears with that status.
A subscription is *granted* when it becomes ``active``, *changed* when an
active one changes plan, product or seats (or ends earlier), *revoked* when
it stops being active (cancelled, expired, deleted) and *renewed* when an
active one's ``ends_on`` moves later or its ``renewed_at`` is set. An order
appearing moves the lifecycle stage at once; its ``OrderPlaced`` comes from
the order's burst (:mod:`lifeline.join.windows`), with its lines.

Topics are read in no particular order: a payment may be read before the
order it follows. So each customer also keeps the *history* of its
stage-moving facts, ordered by source position (ties, as in a snapshot where
every row shares one position, broken by business time and then by the
natural order order < grant < payment < paid invoice < renewal < revoke),
and the lifecycle stage is always derived from that whole history
(:mod:`lifeline.golden.facts`), whatever order the facts arrived in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lifeline.decode.change import Row
from lifeline.join.accounts import ACTIVE, AccountIndex
from lifeline.join.latest import RowChange
from lifeline.join.windows import OrderBurst

ORDERS, INVOICES, PAYMENTS = "orders", "invoices", "payments"
SUBSCRIPTIONS = "subscriptions"
COMMERCE_TABLES = frozenset({ORDERS, INVOICES, PAYMENTS, SUBSCRIPTIONS})

# Facts that can move a lifecycle stage, with their rank among facts at one
# source position.
_STAGE_RANK = {
    "order_placed": 0,
    "entitlement_granted": 1,
    "payment_failed": 2,
    "payment_received": 2,
    "invoice_paid": 3,
    "renewed": 4,
    "entitlement_revoked": 5,
}
# Stage facts a row can state more than once (a subscription renewed yearly).
_REPEATABLE = frozenset({"entitlement_granted", "entitlement_revoked", "renewed"})
# The columns holding a fact's business time: by fact kind, else by table.
_KIND_TIME = {
    "entitlement_granted": ("starts_on", "updated_at"),
    "entitlement_revoked": ("updated_at", "ends_on"),
    "renewed": ("renewed_at", "updated_at"),
}
_TABLE_TIME = {ORDERS: "ordered_at", INVOICES: "posted_at", PAYMENTS: "paid_at"}
# Subscription columns whose change is an entitlement change.
_TERMS = ("product_code", "plan_code", "seats")

HistoryKey = tuple[Any, ...]
"""Orders stage facts: (position key, business time, rank, row id)."""

StageHistory = tuple[tuple[HistoryKey, str], ...]
"""A customer's stage-moving facts as (order key, fact kind), in order."""


@dataclass(frozen=True, slots=True)
class Fact:
    """A business fact about one ERP customer (by the customer's row id).

    ``lines`` are an order burst's line changes; a ``quiet`` fact enters the
    history but publishes no event (a subscription that appears already
    ended: it was granted and revoked before Lifeline saw it).
    """

    kind: str  # order_placed | order_coalesced | invoice_* | payment_* | ...
    customer_row: str
    row: Row
    change: RowChange
    invoice: Row | None = None  # the invoice a payment settles
    lines: tuple[RowChange, ...] = ()
    quiet: bool = False


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
    accounts: AccountIndex = field(default_factory=AccountIndex)


def is_commerce(change: RowChange, erp_system: str) -> bool:
    """True for a row change of the ERP's commercial tables (not order lines)."""
    return change.system == erp_system and change.table in COMMERCE_TABLES


def facts_of(state: CommerceState, change: RowChange) -> list[Fact]:
    """The facts one commercial row change states (most state none).

    An invoice or subscription change yields an ``account_changed`` fact for
    each customer it touched that no other fact names (a row can move to
    another customer), so their cached open invoices and entitlements
    follow it.
    """
    state.accounts.apply(change)
    if change.table == INVOICES:
        facts = _invoice_change(state, change)
    elif change.table == SUBSCRIPTIONS:
        facts = subscription_facts(change)
    else:
        return _order_or_payment(state, change)
    covered = {fact.customer_row for fact in facts if fact.change is change}
    return facts + [
        f for f in _account_changed(change) if f.customer_row not in covered
    ]


def burst_facts(burst: OrderBurst) -> list[Fact]:
    """The fact of a coalesced order: it publishes ``OrderPlaced``."""
    header = burst.header
    if header.row is None:
        return []
    customer = _customer(header.row)
    return [Fact("order_coalesced", customer, header.row, header, lines=burst.lines)]


def _invoice_change(state: CommerceState, change: RowChange) -> list[Fact]:
    row = change.row
    if row is None:
        return []
    invoice_id = str(row.get("id"))
    state.invoices[invoice_id] = row
    waiting = state.unmatched.pop(invoice_id, [])
    released = [f for payment in waiting for f in facts_of(state, payment)]
    return _invoice_facts(row, change.old, change) + released


def _order_or_payment(state: CommerceState, change: RowChange) -> list[Fact]:
    row = change.row
    if row is None or change.old is not None:
        return []
    if change.table == ORDERS:
        return [Fact("order_placed", _customer(row), row, change)]
    if change.table != PAYMENTS:
        return []
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


def subscription_facts(change: RowChange) -> list[Fact]:
    """Grant, change, revoke and renewal facts of one subscription change."""
    row, old = change.row, change.old
    was, now = _active(old), _active(row)
    current = row if row is not None else old
    if current is None:
        return []
    customer = _customer(current)
    if row is not None and old is None and not now:
        # It appears already ended: its whole life, for the history only.
        return [
            Fact(kind, customer, row, change, quiet=True)
            for kind in ("entitlement_granted", "entitlement_revoked")
        ]
    kinds = []
    if now and not was:
        kinds.append("entitlement_granted")
    elif was and not now:
        kinds.append("entitlement_revoked")
    elif now and _terms_changed(old, row):
        kinds.append("entitlement_changed")
    if now and _renewed(old, row):
        kinds.append("renewed")
    return [Fact(kind, customer, current, change) for kind in kinds]


def _active(row: Row | None) -> bool:
    return row is not None and row.get("status") == ACTIVE


def _terms_changed(old: Row | None, row: Row | None) -> bool:
    if old is None or row is None:
        return False
    if any(old.get(name) != row.get(name) for name in _TERMS):
        return True
    before, after = old.get("ends_on"), row.get("ends_on")
    return before is not None and after is not None and after < before


def _renewed(old: Row | None, row: Row | None) -> bool:
    """An existing subscription's term was extended or its renewal recorded."""
    if old is None or row is None:
        return False
    before, after = old.get("ends_on"), row.get("ends_on")
    if before is not None and after is not None and after > before:
        return True
    renewed_at = row.get("renewed_at")
    return renewed_at is not None and renewed_at != old.get("renewed_at")


def _account_changed(change: RowChange) -> list[Fact]:
    """Refresh facts for the customers whose account view ``change`` touched."""
    rows = [r for r in (change.row, change.old) if r is not None]
    customers = dict.fromkeys(_customer(r) for r in rows)
    current = rows[0]
    return [Fact("account_changed", c, current, change) for c in customers]


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
    row_id = change.row_id
    return (
        change.position.key,
        _business_time(fact),
        _STAGE_RANK.get(fact.kind, 1),
        (len(row_id), row_id),
    )


def history_row(key: HistoryKey) -> str:
    """The row id of the fact at ``key`` (e.g. which subscription)."""
    row_id: str = key[3][1]
    return row_id


def _business_time(fact: Fact) -> str:
    # A subscription that appears ended takes its place where it ended.
    kind = "entitlement_revoked" if fact.quiet else fact.kind
    columns = _KIND_TIME.get(kind) or (_TABLE_TIME.get(fact.change.table, ""),)
    for column in columns:
        when = fact.row.get(column)
        if when is not None:
            return str(when)
    return ""


def record_history(state: CommerceState, facts: Iterable[Fact]) -> None:
    """Add the stage-moving ``facts`` to their customers' histories, once each."""
    for fact in facts:
        if fact.kind not in _STAGE_RANK:
            continue
        seen = state.history.setdefault(fact.customer_row, {})
        row_id = fact.change.row_id
        if fact.kind in _REPEATABLE:
            row_id = f"{row_id}@{fact.change.position.encode()}"
        ident = (fact.kind, fact.change.table, row_id)
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
