"""The capture path's share of commit -> cache: when each change reached Kafka.

The latency part times a change from its COMMIT to the cache, through the
database's log, Debezium in Kafka Connect, the broker and the golden flow.
When that falls behind, the figure alone cannot say whose backlog it is.
This reads the pool tables' CDC topics after a run, from the offsets they
had when it began, and gives every watched change the time Connect produced
its record (the record's Kafka timestamp, CreateTime): commit -> in Kafka is
the capture path's time, in Kafka -> visible the flow's.
"""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import Consumer, TopicPartition

from bench.live import Change, pool_value
from lifeline.capture.catalog import captured_tables
from lifeline.decode.change import ChangeEvent
from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.records import KafkaRecord
from lifeline.flows.cdc import kafka_config
from lifeline.settings import Settings
from lifeline.source.kafka_batch import kafka_record

Starts = dict[tuple[str, int], int]


def pool_topics(settings: Settings) -> dict[str, str]:
    """The CDC topic of each pool table, by the database the driver updates."""
    topics = {t.table: t.topic for t in captured_tables(settings)}
    return {"mariadb": topics["customers"], "postgres": topics["users"]}


def topic_ends(settings: Settings) -> Starts:
    """The end offset of every partition of the pool topics, now."""
    consumer = _consumer(settings)
    try:
        ends: Starts = {}
        for topic in pool_topics(settings).values():
            meta = consumer.list_topics(topic, timeout=10).topics[topic]
            for partition in meta.partitions:
                tp = TopicPartition(topic, partition)
                ends[(topic, partition)] = consumer.get_watermark_offsets(
                    tp, timeout=10
                )[1]
        return ends
    finally:
        consumer.close()


def mark_captured(settings: Settings, starts: Starts, changes: list[Change]) -> int:
    """Set ``captured_ms`` of each watched change read back; how many were."""
    watched = {(c.db, c.slot, c.value): c for c in changes if c.watched}
    by_topic = {topic: db for db, topic in pool_topics(settings).items()}
    decoder = EnvelopeDecoder()
    found = 0
    for record in _records(settings, starts):
        db = by_topic[record.topic]
        decoded = decoder.decode_one(record)
        if not isinstance(decoded, ChangeEvent) or decoded.after is None:
            continue
        slot = _slot(db, decoded.row_id)
        change = watched.get((db, slot, pool_value(db, decoded.after)))
        if change is not None and change.captured_ms is None:
            change.captured_ms = record.timestamp_ms
            found += 1
    return found


def _slot(db: str, row_id: str) -> int:
    """The pool slot of a row id (ERP id ``slot + 1``, identity ``u-L<slot>``)."""
    if db == "mariadb":
        return int(row_id) - 1 if row_id.isdigit() else -1
    return int(row_id[3:]) if row_id.startswith("u-L") else -1


def _records(settings: Settings, starts: Starts) -> Iterable[KafkaRecord]:
    consumer = _consumer(settings)
    try:
        ends = {
            at: consumer.get_watermark_offsets(TopicPartition(*at), timeout=10)[1]
            for at in starts
        }
        wanted = [
            TopicPartition(topic, partition, start)
            for (topic, partition), start in starts.items()
            if ends[(topic, partition)] > start
        ]
        consumer.assign(wanted)
        left = {(tp.topic, tp.partition) for tp in wanted}
        while left:
            messages = consumer.consume(5000, 5.0)
            if not messages:
                return
            for message in messages:
                if message.error() is not None:
                    continue
                record = kafka_record(message)
                at = (record.topic, record.partition)
                if record.offset >= ends[at] - 1:
                    left.discard(at)
                yield record
    finally:
        consumer.close()


def _consumer(settings: Settings) -> Consumer:
    return Consumer(
        {
            **kafka_config(settings),
            "group.id": "bench-capture-lag",
            "enable.auto.commit": "false",
        }
    )
