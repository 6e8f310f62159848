"""Multi-step processes such as onboarding, with compensation.

A case is one event; its id is the event id. Steps run in order, each a
request with the step's own retries, breaker and deadline, and idempotency
key ``<event id>:<step>``. A step's JSON response is kept in the context
under ``steps.<step>.response`` for later steps and compensations.

When a step fails for good, the steps done so far are compensated in
reverse order (key ``<event id>:<step>:compensate``; a 404 or 410 counts as
undone). If every one is undone the case ends ``compensated``. If a done
step has no compensation, or its compensation fails for good, unwinding
stops there and the case goes to the exception queue with full context:
the event, the failed step and its error, the steps done, compensated and
still in effect, and every response. A case that cannot start (queue full,
shutdown) goes there too, with no step done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lifeline.errors import RecordError
from lifeline.observe.redact import redact
from lifeline.targets.config import Compensation, Saga, Step
from lifeline.targets.courier import Courier, Outcome, Request
from lifeline.targets.errors import RecordSinkError
from lifeline.targets.lanes import LanePool
from lifeline.targets.mapping import expand_template, render_payload
from lifeline.targets.model import Delivery
from lifeline.targets.records import EXCEPTION_KIND, RecordWriter, now_rfc3339
from lifeline.targets.stats import (
    ATTEMPTS,
    COMPENSATED,
    COMPLETED,
    DELIVERED,
    EXCEPTIONS,
    FAILED_ATTEMPTS,
    LOST,
    RETRIED,
    Counters,
    TargetStats,
)

logger = logging.getLogger(__name__)

MAPPING = "mapping"
NOT_COMPENSABLE = "not_compensable"


class CaseStatus(StrEnum):
    """How a case ended."""

    COMPLETED = "completed"
    COMPENSATED = "compensated"
    EXCEPTION = "exception"


@dataclass
class _Case:
    delivery: Delivery
    context: dict[str, Any]
    done: list[str] = field(default_factory=list)
    compensated: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CaseOutcome:
    """The end of a case; ``record`` is its exception record, if it has one."""

    case_id: str
    status: CaseStatus
    steps_done: tuple[str, ...]
    compensated: tuple[str, ...] = ()
    record: Mapping[str, Any] | None = None


class SagaRunner:
    """Runs one saga's cases, in order per customer, on its own threads."""

    def __init__(
        self,
        saga: Saga,
        couriers: Mapping[str, Courier],
        exceptions: RecordWriter,
        *,
        counters: Counters,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.saga = saga
        self.couriers = dict(couriers)
        self.counters = counters
        self._exceptions = exceptions
        self._clock = clock
        self.pool: LanePool[Delivery] = LanePool(
            f"saga-{saga.name}",
            saga.limits.max_in_flight,
            saga.limits.max_queue,
            self._handle,
            self._reject,
        )

    def offer(self, delivery: Delivery) -> bool:
        """Queue a case; False when the queue was full (exception queue)."""
        return self.pool.offer(delivery.golden_id, delivery)

    def run(self, delivery: Delivery) -> CaseOutcome:
        """Run one case to its end and return how it ended (blocks)."""
        case = _Case(delivery, {**delivery.to_json(), "steps": {}})
        for step in self.saga.steps:
            outcome = self._call(step, step, case)
            if not outcome.delivered:
                return self._unwind(case, step.name, outcome)
            case.context["steps"][step.name] = {
                "response": outcome.response,
                "status": outcome.status,
            }
            case.done.append(step.name)
        return CaseOutcome(delivery.event_id, CaseStatus.COMPLETED, tuple(case.done))

    def _handle(self, _key: str, delivery: Delivery) -> None:
        self._finish(self.run(delivery))

    def stats(self) -> TargetStats:
        """A snapshot of the saga's counters; the breaker of its worst step."""
        count = self.counters.get
        breakers = [courier.breaker for courier in self.couriers.values()]
        states = sorted(breaker.state.value for breaker in breakers)
        return TargetStats(
            name=self.saga.name,
            delivered=count(DELIVERED),
            duplicates=0,
            attempts=count(ATTEMPTS),
            failed_attempts=count(FAILED_ATTEMPTS),
            retried=count(RETRIED),
            dead_lettered=0,
            queued=self.pool.queue.queued,
            in_flight=self.pool.queue.in_flight,
            breaker_state=_worst(states),
            breaker_opened=sum(breaker.times_opened for breaker in breakers),
            lost=count(LOST),
            completed=count(COMPLETED),
            compensated=count(COMPENSATED),
            exceptions=count(EXCEPTIONS),
        )

    def _call(self, step: Step, call: Step | Compensation, case: _Case) -> Outcome:
        """Make a step's call or its compensation (``call``) for ``case``."""
        undo = isinstance(call, Compensation)
        key = f"{case.delivery.event_id}:{step.name}" + (":compensate" if undo else "")
        try:
            url = expand_template(call.url, case.context)
            body = _body(call, case)
        except RecordError as exc:
            return Outcome(False, 0, MAPPING, exc.reason)
        request = Request(call.method, url, body, key, gone_is_success=undo)
        deadline = self._clock() + step.retry.deadline
        outcome = self.couriers[step.name].deliver(request, deadline)
        if outcome.delivered:
            self.counters.add(DELIVERED)
        return outcome

    def _unwind(self, case: _Case, failed: str, outcome: Outcome) -> CaseOutcome:
        steps = {step.name: step for step in self.saga.steps}
        for name in reversed(case.done):
            step = steps[name]
            if step.compensation is None:
                undo = Outcome(False, 0, NOT_COMPENSABLE, "no compensation declared")
            else:
                undo = self._call(step, step.compensation, case)
            if not undo.delivered:
                record = _exception(self.saga.name, case, failed, outcome, (name, undo))
                return self._to_exceptions(case, record)
            case.compensated.append(name)
        return CaseOutcome(
            case.delivery.event_id,
            CaseStatus.COMPENSATED,
            tuple(case.done),
            tuple(case.compensated),
        )

    def _to_exceptions(self, case: _Case, record: dict[str, Any]) -> CaseOutcome:
        try:
            self._exceptions.write(case.delivery.golden_id, record)
        except RecordSinkError as exc:
            self.counters.add(LOST)
            logger.error(
                "exception case lost saga=%s case_id=%s still_in_effect=%s error=%s",
                self.saga.name,
                case.delivery.event_id,
                ",".join(record["still_in_effect"]),
                exc,
            )
        return CaseOutcome(
            case.delivery.event_id,
            CaseStatus.EXCEPTION,
            tuple(case.done),
            tuple(case.compensated),
            record,
        )

    def _reject(self, delivery: Delivery, reason: str) -> None:
        case = _Case(delivery, {**delivery.to_json(), "steps": {}})
        outcome = Outcome(False, 0, reason, reason)
        record = _exception(self.saga.name, case, None, outcome, None)
        self._finish(self._to_exceptions(case, record))

    def _finish(self, outcome: CaseOutcome) -> None:
        counter = {
            CaseStatus.COMPLETED: COMPLETED,
            CaseStatus.COMPENSATED: COMPENSATED,
            CaseStatus.EXCEPTION: EXCEPTIONS,
        }[outcome.status]
        self.counters.add(counter)


def _exception(
    saga: str,
    case: _Case,
    failed: str | None,
    outcome: Outcome,
    undo: tuple[str, Outcome] | None,
) -> dict[str, Any]:
    """The exception record of a case that could not be completed or undone."""
    undone = set(case.compensated)
    return {
        "kind": EXCEPTION_KIND,
        "saga": saga,
        "case_id": case.delivery.event_id,
        "event": case.delivery.to_json(),
        "failed_step": None if failed is None else _failure(failed, outcome),
        "reason": outcome.reason,
        "steps_done": list(case.done),
        "compensated": list(case.compensated),
        "compensation_failed": None if undo is None else _failure(*undo),
        "still_in_effect": [name for name in case.done if name not in undone],
        "responses": {
            name: value.get("response") for name, value in case.context["steps"].items()
        },
        "at": now_rfc3339(),
    }


def _body(call: Step | Compensation, case: _Case) -> dict[str, Any] | None:
    """The mapped body; unmapped, the event for a step and none to undo one."""
    if call.payload is not None:
        return render_payload(call.payload, case.context)
    return None if isinstance(call, Compensation) else case.delivery.to_json()


def _failure(step: str, outcome: Outcome) -> dict[str, Any]:
    return {
        "step": step,
        "reason": outcome.reason,
        "attempts": outcome.attempts,
        "last_error": redact(outcome.last_error),
        "last_status": outcome.status,
    }


def _worst(states: list[str]) -> str:
    for state in ("open", "half_open"):
        if state in states:
            return state
    return "closed"
