"""Schema version 2 of OrderPlaced, EntitlementChanged and the customer profile."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lifeline.events import EventCodec, EventSchemas, LifecycleEvent
from lifeline.events.models import (
    CustomerProfile,
    CustomerUpdated,
    EntitlementChange,
    EntitlementChanged,
    OrderLine,
    OrderPlaced,
    Organisation,
)

from .samples import AT, LINEAGE, sample

SCHEMAS = EventSchemas.load()


def codec_writing(name: str, version: int) -> EventCodec:
    """A codec that writes ``name`` with one released version."""
    (old,) = [s for s in SCHEMAS.history(name) if s.version == version]
    return EventCodec(EventSchemas({name: old}, {name: (old,)}))


@pytest.mark.parametrize(
    ("name", "new_fields"),
    [
        ("OrderPlaced", ("line_count", "lines")),
        ("EntitlementChanged", ("change", "contract_id")),
    ],
)
def test_version_1_data_reads_with_the_new_fields_null(
    name: str, new_fields: tuple[str, ...]
) -> None:
    event = sample(name)
    decoded = EventCodec(SCHEMAS).decode(codec_writing(name, 1).encode(event))
    assert SCHEMAS.current(name).version == 2
    for field in new_fields:
        assert getattr(decoded, field) is None
    same = {
        f: getattr(event, f) for f in type(event).model_fields if f not in new_fields
    }
    assert {f: getattr(decoded, f) for f in same} == same


def test_an_order_built_as_the_flow_builds_it_round_trips() -> None:
    lines = (
        OrderLine.model_construct(
            line_no=1,
            sku="SW-3001",
            description=None,
            quantity=Decimal("2.000"),
            unit_price=Decimal("10.00"),
        ),
    )
    built = OrderPlaced.build(
        golden_id="g-1",
        occurred_at=AT,
        lineage=LINEAGE,
        order_number="O-1",
        currency="EUR",
        total=Decimal("20.00"),
        line_count=1,
        lines=lines,
    )
    codec = EventCodec(SCHEMAS)
    decoded = codec.decode(codec.encode(built))
    assert isinstance(decoded, OrderPlaced)
    assert decoded.lines is not None
    assert decoded.lines[0].quantity == Decimal("2")
    assert decoded == OrderPlaced.model_validate(built.model_dump())


def test_an_entitlement_change_is_one_of_three() -> None:
    event: LifecycleEvent = sample("EntitlementChanged")
    assert isinstance(event, EntitlementChanged)
    assert event.change is EntitlementChange.GRANTED
    assert [c.value for c in EntitlementChange] == ["granted", "changed", "revoked"]


@pytest.mark.parametrize("name", ["CustomerCreated", "CustomerUpdated"])
def test_version_1_profiles_read_without_organisations(name: str) -> None:
    event = sample(name)
    decoded = EventCodec(SCHEMAS).decode(codec_writing(name, 1).encode(event))
    assert SCHEMAS.current(name).version == 2
    assert decoded.profile.organisations is None  # type: ignore[attr-defined]
    assert decoded == event


def test_a_profile_with_organisations_round_trips() -> None:
    entry = {"org_id": "o-1", "user_id": "u-7", "role": "admin", "name": "Acme AG"}
    profile = CustomerProfile.trusted(legal_name="Acme AG", organisations=(entry,))
    built = CustomerUpdated.build(
        golden_id="g-1",
        occurred_at=AT,
        lineage=LINEAGE,
        changed_fields=("organisations",),
        profile=profile,
    )
    codec = EventCodec(SCHEMAS)
    decoded = codec.decode(codec.encode(built))
    assert isinstance(decoded, CustomerUpdated)
    assert decoded.profile.organisations == (Organisation(**entry),)
    assert decoded == CustomerUpdated.model_validate(built.model_dump())
