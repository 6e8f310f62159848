"""Ordering and dedupe of the latest-row state, property-tested."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lifeline.decode.change import UNCHANGED, ChangeEvent
from lifeline.decode.position import MYSQL, POSTGRES, SourcePosition
from lifeline.decode.records import Coordinates
from lifeline.join.latest import LatestRows

_AT = Coordinates("erp.erp.customers", 0, 0)


def event(row_id: int, pos: int, op: str) -> ChangeEvent:
    after = None if op == "d" else {"id": row_id, "version": pos}
    return ChangeEvent(
        "erp",
        "erp",
        "customers",
        op,
        {"id": row_id},
        None,
        after,
        SourcePosition(MYSQL, (1, pos, 0)),
        0,
        None,
        None,
        _AT,
    )


clean_streams = st.lists(
    st.tuples(st.integers(1, 4), st.sampled_from(["c", "u", "d"])), max_size=30
).map(lambda ops: [event(row, pos * 10, op) for pos, (row, op) in enumerate(ops, 1)])


def final(rows: LatestRows) -> dict[object, object]:
    return {key: row for key, (_, row) in rows.rows.items() if row is not None}


@given(clean_streams, st.data())
def test_any_duplication_or_replay_reaches_the_clean_final_state(
    stream: list[ChangeEvent], data: st.DataObject
) -> None:
    clean = LatestRows.empty()
    clean.apply(stream)
    # Per key, Kafka keeps order; duplicates and replays of earlier prefixes
    # are what at-least-once delivery adds. Interleave keys freely.
    noisy: list[ChangeEvent] = []
    for item in stream:
        noisy.append(item)
        if data.draw(st.booleans()):
            noisy.append(item)
        if data.draw(st.booleans()) and noisy:
            noisy.extend(noisy[: data.draw(st.integers(0, len(noisy)))])
    by_key: dict[str, list[ChangeEvent]] = {}
    for item in noisy:
        by_key.setdefault(item.row_id, []).append(item)
    shuffled = data.draw(st.permutations(list(by_key)))
    replayed = LatestRows.empty()
    for key in shuffled:
        replayed.apply(by_key[key])
    assert final(replayed) == final(clean)


def test_equal_position_is_a_duplicate() -> None:
    rows = LatestRows.empty()
    first = rows.apply([event(1, 10, "c")])
    again = rows.apply([event(1, 10, "c")])
    assert len(first) == 1
    assert again == []
    assert rows.dropped == 1


def _pg(row_id: int, lsn: int, op: str, after: dict[str, object] | None) -> ChangeEvent:
    key = {} if op == "t" else {"id": row_id}
    return ChangeEvent(
        "identity",
        "public",
        "users",
        op,
        key,
        None,
        after,
        SourcePosition(POSTGRES, (lsn, lsn, 0)),
        0,
        None,
        None,
        _AT,
    )


def test_unchanged_toast_columns_are_filled_from_the_last_known_row() -> None:
    rows = LatestRows.empty()
    rows.apply([_pg(1, 10, "c", {"id": 1, "bio": "long text", "name": "A"})])
    (change,) = rows.apply([_pg(1, 20, "u", {"id": 1, "bio": UNCHANGED, "name": "B"})])
    assert change.row == {"id": 1, "bio": "long text", "name": "B"}


def test_truncate_deletes_every_row_of_its_table_and_messages_change_nothing() -> None:
    rows = LatestRows.empty()
    rows.apply([_pg(1, 10, "c", {"id": 1}), _pg(2, 11, "c", {"id": 2})])
    rows.apply([event(7, 5, "c")])  # another table keeps its row
    assert rows.apply([_pg(0, 12, "m", None)]) == []
    gone = rows.apply([_pg(0, 30, "t", None)])
    assert sorted(c.row_id for c in gone) == ["1", "2"]
    assert all(c.row is None for c in gone)
    assert set(final(rows)) == {("erp", "customers", "7")}
    assert rows.apply([_pg(1, 20, "u", {"id": 1})]) == []  # older than the truncate
