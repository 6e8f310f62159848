"""Realistic Debezium change events for the sample schemas, fast.

Parties come from :mod:`lifeline.resolve.synthetic` (names, e-mails, phones,
addresses with the noise and traps real data has); each becomes an ERP
customer and/or an identity user (and an ``external_ids`` link where the
synthetic record claims its ERP customer). Around them the stream carries
orders, invoices and payments, later updates (credit limits, statuses, names,
order and invoice progress), a few user deletes with their tombstones, and
re-deliveries: now and then the last stretch of one connector's changes is
sent again with the same positions, as after a connector restart. Records
are the connectors' own shapes (:mod:`bench.shapes`).
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.shapes import (
    CUSTOMERS,
    INVOICES,
    LINKS,
    ORDERS,
    PAYMENTS,
    TOPICS,
    USERS,
    Event,
    Positions,
    Row,
    Shapes,
    change,
    decimal,
    iso,
)
from lifeline.resolve.synthetic import LabeledRecord, generate

# Synthetic records per base customer (erp, identity, billing), and the events
# each record leads to in the mix below (3.6 on average): sizes the pool.
_RECORDS_PER_CUSTOMER, _EVENTS_PER_RECORD = 2.3, 3.0
# A redelivery every so many events, of the last 1/30 of that: ~3% duplicates.
_REDELIVER_EVERY, _REDELIVER_SHARE = 60_000, 30


@dataclass(slots=True)
class Counts:
    """What was generated: events per topic, duplicates, tombstones, parties."""

    events: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    duplicates: int = 0
    tombstones: int = 0
    parties: int = 0

    @property
    def total(self) -> int:
        """Every record produced (duplicates and tombstones included)."""
        return sum(self.events.values())


class Generator:
    """Yields :class:`Event` in commit order until ``events`` (or a few more:
    a party's changes are never cut) were made."""

    def __init__(self, events: int, seed: int = 7) -> None:
        self.target = events
        self.rng = random.Random(seed)
        self.shapes = Shapes()
        self.clock = Positions()
        self.counts = Counts()
        self.rows: dict[str, dict[Any, Row]] = {t: {} for t in TOPICS}
        # Often enough that a small run has some too.
        self._redeliver_every = min(_REDELIVER_EVERY, max(5_000, events // 10))
        self._next_redelivery = self._redeliver_every
        last = self._redeliver_every // _REDELIVER_SHARE
        self._recent: dict[str, deque[Event]] = {
            "erp": deque(maxlen=last),
            "identity": deque(maxlen=last),
        }
        self._later: dict[int, list[Callable[[], list[Event]]]] = defaultdict(list)
        self._ids = {ORDERS: 0, INVOICES: 0, PAYMENTS: 0}
        customers = events / _EVENTS_PER_RECORD / _RECORDS_PER_CUSTOMER
        self._parties = generate(max(20, int(customers)), seed=seed)

    def __iter__(self) -> Iterator[Event]:
        for step, record in enumerate(self._parties):
            if self.counts.total >= self.target:
                break
            self.counts.parties += 1
            yield from self._emit(self._party(record))
            for action in self._later.pop(step, []):
                yield from self._emit(action())
            if self.counts.total >= self._next_redelivery:
                self._next_redelivery += self._redeliver_every
                yield from self._redeliver()

    def _emit(self, events: list[Event]) -> Iterator[Event]:
        # Always whole: the rows kept for before images and counts stay true.
        for event in events:
            self.counts.events[event.topic] += 1
            self._recent[event.topic.split(".", 1)[0]].append(event)
            yield event

    def _redeliver(self) -> Iterator[Event]:
        """A connector restart: its last changes again, same positions."""
        system = self.rng.choice(("erp", "identity"))
        for event in list(self._recent[system]):
            if self.counts.total >= self.target:
                return
            self.counts.duplicates += 1
            self.counts.events[event.topic] += 1
            yield event

    def _schedule(self, within: int, action: Callable[[], list[Event]]) -> None:
        step = self.counts.parties + self.rng.randint(1, within)
        self._later[step].append(action)

    # --- changes ------------------------------------------------------------

    def change(
        self, topic: str, key: Row, before: Row | None, after: Row | None
    ) -> Event:
        """One change of a row at the stream's next source position."""
        return change(self.shapes, self.clock, topic, key, before, after)

    def _upsert(self, topic: str, key: Row, row: Row) -> Event:
        ident = tuple(key.values())
        before = self.rows[topic].get(ident)
        self.rows[topic][ident] = row
        return self.change(topic, key, before, row)

    def _delete(self, topic: str, key: Row) -> list[Event]:
        before = self.rows[topic].pop(tuple(key.values()), None)
        if before is None:
            return []
        self.counts.tombstones += 1
        tombstone = Event(topic, self.shapes.key(topic, key), None)
        return [self.change(topic, key, before, None), tombstone]

    # --- parties --------------------------------------------------------------

    def _party(self, record: LabeledRecord) -> list[Event]:
        if record.system == "erp":
            return self._customer(record)
        if record.system == "identity":
            return self._user(record)
        return []

    def _customer(self, record: LabeledRecord) -> list[Event]:
        f, rng, now = record.fields, self.rng, self.clock.now_ms
        row_id = int(record.id.removeprefix("C-"))
        row = {
            "id": row_id,
            "customer_no": record.id,
            "legal_name": f.get("company") or f.get("name") or record.id,
            "tax_id": f.get("tax_id"),
            "email": f.get("email"),
            "phone": f.get("phone"),
            "billing_street": f.get("street"),
            "billing_city": f.get("city"),
            "billing_postal_code": f.get("postal_code"),
            "billing_country": f.get("country"),
            "credit_limit": decimal(rng.choice((1000, 2500, 5000, 10000)) * 100),
            "status": rng.choice(("prospect", "active", "active", "active")),
            "created_at": now,
            "updated_at": now,
        }
        events = [self._upsert(CUSTOMERS, {"id": row_id}, row)]
        for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
            self._schedule(20, lambda: self._order(row_id))
        for _ in range(rng.choice((0, 1, 1, 2))):
            self._schedule(200, lambda: self._customer_update(row_id))
        return events

    def _customer_update(self, row_id: int) -> list[Event]:
        current = self.rows[CUSTOMERS].get((row_id,))
        if current is None:
            return []
        rng = self.rng
        row = dict(current, updated_at=self.clock.now_ms)
        roll = rng.random()
        if roll < 0.5:
            row["credit_limit"] = decimal(rng.randrange(500, 100_000) * 100)
        elif roll < 0.8:
            row["status"] = rng.choice(("active", "on_hold", "closed"))
        else:
            row["phone"] = f"+49 30 555{rng.randrange(10_000):04d}"
        return [self._upsert(CUSTOMERS, {"id": row_id}, row)]

    def _user(self, record: LabeledRecord) -> list[Event]:
        f, rng, now = record.fields, self.rng, iso(self.clock.now_ms)
        given, family = f.get("first_name"), f.get("last_name")
        row = {
            "id": record.id,
            "email": f.get("email") or f"{record.id}@users.example",
            "email_verified": rng.random() < 0.7,
            "given_name": given,
            "family_name": family,
            "display_name": f"{given} {family}",
            "phone": f.get("phone"),
            "locale": rng.choice(("de-DE", "en-GB", "en-US", "fr-FR")),
            "created_at": now,
            "updated_at": now,
        }
        events = [self._upsert(USERS, {"id": record.id}, row)]
        for link in f.get("links", ()):
            system, _, external = link.partition(":")
            if system == "erp":
                key = {"system": system, "external_id": external}
                events.append(self._upsert(LINKS, key, key | {"user_id": record.id}))
        if rng.random() < 0.5:
            self._schedule(200, lambda: self._user_update(record.id))
        if rng.random() < 0.003:
            self._schedule(300, lambda: self._user_delete(record.id))
        return events

    def _user_update(self, user_id: str) -> list[Event]:
        current = self.rows[USERS].get((user_id,))
        if current is None:
            return []
        row = dict(current, updated_at=iso(self.clock.now_ms))
        if self.rng.random() < 0.5:
            row["email_verified"] = True
        else:
            row["phone"] = f"+4930555{self.rng.randrange(10_000):04d}"
        return [self._upsert(USERS, {"id": user_id}, row)]

    def _user_delete(self, user_id: str) -> list[Event]:
        links = [k for k, r in self.rows[LINKS].items() if r["user_id"] == user_id]
        events = []
        for system, external in links:
            events += self._delete(LINKS, {"system": system, "external_id": external})
        return events + self._delete(USERS, {"id": user_id})

    # --- commerce -------------------------------------------------------------

    def _next_id(self, topic: str) -> int:
        self._ids[topic] += 1
        return self._ids[topic]

    def _order(self, customer_id: int) -> list[Event]:
        rng, now = self.rng, self.clock.now_ms
        order_id = self._next_id(ORDERS)
        cents = rng.randrange(1_000, 500_000)
        row = {
            "id": order_id,
            "order_no": f"SO-{100_000 + order_id}",
            "customer_id": customer_id,
            "status": "open",
            "currency": "EUR",
            "total": decimal(cents),
            "ordered_at": now,
        }
        events = [self._upsert(ORDERS, {"id": order_id}, row)]
        if rng.random() < 0.85:
            self._schedule(30, lambda: self._order_status(order_id, "confirmed"))
        if rng.random() < 0.8:
            self._schedule(40, lambda: self._invoice(customer_id, order_id, cents))
        return events

    def _order_status(self, order_id: int, status: str) -> list[Event]:
        row = dict(self.rows[ORDERS][(order_id,)], status=status)
        if status == "confirmed" and self.rng.random() < 0.7:
            self._schedule(60, lambda: self._order_status(order_id, "shipped"))
        return [self._upsert(ORDERS, {"id": order_id}, row)]

    def _invoice(self, customer_id: int, order_id: int, cents: int) -> list[Event]:
        invoice_id = self._next_id(INVOICES)
        day = self.clock.now_ms // 86_400_000
        row = {
            "id": invoice_id,
            "invoice_no": f"INV-2026-{invoice_id:06d}",
            "customer_id": customer_id,
            "order_id": order_id,
            "status": "draft",
            "currency": "EUR",
            "amount": decimal(cents),
            "issued_on": day,
            "due_on": day + 30,
            "posted_at": None,
        }
        if self.rng.random() < 0.9:
            self._schedule(20, lambda: self._invoice_posted(invoice_id, cents))
        return [self._upsert(INVOICES, {"id": invoice_id}, row)]

    def _invoice_posted(self, invoice_id: int, cents: int) -> list[Event]:
        row = dict(
            self.rows[INVOICES][(invoice_id,)],
            status="posted",
            posted_at=self.clock.now_ms,
        )
        if self.rng.random() < 0.7:
            self._schedule(50, lambda: self._payment(invoice_id, cents))
        return [self._upsert(INVOICES, {"id": invoice_id}, row)]

    def _payment(self, invoice_id: int, cents: int) -> list[Event]:
        failed = self.rng.random() < 0.1
        payment_id = self._next_id(PAYMENTS)
        row = {
            "id": payment_id,
            "invoice_id": invoice_id,
            "amount": decimal(cents),
            "status": "failed" if failed else "received",
            "method": self.rng.choice(("card", "sepa_debit", "bank_transfer")),
            "failure_reason": "insufficient_funds" if failed else None,
            "paid_at": self.clock.now_ms,
        }
        events = [self._upsert(PAYMENTS, {"id": payment_id}, row)]
        if not failed:
            invoice = dict(self.rows[INVOICES][(invoice_id,)], status="paid")
            events.append(self._upsert(INVOICES, {"id": invoice_id}, invoice))
        return events
