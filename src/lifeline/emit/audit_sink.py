"""Bytewax sink appending the golden flow's audit entries to the audit topic.

Each entry is one JSON record keyed by its golden id, so one record's
lineage stays in order on one partition. Headers repeat the entry's kind and
id for tools that filter without parsing. The producer flushes before the
batch returns; a replay after a crash writes entries with the same ids again,
and readers drop them (see :mod:`lifeline.audit.reader`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from lifeline.audit.entry import AuditEntry, encode_entry
from lifeline.errors import RetryableError
from lifeline.golden.step import GoldenOutput

KIND_HEADER = "lifeline.audit_kind"
ID_HEADER = "lifeline.audit_id"

Acknowledge = Callable[[KafkaError | None, Message], None]


def audit_headers(entry: AuditEntry) -> dict[str, str | bytes | None]:
    """The headers an entry is produced with."""
    return {KIND_HEADER: entry.kind, ID_HEADER: str(entry.id)}


class AuditSink(DynamicSink[GoldenOutput]):
    """Produces every batch's audit entries to ``topic`` (append-only)."""

    def __init__(
        self, config: Mapping[str, str], topic: str, *, flush_timeout: float = 30.0
    ) -> None:
        self._config = dict(config)
        self._topic = topic
        self._flush_timeout = flush_timeout

    def build(
        self, step_id: str, worker_index: int, worker_count: int
    ) -> _AuditPartition:
        """Open this worker's producer."""
        producer = Producer({"enable.idempotence": "true", **self._config})
        return _AuditPartition(producer, self._topic, self._flush_timeout)


class _AuditPartition(StatelessSinkPartition[GoldenOutput]):
    def __init__(self, producer: Producer, topic: str, flush_timeout: float) -> None:
        self._producer = producer
        self._topic = topic
        self._flush_timeout = flush_timeout

    def write_batch(self, items: list[GoldenOutput]) -> None:
        entries = [entry for item in items for entry in item.audit]
        if not entries:
            return
        failed: list[KafkaError] = []

        def acknowledged(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failed.append(error)

        try:
            for entry in entries:
                self._produce(entry, acknowledged)
        except (KafkaException, BufferError) as exc:
            msg = f"topic {self._topic}: cannot produce audit entries: {exc}"
            raise RetryableError(msg) from exc
        remaining = self._producer.flush(self._flush_timeout)
        if remaining or failed:
            problem = failed[0] if failed else f"none in {self._flush_timeout:.0f}s"
            msg = (
                f"topic {self._topic}: {remaining + len(failed)} audit entries "
                f"not acknowledged: {problem}"
            )
            raise RetryableError(msg)

    def _produce(self, entry: AuditEntry, on_delivery: Acknowledge) -> None:
        produce = functools.partial(
            self._producer.produce,
            self._topic,
            key=entry.golden_id.encode(),
            value=encode_entry(entry),
            headers=audit_headers(entry),
            on_delivery=on_delivery,
        )
        try:
            produce()
        except BufferError:
            # The local queue is full: let deliveries drain, then try once more.
            self._producer.poll(1.0)
            produce()

    def close(self) -> None:
        self._producer.flush(self._flush_timeout)
