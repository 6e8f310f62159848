"""What the cache, the lifecycle topic and the webhook target must show.

The expected golden record of each customer is derived here from the rows
the databases hold now, by the field priorities of the ownership file, and
not by Lifeline's own code: the first system listed for a field that has a
value wins, e-mail addresses in their canonical (trimmed, lower-case) form.
The expected lifecycle events follow from what the load did (see
:mod:`tests.chaos.load`). Each ``*_problems`` function returns what is wrong,
as sentences; an empty list means the check holds.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from lifeline.cache import CacheReader, GoldenRecord
from lifeline.events.avro import EventCodec
from lifeline.events.models import LifecycleEvent
from lifeline.live import mariadb_connection, postgres_connection
from lifeline.settings import Settings
from tests.chaos.load import Customer, Load
from tests.chaos.target import EVENTS, PATH, ChaosSaaS

EMAIL_FIELDS = ("login_email", "billing_email")
TABLES = {"erp": "customers", "identity": "users"}


# --- expected golden records -------------------------------------------------
def expected_records(settings: Settings, load: Load) -> dict[str, dict[str, Any]]:
    """Each live customer's golden fields (by key), from the rows in the DBs."""
    rules = yaml.safe_load(Path(settings.ownership_file).read_text())
    erp_rows = _erp_rows(settings, [c.customer_no for c in load.customers])
    users = _user_rows(settings, [c.user_id for c in load.customers if c.user_id])
    expected: dict[str, dict[str, Any]] = {}
    for customer in load.customers:
        rows = {
            "erp": erp_rows.get(customer.customer_no),
            "identity": users.get(customer.user_id or ""),
        }
        if not any(rows.values()):
            continue
        expected[customer.key] = _golden(rules, rows)
    return expected


def _golden(rules: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, dict[str, Any]] = {system: {} for system in rows}
    for source, columns in rules["sources"].items():
        system, table = source.split(".")
        row = rows.get(system)
        if row is None or TABLES.get(system) != table:
            continue
        values[system] = {name: row.get(column) for name, column in columns.items()}
    golden: dict[str, Any] = {}
    for name, systems in rules["fields"].items():
        found = [values.get(s, {}).get(name) for s in systems]
        golden[name] = next((v for v in found if v is not None), None)
    for name in EMAIL_FIELDS:
        if isinstance(golden.get(name), str):
            golden[name] = golden[name].strip().lower()
    return golden


def _erp_rows(settings: Settings, numbers: list[str]) -> dict[str, dict[str, Any]]:
    with mariadb_connection(settings) as conn, conn.cursor() as cur:
        marks = ", ".join(["%s"] * len(numbers))
        cur.execute(f"SELECT * FROM customers WHERE customer_no IN ({marks})", numbers)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        conn.rollback()
    return {row["customer_no"]: row for row in rows}


def _user_rows(settings: Settings, ids: list[str]) -> dict[str, dict[str, Any]]:
    with postgres_connection(settings) as conn:
        cur = conn.execute("SELECT * FROM users WHERE id = ANY(%s)", (ids,))
        names = [d.name for d in cur.description or ()]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def same(name: str, left: Any, right: Any) -> bool:
    """Equal as golden values: money by amount, everything else as text."""
    if left is None or right is None:
        return left is None and right is None
    if name == "credit_limit":
        return Decimal(str(left)) == Decimal(str(right))
    return str(left) == str(right)


# --- the cache ---------------------------------------------------------------
def cache_problems(
    reader: CacheReader, load: Load, expected: dict[str, dict[str, Any]]
) -> list[str]:
    """Where the cache differs from the truth, per customer."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for customer in load.customers:
        record, found = _one_record(reader, customer, problems)
        if customer.user_deleted and reader.by_source_id(str(customer.user_ref)):
            problems.append(f"{customer.user_ref}: deleted user still cached")
        if record is None:
            continue
        if found and record.golden_id in seen:
            problems.append(
                f"{customer.key}: shares golden id with {seen[record.golden_id]}"
            )
        seen[record.golden_id] = customer.key
        problems.extend(_record_problems(customer, record, expected[customer.key]))
    return problems


def _one_record(
    reader: CacheReader, customer: Customer, problems: list[str]
) -> tuple[GoldenRecord | None, bool]:
    if not customer.live_refs:
        return None, False
    records = {ref: reader.by_source_id(ref) for ref in customer.live_refs}
    missing = [ref for ref, record in records.items() if record is None]
    if missing:
        problems.append(f"{customer.key}: not cached for {missing}")
        return None, False
    ids = {r.golden_id for r in records.values() if r is not None}
    if len(ids) > 1:
        problems.append(f"{customer.key}: linked records in {sorted(ids)}")
        return None, False
    return next(iter(records.values())), True


def _record_problems(
    customer: Customer, record: GoldenRecord, expected: dict[str, Any]
) -> list[str]:
    problems = [
        f"{customer.key}.{name}: cache {record.record.get(name)!r} != {value!r}"
        for name, value in expected.items()
        if not same(name, record.record.get(name), value)
    ]
    if set(record.source_ids) != set(customer.live_refs):
        problems.append(
            f"{customer.key}: members {sorted(record.source_ids)}"
            f" != {sorted(customer.live_refs)}"
        )
    if customer.stage is not None and record.stage != customer.stage:
        problems.append(f"{customer.key}: stage {record.stage} != {customer.stage}")
    return problems


def golden_ids(reader: CacheReader, load: Load) -> dict[str, GoldenRecord]:
    """Each live customer's cached golden record, by customer key."""
    found: dict[str, GoldenRecord] = {}
    for customer in load.customers:
        refs = customer.live_refs
        record = reader.by_source_id(refs[0]) if refs else None
        if record is not None:
            found[customer.key] = record
    return found


