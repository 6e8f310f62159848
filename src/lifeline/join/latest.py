"""Latest row per (system, table, primary key), ordered by source position.

Debezium delivers at least once, and a connector restart or re-snapshot sends
rows again. A change is applied only when its position is newer than the one
already applied for that row, so duplicates and stale changes are dropped and
state never goes backwards. A delete is remembered (row ``None``) with its
position, so an older change arriving late cannot bring the row back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lifeline.decode.change import TOMBSTONE, UNCHANGED, ChangeEvent, Row
from lifeline.decode.position import SourcePosition
from lifeline.delta_dict import DeltaDict

RowKey = tuple[str, str, str]  # (system, table, row id)


@dataclass(slots=True)
class RowChange:
    """The current row of one source row changed (``row`` None: deleted).

    ``tx_id`` is the source transaction's id when the connector sends
    transaction metadata; ``snapshot`` the change event's snapshot marker
    (None when streaming).
    """

    system: str
    table: str
    row_id: str
    old: Row | None
    row: Row | None
    position: SourcePosition
    ts_ms: int
    tx_id: str | None = None
    snapshot: str | None = None


@dataclass(frozen=True, slots=True)
class Dropped:
    """Changes of one call not applied: at the applied position, or older."""

    duplicates: int = 0
    stale: int = 0


@dataclass(slots=True)
class LatestRows:
    """State of one key group: the last applied position and row per key."""

    rows: DeltaDict[RowKey, tuple[SourcePosition, Row | None]]
    dropped: int = 0

    @classmethod
    def empty(cls) -> LatestRows:
        """State with no rows."""
        return cls(rows=DeltaDict())

    def apply(self, events: Iterable[ChangeEvent]) -> list[RowChange]:
        """Apply events in order; return the row changes that took effect.

        Tombstones and logical-decoding messages change no row; a truncate
        deletes every row of its table that this state holds.
        """
        return self.apply_counted(events)[0]

    def apply_counted(
        self, events: Iterable[ChangeEvent]
    ) -> tuple[list[RowChange], Dropped]:
        """Like :meth:`apply`, also saying how many changes were dropped."""
        changes: list[RowChange] = []
        rows = self.rows
        duplicates = stale = 0
        for event in events:
            if event.op in _NOT_ROWS or event.position is None:
                continue
            if event.op == "t":
                changes.extend(self._truncate(event))
                continue
            key = (event.system, event.table, event.row_id)
            previous = rows.get(key)
            if previous is not None and event.position <= previous[0]:
                self.dropped += 1
                if event.position == previous[0]:
                    duplicates += 1
                else:
                    stale += 1
                continue
            old = previous[1] if previous is not None else None
            row = None if event.op == "d" else _fill_unchanged(event.after, old)
            if old is None and row is None:
                rows[key] = (event.position, None)
                continue
            rows[key] = (event.position, row)
            changes.append(
                RowChange(
                    event.system,
                    event.table,
                    event.row_id,
                    old,
                    row,
                    event.position,
                    event.ts_ms,
                    event.tx_id,
                    event.snapshot,
                )
            )
        return changes, Dropped(duplicates, stale)

    def _truncate(self, event: ChangeEvent) -> list[RowChange]:
        at = event.position
        if at is None:
            return []
        table = (event.system, event.table)
        gone = [
            (key, row)
            for key, (position, row) in self.rows.items()
            if key[:2] == table and row is not None and position < at
        ]
        for key, _ in gone:
            self.rows[key] = (at, None)
        return [RowChange(*key, row, None, at, event.ts_ms) for key, row in gone]


_NOT_ROWS = frozenset({TOMBSTONE, "m"})


def _fill_unchanged(row: Row | None, old: Row | None) -> Row | None:
    """Fill unchanged-TOAST markers from the last known row.

    Without a last known row the marker stays: it is rendered as an explicit
    ``{"$unchanged": true}``, never as a value.
    """
    if row is None or old is None or not any(v is UNCHANGED for v in row.values()):
        return row
    return {
        column: old.get(column, value) if value is UNCHANGED else value
        for column, value in row.items()
    }


def latest_rows_step(
    state: LatestRows | None, events: list[ChangeEvent]
) -> tuple[LatestRows, list[list[RowChange]]]:
    """Bytewax ``stateful_flat_map`` mapper: one output list per input list."""
    return counting_latest_rows_step(None)(state, events)


def counting_latest_rows_step(
    on_dropped: Callable[[Dropped], None] | None,
) -> Callable[
    [LatestRows | None, list[ChangeEvent]], tuple[LatestRows, list[list[RowChange]]]
]:
    """:func:`latest_rows_step` that reports each call's drops to ``on_dropped``."""

    def step(
        state: LatestRows | None, events: list[ChangeEvent]
    ) -> tuple[LatestRows, list[list[RowChange]]]:
        if state is None:
            state = LatestRows.empty()
        changes, dropped = state.apply_counted(events)
        if on_dropped is not None and (dropped.duplicates or dropped.stale):
            on_dropped(dropped)
        return state, [changes] if changes else []

    return step
