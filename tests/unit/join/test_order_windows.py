"""Order windows: one burst per order, a watermark, late lines set aside."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.decode.position import MYSQL, SourcePosition
from lifeline.join.latest import RowChange
from lifeline.join.windows import (
    NOT_IN_WINDOW,
    ORDER_DELETED,
    SNAPSHOT,
    TIME,
    TRANSACTION,
    WINDOW_CLOSED,
    OrderWindows,
    WindowConfig,
    WindowOutput,
)

CONFIG = WindowConfig(order_window_ms=2000, snapshot_window_ms=60_000, lateness_ms=1000)
T0 = 1_764_800_000_000
_positions = itertools.count(100)


def header(
    order_id: int,
    ts: int,
    *,
    tx: str | None = None,
    snapshot: str | None = None,
    old: dict[str, Any] | None = None,
    deleted: bool = False,
) -> RowChange:
    row = {"id": order_id, "order_no": f"O-{order_id}", "customer_id": 1}
    return RowChange(
        "erp",
        "orders",
        str(order_id),
        old,
        None if deleted else row,
        SourcePosition(MYSQL, (1, next(_positions), 0)),
        ts,
        tx,
        snapshot,
    )


def line(
    line_id: int,
    order_id: int,
    ts: int,
    *,
    tx: str | None = None,
    snapshot: str | None = None,
    sku: str = "SW-1",
) -> RowChange:
    row = {"id": line_id, "order_id": order_id, "line_no": line_id, "sku": sku}
    return RowChange(
        "erp",
        "order_lines",
        str(line_id),
        None,
        row,
        SourcePosition(MYSQL, (1, next(_positions), 0)),
        ts,
        tx,
        snapshot,
    )


def other(ts: int) -> RowChange:
    """Another order appearing: it moves the watermark."""
    return header(999_000 + ts % 1000, ts)


def lines_of(output: WindowOutput, order_id: int) -> list[str]:
    (burst,) = [b for b in output.bursts if b.header.row_id == str(order_id)]
    return [change.row_id for change in burst.lines]


def test_a_transaction_is_one_burst_and_another_transaction_is_not_in_it() -> None:
    windows = OrderWindows()
    first = windows.take([header(1, T0, tx="tx-1"), line(11, 1, T0, tx="tx-1")], CONFIG)
    assert first == WindowOutput()  # the watermark has not passed the order yet
    second = windows.take(
        [line(12, 1, T0, tx="tx-1"), line(13, 1, T0 + 500, tx="tx-2")], CONFIG
    )
    assert [late.reason for late in second.late] == [NOT_IN_WINDOW]
    assert second.late[0].change.row_id == "13"
    closed = windows.take([other(T0 + 1001)], CONFIG)
    assert lines_of(closed, 1) == ["11", "12"]
    assert closed.bursts[0].grouping == TRANSACTION


def test_without_transaction_ids_the_window_is_source_time() -> None:
    windows = OrderWindows()
    windows.take([line(21, 2, T0 + 300)], CONFIG)  # before its header
    windows.take([header(2, T0), line(22, 2, T0 + 2000)], CONFIG)
    outside = windows.take([line(23, 2, T0 + 2001)], CONFIG)
    assert [(late.change.row_id, late.reason) for late in outside.late] == [
        ("23", NOT_IN_WINDOW)
    ]
    assert windows.take([other(T0 + 3000)], CONFIG) == WindowOutput()  # end = mark
    closed = windows.take([other(T0 + 3001)], CONFIG)
    assert lines_of(closed, 2) == ["21", "22"]
    assert closed.bursts[0].grouping == TIME


def test_a_line_after_its_window_closed_is_late() -> None:
    windows = OrderWindows()
    windows.take([header(3, T0), line(31, 3, T0 + 100)], CONFIG)
    closed = windows.take([other(T0 + 5000)], CONFIG)
    assert lines_of(closed, 3) == ["31"]
    late = windows.take([line(32, 3, T0 + 150)], CONFIG)
    assert late.bursts == ()
    assert [(x.change.row_id, x.order_id, x.reason) for x in late.late] == [
        ("32", "3", WINDOW_CLOSED)
    ]
    assert late.late[0].watermark_ms == T0 + 4000


def test_a_late_header_closes_at_once_with_the_lines_that_waited() -> None:
    windows = OrderWindows()
    windows.take([line(41, 4, T0 + 1900), other(T0 + 3500)], CONFIG)
    assert windows.orphans  # a header within 2 s of it may still come
    output = windows.take([header(4, T0)], CONFIG)  # ends T0 + 2 s: passed
    assert lines_of(output, 4) == ["41"]
    assert "4" not in windows.windows


def test_an_orphan_expires_when_no_header_can_come_in_time() -> None:
    windows = OrderWindows()
    windows.take([line(51, 5, T0)], CONFIG)
    output = windows.take([other(T0 + 3001)], CONFIG)
    assert [(x.change.row_id, x.reason) for x in output.late] == [("51", WINDOW_CLOSED)]
    assert not windows.orphans


def test_the_watermark_never_moves_back() -> None:
    windows = OrderWindows()
    windows.take([other(T0 + 10_000)], CONFIG)
    windows.take([other(T0)], CONFIG)
    assert windows.watermark == T0 + 9000


def test_a_snapshot_groups_by_order_until_both_tables_are_read() -> None:
    windows = OrderWindows()
    first = windows.take(
        [
            header(6, T0, snapshot="first"),
            header(7, T0, snapshot="last_in_data_collection"),
        ],
        CONFIG,
    )
    assert first == WindowOutput()
    # lines are read seconds later, far outside a 2 s window: still theirs
    windows.take(
        [line(61, 6, T0 + 30_000, snapshot="first_in_data_collection")], CONFIG
    )
    assert windows.open
    done = windows.take(
        [line(71, 7, T0 + 31_000, snapshot="last_in_data_collection")], CONFIG
    )
    assert lines_of(done, 6) == ["61"]
    assert lines_of(done, 7) == ["71"]
    assert {burst.grouping for burst in done.bursts} == {SNAPSHOT}


def test_the_latest_change_of_a_line_counts_and_a_deleted_line_leaves() -> None:
    windows = OrderWindows()
    first = line(81, 8, T0)
    changed = line(81, 8, T0, sku="SW-2")
    changed.old = first.row
    second = line(82, 8, T0)
    gone = RowChange(
        "erp", "order_lines", "82", {"id": 82, "order_id": 8}, None,
        SourcePosition(MYSQL, (1, next(_positions), 0)), T0,
    )  # fmt: skip
    windows.take([header(8, T0), first, second, changed, gone], CONFIG)
    output = windows.close(CONFIG, everything=True)
    (burst,) = output.bursts
    assert [(c.row_id, (c.row or {})["sku"]) for c in burst.lines] == [("81", "SW-2")]


def test_an_unchanged_reread_line_is_ignored() -> None:
    windows = OrderWindows()
    again = line(91, 9, T0)
    again.old = again.row
    assert windows.take([again], CONFIG) == WindowOutput()
    assert not windows.open


def test_an_order_deleted_in_its_window_sends_its_lines_aside() -> None:
    windows = OrderWindows()
    placed = header(10, T0)
    windows.take([placed, line(101, 10, T0)], CONFIG)
    output = windows.take([header(10, T0 + 10, old=placed.row, deleted=True)], CONFIG)
    assert output.bursts == ()
    assert [x.reason for x in output.late] == [ORDER_DELETED]


def test_a_changed_header_inside_the_window_replaces_the_placed_one() -> None:
    windows = OrderWindows()
    placed = header(11, T0)
    updated = header(11, T0 + 5, old=placed.row)
    assert updated.row is not None
    updated.row["order_no"] = "O-11b"
    windows.take([placed, updated], CONFIG)
    (burst,) = windows.close(CONFIG, everything=True).bursts
    assert (burst.header.row or {})["order_no"] == "O-11b"


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(4)), st.booleans())
def test_any_arrival_order_within_the_lateness_gives_one_full_burst(
    order: list[int], with_tx: bool
) -> None:
    tx = "tx-9" if with_tx else None
    # one transaction commits once; separate statements spread over time
    changes = [header(12, T0, tx=tx)] + [
        line(120 + i, 12, T0 if with_tx else T0 + 400 * i, tx=tx) for i in range(1, 4)
    ]
    windows = OrderWindows()
    outputs = [windows.take([changes[i]], CONFIG) for i in order]
    outputs.append(windows.close(CONFIG, everything=True))
    bursts = [burst for output in outputs for burst in output.bursts]
    assert not [late for output in outputs for late in output.late]
    (burst,) = bursts
    assert [c.row_id for c in burst.lines] == ["121", "122", "123"]
