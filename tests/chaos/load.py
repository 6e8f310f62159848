"""A load of changes in both databases, with what each customer should become.

Every scenario makes its own customers (unique keys, names and e-mail
domains, so identity resolution links only what the load links on purpose):

* ``pair``: an ERP customer and an identity user, linked by an external id
  once both are in the cache (so their golden records merge);
* ``buyer``: an ERP customer with an order, an invoice posted and a failed
  payment (stage ``past_due``), and another order per few waves;
* ``user``: an identity user alone; the last one of a load is deleted.

:meth:`Load.wave` changes every live customer once (credit limit and phone in
the ERP, given name in the identity system); :class:`Background` runs waves
while a fault is injected. The rows themselves stay in the databases: the
expected golden records are read back from them (:mod:`tests.chaos.truth`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lifeline.cache import CacheReader, build_client
from lifeline.live import mariadb_connection, postgres_connection
from lifeline.settings import Settings

PAIR, BUYER, USER = "pair", "buyer", "user"
KINDS = (PAIR, BUYER, PAIR, USER, BUYER, USER)


@dataclass
class Customer:
    """One customer of the load and what was done to it."""

    key: str
    kind: str
    erp_row: str | None = None
    user_id: str | None = None
    linked: bool = False
    user_deleted: bool = False
    orders: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    failed_payments: list[str] = field(default_factory=list)

    @property
    def customer_no(self) -> str:
        return f"C-{self.key}"

    @property
    def erp_ref(self) -> str | None:
        return None if self.erp_row is None else f"erp:{self.customer_no}"

    @property
    def user_ref(self) -> str | None:
        return None if self.user_id is None else f"identity:{self.user_id}"

    @property
    def live_refs(self) -> list[str]:
        """Source ids that must resolve to this customer's golden record."""
        refs = [self.erp_ref]
        if not self.user_deleted:
            refs.append(self.user_ref)
        return [ref for ref in refs if ref is not None]

    @property
    def stage(self) -> str | None:
        """The lifecycle stage the load's facts lead to (None: no facts)."""
        if self.failed_payments:
            return "past_due"
        return "onboarding" if self.orders else None


