"""Subscriptions (entitlements) for generated ERP customers.

Active and on-hold customers hold up to three subscriptions, most of them
active: yearly terms that were renewed while the customer stayed, or
open-ended ones. Closed customers' subscriptions were cancelled or ran out.
Prospects have none. Terms are whole years from ``starts_on``; a renewed
subscription's ``renewed_at`` falls on the day its previous term ended.

The book draws from its own random generator, so adding it left every other
generated row as it was.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from lifeline.samples import _fakes as fake
from lifeline.samples.records import ErpCustomer, ErpSubscription

# (product code, plans, most seats)
_PRODUCTS = (
    ("SW-3001", ("standard", "pro", "enterprise"), 50),
    ("SW-3002", ("basic", "priority"), 1),
    ("SW-3003", ("analytics",), 25),
)
_COUNTS = (("0", 35), ("1", 40), ("2", 18), ("3", 7))
_TERM = timedelta(days=365)


class SubscriptionBook:
    """Collects the subscriptions of every customer it is given."""

    def __init__(self, seed: int, until: datetime) -> None:
        self.rng = random.Random(f"subscriptions:{seed}")
        self.until = until
        self.subscriptions: list[ErpSubscription] = []

    def add(self, customer: ErpCustomer) -> None:
        """Subscriptions of ``customer``, started after its creation."""
        if customer.status == "prospect":
            return
        count = int(fake.weighted(self.rng, _COUNTS))
        for product, plans, seats in self.rng.sample(_PRODUCTS, count):
            self._subscription(customer, product, plans, seats)

    def _subscription(
        self, customer: ErpCustomer, product: str, plans: tuple[str, ...], most: int
    ) -> None:
        rng = self.rng
        room = max((self.until - customer.created_at).days, 1)
        starts = (customer.created_at + timedelta(days=rng.randint(0, room))).date()
        ends: date | None = None if rng.random() < 0.15 else starts + _TERM
        renewed_at = None
        status = "active"
        updated = _midnight(starts)
        if customer.status == "closed":
            if ends is not None and ends < self.until.date():
                status, updated = "expired", _midnight(ends)
            else:
                status = "cancelled"
                updated += fake.span(rng, (self.until - updated).days)
        elif ends is not None:
            while ends < self.until.date():  # renewed each year while active
                renewed_at = _midnight(ends)
                ends += _TERM
            updated = renewed_at or updated
        self.subscriptions.append(
            ErpSubscription(
                id=len(self.subscriptions) + 1,
                customer_id=customer.id,
                product_code=product,
                plan_code=rng.choice(plans),
                seats=rng.randint(1, most),
                status=status,
                starts_on=starts,
                ends_on=ends,
                renewed_at=renewed_at,
                updated_at=updated + fake.span(rng, 0.99),
            )
        )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
