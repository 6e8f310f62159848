"""Coalescing an order and its lines into one burst, with a watermark.

An ERP writes an order as a header row and line rows, usually in one
transaction, and Debezium sends each row as its own change on its own
topic. :class:`OrderWindows` gathers them again: a window opens when an
order appears (its header's first change) and takes the line changes that
belong to it, and when it closes the order leaves as one
:class:`OrderBurst`, from which one ``OrderPlaced`` is published.

A line belongs to its order's window when

* both carry a transaction id (the connector sends transaction metadata):
  the ids are equal;
* both are snapshot reads: a snapshot is one consistent read, so every line
  of the order;
* otherwise: its commit time is within ``order_window`` of the order's (the
  commit time of the header's first change, which anchors the window).

The **watermark** is the latest source commit time seen minus the allowed
lateness; it never moves back. A window ends at the order's commit time
(transaction), that plus ``order_window`` (time), or that plus
``snapshot_window`` (snapshot; sooner once both tables' snapshots are
complete), and closes when the watermark passes its end. When the input has
been idle for the idle timeout (wall clock), or at the end of the input,
every window closes: nothing more is coming that could join it.

A line change no burst takes is *late*: it is handed back as a
:class:`LateLine` (the flow writes it to a side topic) and is otherwise
applied like any change (the row cache has it); an ``OrderPlaced`` already
sent is not sent again. Lines that arrive before their header wait for it
(*orphans*) until the watermark says the header cannot come in time.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Final

from lifeline.decode.change import Row
from lifeline.join.latest import RowChange
from lifeline.settings import WindowSettings

ORDERS, ORDER_LINES = "orders", "order_lines"
WINDOW_TABLES: Final = frozenset({ORDERS, ORDER_LINES})

# How a window groups its changes.
TRANSACTION, TIME, SNAPSHOT = "transaction", "time", "snapshot"
# Why a line change is late.
WINDOW_CLOSED = "window_closed"  # no window of its order took it in time
NOT_IN_WINDOW = "not_in_window"  # another transaction, or outside the span
ORDER_DELETED = "order_deleted"  # its order was deleted inside its window

_SNAPSHOT_STARTS = frozenset({"first", "first_in_data_collection"})
_SNAPSHOT_ENDS = frozenset({"last", "last_in_data_collection"})


@dataclass(frozen=True, slots=True)
class WindowConfig:
    """Window spans and lateness in milliseconds of source commit time."""

    order_window_ms: int = 2000
    snapshot_window_ms: int = 60_000
    lateness_ms: int = 1000
    idle_timeout: float = 1.0  # seconds of wall clock

    @classmethod
    def from_settings(cls, settings: WindowSettings) -> WindowConfig:
        """The config of ``LIFELINE_WINDOWS__*``."""
        return cls(
            round(settings.order_window * 1000),
            round(settings.snapshot_window * 1000),
            round(settings.allowed_lateness * 1000),
            settings.idle_timeout,
        )


@dataclass(frozen=True, slots=True)
class OrderBurst:
    """An order's header change and the line changes coalesced with it.

    ``header`` is the header's latest change inside the window, ``lines``
    the latest change of each line still present, by line number.
    """

    header: RowChange
    lines: tuple[RowChange, ...]
    grouping: str  # transaction | time | snapshot


@dataclass(frozen=True, slots=True)
class LateLine:
    """A line change no burst took, and why (see the module reasons)."""

    change: RowChange
    order_id: str
    reason: str
    watermark_ms: int | None


@dataclass(frozen=True, slots=True)
class WindowOutput:
    """What one call closed: bursts for the resolver, late lines aside."""

    bursts: tuple[OrderBurst, ...] = ()
    late: tuple[LateLine, ...] = ()


@dataclass(slots=True)
class _Window:
    header: RowChange  # the latest change of the order's header
    grouping: str
    start_ms: int  # the first header change's commit time
    tx_id: str | None
    end_ms: int
    lines: dict[str, RowChange] = field(default_factory=dict)


@dataclass(slots=True)
class OrderWindows:
    """Open windows, orphan lines and the watermark (the step's state).

    ``window_ends`` and ``orphan_ends`` are heaps of (end, order id), so a
    call looks only at what the watermark passed; entries of windows closed
    otherwise are skipped when they come up.
    """

    windows: dict[str, _Window] = field(default_factory=dict)
    orphans: dict[str, list[RowChange]] = field(default_factory=dict)
    max_ts: int | None = None
    watermark: int | None = None
    snapshot_done: set[str] = field(default_factory=set)
    window_ends: list[tuple[int, str]] = field(default_factory=list)
    orphan_ends: list[tuple[int, str]] = field(default_factory=list)
    snapshots_completed: bool = False  # both tables' snapshots just completed

    @property
    def open(self) -> bool:
        """True while a window or an orphan line waits."""
        return bool(self.windows or self.orphans)

    def take(self, changes: list[RowChange], config: WindowConfig) -> WindowOutput:
        """Apply a batch of order and line changes; close what it ends."""
        late: list[LateLine] = []
        for change in changes:
            self._observe(change)
            if change.table == ORDERS:
                late.extend(self._header(change, config))
            elif change.table == ORDER_LINES and change.old != change.row:
                late.extend(self._line(change, config))
        if changes:
            self._advance(max(change.ts_ms for change in changes), config)
        closed = self.close(config)
        return WindowOutput(closed.bursts, tuple(late) + closed.late)

    def close(self, config: WindowConfig, *, everything: bool = False) -> WindowOutput:
        """Close the windows the watermark passed (all with ``everything``)."""
        sweep = everything or self.snapshots_completed
        self.snapshots_completed = False
        ids = self._due_windows()
        if sweep:
            ids += [
                order_id
                for order_id, window in self.windows.items()
                if everything or window.grouping == SNAPSHOT
            ]
        bursts = [self._burst(order_id) for order_id in dict.fromkeys(ids)]
        waiting = _due(self.orphan_ends, self.watermark)
        if sweep:
            waiting += list(self.orphans)
        late = [
            LateLine(change, order_id, WINDOW_CLOSED, self.watermark)
            for order_id in dict.fromkeys(waiting)
            for change in self._expired(order_id, config, sweep, everything)
        ]
        return WindowOutput(tuple(bursts), tuple(late))

    def _advance(self, latest: int, config: WindowConfig) -> None:
        """Raise the latest commit time seen and the watermark, never lower."""
        self.max_ts = latest if self.max_ts is None else max(self.max_ts, latest)
        mark = self.max_ts - config.lateness_ms
        self.watermark = mark if self.watermark is None else max(self.watermark, mark)

    def _observe(self, change: RowChange) -> None:
        """Track which tables' snapshots are complete."""
        if change.snapshot in _SNAPSHOT_STARTS:
            self.snapshot_done.discard(change.table)
        elif change.snapshot in _SNAPSHOT_ENDS and change.table in WINDOW_TABLES:
            before = self.snapshot_done >= WINDOW_TABLES
            self.snapshot_done.add(change.table)
            if not before and self.snapshot_done >= WINDOW_TABLES:
                self.snapshots_completed = True

    def _header(self, change: RowChange, config: WindowConfig) -> list[LateLine]:
        order_id = change.row_id
        window = self.windows.get(order_id)
        if window is not None:
            if change.row is not None:
                window.header = change
                return []
            del self.windows[order_id]
            lines = window.lines.values()
            return [LateLine(c, order_id, ORDER_DELETED, self.watermark) for c in lines]
        if change.old is not None or change.row is None:
            return []  # an order placed earlier changed: no new burst
        grouping = _grouping(change)
        end = change.ts_ms + _span(grouping, config)
        window = _Window(change, grouping, change.ts_ms, change.tx_id, end)
        self.windows[order_id] = window
        heapq.heappush(self.window_ends, (end, order_id))
        late = []
        for line in self.orphans.pop(order_id, []):
            if _belongs(line, window, config):
                _add(window, line)
            else:
                late.append(LateLine(line, order_id, NOT_IN_WINDOW, self.watermark))
        return late

    def _line(self, change: RowChange, config: WindowConfig) -> list[LateLine]:
        order_id = _order_of(change)
        window = self.windows.get(order_id)
        if window is None:
            self.orphans.setdefault(order_id, []).append(change)
            heapq.heappush(self.orphan_ends, (_orphan_end(change, config), order_id))
            return []
        if _belongs(change, window, config):
            _add(window, change)
            return []
        return [LateLine(change, order_id, NOT_IN_WINDOW, self.watermark)]

    def _due_windows(self) -> list[str]:
        """Open windows whose end the watermark passed (stale entries dropped)."""
        return [
            order_id
            for end, order_id in _due_entries(self.window_ends, self.watermark)
            if order_id in self.windows and self.windows[order_id].end_ms == end
        ]

    def _burst(self, order_id: str) -> OrderBurst:
        window = self.windows.pop(order_id)
        lines = sorted(
            (line for line in window.lines.values() if line.row is not None),
            key=lambda line: (_line_no(line.row), line.row_id),
        )
        return OrderBurst(window.header, tuple(lines), window.grouping)

    def _expired(
        self, order_id: str, config: WindowConfig, sweep: bool, everything: bool
    ) -> list[RowChange]:
        """Drop and return the orphans whose header can no longer come in time.

        ``sweep``: both snapshots just completed, so no snapshot header is
        still to come; ``everything``: none at all is.
        """
        keep: list[RowChange] = []
        gone: list[RowChange] = []
        for line in self.orphans.pop(order_id, []):
            end = _orphan_end(line, config)
            passed = self.watermark is not None and end < self.watermark
            ended = everything or passed or (sweep and line.snapshot is not None)
            (gone if ended else keep).append(line)
        if keep:
            self.orphans[order_id] = keep
        return gone


def _due_entries(
    heap: list[tuple[int, str]], mark: int | None
) -> list[tuple[int, str]]:
    """Pop the entries whose end ``mark`` passed."""
    due = []
    while heap and mark is not None and heap[0][0] < mark:
        due.append(heapq.heappop(heap))
    return due


def _due(heap: list[tuple[int, str]], mark: int | None) -> list[str]:
    return [order_id for _, order_id in _due_entries(heap, mark)]


def _orphan_end(line: RowChange, config: WindowConfig) -> int:
    """When a waiting line's header can no longer come in time."""
    grouping = SNAPSHOT if line.snapshot is not None else TIME
    return line.ts_ms + _span(grouping, config)


def _grouping(header: RowChange) -> str:
    if header.snapshot is not None:
        return SNAPSHOT
    return TRANSACTION if header.tx_id is not None else TIME


def _span(grouping: str, config: WindowConfig) -> int:
    if grouping == SNAPSHOT:
        return config.snapshot_window_ms
    return 0 if grouping == TRANSACTION else config.order_window_ms


def _belongs(line: RowChange, window: _Window, config: WindowConfig) -> bool:
    if line.tx_id is not None and window.tx_id is not None:
        return line.tx_id == window.tx_id
    if window.grouping == SNAPSHOT:
        return line.snapshot is not None
    return abs(line.ts_ms - window.start_ms) <= config.order_window_ms


def _add(window: _Window, line: RowChange) -> None:
    """Keep the line's latest change (a delete leaves the burst without it)."""
    known = window.lines.get(line.row_id)
    if known is None or known.position < line.position:
        window.lines[line.row_id] = line


def _order_of(line: RowChange) -> str:
    row: Row = line.row if line.row is not None else (line.old or {})
    return str(row.get("order_id"))


def _line_no(row: Row | None) -> int:
    value = (row or {}).get("line_no")
    return value if isinstance(value, int) else 0
