"""Bytewax sinks of the golden flow: the golden-record cache and events topic."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import Producer

from lifeline.cache.writer import GoldenCacheWriter
from lifeline.errors import RetryableError
from lifeline.events.avro import EventCodec
from lifeline.golden.step import GoldenOutput
from lifeline.settings import Settings

logger = logging.getLogger(__name__)


class GoldenCacheSink(DynamicSink[GoldenOutput]):
    """Applies every batch's cache updates in one writer call per worker.

    The writer waits out a Redis outage (bounded by the settings) and then
    raises, failing the worker so recovery replays the batch: nothing is
    dropped, and the version guard makes the replay harmless.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def build(
        self, step_id: str, worker_index: int, worker_count: int
    ) -> _CachePartition:
        """Open this worker's cache writer."""
        return _CachePartition(GoldenCacheWriter.from_settings(self._settings))


class _CachePartition(StatelessSinkPartition[GoldenOutput]):
    def __init__(self, writer: GoldenCacheWriter) -> None:
        self._writer = writer

    def write_batch(self, items: list[GoldenOutput]) -> None:
        updates = [update for item in items for update in item.updates]
        if updates:
            self._writer.apply(updates)

    def close(self) -> None:
        self._writer.close()


class LifecycleEventSink(DynamicSink[GoldenOutput]):
    """Produces lifecycle events, Avro single-object encoded, keyed by golden id.

    Keying by golden id keeps one customer's events in order on one
    partition. Event ids are derived from source positions, so a replay
    produces the same ids and consumers can drop duplicates.
    """

    def __init__(self, config: Mapping[str, str], topic: str) -> None:
        self._config = dict(config)
        self._topic = topic

    def build(
        self, step_id: str, worker_index: int, worker_count: int
    ) -> _EventPartition:
        """Open this worker's producer."""
        producer = Producer({"enable.idempotence": "true", **self._config})
        return _EventPartition(producer, self._topic, EventCodec())


class _EventPartition(StatelessSinkPartition[GoldenOutput]):
    def __init__(self, producer: Producer, topic: str, codec: EventCodec) -> None:
        self._producer = producer
        self._topic = topic
        self._codec = codec

    def write_batch(self, items: list[GoldenOutput]) -> None:
        for item in items:
            for event in item.events:
                self._producer.produce(
                    self._topic,
                    key=event.golden_id.encode(),
                    value=self._codec.encode(event),
                    headers={
                        "lifeline.event_type": type(event).__name__,
                        "lifeline.event_id": str(event.event_id),
                    },
                )
            self._producer.poll(0)
        remaining = self._producer.flush(30)
        if remaining:
            msg = f"{remaining} lifecycle events not acknowledged in 30s"
            raise RetryableError(msg)

    def close(self) -> None:
        self._producer.flush(30)
