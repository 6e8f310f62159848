"""Bytewax sink producing late order lines to the late side topic.

A late line is a valid change that no ``OrderPlaced`` carries: it arrived
after its order's window closed, or belongs to another transaction or time
span than its order's burst. It is not an error, so it does not go to the
dead-letter topic; it goes, keyed by its order's id, to ``topics.late`` as
JSON (see docs/golden-record.md), with the row rendered as the row cache
renders it. The producer flushes before the batch returns.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import Producer

from lifeline.emit.encoding import dumps
from lifeline.emit.epoch_sink import Outbox
from lifeline.join.windows import LateLine
from lifeline.observe.logs import kafka_logging

logger = logging.getLogger(__name__)

LATE_KIND = "late"


def late_record(late: LateLine) -> dict[str, Any]:
    """The JSON value of a late record."""
    change = late.change
    return {
        "kind": LATE_KIND,
        "reason": late.reason,
        "system": change.system,
        "table": change.table,
        "row_id": change.row_id,
        "order_id": late.order_id,
        "op": "delete" if change.row is None else "upsert",
        "row": change.row,
        "position": change.position.encode(),
        "source_ts_ms": change.ts_ms,
        "tx_id": change.tx_id,
        "watermark_ms": late.watermark_ms,
    }


class LateLineSink(DynamicSink[LateLine]):
    """Produces every late line to ``topic`` as JSON, keyed by its order id."""

    def __init__(self, config: Mapping[str, str], topic: str) -> None:
        self._config = dict(config)
        self._topic = topic

    def build(
        self, step_id: str, worker_index: int, worker_count: int
    ) -> _LatePartition:
        """A partition whose producer opens with the first late line."""
        return _LatePartition(
            {"enable.idempotence": "true", **self._config}, self._topic
        )


class _LatePartition(StatelessSinkPartition[LateLine]):
    def __init__(self, config: dict[str, str], topic: str) -> None:
        self._config = config
        self._topic = topic
        self._outbox: Outbox | None = None

    def write_batch(self, items: list[LateLine]) -> None:
        if self._outbox is None:
            producer = Producer(kafka_logging(self._config))
            self._outbox = Outbox(producer, self._topic, "late records", 30)
        self._outbox.send(
            (
                late.order_id.encode(),
                dumps(late_record(late)),
                {"lifeline.kind": LATE_KIND, "lifeline.reason": late.reason},
            )
            for late in items
        )
        self._outbox.settle()  # per batch: late lines are rare
        logger.debug("late lines written count=%d", len(items))

    def close(self) -> None:
        if self._outbox is not None:
            self._outbox.settle()
