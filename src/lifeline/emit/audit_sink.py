"""Bytewax sink appending the golden flow's audit entries to the audit topic.

Each entry is one JSON record keyed by its golden id, so one record's
lineage stays in order on one partition. Headers repeat the entry's kind and
id for tools that filter without parsing. The producer's acknowledgements
are awaited at the end of each epoch, before it can commit
(:mod:`lifeline.emit.epoch_sink`); a replay after a crash writes entries
with the same ids again, and readers drop them (see
:mod:`lifeline.audit.reader`).
"""

from __future__ import annotations

from collections.abc import Mapping

from confluent_kafka import Producer

from lifeline.audit.entry import AuditEntry, encode_entry
from lifeline.emit.epoch_sink import (
    PRODUCER_DEFAULTS,
    EpochFlushedSink,
    Headers,
    Outbox,
    OutRecord,
)
from lifeline.golden.step import GoldenOutput
from lifeline.observe.logs import kafka_logging

KIND_HEADER = "lifeline.audit_kind"
ID_HEADER = "lifeline.audit_id"


def audit_headers(entry: AuditEntry) -> Headers:
    """The headers an entry is produced with."""
    return {KIND_HEADER: entry.kind, ID_HEADER: str(entry.id)}


class AuditSink(EpochFlushedSink[GoldenOutput]):
    """Produces the audit entries of the golden step's outputs to ``topic``."""

    def __init__(
        self, config: Mapping[str, str], topic: str, *, flush_timeout: float = 30.0
    ) -> None:
        super().__init__()
        self._config = dict(config)
        self._topic = topic
        self._flush_timeout = flush_timeout

    def open(self) -> Outbox:
        """Open the producer of this process."""
        producer = Producer(kafka_logging({**PRODUCER_DEFAULTS, **self._config}))
        return Outbox(producer, self._topic, "audit entries", self._flush_timeout)

    def encode(self, item: GoldenOutput) -> tuple[OutRecord, ...]:
        """One record per audit entry, in order."""
        return tuple(
            (entry.golden_id.encode(), encode_entry(entry), audit_headers(entry))
            for entry in item.audit
        )
