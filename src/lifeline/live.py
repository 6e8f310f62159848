"""Live row changes in the sample databases, and watching them reach Redis.

Used by ``lifeline demo`` and the latency benchmark: each change records when
its transaction committed (client clock, right after COMMIT returned); the
watcher then reads the cached row's ``cached_at_ms`` (written by the sink) to
get the commit-to-Redis latency on the same clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
import psycopg
import pymysql
import redis

from lifeline.decode.render import render_value
from lifeline.emit.cache_keys import row_key
from lifeline.settings import Settings

CachedCheck = Callable[[dict[str, Any] | None], bool]


@dataclass
class LiveChange:
    """One committed change and what the cache must show for it."""

    system: str
    table: str
    row_id: str
    action: str
    committed_at_ms: int
    check: CachedCheck
    seen_at_ms: int | None = None
    cached: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def latency_ms(self) -> int | None:
        """Commit to visible in Redis, in milliseconds."""
        return (
            None if self.seen_at_ms is None else self.seen_at_ms - self.committed_at_ms
        )


def _now_ms() -> int:
    return int(time.time() * 1000)


def mariadb_connection(settings: Settings) -> pymysql.Connection[Any]:
    """An admin connection to the ERP database."""
    db = settings.mariadb
    return pymysql.connect(
        host=db.host,
        port=db.port,
        user=db.user,
        database=db.database,
        password=db.password.get_secret_value(),
        autocommit=False,
    )


def postgres_connection(settings: Settings) -> psycopg.Connection[Any]:
    """An admin connection to the identity database."""
    return psycopg.connect(settings.postgres.dsn())


@dataclass(frozen=True, slots=True)
class Line:
    """An order line to place: product, quantity and unit price."""

    sku: str
    quantity: Decimal
    unit_price: Decimal
    description: str | None = None

    @property
    def amount(self) -> Decimal:
        """Quantity times unit price, rounded half-up to cents."""
        exact = self.quantity * self.unit_price
        return exact.quantize(Decimal("0.01"), ROUND_HALF_UP)


class ErpChanges:
    """Committed changes to the ERP: customers, orders, invoices, subscriptions.

    Each method commits one transaction and returns the change of the row it
    is about, with what the row cache must show for it.
    """

    def __init__(self, settings: Settings, conn: pymysql.Connection[Any]) -> None:
        self.system = settings.topics.erp_prefix
        self.conn = conn

    def insert(self, customer_no: str, name: str, email: str) -> LiveChange:
        """Insert a customer and commit."""
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO customers (customer_no, legal_name, email,"
                " billing_country, credit_limit, status)"
                " VALUES (%s, %s, %s, 'DE', 1000.00, 'prospect')",
                (customer_no, name, email),
            )
            row_id = str(cur.lastrowid)
        self.conn.commit()
        return LiveChange(
            self.system,
            "customers",
            row_id,
            "insert",
            _now_ms(),
            lambda c: c is not None,
        )

    def update_credit(self, row_id: str, limit: Decimal) -> LiveChange:
        """Change a customer's credit limit and commit."""
        with self.conn.cursor() as cur:
            cur.execute(
                "UPDATE customers SET credit_limit=%s WHERE id=%s", (limit, row_id)
            )
        self.conn.commit()
        return LiveChange(
            self.system,
            "customers",
            row_id,
            "update",
            _now_ms(),
            lambda c: c is not None and Decimal(c["row"]["credit_limit"]) == limit,
        )

    def delete(self, row_id: str) -> LiveChange:
        """Delete a customer and commit."""
        with self.conn.cursor() as cur:
            cur.execute("DELETE FROM customers WHERE id=%s", (row_id,))
        self.conn.commit()
        return LiveChange(
            self.system, "customers", row_id, "delete", _now_ms(), lambda c: c is None
        )

    def place_order(
        self, customer_id: str, order_no: str, lines: Sequence[Line], currency: str
    ) -> LiveChange:
        """Insert an order and its lines in one transaction; its total is theirs."""
        total = sum((line.amount for line in lines), Decimal(0))
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO orders (order_no, customer_id, status, currency, total)"
                " VALUES (%s, %s, 'confirmed', %s, %s)",
                (order_no, customer_id, currency, total),
            )
            order_id = str(cur.lastrowid)
            for number, line in enumerate(lines, start=1):
                self._insert_line(cur, order_id, number, line)
        self.conn.commit()
        return self._change("orders", order_id, "insert", "total", total)

    def add_order_line(self, order_id: str, line_no: int, line: Line) -> LiveChange:
        """Add a line to an order placed earlier, in a transaction of its own."""
        with self.conn.cursor() as cur:
            line_id = self._insert_line(cur, order_id, line_no, line)
        self.conn.commit()
        return self._change("order_lines", line_id, "insert", "sku", line.sku)

    @staticmethod
    def _insert_line(cur: Any, order_id: str, line_no: int, line: Line) -> str:
        cur.execute(
            "INSERT INTO order_lines (order_id, line_no, sku, description,"
            " quantity, unit_price) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                order_id,
                line_no,
                line.sku,
                line.description,
                line.quantity,
                line.unit_price,
            ),
        )
        return str(cur.lastrowid)

    def post_invoice(
        self,
        customer_id: str,
        invoice_no: str,
        amount: Decimal,
        currency: str,
        order_id: str | None = None,
    ) -> LiveChange:
        """Post an invoice due in 30 days and commit."""
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO invoices (invoice_no, customer_id, order_id, status,"
                " currency, amount, issued_on, due_on, posted_at) VALUES (%s, %s,"
                " %s, 'posted', %s, %s, CURDATE(), CURDATE() + INTERVAL 30 DAY,"
                " NOW(3))",
                (invoice_no, customer_id, order_id, currency, amount),
            )
            invoice_id = str(cur.lastrowid)
        self.conn.commit()
        return self._change("invoices", invoice_id, "insert", "status", "posted")

    def pay_invoice(self, invoice_id: str, method: str = "sepa_debit") -> LiveChange:
        """Record a payment of the whole invoice, mark it paid, and commit."""
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO payments (invoice_id, amount, status, method, paid_at)"
                " SELECT id, amount, 'received', %s, NOW(3) FROM invoices"
                " WHERE id=%s",
                (method, invoice_id),
            )
            cur.execute("UPDATE invoices SET status='paid' WHERE id=%s", (invoice_id,))
        self.conn.commit()
        return self._change("invoices", invoice_id, "update", "status", "paid")

    def subscribe(
        self,
        customer_id: str,
        product: str,
        plan: str,
        seats: int,
        ends_on: date,
        starts_on: date | None = None,
    ) -> LiveChange:
        """Start an active subscription (today by default) and commit."""
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO subscriptions (customer_id, product_code, plan_code,"
                " seats, status, starts_on, ends_on)"
                " VALUES (%s, %s, %s, %s, 'active', COALESCE(%s, CURDATE()), %s)",
                (customer_id, product, plan, seats, starts_on, ends_on),
            )
            sub_id = str(cur.lastrowid)
        self.conn.commit()
        return self._change("subscriptions", sub_id, "insert", "status", "active")

    def renew(self, sub_id: str, ends_on: date) -> LiveChange:
        """Renew a subscription until ``ends_on`` (active again) and commit."""
        with self.conn.cursor() as cur:
            cur.execute(
                "UPDATE subscriptions SET ends_on=%s, renewed_at=NOW(3),"
                " status='active' WHERE id=%s",
                (ends_on, sub_id),
            )
        self.conn.commit()
        return self._change("subscriptions", sub_id, "update", "ends_on", ends_on)

    def change_seats(self, sub_id: str, seats: int) -> LiveChange:
        """Change a subscription's seat count and commit."""
        with self.conn.cursor() as cur:
            cur.execute(
                "UPDATE subscriptions SET seats=%s WHERE id=%s", (seats, sub_id)
            )
        self.conn.commit()
        return self._change("subscriptions", sub_id, "update", "seats", seats)

    def cancel(self, sub_id: str) -> LiveChange:
        """Cancel a subscription and commit."""
        with self.conn.cursor() as cur:
            cur.execute(
                "UPDATE subscriptions SET status='cancelled' WHERE id=%s", (sub_id,)
            )
        self.conn.commit()
        return self._change("subscriptions", sub_id, "update", "status", "cancelled")

    def _change(
        self, table: str, row_id: str, action: str, column: str, value: object
    ) -> LiveChange:
        """A change of ``table``, cached once its ``column`` shows ``value``."""
        shown = render_value(value)
        return LiveChange(
            self.system,
            table,
            row_id,
            action,
            _now_ms(),
            lambda c: c is not None and c["row"].get(column) == shown,
        )


