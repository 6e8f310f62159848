"""Avro single-object and Confluent framing, and decoding back."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastavro import parse_schema
from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.errors import RecordError
from lifeline.events import (
    EventCodec,
    EventSchemas,
    InvoicePosted,
    LifecycleEvent,
    OrderPlaced,
)
from lifeline.events.registry import parse_event_schema, schema_fingerprint

from .samples import AT, LINEAGE, all_samples, sample

SCHEMAS = EventSchemas.load()
CODEC = EventCodec(SCHEMAS)


@pytest.mark.parametrize("event", all_samples(), ids=lambda e: type(e).__name__)
def test_every_event_round_trips_single_object(event: LifecycleEvent) -> None:
    data = CODEC.encode(event)
    schema = SCHEMAS.current(type(event).__name__)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == schema.fingerprint
    assert CODEC.decode(data) == event


def test_the_fingerprint_is_crc_64_avro_little_endian() -> None:
    # The Avro specification's test vector for "null", a signed 64-bit value.
    assert schema_fingerprint(parse_schema("null")) == (7195948357588979594).to_bytes(
        8, "little"
    )


def test_a_schema_id_gives_the_confluent_frame() -> None:
    event = sample("OrderPlaced")
    data = CODEC.encode(event, schema_id=7)
    assert data[:5] == b"\x00\x00\x00\x00\x07"
    assert data[5:] == CODEC.encode(event)[10:]
    codec = EventCodec(SCHEMAS)
    with pytest.raises(RecordError) as unknown:
        codec.decode(data)
    assert unknown.value.kind == "unknown_schema"
    codec.add_schema_id(7, SCHEMAS.current("OrderPlaced").definition)
    assert codec.decode(data) == event


def test_an_unknown_schema_cannot_be_registered() -> None:
    definition = copy.deepcopy(dict(SCHEMAS.current("OrderPlaced").definition))
    definition["fields"].pop()
    with pytest.raises(RecordError, match="no released event schema"):
        EventCodec(SCHEMAS).add_schema_id(3, definition)


def test_data_of_an_older_version_reads_as_the_current_model() -> None:
    current = SCHEMAS.current("InvoicePosted")
    old = copy.deepcopy(dict(current.definition))
    old["fields"] = [f for f in old["fields"] if f["name"] != "order_number"]
    old_schema = parse_event_schema(old, "v0")
    schemas = EventSchemas(
        {name: SCHEMAS.current(name) for name in SCHEMAS.names()},
        {"InvoicePosted": (old_schema,)},
    )
    old_codec = EventCodec(
        EventSchemas({"InvoicePosted": old_schema}, {"InvoicePosted": ()})
    )
    event = sample("InvoicePosted").model_copy(update={"order_number": None})
    data = old_codec.encode(event)
    assert data[2:10] == old_schema.fingerprint != current.fingerprint
    decoded = EventCodec(schemas).decode(data)
    assert isinstance(decoded, InvoicePosted)
    assert decoded == event


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "bad_framing"),
        (b"\x01abc", "bad_framing"),
        (b"\xc3\x01\x00", "bad_framing"),
        (b"\xc3\x01" + bytes(8) + b"\x00", "unknown_schema"),
        (b"\x00\x00\x00\x00\x09\x00", "unknown_schema"),
    ],
)
def test_bad_frames_are_record_errors(data: bytes, kind: str) -> None:
    with pytest.raises(RecordError) as error:
        CODEC.decode(data)
    assert error.value.kind == kind


def test_a_bad_body_is_a_schema_mismatch_that_names_no_value() -> None:
    data = CODEC.encode(sample("CustomerCreated"))
    for broken in (data[:-5], data + b"\x00"):
        with pytest.raises(RecordError) as error:
            CODEC.decode(broken)
        assert error.value.kind == "schema_mismatch"
        assert "Beispiel" not in str(error.value)


def test_a_decoded_event_is_validated() -> None:
    event = OrderPlaced.build(
        golden_id="g-1",
        occurred_at=AT,
        lineage=LINEAGE,
        order_number="SO-1",
        currency="EUR",
        total=Decimal("123456789012345.5"),  # fits Avro bytes, not Money
    )
    with pytest.raises(RecordError) as error:
        CODEC.decode(CODEC.encode(event))
    assert error.value.kind == "schema_mismatch"
    assert "total" in str(error.value)
    assert "123456789012345" not in str(error.value)


def test_a_value_that_does_not_fit_is_unencodable() -> None:
    event = OrderPlaced.build(
        golden_id="g-1",
        occurred_at=AT,
        lineage=LINEAGE,
        order_number=42,
        currency="EUR",
        total=Decimal("1"),
    )
    with pytest.raises(RecordError) as error:
        CODEC.encode(event)
    assert error.value.kind == "unencodable_event"


def test_built_events_equal_validated_ones() -> None:
    for event in all_samples():
        fields: dict[str, Any] = {
            name: getattr(event, name)
            for name in type(event).model_fields
            if name not in {"event_id", "golden_id", "occurred_at", "lineage"}
        }
        built = type(event).build(
            golden_id=event.golden_id,
            occurred_at=event.occurred_at,
            lineage=event.lineage,
            **fields,
        )
        assert built == event
        assert CODEC.encode(built) == CODEC.encode(event)


money = st.decimals(
    min_value=Decimal("-99999999999999.9999"),
    max_value=Decimal("99999999999999.9999"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)
millis = st.integers(min_value=0, max_value=4_102_444_800_000)


@settings(max_examples=200, deadline=None)
@given(
    order_number=st.text(max_size=30),
    total=money,
    at=millis,
    golden_id=st.text(min_size=1, max_size=20),
)
def test_order_placed_round_trips(
    order_number: str, total: Decimal, at: int, golden_id: str
) -> None:
    occurred_at = datetime.fromtimestamp(at / 1000, tz=UTC).replace(
        microsecond=(at % 1000) * 1000
    )
    event = OrderPlaced.model_validate(
        {
            "event_id": "6f1c3a52-9d0e-4b7a-8e21-0c5d4f3b2a19",
            "golden_id": golden_id,
            "occurred_at": occurred_at,
            "lineage": LINEAGE,
            "order_number": order_number,
            "currency": "EUR",
            "total": total,
        }
    )
    assert CODEC.decode(CODEC.encode(event)) == event
