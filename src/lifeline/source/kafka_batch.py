"""A Bytewax source that emits one item per Kafka batch, per partition.

Bytewax's own Kafka source emits one item per message, and the per-item cost
of the framework then dominates. This source hands each step a whole list of
:class:`~lifeline.decode.records.KafkaRecord` so steps can work in tight
loops. Each Kafka partition is one Bytewax partition; its snapshot is the
offset of the next record to read, so recovery resumes exactly there (records
read after the last snapshot are read again: at-least-once).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient
from prometheus_client import Gauge

from lifeline.decode.records import KafkaRecord
from lifeline.errors import FatalError
from lifeline.observe import metrics, tally

logger = logging.getLogger(__name__)

Batch = list[KafkaRecord]

_IDLE_WAIT = timedelta(milliseconds=5)


class KafkaBatchSource(FixedPartitionedSource[Batch, int]):
    """Reads ``topics`` from the beginning (or the recovered offset)."""

    def __init__(
        self,
        config: Mapping[str, str],
        topics: Sequence[str],
        batch_size: int = 5000,
    ) -> None:
        self._config = {
            "group.id": "lifeline-dataflow",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "fetch.wait.max.ms": "100",
            **config,
        }
        self._topics = list(topics)
        self._batch_size = batch_size

    def list_parts(self) -> list[str]:
        """One part per topic partition, named ``partition-topic``."""
        admin = AdminClient({k: v for k, v in self._config.items() if _admin_key(k)})
        metadata = admin.list_topics(timeout=10)
        parts: list[str] = []
        for topic in self._topics:
            found = metadata.topics.get(topic)
            if found is None or found.error is not None:
                msg = f"topic '{topic}' does not exist; run `lifeline connectors apply`"
                raise FatalError(msg)
            parts.extend(f"{p}-{topic}" for p in sorted(found.partitions))
        return parts

    def build_part(
        self, step_id: str, for_part: str, resume_state: int | None
    ) -> _BatchPartition:
        """Open a consumer assigned to one partition."""
        index, _, topic = for_part.partition("-")
        offset = OFFSET_BEGINNING if resume_state is None else resume_state
        logger.info(
            "assign step=%s topic=%s partition=%s offset=%s",
            step_id,
            topic,
            index,
            resume_state if resume_state is not None else "beginning",
        )
        consumer = Consumer(self._config)
        consumer.assign([TopicPartition(topic, int(index), offset)])
        flow = tally.flow_of(step_id)
        position = metrics.CONSUMER_POSITION.labels(flow, topic, index)
        return _BatchPartition(consumer, self._batch_size, resume_state, position)


def _admin_key(key: str) -> bool:
    return key.startswith(("bootstrap.", "security.", "sasl.", "ssl.", "client."))


class _BatchPartition(StatefulSourcePartition[Batch, int]):
    def __init__(
        self,
        consumer: Consumer,
        batch_size: int,
        offset: int | None,
        position: Gauge,
    ) -> None:
        self._consumer = consumer
        self._batch_size = batch_size
        self._next_offset = offset
        self._awake: datetime | None = None
        self._position = position
        if offset is not None:
            position.set(offset)

    def next_batch(self) -> list[Batch]:
        messages = self._consumer.consume(self._batch_size, 0)
        records: Batch = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    _raise_or_log(error)
                continue
            records.append(kafka_record(message))
        if not records:
            self._awake = datetime.now(UTC) + _IDLE_WAIT
            return []
        self._awake = None
        self._next_offset = records[-1].offset + 1
        self._position.set(self._next_offset)
        return [records]

    def next_awake(self) -> datetime | None:
        return self._awake

    def snapshot(self) -> int:
        return self._next_offset if self._next_offset is not None else OFFSET_BEGINNING

    def close(self) -> None:
        self._consumer.close()


def kafka_record(message: Any) -> KafkaRecord:
    """A consumed confluent-kafka message as a :class:`KafkaRecord`."""
    _, timestamp = message.timestamp()
    return KafkaRecord(
        message.topic(),
        message.partition(),
        message.offset(),
        message.key(),
        message.value(),
        timestamp,
    )


def _raise_or_log(error: KafkaError) -> None:
    if error.fatal():
        msg = f"Kafka consumer failed: {error.str()}"
        raise FatalError(msg)
    logger.warning("consumer error code=%s reason=%s", error.name(), error.str())
