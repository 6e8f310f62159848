"""``lifeline demo``: the whole path, from a cold machine to live changes in Redis."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TextIO

import orjson
import redis

from lifeline.cache import CacheReader, build_client
from lifeline.capture.apply import apply_connectors
from lifeline.emit.cache_keys import email_view_key
from lifeline.errors import FatalError
from lifeline.flows.runner import FlowProcess
from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    LiveChange,
    mariadb_connection,
    postgres_connection,
    watch,
)
from lifeline.samples import schema, seed
from lifeline.settings import Settings
from lifeline.stack.base import ComponentStatus
from lifeline.stack.manager import Stack
from lifeline.table import render_table

logger = logging.getLogger(__name__)

DEMO_CUSTOMERS = 200


def status_table(statuses: list[ComponentStatus]) -> str:
    """The component table ``stack status`` and the demo print."""
    return render_table(
        ["component", "state", "address", "pid", "started"],
        [
            (
                s.name,
                s.state.value + (f" ({s.detail})" if s.detail else ""),
                s.address,
                s.pid,
                s.started_at.isoformat(timespec="seconds") if s.started_at else None,
            )
            for s in statuses
        ],
    )


def run_demo(settings: Settings, out: TextIO) -> int:
    """Bring everything up, make live changes and show what the cache holds."""
    began = time.monotonic()
    step = _stepper(out, began)
    step("starting the stack")
    out.write(status_table(Stack(settings).up()) + "\n")
    step("creating sample schemas and seeding fake customers")
    schema.apply_schemas(settings)
    if schema.customer_count(settings) == 0:
        seed.load(settings, seed.generate(DEMO_CUSTOMERS, seed=7))
    step("applying Debezium connectors")
    for applied in apply_connectors(settings):
        verb = (
            "created"
            if applied.created
            else ("updated" if applied.changed else "unchanged")
        )
        out.write(f"  {applied.name}: {verb}, {applied.state.state}\n")
    step("starting the dataflows (skeleton, golden)")
    for flow in ("skeleton", "golden"):
        FlowProcess(settings, flow).start()
    _wait_for_snapshot(settings)
    step("making live changes in MariaDB (ERP) and PostgreSQL (identity)")
    changes, email = _live_changes(settings)
    out.write(_changes_table(changes) + "\n\n")
    out.write(_view_summary(settings, email) + "\n\n")
    out.write(_golden_summary(settings, email) + "\n")
    missing = [c for c in changes if c.seen_at_ms is None]
    step(f"done in {time.monotonic() - began:.1f}s; stop with `lifeline stack down`")
    return 1 if missing else 0


def _stepper(out: TextIO, began: float) -> Callable[[str], None]:
    def step(text: str) -> None:
        out.write(f"[{time.monotonic() - began:6.1f}s] {text}\n")
        out.flush()

    return step


def _wait_for_snapshot(settings: Settings, timeout: float = 120.0) -> None:
    client = redis.Redis(**settings.redis.client_kwargs())
    pattern = f"{settings.cache_prefix}:row:{settings.topics.erp_prefix}:customers:*"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if next(client.scan_iter(pattern, count=1000), None) is not None:
            return
        time.sleep(0.2)
    msg = "no ERP customer reached Redis within 120s; see state/run/flow-skeleton.log"
    raise FatalError(msg)


def _live_changes(settings: Settings) -> tuple[list[LiveChange], str]:
    """Make each change and wait for it, so each row shows the cache at that time."""
    tag = time.strftime("%H%M%S")
    email = f"demo.{tag}@example.com"
    changes: list[LiveChange] = []

    def made(change: LiveChange) -> LiveChange:
        watch(settings, [change], timeout=30.0)
        changes.append(change)
        return change

    with mariadb_connection(settings) as my, postgres_connection(settings) as pg:
        erp, identity = ErpChanges(settings, my), IdentityChanges(settings, pg)
        # A sole trader: the ERP customer is the person who signs in.
        created = made(erp.insert(f"C-D{tag}", "Dana Demo", email))
        user = made(
            identity.insert(
                f"u-demo-{tag}", f"  Demo.{tag}@Example.COM ", "Dana", "Demo"
            )
        )
        made(erp.update_credit(created.row_id, Decimal("25000.00")))
        made(identity.set_phone(user.row_id, "+49 30 5550 1234"))
        doomed = made(
            erp.insert(f"C-X{tag}", "Short-lived Ltd", f"gone.{tag}@example.org")
        )
        ghost = made(
            identity.insert(f"u-gone-{tag}", f"gone.{tag}@example.org", "Gus", "Gone")
        )
        made(erp.delete(doomed.row_id))
        made(identity.delete(ghost.row_id))
    return changes, email


def _changes_table(changes: list[LiveChange]) -> str:
    rows = []
    for change in changes:
        shown = "(gone)" if change.cached is None else _summary(change.cached["row"])
        if change.seen_at_ms is None:
            shown = "NOT SEEN"
        rows.append(
            (
                f"{change.system}.{change.table}",
                change.row_id,
                change.action,
                shown,
                change.latency_ms,
            )
        )
    return render_table(
        ["source", "key", "change", "cache now holds", "commit->redis ms"], rows
    )


def _summary(row: dict[str, object]) -> str:
    fields = (
        "customer_no",
        "legal_name",
        "given_name",
        "family_name",
        "email",
        "phone",
        "credit_limit",
    )
    return ", ".join(
        f"{f}={row[f]!s}".strip() for f in fields if row.get(f) is not None
    )


def _golden_summary(settings: Settings, email: str, timeout: float = 15.0) -> str:
    """The golden record(s) of ``email``, as ``lifeline lookup`` prints them."""
    reader = CacheReader(build_client(settings.redis), settings.cache_prefix)
    deadline = time.monotonic() + timeout
    records = reader.by_email(email)
    while time.monotonic() < deadline and not any(
        len(r.source_ids) > 1 for r in records
    ):
        time.sleep(0.1)
        records = reader.by_email(email)
    if not records:
        return f"golden record of {email}: not in the cache yet"
    lines = [f"golden record (lifeline lookup {email}):"]
    for record in records:
        body = orjson.dumps(record.to_json(), option=orjson.OPT_INDENT_2).decode()
        lines.append(body)
    return "\n".join(lines)


def _view_summary(settings: Settings, email: str) -> str:
    client = redis.Redis(**settings.redis.client_kwargs())
    key = email_view_key(settings.cache_prefix, email)
    raw = client.get(key)
    if raw is None:
        return f"joined view {key}: missing"
    view = orjson.loads(raw)
    members = ", ".join(sorted(view["members"]))
    return f"joined customer view {key}\n  email={view['email']}\n  members: {members}"