# --- the lifecycle topic -----------------------------------------------------
class EventLog:
    """Every lifecycle event on the topic, read on as it grows."""

    def __init__(self, settings: Settings) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.broker.bootstrap_servers,
                "group.id": f"chaos-{uuid.uuid4().hex}",
                "enable.auto.commit": "false",
            }
        )
        self._consumer.assign(
            [TopicPartition(settings.topics.lifecycle, 0, OFFSET_BEGINNING)]
        )
        self._codec = EventCodec()
        self.events: list[LifecycleEvent] = []

    def read(self, quiet: float = 0.5) -> list[LifecycleEvent]:
        """Read until nothing new came for ``quiet`` seconds; all events so far."""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            messages = self._consumer.consume(1000, 0.2)
            for message in messages:
                value = message.value()
                if message.error() is None and value is not None:
                    self.events.append(self._codec.decode(value))
            if messages:
                last = time.monotonic()
        return self.events

    def close(self) -> None:
        self._consumer.close()


def event_problems(
    events: Iterable[LifecycleEvent],
    load: Load,
    records: dict[str, GoldenRecord],
    expected: dict[str, dict[str, Any]],
) -> list[str]:
    """Expected lifecycle events that are not on the topic, per customer."""
    by_gid: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        by_gid[event.golden_id].append(event)
    problems: list[str] = []
    for customer in load.customers:
        record = records.get(customer.key)
        if record is None:
            continue
        mine = by_gid.get(record.golden_id, [])
        problems.extend(
            f"{customer.key}: {text}"
            for text in _customer_event_problems(customer, mine, expected)
        )
    return problems


def _customer_event_problems(
    customer: Customer, mine: list[Any], expected: dict[str, dict[str, Any]]
) -> list[str]:
    kinds = Counter(type(e).__name__ for e in mine)
    problems = [f"no {k}" for k in ("CustomerCreated",) if not kinds[k]]
    if customer.linked and not kinds["CustomerMerged"]:
        problems.append(f"no CustomerMerged among {sorted(kinds.items())}")
    profiles = [e for e in mine if hasattr(e, "profile")]
    if profiles:
        last = profiles[-1].profile
        problems.extend(
            f"last event's {name} {getattr(last, name)!r} != {value!r}"
            for name, value in expected[customer.key].items()
            if not same(name, getattr(last, name), value)
        )
    have = {
        "OrderPlaced": {e.order_number for e in mine if hasattr(e, "order_number")},
        "InvoicePosted": {
            e.invoice_number for e in mine if type(e).__name__ == "InvoicePosted"
        },
        "PaymentFailed": {
            e.payment_id for e in mine if type(e).__name__ == "PaymentFailed"
        },
    }
    for kind, wanted in (
        ("OrderPlaced", customer.orders),
        ("InvoicePosted", customer.invoices),
        ("PaymentFailed", customer.failed_payments),
    ):
        problems.extend(f"no {kind} {x}" for x in wanted if x not in have[kind])
    stages = {e.to_stage for e in mine if hasattr(e, "to_stage")}
    if customer.stage is not None and customer.stage not in stages:
        problems.append(f"no LifecycleStageChanged to {customer.stage}")
    return problems


# --- the webhook target --------------------------------------------------------
def logical_id(event: Any) -> tuple[Any, ...]:
    """What makes two events the same business effect, whatever their ids."""
    kind = type(event).__name__
    if kind == "CustomerMerged":
        return kind, event.golden_id, tuple(sorted(event.absorbed_ids))
    if kind == "OrderPlaced":
        return kind, event.order_number
    if kind == "InvoicePosted":
        return kind, event.invoice_number
    if kind == "PaymentFailed":
        return kind, event.payment_id
    if kind == "LifecycleStageChanged":
        return kind, event.golden_id, str(event.from_stage), str(event.to_stage)
    return kind, event.golden_id


def effect_problems(
    events: Iterable[LifecycleEvent], target: ChaosSaaS, golden: set[str]
) -> list[str]:
    """Effects missing at the target, or one business effect made twice.

    ``golden`` are the scenario's golden ids (survivors and absorbed ones).
    """
    mine = [e for e in events if e.golden_id in golden and type(e).__name__ in EVENTS]
    effects = [e for e in target.applied(PATH) if e.body.get("golden_id") in golden]
    keys = Counter(e.key for e in effects)
    problems = [f"effect of key {k} made {n} times" for k, n in keys.items() if n > 1]
    problems += [
        f"{type(e).__name__} {e.event_id} not delivered"
        for e in mine
        if str(e.event_id) not in keys
    ]
    by_event = {str(e.event_id): e for e in mine}
    logical = Counter(logical_id(by_event[e.key]) for e in effects if e.key in by_event)
    problems += [f"{key} took effect {n} times" for key, n in logical.items() if n > 1]
    return problems


def suppressed_repeats(target: ChaosSaaS, golden: set[str]) -> int:
    """Requests the target answered without a second effect, for ``golden``."""
    keys = {e.key for e in target.applied(PATH) if e.body.get("golden_id") in golden}
    return sum(n for key, n in target.suppressed.items() if key in keys)


def scenario_golden_ids(records: dict[str, GoldenRecord]) -> set[str]:
    """Survivors and the ids merged into them."""
    return {gid for r in records.values() for gid in (r.golden_id, *r.merged_ids)}


def settle(check: Callable[[], list[str]], timeout: float) -> list[str]:
    """Run ``check`` until it finds no problem or ``timeout`` passed; the last."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            problems = check()
        except Exception as exc:  # a service mid-restart
            problems = [f"check failed: {exc!r}"]
        if not problems or time.monotonic() > deadline:
            return problems
        time.sleep(0.5)
