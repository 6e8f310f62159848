"""Causes: the source row changes behind a golden record's update."""

from __future__ import annotations

from dataclasses import dataclass

from lifeline.decode.position import SourcePosition
from lifeline.join.latest import RowChange


@dataclass(frozen=True, slots=True)
class Cause:
    """A source change behind a golden record's update (for lineage and ids).

    ``ref`` is ``system:id`` of the row that changed: a party's ref for its
    own row, else the row's primary key (:attr:`RowChange.row_id`).
    """

    ref: str
    system: str
    table: str
    position: SourcePosition
    ts_ms: int

    @classmethod
    def of(cls, change: RowChange) -> Cause:
        """The cause naming ``change``'s row, at its position and commit time."""
        ref = f"{change.system}:{change.row_id}"
        return cls(ref, change.system, change.table, change.position, change.ts_ms)
