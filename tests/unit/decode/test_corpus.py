"""The decoder against real records captured from Debezium (tests/corpus)."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from lifeline.decode.batch import BatchDecoder
from lifeline.decode.change import UNCHANGED, ChangeEvent, TransactionBoundary
from lifeline.decode.command import build_decoder, parse_record
from lifeline.decode.position import BinlogPosition, PostgresPosition
from tests.corpus.capture import decoded
from tests.corpus.zoo import PLACEHOLDER, VARIANTS

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def is_avro(variant: str) -> bool:
    return VARIANTS[variant].get("avro") == "true"


def events(variant: str) -> list[ChangeEvent | TransactionBoundary]:
    avro = is_avro(variant)
    decoder: BatchDecoder = build_decoder(
        "avro" if avro else "json",
        CORPUS / "avro-schemas" if avro else None,
        None,
        PLACEHOLDER,
    )
    lines = (CORPUS / f"{variant}.jsonl").read_bytes().splitlines()
    batch = decoder.decode_all(parse_record(line, avro) for line in lines)
    assert batch.dead_letters == []
    return [*batch.events, *batch.boundaries]


def changes(variant: str) -> list[ChangeEvent]:
    return [e for e in events(variant) if isinstance(e, ChangeEvent)]


def first(variant: str, op: str, row_id: int) -> ChangeEvent:
    return next(e for e in changes(variant) if e.op == op and e.key.get("id") == row_id)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_output_matches_the_reviewed_expectation(variant: str) -> None:
    got = decoded(variant).splitlines()
    want = (CORPUS / "expected" / f"{variant}.jsonl").read_bytes().splitlines()
    assert len(got) == len(want)
    for number, (line, expected) in enumerate(zip(got, want, strict=True), 1):
        assert orjson.loads(line) == orjson.loads(expected), f"line {number}"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_positions_follow_the_log_order(variant: str) -> None:
    table = [e for e in changes(variant) if e.table == "type_zoo"]
    table.sort(key=lambda e: e.coordinates.offset)
    streamed = [e.position for e in table if e.snapshot is None and e.position]
    assert streamed == sorted(streamed)
    assert len(set(streamed)) == len(streamed)
    snapshot = [e.position for e in table if e.snapshot and e.position]
    assert snapshot and max(snapshot) < min(streamed)


@pytest.mark.parametrize("variant", ["zpa", "zpc", "zpe"])
def test_decimals_agree_across_modes_and_formats(variant: str) -> None:
    after = first(variant, "c", 3).after
    assert after is not None
    exact = "12345678901234567890.123456789012"
    expected = Decimal(exact) if VARIANTS[variant]["decimal"] == "precise" else exact
    assert after["num_free"] == expected
    assert str(after["num_v"]) == "123456789.123"
    assert str(after["money_v"]) == "1234.56"


def test_double_mode_and_connect_time() -> None:
    after = first("zpd", "c", 3).after
    assert after is not None
    assert after["num_v"] == pytest.approx(123456789.123)
    assert after["t6"].isoformat() == "23:59:59.999000"  # connect: milliseconds


@pytest.mark.parametrize("variant", ["zpa", "zpb", "zpc", "zpd", "zpe"])
def test_unchanged_toast_columns_become_the_marker(variant: str) -> None:
    update = first(variant, "u", 3)
    assert update.before is None  # REPLICA IDENTITY DEFAULT
    assert update.after is not None
    for column in ("big_txt", "big_bin", "jsb", "arr_txt"):
        assert update.after[column] is UNCHANGED, column
    assert update.after["small_v"] == 7


@pytest.mark.parametrize("variant", ["zpa", "zpe"])
def test_postgres_special_values(variant: str) -> None:
    after = first(variant, "c", 4).after
    assert after is not None
    assert after["ts_inf"].year == 9999  # 'infinity'
    assert str(after["t"]) == "1 day, 0:00:00"  # '24:00:00'
    assert after["num_free"] is None  # NaN has no precise form: Debezium sends null
    raw = first(variant, "c", 3).after
    assert raw is not None and raw["bits"] == "1000000101"
    assert raw["bin"] == b"\x00\xff\x10"


def test_postgres_envelope_shapes() -> None:
    found = changes("zpa")
    ops = [e.op for e in found]
    assert {"r", "c", "u", "d", "tombstone", "m", "t"} <= set(ops)
    assert [e.snapshot for e in found if e.op == "r"] == ["first", "last"]
    delete = first("zpa", "d", 2)
    assert delete.before == {"id": 2} | {
        k: None for k in delete.before or {} if k != "id"
    }
    message = next(e for e in found if e.op == "m")
    assert message.message is not None
    assert (message.message.prefix, message.message.content) == ("audit", b"hello")
    added = first("zpa", "c", 5).after
    assert added is not None and added["added"] == "added"
    assert "added" not in (first("zpa", "c", 6).after or {})
    tx = first("zpa", "u", 7).transaction
    assert tx is not None and tx.total_order == 2


def test_transaction_topic_pairs_begin_and_end() -> None:
    for variant in ("zpa", "zma"):
        bounds = [e for e in events(variant) if isinstance(e, TransactionBoundary)]
        statuses = [b.status for b in bounds]
        assert statuses.count("BEGIN") == statuses.count("END") > 0


def test_mysql_key_change_in_one_rows_event() -> None:
    found = changes("zma")
    delete = first("zma", "d", 1)
    create = first("zma", "c", 101)
    assert isinstance(delete.position, BinlogPosition)
    assert isinstance(create.position, BinlogPosition)
    assert (delete.position.pos, delete.position.row) == (
        create.position.pos,
        create.position.row,
    )
    assert delete.position < create.position
    second = first("zma", "d", 2)
    assert second.position is not None and create.position < second.position
    assert "t" in [e.op for e in found]


@pytest.mark.parametrize("variant", ["zma", "zmc", "zme"])
def test_mysql_types(variant: str) -> None:
    after = first(variant, "c", 3).after
    assert after is not None
    assert str(after["dec_big"]) == "1234567890123456789012345678.1234567890"
    assert str(after["tm"]) == "-35 days, 1:00:01"  # -838:59:59
    assert after["st"] == ("x", "z")
    assert after["bits"] == "1000000101"
    assert after["zero_d"] is None  # a zero date in a nullable column


def test_mysql_payload_only_stays_as_sent() -> None:
    after = first("zmb", "c", 3).after
    assert after is not None
    assert base64.b64decode(after["bin"]) == b"\x00\xff\x10"
    assert isinstance(first("zpb", "c", 3).position, PostgresPosition)
