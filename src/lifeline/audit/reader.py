"""Reads a golden record's lineage back from the audit topic.

The topic is read from the beginning of every partition, in batches, and
only values keyed by a wanted golden id are decoded. The end of the topic
is where nothing more arrives for ``idle_timeout`` seconds: some
Kafka-compatible brokers report wrong high watermarks, so end offsets are
not trusted.

Merged ids belong to their survivor's lineage: a ``merged`` entry names the
absorbed ids and a ``retired`` entry its survivor, and the reader reads
again for ids it learns of that way (entries written before the merge come
earlier in the log), until no new id turns up. Seeding it with every id the
cache knows for the record (the survivor and its ``merged_ids``) makes one
pass the rule. Entries are deduplicated by id: a replay after a crash
re-writes entries with the ids they had.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from lifeline.audit.entry import AuditDecodeError, AuditEntry, decode_entry
from lifeline.errors import FatalError, RetryableError
from lifeline.observe.logs import kafka_logging

logger = logging.getLogger(__name__)

MAX_PASSES = 8
"""Reads of the topic one lineage may take (each finds newly merged ids)."""

KIND_ORDER = {
    kind: rank
    for rank, kind in enumerate(
        (
            "merged",
            "retired",
            "split",
            "created",
            "updated",
            "conflict",
            "stage_changed",
            "deleted",
        )
    )
}
"""How entries of one version are ordered: the merge before its updates."""


class AuditReadError(RetryableError):
    """The broker failed while the audit topic was read."""


@dataclass(frozen=True, slots=True)
class AuditTrail:
    """A golden record's lineage, oldest first.

    ``golden_ids`` are every id whose entries it holds (the record's own and
    those merged into it, transitively); ``survivor`` is the id the record
    lives under now. ``duplicates`` counts entries dropped as replays and
    ``unreadable`` values that were not audit entries (logged).
    """

    survivor: str
    golden_ids: tuple[str, ...]
    entries: tuple[AuditEntry, ...]
    duplicates: int = 0
    unreadable: int = 0


@dataclass(slots=True)
class _Collected:
    entries: dict[uuid.UUID, AuditEntry]
    duplicates: int = 0
    unreadable: int = 0


class AuditReader:
    """Reads audit entries of given golden ids; joins no group, commits nothing.

    ``config`` holds librdkafka settings (bootstrap servers and security);
    ``batch_size`` is how many messages one consume call may return.
    """

    def __init__(
        self,
        config: Mapping[str, str],
        topic: str,
        *,
        idle_timeout: float = 2.0,
        batch_size: int = 5000,
        metadata_timeout: float = 10.0,
    ) -> None:
        self.topic = topic
        self._config = dict(config)
        self._idle_timeout = idle_timeout
        self._batch_size = batch_size
        self._metadata_timeout = metadata_timeout

    def read(self, golden_id: str, also: Iterable[str] = ()) -> AuditTrail:
        """The lineage of ``golden_id``, also reading the ids in ``also``.

        Raises FatalError when the topic does not exist and AuditReadError
        when the broker fails; an id with no entries gives an empty trail.
        """
        collected = _Collected({})
        wanted: set[str] = set()
        pending = {golden_id, *also}
        for _ in range(MAX_PASSES):
            self._scan({key.encode() for key in pending}, collected)
            wanted |= pending
            pending = _linked_ids(collected.entries.values()) - wanted
            if not pending:
                break
        else:
            logger.warning(
                "audit lineage still growing after passes=%d golden_id=%s",
                MAX_PASSES,
                golden_id,
            )
        family = _family({golden_id, *also}, collected.entries.values())
        entries = sorted(
            (e for e in collected.entries.values() if e.golden_id in family),
            key=_timeline_order,
        )
        return AuditTrail(
            survivor=_survivor(golden_id, entries),
            golden_ids=tuple(sorted(family)),
            entries=tuple(entries),
            duplicates=collected.duplicates,
            unreadable=collected.unreadable,
        )

    def _scan(self, keys: set[bytes], into: _Collected) -> None:
        """One read of the whole topic, collecting the entries keyed by ``keys``."""
        consumer = Consumer(
            kafka_logging(
                {
                    **self._config,
                    "group.id": f"lifeline-audit-{uuid.uuid4().hex}",
                    "enable.auto.commit": "false",
                    "auto.offset.reset": "earliest",
                }
            )
        )
        try:
            partitions = self._partitions(consumer)
            consumer.assign(
                [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions]
            )
            self._consume_until_idle(consumer, keys, into)
        except KafkaException as exc:
            msg = f"topic {self.topic}: cannot read: {exc}"
            raise AuditReadError(msg) from exc
        finally:
            consumer.close()

    def _consume_until_idle(
        self, consumer: Consumer, keys: set[bytes], into: _Collected
    ) -> None:
        last_seen = time.monotonic()
        poll = min(0.5, self._idle_timeout)
        while True:
            messages = consumer.consume(self._batch_size, poll)
            now = time.monotonic()
            if not messages:
                if now - last_seen >= self._idle_timeout:
                    return
                continue
            last_seen = now
            for message in messages:
                if message.error() is not None:
                    self._fail(message)
                if message.key() in keys:
                    self._collect(message, into)

    def _collect(self, message: Message, into: _Collected) -> None:
        try:
            entry = decode_entry(message.value() or b"")
        except AuditDecodeError as exc:
            into.unreadable += 1
            logger.warning(
                "skipping unreadable audit record topic=%s partition=%s offset=%s "
                "reason=%s",
                message.topic(),
                message.partition(),
                message.offset(),
                exc,
            )
            return
        if entry.id in into.entries:
            into.duplicates += 1
        else:
            into.entries[entry.id] = entry

    def _fail(self, message: Message) -> None:
        error = message.error()
        msg = (
            f"topic {self.topic} partition {message.partition()}: cannot read: {error}"
        )
        raise AuditReadError(msg)

    def _partitions(self, consumer: Consumer) -> list[int]:
        metadata = consumer.list_topics(self.topic, timeout=self._metadata_timeout)
        topic = metadata.topics.get(self.topic)
        error = None if topic is None else topic.error
        if topic is None or (
            error is not None and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
        ):
            msg = (
                f"topic {self.topic} does not exist: create it with "
                "`lifeline connectors apply`"
            )
            raise FatalError(msg)
        if error is not None:
            msg = f"topic {self.topic}: {error}"
            raise AuditReadError(msg)
        return sorted(topic.partitions)


def _linked_ids(entries: Iterable[AuditEntry]) -> set[str]:
    """Ids that share a lineage with the entries' ids: merged or survivors."""
    return {
        golden_id
        for entry in entries
        if entry.kind in ("merged", "retired")
        for golden_id in (entry.golden_id, *entry.related)
    }


def _family(roots: set[str], entries: Iterable[AuditEntry]) -> set[str]:
    """``roots`` and every id linked to them by merges, transitively."""
    links: dict[str, set[str]] = {}
    for entry in entries:
        if entry.kind in ("merged", "retired"):
            for other in entry.related:
                links.setdefault(entry.golden_id, set()).add(other)
                links.setdefault(other, set()).add(entry.golden_id)
    family, frontier = set(roots), list(roots)
    while frontier:
        for other in links.get(frontier.pop(), ()):
            if other not in family:
                family.add(other)
                frontier.append(other)
    return family


def _survivor(golden_id: str, entries: list[AuditEntry]) -> str:
    """Where ``golden_id`` lives now: follow its latest ``retired`` entries."""
    into = {
        e.golden_id: e.related[0] for e in entries if e.kind == "retired" and e.related
    }
    current, seen = golden_id, {golden_id}
    while current in into and into[current] not in seen:
        current = into[current]
        seen.add(current)
    return current


def _timeline_order(entry: AuditEntry) -> tuple[str, int, str]:
    return (entry.version, KIND_ORDER.get(entry.kind, len(KIND_ORDER)), entry.golden_id)
