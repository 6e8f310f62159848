"""Marker rows: one new row per topic partition, produced after the load.

A flow has processed everything on a partition once that partition's marker
row is in Redis, so a run is timed until every marker shows.
"""

from __future__ import annotations

from bench.events import Generator
from bench.shapes import (
    CUSTOMERS,
    INVOICES,
    LINKS,
    ORDERS,
    PAYMENTS,
    USERS,
    Event,
    Row,
    decimal,
    iso,
)

MARKER_ID = 900_000_000  # marker rows: ids from here, one per topic partition


def marker_events(generator: Generator, partitions: int) -> list[Event]:
    """Every marker row's create, each on its own partition."""
    events = []
    for p in range(partitions):
        events += _marker_events(generator, p)
    return events


def _marker_events(generator: Generator, p: int) -> list[Event]:
    out = []
    for topic, key, row in _marker_rows(MARKER_ID + p, generator.clock.now_ms):
        event = generator.change(topic, key, None, row)
        out.append(Event(event.topic, event.key, event.value, p))
    return out


def _marker_rows(n: int, now: int) -> list[tuple[str, Row, Row]]:
    """(topic, key, row) of the marker rows numbered ``n``: a customer with an
    order, invoice and payment, a user, and the link between them."""
    customer = {
        "id": n,
        "customer_no": f"C-{n}",
        "legal_name": f"Bench Marker {n} GmbH",
        "tax_id": None,
        "email": f"marker{n}@bench.example",
        "phone": None,
        "billing_street": None,
        "billing_city": None,
        "billing_postal_code": None,
        "billing_country": "DE",
        "credit_limit": decimal(100),
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    user = {
        "id": f"u-{n}",
        "email": f"marker.user{n}@bench.example",
        "email_verified": True,
        "given_name": "Bench",
        "family_name": f"Marker{n}",
        "display_name": None,
        "phone": None,
        "locale": None,
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    order = {
        "id": n,
        "order_no": f"SO-{n}",
        "customer_id": n,
        "status": "open",
        "currency": "EUR",
        "total": decimal(100),
        "ordered_at": now,
    }
    invoice = {
        "id": n,
        "invoice_no": f"INV-{n}",
        "customer_id": n,
        "order_id": n,
        "status": "draft",
        "currency": "EUR",
        "amount": decimal(100),
        "issued_on": 20_800,
        "due_on": 20_830,
        "posted_at": None,
    }
    payment = {
        "id": n,
        "invoice_id": n,
        "amount": decimal(100),
        "status": "received",
        "method": "card",
        "failure_reason": None,
        "paid_at": now,
    }
    link = {"system": "erp", "external_id": f"C-{n}", "user_id": f"u-{n}"}
    return [
        (CUSTOMERS, {"id": n}, customer),
        (ORDERS, {"id": n}, order),
        (INVOICES, {"id": n}, invoice),
        (PAYMENTS, {"id": n}, payment),
        (USERS, {"id": f"u-{n}"}, user),
        (LINKS, {"system": "erp", "external_id": f"C-{n}"}, link),
    ]


def marker_rows(partitions: int) -> list[tuple[str, str]]:
    """(topic, row id) of every marker row, as the flows key them."""
    found = []
    for p in range(partitions):
        n = MARKER_ID + p
        for topic in (CUSTOMERS, ORDERS, INVOICES, PAYMENTS):
            found.append((topic, str(n)))
        found.append((USERS, f"u-{n}"))
        found.append((LINKS, f"erp|C-{n}"))
    return found
