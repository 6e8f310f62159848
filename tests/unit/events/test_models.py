"""The event models: validation at the edges, lineage from row changes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from lifeline.decode.position import BinlogPosition
from lifeline.events import (
    EVENT_MODELS,
    GOLDEN_FIELDS,
    CustomerProfile,
    Lineage,
    OrderPlaced,
    from_millis,
)
from lifeline.join.latest import RowChange

from .samples import AT, LINEAGE, sample


def test_every_event_type_is_its_class_name() -> None:
    assert len(EVENT_MODELS) == 11
    for name, model in EVENT_MODELS.items():
        assert model.__name__ == name == model.EVENT_TYPE


def test_golden_fields_are_the_profile_fields() -> None:
    assert tuple(CustomerProfile.model_fields) == GOLDEN_FIELDS
    assert {"legal_name", "tax_id", "login_email", "billing_status"} <= set(
        GOLDEN_FIELDS
    )


def test_timestamps_must_be_aware() -> None:
    data = sample("OrderPlaced").model_dump() | {"occurred_at": datetime(2024, 1, 1)}  # noqa: DTZ001
    with pytest.raises(ValidationError, match="occurred_at"):
        OrderPlaced.model_validate(data)


def test_unknown_fields_are_rejected_and_events_are_frozen() -> None:
    event = sample("OrderPlaced")
    with pytest.raises(ValidationError, match="extra"):
        OrderPlaced.model_validate(event.model_dump() | {"colour": "red"})
    with pytest.raises(ValidationError):
        event.golden_id = "g-2"


def test_from_millis_is_exact_and_utc() -> None:
    assert from_millis(1_714_566_615_123) == AT
    assert from_millis(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_lineage_from_a_row_change() -> None:
    position = BinlogPosition("mysql-bin.000003", 420, 0, "c")
    change = RowChange(
        "erp", "orders", "42", None, {"id": 42}, position, 1_714_566_615_123
    )
    lineage = Lineage.from_change(change)
    assert lineage == Lineage(
        system="erp",
        table="orders",
        row_id="42",
        position=position.encode(),
        committed_at=AT,
    )


def test_money_keeps_its_value() -> None:
    event = sample("OrderPlaced")
    assert isinstance(event, OrderPlaced)
    assert event.total == Decimal("199.90")
    assert event.lineage == LINEAGE
