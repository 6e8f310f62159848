"""Source positions: where in a database's log a change was read.

Every position has a ``kind`` (the connector family) and a ``key``, a tuple of
non-negative integers. Positions order by ``(kind, key)``: within one kind the
key order is the order in which the source database applied the changes, which
is what ordering and deduplication per row need. Equal positions are the same
change delivered twice. Positions of different kinds still compare (by kind
name) so that sorting never fails, but that order means nothing.

Keys, per connector:

* PostgreSQL ``(commit, lsn, op)``. ``commit`` is the LSN of the last commit
  before this change's transaction (the first element of ``source.sequence``);
  pgoutput streams whole transactions in commit order, so this orders
  transactions even when their changes interleave in the WAL, and ``lsn``
  orders the changes inside one. Snapshot reads carry no commit LSN: their
  ``commit`` is their own ``lsn``, the snapshot's point in the WAL.
* MySQL/MariaDB ``(binlog file number, event position, row in event, op)``.
  GTID and server id are kept for reference; binlog coordinates of different
  servers (after a fail-over) do not compare meaningfully.
* SQL Server ``(commit_lsn, change_lsn, event_serial_no, op)``, LSNs as
  80-bit integers; snapshot reads have no change LSN and sort first in their
  commit.

The last element, ``op``, breaks ties between events at one log position: a
snapshot read first, then truncate/message, delete, create, update. A primary
key change is one log entry that Debezium emits as a delete of the old key
followed by a create of the new key, and this keeps that order.
"""

from __future__ import annotations

from typing import Any, NoReturn

from lifeline.errors import RecordError

POSTGRES = "postgresql"
MYSQL = "mysql"
SQLSERVER = "sqlserver"

OP_RANK: dict[str, int] = {"r": 0, "t": 1, "m": 1, "d": 2, "c": 3, "u": 4}
_HEX_FORMAT = {SQLSERVER: "%020x"}  # key parts as fixed-width hex; default 16


_set = object.__setattr__


class SourcePosition:
    """An immutable, picklable, totally ordered log position."""

    __slots__ = ("_details", "_encoded", "key", "kind")

    kind: str
    key: tuple[int, ...]
    _details: tuple[Any, ...]
    _encoded: str  # set by the first encode(); never pickled

    def __init__(self, kind: str, key: tuple[int, ...]) -> None:
        if any(part < 0 for part in key):
            raise ValueError("position parts must not be negative")
        _set(self, "kind", kind)
        _set(self, "key", key)
        _set(self, "_details", ())

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (type(self), self.kind, self.key, self._details)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourcePosition):
            return NotImplemented
        return self.key == other.key and self.kind == other.kind

    def __hash__(self) -> int:
        return hash((self.kind, self.key))

    def __lt__(self, other: SourcePosition) -> bool:
        if self.kind == other.kind:
            return self.key < other.key
        return self.kind < other.kind

    def __le__(self, other: SourcePosition) -> bool:
        if self.kind == other.kind:
            return self.key <= other.key
        return self.kind < other.kind

    def __gt__(self, other: SourcePosition) -> bool:
        return other < self

    def __ge__(self, other: SourcePosition) -> bool:
        return other <= self

    def encode(self) -> str:
        """A string whose byte order equals the position order (for Redis)."""
        try:
            return self._encoded
        except AttributeError:
            # One change's position is encoded for its lineage, audit entry,
            # ownership slots and row cache: work it out once.
            fmt = _HEX_FORMAT.get(self.kind, "%016x")
            encoded = self.kind[0] + ":" + ".".join([fmt % part for part in self.key])
            _set(self, "_encoded", encoded)
            return encoded

    def details(self) -> dict[str, Any]:
        """The connector's own coordinates, for display; no ordering meaning."""
        return {}

    def __str__(self) -> str:
        return f"{self.kind}:{'/'.join(str(part) for part in self.key)}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r}, {self.key!r}, {self._details!r})"


def _restore(
    cls: type[SourcePosition], kind: str, key: tuple[int, ...], details: tuple[Any, ...]
) -> SourcePosition:
    """Unpickle a position of any connector without re-deriving its key."""
    position = object.__new__(cls)
    _set(position, "kind", kind)
    _set(position, "key", key)
    _set(position, "_details", details)
    return position


