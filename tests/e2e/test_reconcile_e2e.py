"""``lifeline reconcile`` against the running golden flow and a tampered cache.

Every test works on its own customers, whose ids share a unique prefix, and
reconciles only those (``--id-prefix``): the shared test databases hold
other tests' rows, some of them mid-change.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal
from typing import Any

import orjson
import pytest

from lifeline.cache import CacheReader, GoldenCacheWriter, GoldenRecord, Upsert
from lifeline.cache import build_client as cache_client
from lifeline.cache.keys import CacheKeys
from lifeline.cli import build_parser
from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    mariadb_connection,
    postgres_connection,
)
from lifeline.settings import Settings
from tests.ports import free_port

pytestmark = pytest.mark.stack


def reconcile(settings: Settings, *argv: str) -> tuple[int, dict[str, Any], str]:
    """Run ``lifeline reconcile --json ARGV``: exit code, report, stderr."""
    args = build_parser().parse_args(["reconcile", "--json", *argv])
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = args.handler(args, settings)
    report = orjson.loads(out.getvalue()) if out.getvalue() else {}
    return code, report, err.getvalue()


def wait_for(
    probe: Callable[[], GoldenRecord | None],
    done: Callable[[GoldenRecord], bool],
    timeout: float = 60.0,
) -> GoldenRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None and done(found):
            return found
        time.sleep(0.1)
    pytest.fail("the golden flow never brought the change to the cache")


class Customers:
    """Two customers under a unique prefix: one in both systems, one ERP-only.

    ``<tag>-c1`` (ERP) and ``<tag>-u1`` (identity) share an email and become
    one golden record; ``<tag>-c2`` is a company only the ERP knows.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tag = "rc" + uuid.uuid4().hex[:8]
        self.reader = CacheReader(cache_client(settings.redis), settings.cache_prefix)
        self.c1, self.c2 = f"erp:{self.tag}-c1", f"erp:{self.tag}-c2"
        self.u1 = f"identity:{self.tag}-u1"
        self.row_ids: dict[str, str] = {}

    def create(self) -> None:
        email = f"rhea.{self.tag}@example.com"
        with (
            mariadb_connection(self.settings) as my,
            postgres_connection(self.settings) as pg,
        ):
            erp = ErpChanges(self.settings, my)
            # Upper case in the ERP, spaces in identity: the cache holds neither.
            first = erp.insert(f"{self.tag}-c1", "Rhea Reconcile", email.upper())
            second = erp.insert(f"{self.tag}-c2", f"Solo {self.tag} Ltd", f"s.{email}")
            self.row_ids = {self.c1: first.row_id, self.c2: second.row_id}
            IdentityChanges(self.settings, pg).insert(
                f"{self.tag}-u1", f" {email}", "Rhea", "Reconcile"
            )
        both = {self.c1, self.u1}
        wait_for(
            lambda: self.reader.by_source_id(self.c1),
            lambda r: set(r.source_ids) == both,
        )
        wait_for(lambda: self.reader.by_source_id(self.c2), lambda r: True)

    def golden(self, source_id: str) -> GoldenRecord:
        found = self.reader.by_source_id(source_id)
        assert found is not None
        return found


@pytest.fixture
def customers(stack_settings: Settings) -> Customers:
    made = Customers(stack_settings)
    made.create()
    return made


def test_a_cache_in_step_with_the_sources_is_clean(customers: Customers) -> None:
    with mariadb_connection(customers.settings) as my:
        ErpChanges(customers.settings, my).update_credit(
            customers.row_ids[customers.c2], Decimal("7500.00")
        )
    wait_for(
        lambda: customers.reader.by_source_id(customers.c2),
        lambda r: r.record["credit_limit"] == "7500.00",
    )
    code, report, _ = reconcile(
        customers.settings, "--id-prefix", customers.tag, "--grace", "0"
    )
    assert report["counts"] == {"missing": 0, "stale": 0, "extra": 0}, report
    assert code == 0
    assert report["read"]["rows"] == {"erp.customers": 2, "identity.users": 1}
    assert report["read"]["index_entries"] == 3


