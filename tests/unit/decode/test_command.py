"""``lifeline decode``: JSON lines in, one JSON line out per record."""

from __future__ import annotations

import argparse
import base64
import copy
import io
import pickle
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from lifeline.decode.change import UNCHANGED, Unchanged
from lifeline.decode.command import (
    add_parser,
    build_decoder,
    decode_lifecycle_stream,
    decode_stream,
    run,
)
from lifeline.decode.placeholder import DEFAULT_PLACEHOLDER
from lifeline.decode.render import iso_duration, render_value
from lifeline.errors import FatalError
from lifeline.events.avro import EventCodec
from lifeline.settings import Settings
from tests.unit.decode.builders import (
    col,
    decimal_col,
    envelope,
    pg_source,
    record,
    unscaled_b64,
)
from tests.unit.decode.test_avro import SCHEMAS, avro_record

COLUMNS = [
    col("id", "int32"),
    decimal_col("amount", 2),
    col("seen", "int64", "io.debezium.time.MicroTimestamp"),
    col("notes", "string"),
]


def line(rec: Any, **extra: Any) -> bytes:
    item = {
        "topic": rec.topic,
        "partition": rec.partition,
        "offset": rec.offset,
        "key": None if rec.key is None else rec.key.decode(),
        "value": None if rec.value is None else rec.value.decode(),
        **extra,
    }
    return orjson.dumps(item) + b"\n"


def run_lines(
    lines: list[bytes], fmt: str = "json", schemas: Path | None = None
) -> list[Any]:
    decoder = build_decoder(fmt, schemas, None, "__debezium_unavailable_value")
    out = io.BytesIO()
    decode_stream(decoder, lines, out, fmt == "avro")
    return [orjson.loads(item) for item in out.getvalue().splitlines()]


def test_json_lines_decode_to_normalised_events() -> None:
    after = {
        "id": 1,
        "amount": unscaled_b64("-3.10", 2),
        "seen": 1_700_000_000_123_456,
        "notes": "__debezium_unavailable_value",
    }
    payload = envelope(
        "u", pg_source(2000, commit=1990), after, transaction={"id": "9:1"}
    )
    rec = record(payload, {"id": 1}, COLUMNS, [col("id", "int32")])
    (out,) = run_lines([line(rec)])
    assert out["op"] == "u"
    assert out["source"] == {
        "system": "identity",
        "connector": "postgresql",
        "database": "identity",
        "schema": "public",
        "table": "type_zoo",
    }
    assert out["after"] == {
        "id": 1,
        "amount": "-3.10",
        "seen": "2023-11-14T22:13:20.123456+00:00",
        "notes": {"$unchanged": True},
    }
    assert out["position"]["lsn"] == 2000
    assert out["position"]["commit_lsn"] == 1990
    assert out["position"]["order"].startswith("p:")
    assert out["commit_ts"] == "2025-12-03T22:13:20.000123+00:00"
    assert out["transaction"]["id"] == "9:1"
    assert out["coordinates"] == {"topic": rec.topic, "partition": 0, "offset": 0}


def test_errors_are_lines_too_and_the_run_goes_on() -> None:
    good = record(envelope("c", pg_source(1), {"id": 1}), {"id": 1})
    lines = [
        b"not json\n",
        b'{"topic": "t"}\n',
        b"\n",
        line(good, value="{broken"),
        line(good),
        orjson.dumps(
            {
                "topic": "t",
                "partition": 0,
                "offset": 1,
                "value": "@@",
                "encoding": "base64",
            }
        ),
    ]
    outs = run_lines(lines)
    kinds = [o["error"]["kind"] if "error" in o else o["op"] for o in outs]
    assert kinds == [
        "malformed_input",
        "malformed_input",
        "malformed_input",
        "malformed_json",
        "c",
        "malformed_input",
    ]
    assert outs[5]["error"]["reason"] == "value is not base64"
    error = outs[3]["error"]
    assert base64.b64decode(error["value"]) == b"{broken"
    assert (error["topic"], error["offset"], error["stage"]) == (
        good.topic,
        0,
        "decode",
    )


