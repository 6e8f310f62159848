"""Where failed deliveries and failed sagas go: record topics.

:class:`RecordWriter` appends a JSON record to a topic (the dead-letter
topic, the onboarding exception queue); :class:`RecordReader` reads one
back from the beginning. :class:`MemoryRecords` is both, in memory, for
tests and for replay's own failures; the Kafka implementations are in
:mod:`lifeline.targets.kafka_records`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from lifeline.observe.redact import redact
from lifeline.targets.courier import Outcome
from lifeline.targets.model import Delivery

DEAD_LETTER_KIND = "target_dead_letter"
EXCEPTION_KIND = "onboarding_exception"


class RecordWriter(Protocol):
    """Appends records to one topic."""

    def write(self, key: str, record: Mapping[str, Any]) -> None:
        """Append ``record`` (JSON-ready) under ``key``; block until durable.

        Records with the same key keep their order. Raises
        :class:`~lifeline.targets.errors.RecordSinkError` when the record was
        not acknowledged; it may then have been written or not.
        """


class RecordReader(Protocol):
    """Reads one topic from its beginning."""

    def read_all(self) -> Iterator[dict[str, Any]]:
        """Every record from the beginning to the end as of the call.

        Records with the same key come in the order written. Raises
        :class:`~lifeline.targets.errors.RecordSourceError` when the end
        cannot be reached.
        """
        ...


class MemoryRecords:
    """An in-memory topic: a :class:`RecordWriter` and :class:`RecordReader`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[tuple[str, dict[str, Any]]] = []

    def write(self, key: str, record: Mapping[str, Any]) -> None:
        """Append a copy of ``record``."""
        with self._lock:
            self._records.append((key, dict(record)))

    def read_all(self) -> Iterator[dict[str, Any]]:
        """A snapshot of every record written so far, in order."""
        with self._lock:
            snapshot = [dict(record) for _, record in self._records]
        return iter(snapshot)

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record written so far, in order."""
        return list(self.read_all())


def dead_letter_record(
    target: str, delivery: Delivery, outcome: Outcome, enqueued_at: str
) -> dict[str, Any]:
    """The dead-letter record of a delivery that ``outcome`` ended for good.

    ``reason`` is ``exhausted``, ``permanent``, ``deadline``, ``shutdown``,
    ``overflow``, ``held_behind`` or ``mapping``; ``last_error`` the last
    attempt's status or exception type (masked like a log line).
    """
    return {
        "kind": DEAD_LETTER_KIND,
        "target": target,
        "event": delivery.to_json(),
        "attempts": outcome.attempts,
        "reason": outcome.reason,
        "last_error": redact(outcome.last_error),
        "last_status": outcome.status,
        "enqueued_at": enqueued_at,
        "first_attempt_at": outcome.first_attempt_at or None,
        "dead_lettered_at": now_rfc3339(),
    }


def now_rfc3339() -> str:
    """The current time, RFC 3339 with offset."""
    return datetime.now(UTC).isoformat()