def test_tampered_cache_entries_are_reported_by_category(
    customers: Customers,
) -> None:
    settings, tag = customers.settings, customers.tag
    keys = CacheKeys(settings.cache_prefix)
    client = cache_client(settings.redis)
    # missing: the ERP-only customer loses its index entry
    client.delete(keys.source_index(customers.c2))
    # stale: the shared record's legal name (the ERP owns it) changes
    shared = customers.golden(customers.c1)
    record = {**shared.record, "legal_name": "Tampered Name Ltd"}
    client.hset(keys.golden(shared.golden_id), "record", orjson.dumps(record))
    # extra: a record and index entry of an ERP customer that never existed
    ghost, ghost_source = f"g-{tag}x", f"erp:{tag}-gone"
    GoldenCacheWriter(client, settings.cache_prefix).apply(
        [
            Upsert(
                ghost,
                "r:99999999999999999999",
                {"legal_name": "Ghost Ltd"},
                source_ids=(ghost_source,),
                email_hashes=(),
            )
        ]
    )

    code, report, _ = reconcile(
        settings, "--id-prefix", tag, "--grace", "0", "--recheck", "1"
    )

    assert code == 1
    assert report["drift"] is True
    assert report["counts"] == {"missing": 1, "stale": 1, "extra": 2}
    assert report["by_table"]["erp.customers"] == {"missing": 1, "stale": 1, "extra": 2}
    assert report["reasons"]["extra"] == {"no_source_row": 1, "source_row_gone": 1}
    assert report["stale_fields"] == {"legal_name": 1}
    assert report["lag"]["settled_on_recheck"] == 0
    examples = report["examples"]
    assert examples["missing"] == [
        {
            "reason": "no_index_entry",
            "where": "erp.customers",
            "source_id": customers.c2,
            "golden_id": None,
        }
    ]
    (stale,) = examples["stale"]
    assert (stale["source_id"], stale["golden_id"]) == (customers.c1, shared.golden_id)
    assert stale["fields"] == [
        {"field": "legal_name", "cached": "T***", "source": "R***"}
    ]
    extras = {(e["reason"], e["source_id"], e["golden_id"]) for e in examples["extra"]}
    assert extras == {
        ("source_row_gone", ghost_source, ghost),
        ("no_source_row", None, ghost),
    }
    text = orjson.dumps(report).decode()
    for personal in ("Rhea", "Reconcile", "Tampered", f"rhea.{tag}"):
        assert personal not in text
    client.delete(keys.golden(ghost), keys.source_index(ghost_source))


def test_changes_in_flight_are_lag_not_drift(customers: Customers) -> None:
    settings = customers.settings
    with mariadb_connection(settings) as my:
        erp = ErpChanges(settings, my)
        erp.update_credit(customers.row_ids[customers.c1], Decimal("1234.00"))
        # Inside the grace period: not checked at all.
        code, report, _ = reconcile(
            settings, "--id-prefix", customers.tag, "--grace", "3600", "--recheck", "0"
        )
        assert (code, report["lag"]["recent_rows"]) == (0, 3)
        erp.update_credit(customers.row_ids[customers.c1], Decimal("4321.00"))
    # No grace: the first pass may see the cache behind; the re-check waits.
    code, report, _ = reconcile(
        settings, "--id-prefix", customers.tag, "--grace", "0", "--recheck", "60"
    )
    assert report["counts"] == {"missing": 0, "stale": 0, "extra": 0}, report
    assert code == 0
    assert customers.golden(customers.c1).record["credit_limit"] == "4321.00"


@pytest.mark.parametrize("server", ["redis", "mariadb", "postgres"])
def test_an_unreachable_server_is_named_and_exits_2(
    stack_settings: Settings, server: str
) -> None:
    port = free_port()
    part = getattr(stack_settings, server).model_copy(update={"port": port})
    broken = stack_settings.model_copy(update={server: part})
    code, report, error = reconcile(broken, "--id-prefix", "none-")
    assert (code, report) == (2, {})
    assert error.startswith("lifeline reconcile: could not run: ")
    assert f"127.0.0.1:{port}" in error
    assert server in error
