"""The normalised change event every later stage works on, and dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from lifeline.decode.position import SourcePosition
from lifeline.decode.records import Coordinates

Row = dict[str, Any]

TOMBSTONE = "tombstone"
ROW_OPS: Final = frozenset({"c", "r", "u", "d"})
"""Ops that change one row; ``t`` (truncate) and ``m`` (message) do not."""


class Unchanged:
    """The value of a column the source did not send because it did not change.

    PostgreSQL leaves unchanged TOASTed values out of the WAL and Debezium sends
    a placeholder instead. The decoder replaces the placeholder with the one
    instance :data:`UNCHANGED`; a later stage must fill it from the last known
    row and must never store or emit it as a value. It survives pickling and
    copying as the same instance (test it with ``is``), and JSON encoders do
    not know it, so it cannot leak out silently.
    """

    __slots__ = ()
    _instance: ClassVar[Unchanged | None] = None

    def __new__(cls) -> Unchanged:
        """The one instance."""
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED"

    def __reduce__(self) -> str:
        return "UNCHANGED"

    def __copy__(self) -> Unchanged:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Unchanged:
        return self


UNCHANGED: Final = Unchanged()


@dataclass(frozen=True, slots=True)
class TransactionInfo:
    """The ``transaction`` block: the transaction id and this event's place.

    ``total_order`` counts the transaction's events from 1;
    ``data_collection_order`` counts its events of this table from 1.
    """

    id: str
    total_order: int | None
    data_collection_order: int | None


@dataclass(frozen=True, slots=True)
class LogicalMessage:
    """The content of a PostgreSQL logical decoding message (op ``m``)."""

    prefix: str
    content: bytes


@dataclass(slots=True)
class ChangeEvent:
    """One change read by Debezium.

    ``op`` is Debezium's op: ``c`` create, ``r`` snapshot read, ``u`` update,
    ``d`` delete, ``t`` truncate (no key, no rows), ``m`` logical decoding
    message (``message`` set, no rows) - or ``tombstone`` for the null-valued
    record that follows a delete (no position). ``key`` is the primary key as
    the record key carries it, typed. ``before`` may be None for updates
    (PostgreSQL REPLICA IDENTITY DEFAULT) and may hold only the key columns
    for deletes. Row values are typed (see :mod:`lifeline.decode.types`) and
    a column may hold :data:`UNCHANGED`. ``ts_ms`` is the commit time in the
    source database (``source.ts_ms``); ``ts_us`` the same in microseconds
    when the connector sends it. ``namespace`` is the schema where the source
    has schemas, else the database. ``snapshot`` is None when streaming, else
    the snapshot marker. ``tx_id`` is the transaction block's id.
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
    connector: str = ""
    database: str = ""
    schema: str | None = None
    ts_us: int | None = None
    transaction: TransactionInfo | None = None
    message: LogicalMessage | None = None

    @property
    def row_id(self) -> str:
        """The primary key as one string: values joined by ``|`` in key order."""
        return "|".join(str(value) for value in self.key.values())

    @property
    def row(self) -> Row | None:
        """The row as it is after this change (None for deletes)."""
        return self.after


@dataclass(frozen=True, slots=True)
class DataCollectionCount:
    """How many events of one table a transaction produced."""

    data_collection: str
    event_count: int


@dataclass(frozen=True, slots=True)
class TransactionBoundary:
    """A record of the transaction-metadata topic: ``BEGIN`` or ``END``.

    ``event_count`` and ``data_collections`` are set on ``END`` only.
    """

    status: str
    tx_id: str
    ts_ms: int
    event_count: int | None
    data_collections: tuple[DataCollectionCount, ...] | None
    coordinates: Coordinates


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


Decoded = ChangeEvent | TransactionBoundary
