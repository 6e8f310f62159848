"""One valid sample of every event, validated, and shared builders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from lifeline.events import EVENT_MODELS, LifecycleEvent, Lineage, derive_event_id

AT = datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
LINEAGE = (
    Lineage(
        system="erp",
        table="orders",
        row_id="42",
        position="m:0000000000000003.00000000000001a4",
        committed_at=AT,
    ),
)
PROFILE = {
    "legal_name": "Beispiel Maschinenbau GmbH",
    "tax_id": "DE123456789",
    "billing_email": "rechnung@example.test",
    "billing_country": "DE",
    "credit_limit": Decimal("25000.00"),
    "erp_status": "active",
}

FIELDS: dict[str, dict[str, Any]] = {
    "CustomerCreated": {"profile": PROFILE, "source_refs": ("erp:42", "identity:u-7")},
    "CustomerUpdated": {"changed_fields": ("legal_name",), "profile": PROFILE},
    "CustomerMerged": {
        "absorbed_ids": ("g-00000000000000b2",),
        "moved_refs": ("identity:u-7",),
        "reason": "tax_id: erp:42 ~ identity:u-7",
    },
    "CustomerSplit": {
        "new_golden_id": "g-00000000000000c3",
        "moved_refs": ("identity:u-7",),
        "reason": "link removed: erp:42 / identity:u-7",
    },
    "LifecycleStageChanged": {
        "from_stage": "onboarding",
        "to_stage": "active",
        "fact": "invoice_paid",
    },
    "OrderPlaced": {
        "order_number": "SO-100042",
        "currency": "EUR",
        "total": "199.90",
        "line_count": 1,
        "lines": (
            {
                "line_no": 1,
                "sku": "SW-3001",
                "description": "Inventory suite licence, 1 year",
                "quantity": Decimal("1.000"),
                "unit_price": Decimal("199.90"),
            },
        ),
    },
    "InvoicePosted": {
        "invoice_number": "INV-2024-000042",
        "order_number": "SO-100042",
        "currency": "EUR",
        "amount": Decimal("199.90"),
        "issued_on": date(2024, 5, 1),
        "due_on": date(2024, 5, 31),
    },
    "PaymentReceived": {
        "payment_id": "7",
        "invoice_number": "INV-2024-000042",
        "currency": "EUR",
        "amount": Decimal("199.90"),
        "method": "sepa_debit",
    },
    "PaymentFailed": {
        "payment_id": "8",
        "invoice_number": "INV-2024-000042",
        "currency": "EUR",
        "amount": Decimal("199.90"),
        "method": "card",
        "failure_reason": "insufficient_funds",
    },
    "EntitlementChanged": {
        "entitlement": "analytics",
        "active": True,
        "plan": "pro",
        "quantity": 25,
        "valid_until": datetime(2025, 5, 1, tzinfo=UTC),
        "change": "granted",
        "contract_id": "sub-1",
    },
    "RenewalCompleted": {
        "contract_id": "sub-1",
        "plan": "pro",
        "term_end": datetime(2025, 5, 1, tzinfo=UTC),
    },
}


def sample(name: str, golden_id: str = "g-00000000000000a1") -> LifecycleEvent:
    """A validated event of type ``name``."""
    return EVENT_MODELS[name].model_validate(
        {
            "event_id": derive_event_id(name, golden_id, LINEAGE),
            "golden_id": golden_id,
            "occurred_at": AT,
            "lineage": LINEAGE,
            **FIELDS[name],
        }
    )


def all_samples() -> list[LifecycleEvent]:
    """One sample of every event type."""
    return [sample(name) for name in EVENT_MODELS]
