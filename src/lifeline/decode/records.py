"""Kafka records as they come off the broker, with their coordinates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Coordinates(NamedTuple):
    """Where a record sits in Kafka: topic, partition and offset.

    A named tuple, as every record's coordinates are built on the hot path.
    """

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """One consumed record; ``key``/``value`` are the raw bytes or None."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = 0

    @property
    def coordinates(self) -> Coordinates:
        """The record's topic, partition and offset."""
        return Coordinates(self.topic, self.partition, self.offset)
