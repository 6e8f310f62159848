"""Rows of the sample ERP and identity databases, and who is really who.

Each row type's field names and order are its table's column names and
order, so a row can be inserted as ``tuple(getattr(row, f) for f in
fields)``. Timestamps are timezone-aware UTC with millisecond precision (the
columns keep milliseconds); money is :class:`~decimal.Decimal`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# --- ERP (MariaDB database ``erp``) ----------------------------------------


@dataclass(frozen=True, slots=True)
class ErpCustomer:
    """A row of ``erp.customers``; ``customer_no`` looks like ``C-1042``."""

    id: int
    customer_no: str
    legal_name: str
    tax_id: str | None
    email: str | None
    phone: str | None
    billing_street: str | None
    billing_city: str | None
    billing_postal_code: str | None
    billing_country: str | None
    credit_limit: Decimal
    status: str  # prospect | active | on_hold | closed
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ErpOrder:
    """A row of ``erp.orders``; ``total`` is the sum of its lines."""

    id: int
    order_no: str
    customer_id: int
    status: str  # open | confirmed | shipped | cancelled
    currency: str
    total: Decimal
    ordered_at: datetime


@dataclass(frozen=True, slots=True)
class ErpOrderLine:
    """A row of ``erp.order_lines``."""

    id: int
    order_id: int
    line_no: int
    sku: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class ErpInvoice:
    """A row of ``erp.invoices``; ``order_id`` is None for service charges."""

    id: int
    invoice_no: str
    customer_id: int
    order_id: int | None
    status: str  # draft | posted | paid | void
    currency: str
    amount: Decimal
    issued_on: date
    due_on: date
    posted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ErpPayment:
    """A row of ``erp.payments``; failed ones carry a ``failure_reason``."""

    id: int
    invoice_id: int
    amount: Decimal
    status: str  # received | failed | refunded
    method: str
    failure_reason: str | None
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class ErpSubscription:
    """A row of ``erp.subscriptions``: what a customer may use, and until when.

    ``ends_on`` is the last day of the current term (None: open-ended);
    ``renewed_at`` when the term was last extended.
    """

    id: int
    customer_id: int
    product_code: str
    plan_code: str
    seats: int
    status: str  # active | cancelled | expired
    starts_on: date
    ends_on: date | None
    renewed_at: datetime | None
    updated_at: datetime


# --- identity (PostgreSQL database ``identity``, schema ``public``) --------


@dataclass(frozen=True, slots=True)
class IdentityUser:
    """A row of ``users``; ``id`` looks like ``u-77``."""

    id: str
    email: str
    email_verified: bool
    given_name: str | None
    family_name: str | None
    display_name: str | None
    phone: str | None
    locale: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class IdentityOrganisation:
    """A row of ``organisations``; ``id`` looks like ``o-12``."""

    id: str
    name: str
    domain: str | None
    tax_id: str | None
    country: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IdentityMembership:
    """A row of ``memberships``: a user's role in an organisation."""

    user_id: str
    org_id: str
    role: str  # owner | admin | member
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IdentityExternalId:
    """A row of ``external_ids``, e.g. ``('erp', 'C-1042', 'u-77')``."""

    system: str
    external_id: str
    user_id: str


# --- ground truth ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """One real-world customer and every record that stands for it.

    ``customer_nos`` are its ERP customers (more than one when the ERP holds
    a duplicate), ``user_ids`` the identity users that represent it (for a
    company: its contact, not every colleague), ``org_id`` its identity
    organisation. ``variations`` name how its records differ between the
    systems (see ``seed.VARIATIONS``).
    """

    party_id: str
    kind: str  # person | company
    customer_nos: tuple[str, ...]
    user_ids: tuple[str, ...]
    org_id: str | None
    variations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SeedData:
    """Everything :func:`lifeline.samples.seed.generate` produced."""

    customers: tuple[ErpCustomer, ...]
    orders: tuple[ErpOrder, ...]
    order_lines: tuple[ErpOrderLine, ...]
    invoices: tuple[ErpInvoice, ...]
    payments: tuple[ErpPayment, ...]
    subscriptions: tuple[ErpSubscription, ...]
    users: tuple[IdentityUser, ...]
    organisations: tuple[IdentityOrganisation, ...]
    memberships: tuple[IdentityMembership, ...]
    external_ids: tuple[IdentityExternalId, ...]
    parties: tuple[Party, ...]

    def erp_tables(self) -> dict[str, tuple[Any, ...]]:
        """ERP rows by table name, parents before children."""
        return {
            "customers": self.customers,
            "orders": self.orders,
            "order_lines": self.order_lines,
            "invoices": self.invoices,
            "payments": self.payments,
            "subscriptions": self.subscriptions,
        }

    def identity_tables(self) -> dict[str, tuple[Any, ...]]:
        """Identity rows by table name, parents before children."""
        return {
            "users": self.users,
            "organisations": self.organisations,
            "memberships": self.memberships,
            "external_ids": self.external_ids,
        }

    def counts(self) -> dict[str, int]:
        """Rows per table (ERP then identity)."""
        tables = {**self.erp_tables(), **self.identity_tables()}
        return {name: len(rows) for name, rows in tables.items()}


def column_names(row_type: type[Any]) -> tuple[str, ...]:
    """Return the table columns of a row type, in order."""
    return tuple(field.name for field in fields(row_type))