class PostgresPosition(SourcePosition):
    """A PostgreSQL WAL position (see the module docstring for the order).

    ``commit_lsn`` is the last commit LSN before the change's transaction
    (None for snapshot reads and before the first commit seen).
    """

    __slots__ = ()

    def __init__(
        self, lsn: int, commit_lsn: int | None, tx_id: int | None, op: str
    ) -> None:
        commit = lsn if commit_lsn is None else commit_lsn
        if lsn < 0 or commit < 0:
            raise ValueError("LSNs must not be negative")
        _set(self, "kind", POSTGRES)
        _set(self, "key", (commit, lsn, OP_RANK.get(op, 0)))
        _set(self, "_details", (lsn, commit_lsn, tx_id))

    @property
    def lsn(self) -> int:
        """The change's own LSN."""
        lsn: int = self._details[0]
        return lsn

    @property
    def commit_lsn(self) -> int | None:
        """The LSN of the last commit before this change's transaction."""
        commit: int | None = self._details[1]
        return commit

    @property
    def tx_id(self) -> int | None:
        """PostgreSQL's transaction id (``txId``)."""
        tx_id: int | None = self._details[2]
        return tx_id

    def details(self) -> dict[str, Any]:
        """LSNs as integers, and the transaction id."""
        return {"lsn": self.lsn, "commit_lsn": self.commit_lsn, "tx_id": self.tx_id}


class BinlogPosition(SourcePosition):
    """A MySQL/MariaDB binlog position (see the module docstring)."""

    __slots__ = ()

    def __init__(
        self,
        file: str,
        pos: int,
        row: int,
        op: str,
        gtid: str | None = None,
        server_id: int | None = None,
    ) -> None:
        if pos < 0 or row < 0:
            raise ValueError("binlog coordinates must not be negative")
        _set(self, "kind", MYSQL)
        _set(self, "key", (binlog_number(file), pos, row, OP_RANK.get(op, 0)))
        _set(self, "_details", (file, pos, row, gtid, server_id))

    @property
    def file(self) -> str:
        """The binlog file name."""
        file: str = self._details[0]
        return file

    @property
    def pos(self) -> int:
        """The position of the rows event in the binlog file."""
        pos: int = self._details[1]
        return pos

    @property
    def row(self) -> int:
        """The row within the rows event."""
        row: int = self._details[2]
        return row

    @property
    def gtid(self) -> str | None:
        """The transaction's GTID, when GTIDs are on."""
        gtid: str | None = self._details[3]
        return gtid

    @property
    def server_id(self) -> int | None:
        """The id of the server that wrote the event."""
        server_id: int | None = self._details[4]
        return server_id

    def details(self) -> dict[str, Any]:
        """File, position, row, GTID and server id."""
        names = ("file", "pos", "row", "gtid", "server_id")
        return dict(zip(names, self._details, strict=True))


class SqlServerPosition(SourcePosition):
    """A SQL Server CDC position (see the module docstring)."""

    __slots__ = ()

    def __init__(
        self, commit_lsn: str, change_lsn: str | None, event_serial_no: int, op: str
    ) -> None:
        change = 0 if change_lsn is None else sqlserver_lsn(change_lsn)
        if event_serial_no < 0:
            raise ValueError("event_serial_no must not be negative")
        key = (sqlserver_lsn(commit_lsn), change, event_serial_no, OP_RANK.get(op, 0))
        _set(self, "kind", SQLSERVER)
        _set(self, "key", key)
        _set(self, "_details", (commit_lsn, change_lsn, event_serial_no))

    @property
    def commit_lsn(self) -> str:
        """The transaction's commit LSN, as SQL Server writes it."""
        commit: str = self._details[0]
        return commit

    @property
    def change_lsn(self) -> str | None:
        """The change's LSN (None for snapshot reads)."""
        change: str | None = self._details[1]
        return change

    @property
    def event_serial_no(self) -> int:
        """Debezium's serial number of events at one change LSN."""
        serial: int = self._details[2]
        return serial

    def details(self) -> dict[str, Any]:
        """LSNs in SQL Server's own notation, and the serial number."""
        names = ("commit_lsn", "change_lsn", "event_serial_no")
        return dict(zip(names, self._details, strict=True))


def binlog_number(file: str) -> int:
    """The sequence number of a binlog file name such as ``mysql-bin.000042``."""
    _, _, suffix = file.rpartition(".")
    if not suffix.isdigit():
        raise RecordError("bad_position", f"binlog file name '{file}' has no number")
    return int(suffix)


def sqlserver_lsn(text: str) -> int:
    """A SQL Server LSN ``0000002b:00000a30:0003`` as one 80-bit integer."""
    parts = text.split(":")
    if len(parts) != 3:
        raise RecordError("bad_position", "a SQL Server LSN has three parts")
    try:
        vlf, block, slot = (int(part, 16) for part in parts)
    except ValueError as exc:
        raise RecordError("bad_position", "a SQL Server LSN is not hex") from exc
    if (
        vlf >= 1 << 32
        or block >= 1 << 32
        or slot >= 1 << 16
        or min(vlf, block, slot) < 0
    ):
        raise RecordError("bad_position", "a SQL Server LSN part is out of range")
    return (vlf << 48) | (block << 16) | slot
