"""The batch contract every decoder shares.

A decoder turns Kafka records into ChangeEvents (and transaction-topic
records into TransactionBoundaries). Per-schema work (parsing a schema,
choosing converters) is done once and cached; per record only the payload is
parsed and converted.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

from lifeline.decode.change import (
    ChangeEvent,
    DeadLetter,
    Decoded,
    TransactionBoundary,
)
from lifeline.decode.records import KafkaRecord
from lifeline.errors import RecordError

logger = logging.getLogger(__name__)

STAGE = "decode"
_BAD_ENVELOPE = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    ArithmeticError,
)


@dataclass(slots=True)
class DecodedBatch:
    """What a batch of records became, each list in input order."""

    events: list[ChangeEvent] = field(default_factory=list)
    boundaries: list[TransactionBoundary] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


class BatchDecoder(ABC):
    """Decodes records; a bad record becomes a DeadLetter, never an exception.

    ``decode`` raises RecordError for a bad record. Every method may raise
    RetryableError when a dependency (a schema registry) cannot be reached:
    the batch should be retried later, none of it was lost.
    """

    @abstractmethod
    def decode(self, record: KafkaRecord) -> Decoded:
        """Decode one record; raise RecordError when it is not decodable."""

    def decode_one(self, record: KafkaRecord) -> Decoded | DeadLetter:
        """Decode one record, or return its DeadLetter."""
        try:
            return self.decode(record)
        except RecordError as exc:
            return dead_letter(record, exc.kind, exc.reason)
        except _BAD_ENVELOPE as exc:
            return _unexpected(record, exc)

    def decode_all(self, records: Iterable[KafkaRecord]) -> DecodedBatch:
        """Decode many records into events, transaction boundaries and dead letters."""
        batch = DecodedBatch()
        events, decode = batch.events, self.decode
        for record in records:
            try:
                result = decode(record)
            except RecordError as exc:
                batch.dead_letters.append(dead_letter(record, exc.kind, exc.reason))
                continue
            except _BAD_ENVELOPE as exc:
                batch.dead_letters.append(_unexpected(record, exc))
                continue
            if isinstance(result, ChangeEvent):
                events.append(result)
            else:
                batch.boundaries.append(result)
        return batch

    def decode_batch(
        self, records: Iterable[KafkaRecord]
    ) -> tuple[list[ChangeEvent], list[DeadLetter]]:
        """Decode many records into change events and dead letters, in order.

        Transaction boundaries are not change events and are left out; use
        :meth:`decode_all` to receive them.
        """
        batch = self.decode_all(records)
        if batch.boundaries:
            logger.debug(
                "skipped transaction boundaries count=%d", len(batch.boundaries)
            )
        return batch.events, batch.dead_letters


def dead_letter(record: KafkaRecord, kind: str, reason: str) -> DeadLetter:
    """The dead letter of ``record``; logged at DEBUG without any values."""
    logger.debug("dead letter kind=%s at=%s", kind, record.coordinates)
    return DeadLetter(record.coordinates, record.key, record.value, STAGE, kind, reason)


def _unexpected(record: KafkaRecord, exc: Exception) -> DeadLetter:
    """A record whose shape broke a decoder in a way no check foresaw."""
    reason = f"{type(exc).__name__} while decoding the envelope"
    return dead_letter(record, "malformed_envelope", reason)
