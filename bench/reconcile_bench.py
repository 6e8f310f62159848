"""Speed of ``lifeline reconcile`` on N customers, in customers per second.

Starts its own MariaDB, PostgreSQL and Redis (the project's stack
components, in a temporary state directory, on free loopback ports),
applies the sample schemas and seeds N customers directly: each is an ERP
customer and an identity user (bulk multi-row INSERTs and COPY), and one
golden record listing both, built with the golden step's own
``build_record`` and written with the cache writer (no CDC, no flows).
Then it times two runs:

* clean   - the cache in step with the sources (the scheduled-job case);
* drifted - after deleting ``--drift`` index entries, changing a field of
            as many golden records and adding as many golden records of
            customers that do not exist; checks that every one is found.

Prints seconds and customers/s of each run (a customer is two source rows),
and the CPU seconds of the reconciling process itself: on a shared machine
the wall clock says as much about the neighbours as about reconcile.
Redis runs without its append-only file: reconcile only reads.

    .venv/bin/python bench/reconcile_bench.py --customers 100000
"""

from __future__ import annotations

import argparse
import resource
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from lifeline.cache import GoldenCacheWriter, Upsert, build_client, email_hash
from lifeline.cache.keys import CacheKeys
from lifeline.decode.position import SourcePosition
from lifeline.decode.render import render_value
from lifeline.golden.ownership import OwnershipRules, load_ownership
from lifeline.golden.step import build_record
from lifeline.join.clusters import Member
from lifeline.reconcile.command import reconcile
from lifeline.reconcile.reconciler import Options
from lifeline.resolve.state import golden_id_for
from lifeline.samples import schema
from lifeline.samples.schema import erp_connection, identity_connection
from lifeline.settings import Settings
from lifeline.stack.base import Component
from lifeline.stack.mariadb import MariaDB
from lifeline.stack.postgres import Postgres
from lifeline.stack.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 10_000
PASSWORD = "bench-Pw-5521"
ERP_COLUMNS = (
    "customer_no",
    "legal_name",
    "tax_id",
    "email",
    "phone",
    "billing_street",
    "billing_city",
    "billing_postal_code",
    "billing_country",
    "credit_limit",
    "status",
    "updated_at",
)
USER_COLUMNS = ("id", "email", "given_name", "family_name", "phone", "updated_at")
_POSITION = SourcePosition("snapshot", (1,))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bench_settings(state_dir: Path) -> Settings:
    accounts = {"managed": True, "host": "127.0.0.1", "password": PASSWORD}
    return Settings.model_validate(
        {
            "state_dir": state_dir,
            "ownership_file": ROOT / "config" / "ownership.yaml",
            "postgres": {**accounts, "port": free_port()},
            "mariadb": {**accounts, "port": free_port()},
            "redis": {"managed": True, "host": "127.0.0.1", "port": free_port()},
        }
    )


def customer(n: int, changed: datetime) -> dict[str, Any]:
    return {
        "customer_no": f"C-{n:07d}",
        "legal_name": f"Customer {n} GmbH",
        "tax_id": f"DE{n:09d}",
        # Mixed case and spaces: the golden step's normalisation must match.
        "email": f" Billing.{n}@Example{n % 97}.com ",
        "phone": f"+49 30 {n:07d}",
        "billing_street": f"Hauptstrasse {n % 300}",
        "billing_city": f"City {n % 1000}",
        "billing_postal_code": f"{10000 + n % 89999}",
        "billing_country": "DE",
        "credit_limit": Decimal(f"{n % 50000}.50"),
        "status": "active",
        "updated_at": changed.replace(tzinfo=None),
    }


def user(n: int, changed: datetime) -> dict[str, Any]:
    return {
        "id": f"u-{n:07d}",
        "email": f"person.{n}@example.org",
        "given_name": f"Given{n % 500}",
        "family_name": f"Family{n % 700}",
        "phone": f"+49 170 {n:07d}",
        "updated_at": changed,
    }


def golden_upsert(
    rules: OwnershipRules, erp_row: dict[str, Any], user_row: dict[str, Any]
) -> Upsert:
    erp_ref, user_ref = f"erp:{erp_row['customer_no']}", f"identity:{user_row['id']}"
    members = (
        Member(erp_ref, "erp", "customers", erp_row, _POSITION, 0),
        Member(user_ref, "identity", "users", user_row, _POSITION, 0),
    )
    record = build_record(rules, members, set())[0]
    emails = {
        email_hash(value)
        for value in (
            record.get("login_email"),
            record.get("billing_email"),
            erp_row["email"],
            user_row["email"],
        )
        if isinstance(value, str) and "@" in value
    }
    return Upsert(
        golden_id_for(erp_ref),
        "r:00000000000000000001",
        {name: render_value(value) for name, value in record.items()},
        source_ids=(erp_ref, user_ref),
        email_hashes=tuple(sorted(emails)),
        stage="prospect",
    )


def chunks(total: int) -> Iterator[range]:
    for start in range(0, total, CHUNK):
        yield range(start, min(start + CHUNK, total))


