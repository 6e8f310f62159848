"""Bytewax sink producing dead letters to the dead-letter topic.

The dead letter keeps the original key as its key and carries, as a JSON
value, the original value bytes (base64), the coordinates, stage, error kind
and reason (masked like a log line: it is meant for people); the same facts
go into headers so tools can filter without parsing. Nothing is lost: the
producer flushes before the batch returns.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import Producer

from lifeline.decode.change import DeadLetter
from lifeline.emit.encoding import dumps
from lifeline.emit.epoch_sink import Headers, Outbox, OutRecord
from lifeline.observe import tally
from lifeline.observe.logs import kafka_logging
from lifeline.observe.redact import redact

logger = logging.getLogger(__name__)


def encode_dead_letter(dead: DeadLetter, flow: str = "") -> bytes:
    """The JSON value of a dead-letter record; ``flow`` names the dataflow."""
    return dumps(
        {
            "flow": flow,
            "topic": dead.coordinates.topic,
            "partition": dead.coordinates.partition,
            "offset": dead.coordinates.offset,
            "stage": dead.stage,
            "kind": dead.kind,
            "reason": redact(dead.reason),
            "key": None if dead.key is None else base64.b64encode(dead.key).decode(),
            "value": None
            if dead.value is None
            else base64.b64encode(dead.value).decode(),
        }
    )


class DeadLetterSink(DynamicSink[DeadLetter]):
    """Produces every DeadLetter to ``topic``, naming the ``flow`` that failed.

    Several flows read the same topics; each dead-letters a bad record it
    reads, and the flow name tells those records apart.
    """

    def __init__(self, config: Mapping[str, str], topic: str, flow: str = "") -> None:
        self._config = dict(config)
        self._topic = topic
        self._flow = flow

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Partition:
        """Open this worker's producer."""
        producer = Producer(
            kafka_logging({"enable.idempotence": "true", **self._config})
        )
        return _Partition(Outbox(producer, self._topic, "dead letters", 30), self._flow)


class _Partition(StatelessSinkPartition[DeadLetter]):
    def __init__(self, outbox: Outbox, flow: str) -> None:
        self._outbox = outbox
        self._flow = flow

    def write_batch(self, items: list[DeadLetter]) -> None:
        for dead in items:
            logger.warning(
                "dead letter stage=%s kind=%s at=%s",
                dead.stage,
                dead.kind,
                dead.coordinates,
            )
        self._outbox.send(self._record(dead) for dead in items)
        self._outbox.settle()  # per batch: dead letters are rare
        tally.dead_lettered(tally.flow_of(self._flow), items)

    def _record(self, dead: DeadLetter) -> OutRecord:
        headers: Headers = {
            "lifeline.flow": self._flow,
            "lifeline.stage": dead.stage,
            "lifeline.kind": dead.kind,
            "lifeline.source": str(dead.coordinates),
        }
        return dead.key, encode_dead_letter(dead, self._flow), headers

    def close(self) -> None:
        self._outbox.settle()
