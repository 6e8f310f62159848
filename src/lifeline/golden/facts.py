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
from lifeline.golden.lifecycle import INITIAL_STAGE, Flag, Step, transition
from lifeline.join.commerce import Fact, HistoryKey, StageHistory, history_key

logger = logging.getLogger(__name__)

_STAGE_FACT = {
    "order_placed": LifecycleFact.ORDER_PLACED,
    "invoice_paid": LifecycleFact.INVOICE_PAID,
    "payment_failed": LifecycleFact.PAYMENT_FAILED,
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
    for key, kind in history:
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


def _stage_fact(kind: str, stage: LifecycleStage) -> LifecycleFact | None:
    if kind == "payment_received" and stage is LifecycleStage.PAST_DUE:
        return LifecycleFact.ARREARS_SETTLED
    return _STAGE_FACT.get(kind)


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