class IdentityChanges:
    """Committed changes to ``public.users``."""

    def __init__(self, settings: Settings, conn: psycopg.Connection[Any]) -> None:
        self.system = settings.topics.identity_prefix
        self.conn = conn

    def insert(self, user_id: str, email: str, given: str, family: str) -> LiveChange:
        """Insert a user and commit."""
        self.conn.execute(
            "INSERT INTO users (id, email, given_name, family_name, display_name)"
            " VALUES (%s, %s, %s, %s, %s)",
            (user_id, email, given, family, f"{given} {family}"),
        )
        self.conn.commit()
        return LiveChange(
            self.system, "users", user_id, "insert", _now_ms(), lambda c: c is not None
        )

    def rename(self, user_id: str, given: str) -> LiveChange:
        """Change a user's given name and commit."""
        self.conn.execute(
            "UPDATE users SET given_name=%s, updated_at=now() WHERE id=%s",
            (given, user_id),
        )
        self.conn.commit()
        return LiveChange(
            self.system,
            "users",
            user_id,
            "update",
            _now_ms(),
            lambda c: c is not None and c["row"]["given_name"] == given,
        )

    def set_phone(self, user_id: str, phone: str) -> LiveChange:
        """Change a user's phone number and commit."""
        self.conn.execute(
            "UPDATE users SET phone=%s, updated_at=now() WHERE id=%s", (phone, user_id)
        )
        self.conn.commit()
        return LiveChange(
            self.system,
            "users",
            user_id,
            "update",
            _now_ms(),
            lambda c: c is not None and c["row"]["phone"] == phone,
        )

    def link(self, user_id: str, system: str, external_id: str) -> None:
        """Record that the user is ``system:external_id`` too, and commit."""
        self.conn.execute(
            "INSERT INTO external_ids (system, external_id, user_id)"
            " VALUES (%s, %s, %s)",
            (system, external_id, user_id),
        )
        self.conn.commit()

    def delete(self, user_id: str) -> LiveChange:
        """Delete a user (and its links) and commit."""
        self.conn.execute("DELETE FROM external_ids WHERE user_id=%s", (user_id,))
        self.conn.execute("DELETE FROM memberships WHERE user_id=%s", (user_id,))
        self.conn.execute("DELETE FROM users WHERE id=%s", (user_id,))
        self.conn.commit()
        return LiveChange(
            self.system, "users", user_id, "delete", _now_ms(), lambda c: c is None
        )


