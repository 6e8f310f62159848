"""No input crashes a decoder: every record becomes an event or a dead letter."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.decode.avro_envelope import AvroEnvelopeDecoder
from lifeline.decode.change import ChangeEvent, DeadLetter, TransactionBoundary
from lifeline.decode.json_envelope import EnvelopeDecoder
from lifeline.decode.records import KafkaRecord
from tests.unit.decode.builders import envelope, pg_source, record
from tests.unit.decode.test_avro import SCHEMAS, DictSource, avro_record
from tests.unit.decode.test_json_envelope import COLUMNS, ROW

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
OUTCOMES = (ChangeEvent, TransactionBoundary, DeadLetter)


@given(st.binary(max_size=200), st.one_of(st.none(), st.binary(max_size=50)))
def test_random_bytes(value: bytes, key: bytes | None) -> None:
    result = EnvelopeDecoder().decode_one(KafkaRecord("a.b.c", 0, 0, key, value))
    assert isinstance(result, OUTCOMES)


@given(st.sampled_from(["before", "after", "source", "op", "transaction"]), json_values)
@settings(max_examples=300)
def test_any_field_replaced_by_any_json(field: str, junk: Any) -> None:
    good = envelope("u", pg_source(10), dict(ROW), dict(ROW))
    for columns in (COLUMNS, None):
        rec = record(good | {field: junk}, {"id": 7}, columns)
        result = EnvelopeDecoder().decode_one(rec)
        assert isinstance(result, OUTCOMES)


@given(st.sampled_from([c["field"] for c in COLUMNS]), json_values)
def test_any_column_replaced_by_any_json(column: str, junk: Any) -> None:
    row = ROW | {column: junk}
    rec = record(envelope("c", pg_source(10), row), {"id": 7}, COLUMNS)
    result = EnvelopeDecoder().decode_one(rec)
    assert isinstance(result, OUTCOMES)
    if isinstance(result, DeadLetter):
        assert result.kind in ("schema_mismatch", "out_of_range")
        text = orjson.dumps(junk).decode()
        assert len(text) < 4 or text not in result.reason


@given(st.binary(max_size=120))
def test_random_avro_bodies(body: bytes) -> None:
    good = avro_record()
    assert good.value is not None
    rec = KafkaRecord(good.topic, 0, 0, good.key, good.value[:5] + body)
    result = AvroEnvelopeDecoder(DictSource(SCHEMAS)).decode_one(rec)
    assert isinstance(result, OUTCOMES)