class Load:
    """Makes the changes; safe to use from one thread at a time."""

    def __init__(self, settings: Settings, scenario: str, size: int = 6) -> None:
        self.settings = settings
        self.scenario = scenario
        self.tag = uuid.uuid4().hex[:6]
        self.customers = [
            Customer(f"{scenario[:3]}{self.tag}{uuid.uuid4().hex[:6]}", kind)
            for kind in KINDS[:size]
        ]
        self.waves = 0
        self.transactions = 0
        self._my = mariadb_connection(settings)
        self._pg = postgres_connection(settings)

    def close(self) -> None:
        self._my.close()
        self._pg.close()

    # --- the load --------------------------------------------------------------
    def create(self, reader: CacheReader, timeout: float = 60.0) -> None:
        """Insert every customer; link the pairs once both records are cached.

        Returns once the merges show in the cache: a merge is resolved from
        the batches the resolver happens to get, and a replay that sees a
        user and its link in one batch resolves it without a merge (see
        docs/streaming-engineers.md), so the faults come after the merges.
        """
        for customer in self.customers:
            if customer.kind in (PAIR, BUYER):
                self._insert_erp(customer)
            if customer.kind in (PAIR, USER):
                self._insert_user(customer)
            if customer.kind == BUYER:
                self._buy(customer, fail_payment=True)
        pairs = [c for c in self.customers if c.kind == PAIR]
        refs = [ref for c in pairs for ref in c.live_refs]
        wait_for(lambda: all(reader.by_source_id(r) for r in refs), timeout)
        for customer in pairs:
            self._link(customer)

        def merged() -> bool:
            found = [[reader.by_source_id(r) for r in c.live_refs] for c in pairs]
            ids = [{r.golden_id if r else None for r in rs} for rs in found]
            return all(len(gids) == 1 and None not in gids for gids in ids)

        wait_for(merged, timeout)

    def wave(self) -> None:
        """Change every live customer once; every third wave, buyers order."""
        self.waves += 1
        n = self.waves
        for index, customer in enumerate(self.customers):
            if customer.erp_row is not None:
                self._update_erp(customer, Decimal(1000 + 10 * n + index), n)
            if customer.user_id is not None and not customer.user_deleted:
                self._rename(customer, n)
            if customer.kind == BUYER and n % 3 == 0:
                self._buy(customer, fail_payment=False)
        if n == 2:
            self.delete_last_user()

    def delete_last_user(self) -> None:
        """Delete the last identity-only user (its golden record goes)."""
        users = [c for c in self.customers if c.kind == USER and not c.user_deleted]
        if not users:
            return
        customer = users[-1]
        self._pg.execute("DELETE FROM users WHERE id=%s", (customer.user_id,))
        self._pg.commit()
        customer.user_deleted = True
        self.transactions += 1

    # --- single changes --------------------------------------------------------
    def _insert_erp(self, customer: Customer) -> None:
        key = customer.key
        with self._my.cursor() as cur:
            cur.execute(
                "INSERT INTO customers (customer_no, legal_name, email, phone,"
                " billing_city, billing_country, credit_limit, status)"
                " VALUES (%s, %s, %s, %s, %s, 'DE', 500.00, 'prospect')",
                (
                    customer.customer_no,
                    f"Chaos {key} Handels GmbH",
                    f"billing@{key}.example.org",
                    f"+49 30 {int(key[-6:], 16) % 9_000_000 + 1_000_000}",
                    f"Stadt {key}",
                ),
            )
            customer.erp_row = str(cur.lastrowid)
        self._my.commit()
        self.transactions += 1

    def _insert_user(self, customer: Customer) -> None:
        key = customer.key
        customer.user_id = f"u-{key}"
        self._pg.execute(
            "INSERT INTO users (id, email, given_name, family_name, display_name)"
            " VALUES (%s, %s, %s, %s, %s)",
            (
                customer.user_id,
                f"person@{key}.example.net",
                f"Vorname{key}",
                f"Nachname{key[::-1]}",
                f"Chaos {key}",
            ),
        )
        self._pg.commit()
        self.transactions += 1

    def _link(self, customer: Customer) -> None:
        self._pg.execute(
            "INSERT INTO external_ids (system, external_id, user_id)"
            " VALUES ('erp', %s, %s)",
            (customer.customer_no, customer.user_id),
        )
        self._pg.commit()
        customer.linked = True
        self.transactions += 1

    def _update_erp(self, customer: Customer, limit: Decimal, wave: int) -> None:
        with self._my.cursor() as cur:
            cur.execute(
                "UPDATE customers SET credit_limit=%s, phone=%s WHERE id=%s",
                (limit, f"+49 40 {wave:03d} {customer.key[-4:]}", customer.erp_row),
            )
        self._my.commit()
        self.transactions += 1

    def _rename(self, customer: Customer, wave: int) -> None:
        self._pg.execute(
            "UPDATE users SET given_name=%s, updated_at=now() WHERE id=%s",
            (f"Vorname{customer.key}w{wave}", customer.user_id),
        )
        self._pg.commit()
        self.transactions += 1

    def _buy(self, customer: Customer, *, fail_payment: bool) -> None:
        number = f"{customer.key[-8:]}{len(customer.orders)}"
        with self._my.cursor() as cur:
            cur.execute(
                "INSERT INTO orders (order_no, customer_id, currency, total)"
                " VALUES (%s, %s, 'EUR', 120.00)",
                (f"O{number}", customer.erp_row),
            )
            customer.orders.append(f"O{number}")
            order_id = cur.lastrowid
            if fail_payment:
                invoice_id = self._post_invoice(cur, customer, number, order_id)
                cur.execute(
                    "INSERT INTO payments (invoice_id, amount, status, method,"
                    " failure_reason, paid_at) VALUES (%s, 120.00, 'failed',"
                    " 'card', 'declined', NOW(3))",
                    (invoice_id,),
                )
                customer.failed_payments.append(str(cur.lastrowid))
        self._my.commit()
        self.transactions += 1

    @staticmethod
    def _post_invoice(cur: Any, customer: Customer, number: str, order_id: int) -> int:
        cur.execute(
            "INSERT INTO invoices (invoice_no, customer_id, order_id, status,"
            " currency, amount, issued_on, due_on) VALUES (%s, %s, %s, 'posted',"
            " 'EUR', 120.00, CURDATE(), CURDATE() + INTERVAL 30 DAY)",
            (f"I{number}", customer.erp_row, order_id),
        )
        customer.invoices.append(f"I{number}")
        return int(cur.lastrowid)


class Background:
    """Runs :meth:`Load.wave` every ``pause`` seconds until stopped.

    A wave that fails (a database restarting, say) is an error of the
    scenario: it is kept and raised by :meth:`stop`.
    """

    def __init__(self, load: Load, pause: float = 0.25) -> None:
        self.load = load
        self.pause = pause
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Background:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.load.wave()
                self._stop.wait(self.pause)
        except BaseException as exc:
            self._error = exc

    def stop(self) -> None:
        """Stop after the wave in progress; raise what a wave raised."""
        self._stop.set()
        self._thread.join(60)
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def wait_for(check: Callable[[], Any], timeout: float, pause: float = 0.2) -> bool:
    """Poll ``check`` until it is truthy or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except Exception:  # a service mid-restart; ask again
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)


def reader_for(settings: Settings) -> CacheReader:
    """A cache reader on the settings' Redis and prefix."""
    return CacheReader(build_client(settings.redis), settings.cache_prefix)
