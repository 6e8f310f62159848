"""Commercial facts to lifecycle events and stage changes.

Each :class:`~lifeline.join.commerce.Fact` may publish its own event (an
order placed, an invoice posted, a payment received or failed, an
entitlement granted, changed or revoked, a renewal) and may move the
customer's lifecycle stage (:mod:`lifeline.golden.lifecycle`). A fact that
contradicts the stage is flagged (logged and counted), not applied.

``contracts_ended`` is no row's fact but the history's: replaying it, the
revoke that leaves a customer without any active subscription states it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lifeline.events.models import (
    EntitlementChange,
    EntitlementChanged,
    InvoicePosted,
    LifecycleEvent,
    LifecycleFact,
    LifecycleStage,
    LifecycleStageChanged,
    Lineage,
    OrderLine,
    OrderPlaced,
    PaymentFailed,
    PaymentReceived,
    RenewalCompleted,
)
from lifeline.golden.lifecycle import INITIAL_STAGE, Flag, Step, transition
from lifeline.join.commerce import (
    Fact,
    HistoryKey,
    StageHistory,
    history_key,
    history_row,
)

logger = logging.getLogger(__name__)

_STAGE_FACT = {
    "order_placed": LifecycleFact.ORDER_PLACED,
    "invoice_paid": LifecycleFact.INVOICE_PAID,
    "payment_failed": LifecycleFact.PAYMENT_FAILED,
    "renewed": LifecycleFact.RENEWED,
}
_ENTITLEMENT_CHANGE = {
    "entitlement_granted": EntitlementChange.GRANTED,
    "entitlement_changed": EntitlementChange.CHANGED,
    "entitlement_revoked": EntitlementChange.REVOKED,
}


def apply_facts(
    golden_id: str,
    stage: LifecycleStage,
    facts: tuple[Fact, ...],
    history: StageHistory,
    cause: dict[str, Any],
) -> tuple[LifecycleStage, list[LifecycleEvent]]:
    """The stage after ``history`` and the events the new ``facts`` publish.

    ``stage`` is the stage last emitted, ``facts`` the batch's new facts and
    ``history`` every stage fact of the record's customers in source order
    (the new ones included). The stage is always replayed from the whole
    history, so it does not depend on the order topics were read in. When
    the new facts extend the history at its end, each stage change they make
    is its own event; when one lands inside it (read late) or a merge brought
    another customer's history, one event moves the stage from what was
    emitted to what the history now says, with the latest new fact's lineage
    (or, with no new fact, ``cause``: the update's common event fields).
    """
    events = [
        event
        for fact in facts
        if (event := _fact_event(fact, _common(golden_id, fact))) is not None
    ]
    new_keys = {history_key(fact) for fact in facts} & {key for key, _ in history}
    earlier = tuple(mark for mark in history if mark[0] not in new_keys)
    before, _ = _replay(earlier)
    final, steps = _replay(history)
    latest = max(facts, key=history_key) if facts else None
    in_order = before is stage and (
        not earlier or not new_keys or min(new_keys) > earlier[-1][0]
    )
    if in_order:
        by_key = {history_key(fact): fact for fact in facts}
        for key, step in steps:
            fact = by_key.get(key)
            if fact is None:
                continue
            if isinstance(step, Flag):
                _log_flag(golden_id, step)
                continue
            events.append(
                LifecycleStageChanged.build(
                    **_common(golden_id, fact),
                    from_stage=step.from_stage,
                    to_stage=step.to_stage,
                    fact=step.fact,
                )
            )
    elif final is not stage:
        logger.info(
            "event=lifecycle_rederived golden_id=%s from_stage=%s to_stage=%s",
            golden_id,
            stage.value,
            final.value,
        )
        last_fact = next(
            (s.fact for _, s in reversed(steps) if isinstance(s, Step)),
            LifecycleFact.ORDER_PLACED,
        )
        common = cause if latest is None else _common(golden_id, latest)
        events.append(
            LifecycleStageChanged.build(
                **common, from_stage=stage, to_stage=final, fact=last_fact
            )
        )
    return final, events


def _replay(
    history: StageHistory,
) -> tuple[LifecycleStage, list[tuple[HistoryKey, Step | Flag]]]:
    """The stage after ``history`` and what each fact did (no-ops left out)."""
    stage = INITIAL_STAGE
    taken: list[tuple[HistoryKey, Step | Flag]] = []
    active: set[str] = set()  # subscriptions active at this point
    for key, kind in history:
        stage_fact = _contract_fact(kind, history_row(key), active)
        if stage_fact is None:
            stage_fact = _stage_fact(kind, stage)
        if stage_fact is None:
            continue
        after, flag = transition(stage, stage_fact)
        if flag is not None:
            taken.append((key, flag))
        elif after is not stage:
            taken.append((key, Step(stage, after, stage_fact)))
            stage = after
    return stage, taken


def _log_flag(golden_id: str, flag: Flag) -> None:
    logger.warning(
        "event=lifecycle_flag golden_id=%s stage=%s fact=%s reason=%s",
        golden_id,
        flag.stage.value,
        flag.fact.value,
        flag.reason,
    )


def _contract_fact(kind: str, row_id: str, active: set[str]) -> LifecycleFact | None:
    """Track active subscriptions; the revoke of the last one ends contracts."""
    if kind in ("entitlement_granted", "renewed"):
        active.add(row_id)
    elif kind == "entitlement_revoked" and row_id in active:
        active.discard(row_id)
        if not active:
            return LifecycleFact.CONTRACTS_ENDED
    return None


def _stage_fact(kind: str, stage: LifecycleStage) -> LifecycleFact | None:
    if kind == "payment_received" and stage is LifecycleStage.PAST_DUE:
        return LifecycleFact.ARREARS_SETTLED
    return _STAGE_FACT.get(kind)


def _common(golden_id: str, fact: Fact) -> dict[str, Any]:
    """Event fields of ``fact``: its change first, then an order's lines."""
    lineage = tuple(Lineage.from_change(c) for c in (fact.change, *fact.lines))
    return {
        "golden_id": golden_id,
        "occurred_at": lineage[0].committed_at,
        "lineage": lineage,
    }


def _fact_event(fact: Fact, common: dict[str, Any]) -> LifecycleEvent | None:
    if fact.quiet:
        return None
    if fact.kind in _ENTITLEMENT_CHANGE:
        return _entitlement_changed(fact, common)
    build = _BUILDERS.get(fact.kind)
    return None if build is None else build(fact, common)


def _entitlement_changed(fact: Fact, common: dict[str, Any]) -> EntitlementChanged:
    row, change = fact.row, _ENTITLEMENT_CHANGE[fact.kind]
    return EntitlementChanged.build(
        **common,
        entitlement=str(row.get("product_code")),
        active=change is not EntitlementChange.REVOKED,
        plan=_text(row.get("plan_code")),
        quantity=_whole(row.get("seats")),
        valid_until=_day_end(row.get("ends_on")),
        change=change,
        contract_id=fact.change.row_id,
    )


def _renewal(fact: Fact, common: dict[str, Any]) -> RenewalCompleted:
    return RenewalCompleted.build(
        **common,
        contract_id=fact.change.row_id,
        plan=_text(fact.row.get("plan_code")),
        term_end=_day_end(fact.row.get("ends_on")),
    )


def _invoice_posted(fact: Fact, common: dict[str, Any]) -> InvoicePosted | None:
    row = fact.row
    if row.get("issued_on") is None or row.get("due_on") is None:
        return None
    return InvoicePosted.build(
        **common,
        invoice_number=str(row.get("invoice_no")),
        order_number=None,
        currency=str(row.get("currency")),
        amount=row.get("amount"),
        issued_on=row["issued_on"],
        due_on=row["due_on"],
    )


def _payment(
    fact: Fact, common: dict[str, Any]
) -> PaymentReceived | PaymentFailed | None:
    row, invoice = fact.row, fact.invoice
    if not invoice:
        return None
    payment: dict[str, Any] = {
        "payment_id": str(row.get("id")),
        "invoice_number": str(invoice.get("invoice_no")),
        "currency": str(invoice.get("currency")),
        "amount": row.get("amount"),
        "method": str(row.get("method") or ""),
    }
    if fact.kind == "payment_failed":
        reason = row.get("failure_reason")
        return PaymentFailed.build(**common, **payment, failure_reason=reason)
    return PaymentReceived.build(**common, **payment)


def _order_placed(fact: Fact, common: dict[str, Any]) -> OrderPlaced:
    row = fact.row
    lines = tuple(
        OrderLine.trusted(
            line_no=_whole(line.row.get("line_no")) or 0,
            sku=str(line.row.get("sku")),
            description=_text(line.row.get("description")),
            quantity=line.row.get("quantity"),
            unit_price=line.row.get("unit_price"),
        )
        for line in fact.lines
        if line.row is not None
    )
    return OrderPlaced.build(
        **common,
        order_number=str(row.get("order_no")),
        currency=str(row.get("currency")),
        total=row.get("total"),
        line_count=len(lines),
        lines=lines,
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _day_end(value: Any) -> datetime | None:
    """The instant a last day ``value`` ends: midnight UTC after it.

    Dates arrive as :class:`~datetime.date` (or, without a schema, as days
    since the epoch).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = date(1970, 1, 1) + timedelta(days=value)
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return None
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)


_BUILDERS: dict[str, Callable[[Fact, dict[str, Any]], LifecycleEvent | None]] = {
    "order_coalesced": _order_placed,
    "renewed": _renewal,
    "invoice_posted": _invoice_posted,
    "payment_received": _payment,
    "payment_failed": _payment,
}
