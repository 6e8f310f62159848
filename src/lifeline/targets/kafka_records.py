"""Record topics on Kafka: the dead-letter topic and the exception queue.

Records are JSON values keyed by golden id, so one customer's records stay
in order within their partition.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from lifeline.emit.encoding import dumps
from lifeline.observe.logs import kafka_logging
from lifeline.settings import BrokerSettings, Settings
from lifeline.targets.config import TargetsConfig
from lifeline.targets.delivery import Dispatcher
from lifeline.targets.errors import RecordSinkError, RecordSourceError
from lifeline.targets.worker import ResultHook

logger = logging.getLogger(__name__)

_POLL = 0.5


def client_config(broker: BrokerSettings) -> dict[str, str]:
    """The librdkafka settings for ``broker``: extras and bootstrap servers."""
    return {**broker.client_config, "bootstrap.servers": broker.bootstrap_servers}


class KafkaRecordWriter:
    """A :class:`~lifeline.targets.records.RecordWriter` producing to ``topic``.

    Idempotent producer; :meth:`write` returns once the broker acknowledged
    the record and raises RecordSinkError when it did not within
    ``flush_timeout`` seconds. Safe to share between threads.
    """

    def __init__(
        self, config: Mapping[str, str], topic: str, *, flush_timeout: float = 30.0
    ) -> None:
        self.topic = topic
        self._flush_timeout = flush_timeout
        self._producer = Producer(
            kafka_logging({**config, "enable.idempotence": "true"})
        )
        self._lock = threading.Lock()

    def write(self, key: str, record: Mapping[str, Any]) -> None:
        """Produce ``record`` under ``key`` and wait for the acknowledgement."""
        errors: list[KafkaError] = []

        def acknowledged(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                errors.append(error)

        with self._lock:
            try:
                self._producer.produce(
                    self.topic, key=key.encode(), value=dumps(dict(record)),
                    on_delivery=acknowledged,
                )  # fmt: skip
            except (KafkaException, BufferError) as exc:
                msg = f"topic {self.topic}: cannot produce: {exc}"
                raise RecordSinkError(msg) from exc
            remaining = self._producer.flush(self._flush_timeout)
        if remaining or errors:
            problem = errors[0] if errors else f"no ack in {self._flush_timeout}s"
            msg = f"topic {self.topic}: record not acknowledged: {problem}"
            raise RecordSinkError(msg)

    def close(self) -> None:
        """Flush what is left."""
        self._producer.flush(self._flush_timeout)


class KafkaRecordReader:
    """A :class:`~lifeline.targets.records.RecordReader` of ``topic``.

    Reads every partition from the beginning until each reports its end
    (``enable.partition.eof``): some Kafka-compatible brokers report wrong
    high watermarks, so the end offsets are not trusted. Joins no group and
    commits nothing. A missing topic reads as empty; a value that is not a
    JSON object is logged and skipped.
    """

    def __init__(
        self, config: Mapping[str, str], topic: str, *, timeout: float = 30.0
    ) -> None:
        self.topic = topic
        self._config = dict(config)
        self._timeout = timeout

    def read_all(self) -> Iterator[dict[str, Any]]:
        """Every record up to the end of each partition, per partition in order."""
        consumer = Consumer(
            kafka_logging(
                {
                    **self._config,
                    "group.id": f"lifeline-replay-{uuid.uuid4().hex}",
                    "enable.auto.commit": "false",
                    "enable.partition.eof": "true",
                    "auto.offset.reset": "earliest",
                }
            )
        )
        try:
            partitions = self._partitions(consumer)
            consumer.assign(
                [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions]
            )
            yield from self._until_end(consumer, set(partitions))
        finally:
            consumer.close()

    def _partitions(self, consumer: Consumer) -> list[int]:
        try:
            metadata = consumer.list_topics(self.topic, timeout=self._timeout)
        except KafkaException as exc:
            msg = f"topic {self.topic}: no metadata: {exc}"
            raise RecordSourceError(msg) from exc
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            error = None if topic is None else topic.error
            if error is None or error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return []
            msg = f"topic {self.topic}: {error}"
            raise RecordSourceError(msg)
        return sorted(topic.partitions)

    def _until_end(
        self, consumer: Consumer, pending: set[int]
    ) -> Iterator[dict[str, Any]]:
        deadline = time.monotonic() + self._timeout
        while pending:
            if time.monotonic() > deadline:
                msg = (
                    f"topic {self.topic}: partitions {sorted(pending)} did not "
                    f"reach their end within {self._timeout}s"
                )
                raise RecordSourceError(msg)
            message = consumer.poll(_POLL)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    msg = f"topic {self.topic}: {error}"
                    raise RecordSourceError(msg)
                pending.discard(message.partition())
                continue
            record = _decode(message)
            if record is not None:
                yield record


def _decode(message: Message) -> dict[str, Any] | None:
    try:
        value = orjson.loads(message.value() or b"")
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        logger.warning(
            "skipping record that is not a JSON object topic=%s partition=%s offset=%s",
            message.topic(),
            message.partition(),
            message.offset(),
        )
        return None
    return value


def open_dispatcher(
    settings: Settings,
    config: TargetsConfig,
    *,
    env: Mapping[str, str] | None = None,
    on_result: ResultHook | None = None,
) -> Dispatcher:
    """A started :class:`Dispatcher` writing to the configured Kafka topics."""
    kafka = client_config(settings.broker)
    dispatcher = Dispatcher(
        config,
        KafkaRecordWriter(kafka, config.dead_letter_topic),
        KafkaRecordWriter(kafka, config.exception_topic),
        env=env,
        on_result=on_result,
    )
    dispatcher.start()
    return dispatcher
