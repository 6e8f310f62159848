"""Bytewax sinks of the golden flow: the golden-record cache and events topic."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import Producer

from lifeline.cache.writer import GoldenCacheWriter
from lifeline.emit.epoch_sink import (
    PRODUCER_DEFAULTS,
    EpochFlushedSink,
    Headers,
    Outbox,
    OutRecord,
)
from lifeline.events.avro import EventCodec
from lifeline.events.models import LifecycleEvent
from lifeline.events.registry import EventSchemas
from lifeline.events.schema_registry import TopicSchemaIds
from lifeline.golden.step import GoldenOutput
from lifeline.observe import tally
from lifeline.observe.logs import kafka_logging
from lifeline.settings import SchemaRegistrySettings, Settings

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
        writer = GoldenCacheWriter.from_settings(self._settings)
        return _CachePartition(writer, tally.flow_of(step_id))


class _CachePartition(StatelessSinkPartition[GoldenOutput]):
    def __init__(self, writer: GoldenCacheWriter, flow: str) -> None:
        self._writer = writer
        self._flow = flow

    def write_batch(self, items: list[GoldenOutput]) -> None:
        updates = [update for item in items for update in item.updates]
        if updates:
            self._writer.apply(updates)
        events = [event for item in items for event in item.events]
        if events:
            _time_events(self._flow, events)

    def close(self) -> None:
        self._writer.close()


def _time_events(flow: str, events: list[LifecycleEvent]) -> None:
    """Commit-to-cache per golden record and commit; propagation per event."""
    records = {(event.golden_id, event.occurred_at) for event in events}
    tally.cache_latency(flow, "golden", (_millis(at) for _, at in records))
    tally.propagation(
        "cache", "", ((event.EVENT_TYPE, event.occurred_at) for event in events)
    )


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class LifecycleEventSink(EpochFlushedSink[GoldenOutput]):
    """Produces lifecycle events in Avro, keyed by golden id.

    Avro single-object encoding by default; with a schema registry
    (``registry.url`` set) each event is Confluent-framed with the id the
    registry gave its schema (see :mod:`lifeline.events.schema_registry`).
    Keying by golden id keeps one customer's events in order on one
    partition. Event ids are derived from source positions, so a replay
    produces the same ids and consumers can drop duplicates. Acknowledgements
    are awaited once per epoch (:mod:`lifeline.emit.epoch_sink`).
    """

    def __init__(
        self,
        config: Mapping[str, str],
        topic: str,
        registry: SchemaRegistrySettings | None = None,
        *,
        flush_timeout: float = 30.0,
    ) -> None:
        super().__init__()
        self._flush_timeout = flush_timeout
        self._config = dict(config)
        self._topic = topic
        self._registry = registry
        self._codec: EventCodec | None = None
        self._ids: TopicSchemaIds | None = None
        self._coding = threading.Lock()

    def open(self) -> Outbox:
        """Open the producer of this process."""
        producer = Producer(kafka_logging({**PRODUCER_DEFAULTS, **self._config}))
        return Outbox(producer, self._topic, "lifecycle events", self._flush_timeout)

    def encode(self, item: GoldenOutput) -> tuple[OutRecord, ...]:
        """One record per event, in order."""
        codec, ids = self._coder()
        records = []
        for event in item.events:
            headers: Headers = {
                "lifeline.event_type": type(event).__name__,
                "lifeline.event_id": str(event.event_id),
            }
            if ids is None:
                value = codec.encode(event)
            else:  # a Confluent frame with the id the registry gave the schema
                value = codec.encode(event, ids.schema_id(event.EVENT_TYPE))
            records.append((event.golden_id.encode(), value, headers))
        return tuple(records)

    def _coder(self) -> tuple[EventCodec, TopicSchemaIds | None]:
        """The codec (and registry ids) of this process, made on first use."""
        with self._coding:
            if self._codec is None:
                schemas = EventSchemas.load()
                if self._registry is not None:
                    self._ids = TopicSchemaIds.from_settings(
                        self._registry, self._topic, schemas
                    )
                self._codec = EventCodec(schemas)
            return self._codec, self._ids