def read_rows(client: redis.Redis, keys: list[str]) -> list[dict[str, Any] | None]:
    """Cached rows as ``{"row": {...}, "position": .., "cached_at_ms": ..}``."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    rows: list[dict[str, Any] | None] = []
    for fields in pipe.execute():
        if not fields or b"row" not in fields:
            rows.append(None)
            continue
        rows.append(
            {
                "row": orjson.loads(fields[b"row"]),
                "position": fields[b"position"].decode(),
                "source_ts_ms": int(fields[b"source_ts_ms"]),
                "cached_at_ms": int(fields[b"cached_at_ms"]),
            }
        )
    return rows


def watch(
    settings: Settings, changes: list[LiveChange], timeout: float = 60.0
) -> list[LiveChange]:
    """Poll Redis until every change shows (or ``timeout``); fill latencies.

    Upserts take their time from the row's ``cached_at_ms``; deletes from the
    first poll that finds the key gone (a 2 ms polling bound).
    """
    client = redis.Redis(**settings.redis.client_kwargs())
    pending = list(changes)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        keys = [
            row_key(settings.cache_prefix, c.system, c.table, c.row_id) for c in pending
        ]
        values = read_rows(client, keys)
        polled_ms = _now_ms()
        still = []
        for change, cached in zip(pending, values, strict=True):
            if change.check(cached):
                change.cached = cached
                change.seen_at_ms = (
                    polled_ms
                    if cached is None
                    else max(int(cached["cached_at_ms"]), change.committed_at_ms)
                )
            else:
                still.append(change)
        pending = still
        if pending:
            time.sleep(0.002)
    client.close()
    return changes
