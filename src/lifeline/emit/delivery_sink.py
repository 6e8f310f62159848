"""Bytewax sink handing lifecycle events to the webhook dispatcher.

Each batch is submitted to the dispatcher (one queue per target, so a slow
target does not hold up the others) and the sink returns once every
delivery of the batch has settled: delivered, or dead-lettered after its
retries. Only then can the epoch close and the source offsets advance, so a
crash re-delivers at most the unsettled batch, and the targets' idempotency
keys make that harmless. A batch that does not settle within the drain
timeout fails the worker for the same replay.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from lifeline.errors import FatalError, RetryableError
from lifeline.events.models import EVENT_MODELS
from lifeline.observe import webhooks
from lifeline.settings import Settings
from lifeline.targets import Dispatcher, TargetsConfig, load_targets
from lifeline.targets.kafka_records import open_dispatcher

logger = logging.getLogger(__name__)

EventBatch = Sequence[Mapping[str, Any]]


def check_event_types(config: TargetsConfig, path: object) -> None:
    """Fail when a target or saga subscribes to an event type that does not exist.

    Such a subscription would never match, and the target would silently
    receive nothing.
    """
    known = set(EVENT_MODELS)
    wanted = [(t.name, name) for t in config.targets for name in t.events]
    wanted += [(saga.name, name) for saga in config.sagas for name in saga.events]
    unknown = sorted(
        {f"{route}: {name}" for route, name in wanted if name not in known}
    )
    if unknown:
        msg = (
            f"targets config {path}: unknown event types ({'; '.join(unknown)}); "
            f"known: {', '.join(sorted(known))}"
        )
        raise FatalError(msg)


class DeliverySink(DynamicSink[EventBatch]):
    """Delivers lists of events to the targets of ``settings.targets_file``.

    An event is a mapping with ``event_id``, ``event_type``, ``golden_id``,
    ``payload`` and ``occurred_at``.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._config = load_targets(settings.targets_file)
        check_event_types(self._config, settings.targets_file)

    def build(
        self, step_id: str, worker_index: int, worker_count: int
    ) -> _DeliveryPartition:
        """Start this worker's dispatcher; its counters become metrics."""
        delivered = webhooks.DeliveryTimes()
        dispatcher = open_dispatcher(
            self._settings, self._config, on_result=delivered.add
        )
        webhooks.COLLECTOR.track(dispatcher)
        return _DeliveryPartition(
            dispatcher, self._settings.delivery_drain_timeout, delivered
        )


class _DeliveryPartition(StatelessSinkPartition[EventBatch]):
    def __init__(
        self,
        dispatcher: Dispatcher,
        drain_timeout: float,
        delivered: webhooks.DeliveryTimes,
    ) -> None:
        self._dispatcher = dispatcher
        self._drain_timeout = drain_timeout
        self._delivered = delivered

    def write_batch(self, items: list[EventBatch]) -> None:
        queued = sum(self._dispatcher.submit(batch) for batch in items)
        settled = not queued or self._dispatcher.drain(self._drain_timeout)
        self._delivered.flush()
        if not settled:
            msg = f"deliveries did not settle within {self._drain_timeout:.0f}s"
            raise RetryableError(msg)

    def close(self) -> None:
        self._dispatcher.close()
        self._delivered.flush()
        webhooks.COLLECTOR.untrack(self._dispatcher)
