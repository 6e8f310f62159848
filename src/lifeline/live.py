"""Live row changes in the sample databases, and watching them reach Redis.

Used by ``lifeline demo`` and the latency benchmark: each change records when
its transaction committed (client clock, right after COMMIT returned); the
watcher then reads the cached row's ``cached_at_ms`` (written by the sink) to
get the commit-to-Redis latency on the same clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
import psycopg
import pymysql
import redis

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


class ErpChanges:
    """Committed changes to ``erp.customers``."""

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