@pytest.mark.parametrize("fmt", ["json", "lifecycle"])
def test_an_empty_line_is_an_error_line_naming_its_number(fmt: str) -> None:
    good = line(record(envelope("c", pg_source(1), {"id": 1}), {"id": 1}))
    lines = [b"\n", b" \t\r\n", good if fmt == "json" else b"[]\n", b"   "]
    out = io.BytesIO()

    if fmt == "json":
        decoder = build_decoder("json", None, None, DEFAULT_PLACEHOLDER)
        errors = decode_stream(decoder, lines, out, False)
    else:
        errors = decode_lifecycle_stream(EventCodec(), lines, out)

    outs = [orjson.loads(item) for item in out.getvalue().splitlines()]
    assert len(outs) == 4
    empty = [outs[0], outs[1], outs[3]]
    assert [o["error"]["line"] for o in empty] == [1, 2, 4]
    assert {(o["error"]["kind"], o["error"]["reason"]) for o in empty} == {
        ("malformed_input", "line is empty")
    }
    third = outs[2].get("op") or outs[2]["error"]["reason"]
    assert third == ("c" if fmt == "json" else "line is not a JSON object")
    assert errors == (3 if fmt == "json" else 4)


def test_value_given_as_json_object_and_base64() -> None:
    payload = envelope("c", pg_source(1), {"id": 1})
    as_object = orjson.dumps(
        {
            "topic": "a.b.c",
            "partition": 0,
            "offset": 0,
            "key": '{"id":1}',
            "value": payload,
        }
    )
    b64 = base64.b64encode(orjson.dumps(payload)).decode()
    as_b64 = orjson.dumps(
        {
            "topic": "a.b.c",
            "partition": 0,
            "offset": 1,
            "key": base64.b64encode(b'{"id":1}').decode(),
            "value": b64,
            "encoding": "base64",
        }
    )
    outs = run_lines([as_object, as_b64])
    assert [o["op"] for o in outs] == ["c", "c"]


def test_avro_lines_with_a_schema_directory(tmp_path: Path) -> None:
    for schema_id, schema in SCHEMAS.items():
        (tmp_path / f"{schema_id}.avsc").write_bytes(orjson.dumps(schema))
    rec = avro_record()
    assert rec.key is not None and rec.value is not None
    item = {
        "topic": rec.topic,
        "partition": 0,
        "offset": 3,
        "key": base64.b64encode(rec.key).decode(),
        "value": base64.b64encode(rec.value).decode(),
    }
    (out,) = run_lines([orjson.dumps(item)], "avro", tmp_path)
    assert out["after"]["amount"] == "12.50"
    assert out["after"]["born"] == "1971-01-01"
    assert out["after"]["photo"] == base64.b64encode(b"\x00\xff").decode()


def test_avro_needs_a_schema_source() -> None:
    with pytest.raises(FatalError):
        build_decoder("avro", None, None, "x")


def test_parser_registers_the_subcommand(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["decode", "--format", "json"])
    assert args.handler is run
    rec = record(envelope("c", pg_source(1), {"id": 1}), {"id": 1})
    stdin = io.TextIOWrapper(io.BytesIO(line(rec)))
    stdout = io.TextIOWrapper(io.BytesIO())
    monkeypatch.setattr("sys.stdin", stdin)
    monkeypatch.setattr("sys.stdout", stdout)
    assert args.handler(args, Settings()) == 0
    stdout.flush()
    assert orjson.loads(stdout.buffer.getvalue())["op"] == "c"


def test_rendering_is_lossless() -> None:
    assert render_value(Decimal("1E-10")) == "0.0000000001"
    assert render_value(Decimal("-0.00")) == "-0.00"
    assert render_value(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00+00:00"
    assert render_value(date(2024, 2, 29)) == "2024-02-29"
    assert render_value(time(1, 2, 3, 4)) == "01:02:03.000004"
    assert render_value(float("nan")) == "NaN"
    assert render_value(float("-inf")) == "-Infinity"
    assert render_value(b"\x00") == "AA=="
    assert render_value(("a", "b")) == ["a", "b"]
    assert render_value(UNCHANGED) == {"$unchanged": True}
    with pytest.raises(TypeError):
        render_value(object())


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(hours=838, minutes=59, seconds=59), "PT838H59M59S"),
        (timedelta(seconds=-1.5), "-PT1.5S"),
        (timedelta(minutes=2), "PT2M"),
    ],
)
def test_durations(delta: timedelta, text: str) -> None:
    assert iso_duration(delta) == text


def test_unchanged_is_one_instance_everywhere() -> None:
    assert Unchanged() is UNCHANGED
    assert pickle.loads(pickle.dumps(UNCHANGED)) is UNCHANGED
    assert copy.deepcopy({"a": UNCHANGED})["a"] is UNCHANGED
    assert repr(UNCHANGED) == "UNCHANGED"
    with pytest.raises(TypeError):
        orjson.dumps(UNCHANGED)
