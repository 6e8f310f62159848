"""Masking of values in reconciliation examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lifeline.reconcile.mask import mask


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("jane.doe@example.com", "j***@e***.com"),
        (" Jane.Doe@Example.co.uk ", "J***@E***.uk"),
        ("root@localhost", "r***@l***"),
        ("Jane", "J***"),
        ("Müller GmbH", "M***"),
        (Decimal("1250.00"), "1***"),
        (1250, "1***"),
        ("", ""),
        ("  ", "  "),
        (None, None),
        (True, True),
    ],
)
def test_values_keep_only_their_first_characters(value: object, masked: object) -> None:
    assert mask(value) == masked


def test_an_email_shows_neither_its_local_part_nor_its_domain_name() -> None:
    masked = str(mask("alexandra.bergstrom@northwind-traders.example"))
    assert masked == "a***@n***.example"
    assert "alexandra" not in masked
    assert "northwind" not in masked
