"""Source positions: where in a database's log a change was read.

A position is comparable only with positions of the same connector kind. Its
``key`` is a tuple of integers whose natural order is the order in which the
database applied the changes *to one row*, which is what ordering and
deduplication per primary key need:

* PostgreSQL: ``(lsn,)`` - the change's own WAL position. Row locks mean two
  changes to one row are in WAL order of their commits; a re-snapshot reads at
  a later LSN than anything streamed before it.
* MySQL/MariaDB: ``(binlog file number, event position, row in event)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifeline.errors import RecordError

POSTGRES = "postgresql"
MYSQL = "mysql"


@dataclass(frozen=True, slots=True, order=True)
class SourcePosition:
    """A comparable log position; order by ``(kind, key)``."""

    kind: str
    key: tuple[int, ...]

    def encode(self) -> str:
        """A string whose byte order equals the position order (for Redis)."""
        return self.kind[0] + ":" + ".".join(f"{part:016x}" for part in self.key)

    def __str__(self) -> str:
        return f"{self.kind}:{'/'.join(str(part) for part in self.key)}"


def position_from_source(connector: str, source: dict[str, Any]) -> SourcePosition:
    """Read the position out of a Debezium ``source`` block."""
    if connector == POSTGRES:
        lsn = source.get("lsn")
        if not isinstance(lsn, int):
            raise RecordError(
                "missing_field", "source.lsn is missing or not an integer"
            )
        return SourcePosition(POSTGRES, (lsn,))
    if connector in (MYSQL, "mariadb"):
        file, pos = source.get("file"), source.get("pos")
        if not isinstance(file, str) or not isinstance(pos, int):
            raise RecordError("missing_field", "source.file/source.pos are missing")
        return SourcePosition(MYSQL, (binlog_number(file), pos, source.get("row") or 0))
    raise RecordError(
        "unknown_connector", f"source.connector '{connector}' is not supported"
    )


def binlog_number(file: str) -> int:
    """The sequence number of a binlog file name such as ``mysql-bin.000042``."""
    _, _, suffix = file.rpartition(".")
    if not suffix.isdigit():
        raise RecordError("bad_position", f"binlog file name '{file}' has no number")
    return int(suffix)
