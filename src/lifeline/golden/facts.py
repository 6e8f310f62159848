"""Commercial facts to lifecycle events and stage changes.

Each :class:`~lifeline.join.commerce.Fact` may publish its own event (an
order placed, an invoice posted, a payment received or failed) and may move
the customer's lifecycle stage (:mod:`lifeline.golden.lifecycle`). A fact
that contradicts the stage is flagged (logged and counted), not applied.
"""

from __future__ import annotations

import logging
from typing import Any

from lifeline.events.models import (
    InvoicePosted,
    LifecycleEvent,
    LifecycleFact,
    LifecycleStage,
    LifecycleStageChanged,
    Lineage,
    OrderPlaced,
    PaymentFailed,
    PaymentReceived,
    from_millis,
)
from lifeline.golden.lifecycle import transition
from lifeline.join.commerce import Fact

logger = logging.getLogger(__name__)

_STAGE_FACT = {
    "order_placed": LifecycleFact.ORDER_PLACED,
    "invoice_paid": LifecycleFact.INVOICE_PAID,
    "payment_failed": LifecycleFact.PAYMENT_FAILED,
}


def apply_facts(
    golden_id: str, stage: LifecycleStage, facts: tuple[Fact, ...]
) -> tuple[LifecycleStage, list[LifecycleEvent]]:
    """The stage after ``facts`` (in order) and the events they publish."""
    events: list[LifecycleEvent] = []
    for fact in facts:
        common = _common(golden_id, fact)
        event = _fact_event(fact, common)
        if event is not None:
            events.append(event)
        stage_fact = _stage_fact(fact, stage)
        if stage_fact is None:
            continue
        new, flag = transition(stage, stage_fact)
        if flag is not None:
            logger.warning(
                "lifecycle flag golden_id=%s stage=%s fact=%s reason=%s",
                golden_id,
                flag.stage,
                flag.fact,
                flag.reason,
            )
        elif new != stage:
            events.append(
                LifecycleStageChanged.build(
                    **common, from_stage=stage, to_stage=new, fact=stage_fact
                )
            )
            stage = new
    return stage, events


def _stage_fact(fact: Fact, stage: LifecycleStage) -> LifecycleFact | None:
    if fact.kind == "payment_received" and stage is LifecycleStage.PAST_DUE:
        return LifecycleFact.ARREARS_SETTLED
    return _STAGE_FACT.get(fact.kind)


def _common(golden_id: str, fact: Fact) -> dict[str, Any]:
    change = fact.change
    line = Lineage(
        system=change.system,
        table=change.table,
        row_id=change.row_id,
        position=change.position.encode(),
        committed_at=from_millis(change.ts_ms),
    )
    return {
        "golden_id": golden_id,
        "occurred_at": line.committed_at,
        "lineage": (line,),
    }


def _fact_event(fact: Fact, common: dict[str, Any]) -> LifecycleEvent | None:
    row = fact.row
    if fact.kind == "order_placed":
        return OrderPlaced.build(
            **common,
            order_number=str(row.get("order_no")),
            currency=str(row.get("currency")),
            total=row.get("total"),
        )
    if fact.kind == "invoice_posted":
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
    if fact.kind in ("payment_received", "payment_failed") and fact.invoice:
        payment: dict[str, Any] = {
            "payment_id": str(row.get("id")),
            "invoice_number": str(fact.invoice.get("invoice_no")),
            "currency": str(fact.invoice.get("currency")),
            "amount": row.get("amount"),
            "method": str(row.get("method") or ""),
        }
        if fact.kind == "payment_failed":
            reason = row.get("failure_reason")
            return PaymentFailed.build(**common, **payment, failure_reason=reason)
        return PaymentReceived.build(**common, **payment)
    return None
