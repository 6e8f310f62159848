"""The normalised change event every later stage works on, and dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifeline.decode.position import SourcePosition
from lifeline.decode.records import Coordinates

Row = dict[str, Any]

TOMBSTONE = "tombstone"


@dataclass(slots=True)
class ChangeEvent:
    """One row change read by Debezium.

    ``op`` is Debezium's op (``c`` create, ``r`` snapshot read, ``u`` update,
    ``d`` delete) or ``tombstone`` for the null-valued record that follows a
    delete. ``key`` is the primary key as the Kafka record key carries it.
    ``ts_ms`` is the commit time in the source database (``source.ts_ms``).
    """

    system: str
    namespace: str
    table: str
    op: str
    key: Row
    before: Row | None
    after: Row | None
    position: SourcePosition | None
    ts_ms: int
    snapshot: str | None
    tx_id: str | None
    coordinates: Coordinates

    @property
    def row_id(self) -> str:
        """The primary key as one string: values joined by ``|`` in key order."""
        return "|".join(str(value) for value in self.key.values())

    @property
    def row(self) -> Row | None:
        """The row as it is after this change (None for deletes)."""
        return self.after


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that could not be processed, with everything to find it again.

    ``reason`` is readable and never holds row values.
    """

    coordinates: Coordinates
    key: bytes | None
    value: bytes | None
    stage: str
    kind: str
    reason: str
