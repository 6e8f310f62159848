"""Produce generated change events into the bench broker, fast.

One producer with large batches and a linger, the Java partitioner's hash
(``murmur2_random``, so keys land where Kafka Connect would put them) and
lz4-compressed batches: the schemas repeat in every record, so the broker,
which keeps topics in memory here, holds a fraction of the raw bytes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from confluent_kafka import Producer

from bench.events import Counts, Generator
from bench.markers import marker_events
from bench.shapes import Event
from lifeline.capture.catalog import cdc_topics
from lifeline.flows.cdc import kafka_config
from lifeline.settings import Settings

logger = logging.getLogger(__name__)

PRODUCER = {
    "linger.ms": "50",
    "batch.size": "4000000",
    "batch.num.messages": "20000",
    "queue.buffering.max.messages": "500000",
    "queue.buffering.max.kbytes": "2000000",
    "compression.type": "lz4",
    "partitioner": "murmur2_random",
    "enable.idempotence": "false",
    "acks": "1",
}


@dataclass(frozen=True, slots=True)
class Loaded:
    """What one load put on the topics, and how long it took."""

    events: int
    markers: int
    counts: Counts
    seconds: float
    bytes: int
    rows_alive: int  # distinct rows not deleted at the end, markers included


def topics_for(settings: Settings) -> list[str]:
    """Every CDC topic the flows read, plus Lifeline's own output topics."""
    topics = settings.topics
    return [*cdc_topics(settings), topics.dead_letter, topics.lifecycle]


def load(settings: Settings, events: int, partitions: int) -> Loaded:
    """Generate ``events`` change events, then one marker per topic partition."""
    logger.info("event=load_start events=%d", events)
    began = time.perf_counter()
    producer = Producer({**kafka_config(settings), **PRODUCER})
    generator = Generator(events)
    size = 0
    for event in generator:
        size += len(event.key) + len(event.value or b"")
        _produce(producer, event)
    producer.flush(120)
    markers = marker_events(generator, partitions)
    for event in markers:  # after everything else on their partitions
        _produce(producer, event)
    remaining = producer.flush(120)
    if remaining:
        raise SystemExit(f"{remaining} events not acknowledged by the broker")
    alive = sum(len(rows) for rows in generator.rows.values()) + len(markers)
    seconds = time.perf_counter() - began
    count = generator.counts.total
    return Loaded(count, len(markers), generator.counts, seconds, size, alive)


def _produce(producer: Producer, event: Event) -> None:
    while True:
        try:
            if event.partition < 0:
                producer.produce(event.topic, event.value, event.key)
            else:
                producer.produce(event.topic, event.value, event.key, event.partition)
        except BufferError:
            producer.poll(0.05)
            continue
        producer.poll(0)
        return