def seed(settings: Settings, rules: OwnershipRules, total: int) -> None:
    schema.apply_schemas(settings)
    changed = datetime.now(UTC) - timedelta(hours=1)
    client = build_client(settings.redis)
    writer = GoldenCacheWriter(client, settings.cache_prefix)
    names = ", ".join(ERP_COLUMNS)
    marks = ", ".join(["%s"] * len(ERP_COLUMNS))
    insert = f"INSERT INTO customers ({names}) VALUES ({marks})"
    copy = f"COPY users ({', '.join(USER_COLUMNS)}) FROM STDIN"
    with (
        erp_connection(settings) as my,
        my.cursor() as my_cursor,
        identity_connection(settings) as pg,
        pg.cursor() as pg_cursor,
        pg_cursor.copy(copy) as pg_copy,
    ):
        for numbers in chunks(total):
            erp_rows = [customer(n, changed) for n in numbers]
            user_rows = [user(n, changed) for n in numbers]
            my_cursor.executemany(
                insert, [tuple(r[c] for c in ERP_COLUMNS) for r in erp_rows]
            )
            my.commit()
            for row in user_rows:
                pg_copy.write_row(tuple(row[c] for c in USER_COLUMNS))
            upserts = [
                golden_upsert(rules, e, u)
                for e, u in zip(erp_rows, user_rows, strict=True)
            ]
            for start in range(0, len(upserts), 1000):
                writer.apply(upserts[start : start + 1000])
    client.close()


def tamper(settings: Settings, total: int, drift: int) -> None:
    """Delete ``drift`` index entries, change as many records, add as many."""
    keys = CacheKeys(settings.cache_prefix)
    client = build_client(settings.redis)
    step = max(total // (2 * drift), 1)
    gone = [n * step for n in range(drift)]
    changed = [n * step + step // 2 for n in range(drift)]
    pipe = client.pipeline(transaction=False)
    for n in gone:
        pipe.delete(keys.source_index(f"erp:C-{n:07d}"))
    for n in changed:
        key = keys.golden(golden_id_for(f"erp:C-{n:07d}"))
        pipe.hget(key, "record")
    records = pipe.execute()[drift:]
    pipe = client.pipeline(transaction=False)
    for n, text in zip(changed, records, strict=True):
        record = orjson.loads(text)
        record["legal_name"] = "Tampered Ltd"
        key = keys.golden(golden_id_for(f"erp:C-{n:07d}"))
        pipe.hset(key, "record", orjson.dumps(record))
    pipe.execute()
    ghosts = [
        Upsert(
            f"g-ghost-{n}",
            "r:00000000000000000001",
            {"legal_name": "Ghost"},
            source_ids=(f"erp:X-{n:07d}",),
            email_hashes=(),
        )
        for n in range(drift)
    ]
    GoldenCacheWriter(client, settings.cache_prefix).apply(ghosts)
    client.close()


def timed_run(settings: Settings, total: int, batch: int) -> dict[str, Any]:
    options = Options(grace=60.0, recheck=0.0, batch_size=batch)
    began, cpu = time.perf_counter(), time.process_time()
    report = reconcile(settings, options)
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "customers_per_s": total / seconds,
        "rows": report.rows,
        "counts": dict(report.tally.counts),
        "reasons": {f"{c}/{r}": n for (c, r), n in report.tally.reasons.items()},
    }


def start(components: list[Component]) -> None:
    for component in components:
        component.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--drift", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()
    state_dir = Path(tempfile.mkdtemp(prefix="lifeline-reconcile-bench-"))
    # PostgreSQL runs as its own account and must reach its data directory.
    state_dir.chmod(state_dir.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    settings = bench_settings(state_dir)
    components: list[Component] = [
        MariaDB(settings),
        Postgres(settings),
        RedisServer(settings),
    ]
    try:
        start(components)
        build_client(settings.redis).config_set("appendonly", "no")
        rules = load_ownership(settings.ownership_file)
        began = time.perf_counter()
        seed(settings, rules, args.customers)
        print(
            f"seeded {args.customers:,} customers in {time.perf_counter() - began:.0f}s"
        )
        clean = timed_run(settings, args.customers, args.batch_size)
        tamper(settings, args.customers, args.drift)
        drifted = timed_run(settings, args.customers, args.batch_size)
        for name, run in (("clean", clean), ("drifted", drifted)):
            print(
                f"{name:8} {run['seconds']:7.1f}s {run['customers_per_s']:>9,.0f}"
                f" customers/s (reconcile's own CPU {run['cpu_seconds']:.1f}s)"
                f"  found {run['counts']}  {run['reasons']}"
            )
        want = {"missing": args.drift, "stale": args.drift, "extra": 2 * args.drift}
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of this process (seeding included): {peak:,.0f} MB")
        print("clean run clean:", not clean["counts"])
        print("drift found as injected:", drifted["counts"] == want)
    finally:
        for component in reversed(components):
            component.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
