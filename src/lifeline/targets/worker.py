"""One target's workers: map, deliver in order per customer, dead-letter.

Every target has its own :class:`~lifeline.targets.lanes.LanePool`, courier
(breaker, pacing) and threads, so a slow or failing target only ever holds
up its own deliveries. Within a target a customer's (golden id's)
deliveries go one at a time, in the order submitted.

When a delivery is dead-lettered, the same customer's deliveries already
queued behind it follow it to the dead-letter topic (reason
``held_behind``), so the topic keeps the customer's run in order and replay
re-delivers it in order; deliveries submitted later start a new run.

Should the dead-letter topic itself refuse a record, the delivery is logged
at ERROR with its target, event id and reason, and counted as ``lost``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from lifeline.errors import RecordError
from lifeline.targets.config import Target
from lifeline.targets.courier import Courier, Outcome, Request
from lifeline.targets.errors import RecordSinkError
from lifeline.targets.lanes import LanePool
from lifeline.targets.mapping import expand_template, render_payload
from lifeline.targets.model import Delivery
from lifeline.targets.records import RecordWriter, dead_letter_record, now_rfc3339
from lifeline.targets.stats import (
    ATTEMPTS,
    DEAD_LETTERED,
    DELIVERED,
    DUPLICATES,
    FAILED_ATTEMPTS,
    LOST,
    RETRIED,
    Counters,
    TargetStats,
)

logger = logging.getLogger(__name__)

HELD_BEHIND = "held_behind"
MAPPING = "mapping"


@dataclass(frozen=True)
class Queued:
    """A delivery waiting in a lane, with when it was queued and its deadline."""

    delivery: Delivery
    enqueued_at: str
    deadline: float


@dataclass(frozen=True)
class DeliveryResult:
    """The final outcome of one delivery to one target."""

    target: str
    delivery: Delivery
    outcome: Outcome

    @property
    def delivered(self) -> bool:
        """True when the event took effect at the target (or already had)."""
        return self.outcome.delivered


ResultHook = Callable[[DeliveryResult], None]


class TargetWorker:
    """Delivers one target's events; see the module docstring for ordering."""

    def __init__(
        self,
        target: Target,
        courier: Courier,
        dead_letters: RecordWriter,
        *,
        counters: Counters,
        on_result: ResultHook | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.courier = courier
        self.counters = counters
        self._dead_letters = dead_letters
        self._on_result = on_result
        self._clock = clock
        limits = target.limits
        self.pool: LanePool[Queued] = LanePool(
            f"target-{target.name}",
            limits.max_in_flight,
            limits.max_queue,
            self._handle,
            self._reject,
        )

    def offer(self, delivery: Delivery) -> bool:
        """Queue ``delivery``; False when it was dead-lettered as overflow."""
        queued = Queued(
            delivery, now_rfc3339(), self._clock() + self.target.retry.deadline
        )
        return self.pool.offer(delivery.golden_id, queued)

    def stats(self) -> TargetStats:
        """A snapshot of this target's counters, queue and breaker."""
        count = self.counters.get
        return TargetStats(
            name=self.target.name,
            delivered=count(DELIVERED),
            duplicates=count(DUPLICATES),
            attempts=count(ATTEMPTS),
            failed_attempts=count(FAILED_ATTEMPTS),
            retried=count(RETRIED),
            dead_lettered=count(DEAD_LETTERED),
            queued=self.pool.queue.queued,
            in_flight=self.pool.queue.in_flight,
            breaker_state=self.courier.breaker.state.value,
            breaker_opened=self.courier.breaker.times_opened,
            lost=count(LOST),
        )

    def _handle(self, key: str, queued: Queued) -> None:
        outcome = self._deliver(queued)
        if outcome.delivered:
            self.counters.add(DELIVERED)
            if outcome.duplicate:
                self.counters.add(DUPLICATES)
            self._report(queued.delivery, outcome)
            return
        self._dead_letter(queued, outcome)
        held = f"held behind dead-lettered event {queued.delivery.event_id}"
        for later in self.pool.queue.drop_lane(key):
            self._dead_letter(later, Outcome(False, 0, HELD_BEHIND, held))

    def _deliver(self, queued: Queued) -> Outcome:
        context = queued.delivery.to_json()
        try:
            url = expand_template(self.target.url, context)
            body = render_payload(self.target.payload, context)
        except RecordError as exc:
            return Outcome(False, 0, MAPPING, exc.reason)
        request = Request(self.target.method, url, body, queued.delivery.event_id)
        return self.courier.deliver(request, queued.deadline)

    def _reject(self, queued: Queued, reason: str) -> None:
        self._dead_letter(queued, Outcome(False, 0, reason, reason))

    def _dead_letter(self, queued: Queued, outcome: Outcome) -> None:
        record = dead_letter_record(
            self.target.name, queued.delivery, outcome, queued.enqueued_at
        )
        try:
            self._dead_letters.write(queued.delivery.golden_id, record)
        except RecordSinkError as exc:
            self.counters.add(LOST)
            logger.error(
                "dead letter lost target=%s event_id=%s reason=%s error=%s",
                self.target.name,
                queued.delivery.event_id,
                outcome.reason,
                exc,
            )
        else:
            self.counters.add(DEAD_LETTERED)
        self._report(queued.delivery, outcome)

    def _report(self, delivery: Delivery, outcome: Outcome) -> None:
        if self._on_result is not None:
            self._on_result(DeliveryResult(self.target.name, delivery, outcome))
