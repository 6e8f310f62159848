"""Source positions: ordering per connector, ties, encoding, pickling."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifeline.decode.position import (
    MYSQL,
    BinlogPosition,
    PostgresPosition,
    SourcePosition,
    SqlServerPosition,
    sqlserver_lsn,
)
from lifeline.decode.source_info import position_from_source
from lifeline.errors import RecordError
from tests.unit.decode.builders import mysql_source, pg_source

OPS = st.sampled_from(["r", "c", "u", "d", "t", "m"])
keys = st.lists(st.integers(0, 2**80 - 1), min_size=4, max_size=4).map(tuple)


@given(st.sampled_from(["postgresql", "mysql", "sqlserver"]), keys, keys)
def test_encoding_orders_like_positions(
    kind: str, a: tuple[int, ...], b: tuple[int, ...]
) -> None:
    if kind != "sqlserver":
        a = tuple(part % 2**64 for part in a)
        b = tuple(part % 2**64 for part in b)
    left, right = SourcePosition(kind, a), SourcePosition(kind, b)
    assert (left < right) == (left.encode() < right.encode())
    assert (left == right) == (left.encode() == right.encode())


@st.composite
def pg_streams(draw: st.DrawFn) -> list[tuple[int, int | None]]:
    """Changes as pgoutput streams them: whole transactions in commit order.

    Transactions interleave in the WAL; each change carries its own LSN and
    the end LSN of the previous commit (None before the first commit seen).
    """
    count = draw(st.integers(1, 6))
    sizes = [draw(st.integers(1, 4)) for _ in range(count)]
    # lay out every change and commit record in the WAL, interleaved
    slots = [(tx, i) for tx, size in enumerate(sizes) for i in range(size + 1)]
    order = draw(st.permutations(slots))
    lsn_of = {slot: 100 + 10 * n for n, slot in enumerate(order)}
    # a transaction's commit record is written after all its changes
    commit = {
        tx: max(lsn_of[(tx, i)] for i in range(sizes[tx] + 1)) for tx in range(count)
    }
    changes = {
        tx: sorted(
            lsn_of[(tx, i)]
            for i in range(sizes[tx] + 1)
            if lsn_of[(tx, i)] != commit[tx]
        )
        for tx in range(count)
    }
    stream: list[tuple[int, int | None]] = []
    last_commit: int | None = None
    for tx in sorted(range(count), key=commit.__getitem__):
        stream.extend((lsn, last_commit) for lsn in changes[tx])
        last_commit = commit[tx] + 1
    return stream


@given(pg_streams())
def test_postgres_order_follows_the_stream_not_the_raw_lsn(
    stream: list[tuple[int, int | None]],
) -> None:
    positions = [PostgresPosition(lsn, commit, None, "u") for lsn, commit in stream]
    assert sorted(positions) == positions
    assert len(set(positions)) == len(positions)


def test_postgres_interleaved_transactions() -> None:
    # tx A writes at 100, tx B writes at 110 and commits at 120, A commits at 130
    b_change = PostgresPosition(110, 90, 2, "u")
    a_change = PostgresPosition(100, 121, 1, "u")
    assert b_change < a_change


def test_postgres_snapshot_sorts_at_its_lsn() -> None:
    snapshot = position_from_source("postgresql", pg_source(500, snapshot="true"), "r")
    later = position_from_source("postgresql", pg_source(510, commit=505), "u")
    earlier = position_from_source("postgresql", pg_source(490, commit=480), "u")
    assert earlier < snapshot < later


@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(4, 10**6), st.integers(0, 50)),
        min_size=2,
        max_size=20,
        unique=True,
    )
)
def test_binlog_order_is_file_then_position_then_row(
    coords: list[tuple[int, int, int]],
) -> None:
    positions = [BinlogPosition(f"mysql-bin.{f:06d}", p, r, "u") for f, p, r in coords]
    assert [(p.file, p.pos, p.row) for p in sorted(positions)] == [
        (f"mysql-bin.{f:06d}", p, r) for f, p, r in sorted(coords)
    ]


def test_binlog_rotation_orders_by_file_number() -> None:
    end_of_file = BinlogPosition("mysql-bin.000009", 10**9, 0, "c")
    next_file = BinlogPosition("mysql-bin.000010", 4, 0, "c")
    assert end_of_file < next_file


def test_same_position_ties_break_by_op() -> None:
    # a primary key change: delete of the old key, then create of the new one
    source = mysql_source(900, row=1)
    delete = position_from_source("mysql", source, "d")
    create = position_from_source("mysql", source, "c")
    read = position_from_source("mysql", source, "r")
    assert read < delete < create
    assert position_from_source("mysql", source, "c") == create
    pg = pg_source(700, commit=650)
    assert position_from_source("postgresql", pg, "d") < position_from_source(
        "postgresql", pg, "c"
    )


def test_sqlserver_lsns() -> None:
    assert (
        sqlserver_lsn("00000025:00000d08:0025") == (0x25 << 48) | (0xD08 << 16) | 0x25
    )
    first = SqlServerPosition(
        "00000025:00000d08:0026", "00000025:00000d08:0025", 1, "d"
    )
    second = SqlServerPosition(
        "00000025:00000d08:0026", "00000025:00000d08:0025", 2, "c"
    )
    later_tx = SqlServerPosition(
        "00000025:00000d10:0002", "00000025:00000d10:0001", 1, "u"
    )
    snapshot = SqlServerPosition("00000025:00000d08:0026", None, 0, "r")
    assert snapshot < first < second < later_tx
    assert first.encode() < second.encode() < later_tx.encode()
    source = {
        "connector": "sqlserver",
        "commit_lsn": "00000025:00000d08:0026",
        "change_lsn": "00000025:00000d08:0025",
        "event_serial_no": 2,
    }
    assert position_from_source("sqlserver", source, "c") == second
    for bad in ("zz:00:00", "1:2", "100000000:0:0"):
        with pytest.raises(RecordError):
            sqlserver_lsn(bad)


@pytest.mark.parametrize(
    "position",
    [
        PostgresPosition(10, 5, 770, "u"),
        PostgresPosition(10, None, None, "r"),
        BinlogPosition("mysql-bin.000003", 4711, 2, "d", "3e11fa47-71ca:23", 184054),
        SqlServerPosition("00000025:00000d08:0026", None, 0, "r"),
        SourcePosition(MYSQL, (1, 2, 3)),
    ],
)
def test_positions_pickle_copy_and_stay_immutable(position: SourcePosition) -> None:
    for clone in (pickle.loads(pickle.dumps(position)), copy.deepcopy(position)):
        assert clone == position
        assert type(clone) is type(position)
        assert clone.details() == position.details()
        assert hash(clone) == hash(position)
    with pytest.raises(AttributeError):
        position.key = (0,)


def test_base_and_connector_positions_compare() -> None:
    assert SourcePosition(
        MYSQL, BinlogPosition("b.000001", 5, 0, "c").key
    ) == BinlogPosition("b.000001", 5, 0, "c")
    assert SourcePosition(MYSQL, (1, 2, 0)) <= SourcePosition(MYSQL, (1, 2, 0))


def test_bad_position_values() -> None:
    with pytest.raises(RecordError):
        position_from_source("postgresql", pg_source(1) | {"lsn": -1}, "c")
    with pytest.raises(RecordError):
        position_from_source("mysql", mysql_source(1) | {"pos": "12"}, "c")
    with pytest.raises(ValueError):
        SourcePosition(MYSQL, (-1,))


def test_a_postgres_incremental_snapshot_read_without_lsn_takes_its_sequence() -> None:
    # Debezium sends PostgreSQL incremental-snapshot reads with lsn null.
    read_source = pg_source(0, snapshot="incremental") | {"lsn": None}
    read_source["sequence"] = '["600","640"]'
    read = position_from_source("postgresql", read_source, "r")
    assert read.details()["lsn"] == 640
    earlier = position_from_source("postgresql", pg_source(620, commit=610), "u")
    later = position_from_source("postgresql", pg_source(700, commit=650), "u")
    assert earlier < read < later
    bare = read_source | {"sequence": None}
    assert position_from_source("postgresql", bare, "r") < earlier
    with pytest.raises(RecordError, match=r"source\.lsn is missing"):
        position_from_source("postgresql", bare | {"snapshot": "false"}, "c")
