"""Commit-to-Redis latency through the running stack and skeleton flow.

Makes N updates in each database, one transaction each, paced at RATE changes
per second per database, and reads each row's ``cached_at_ms`` (written by the
sink) against the client's commit time. Prints p50/p95/p99/max per database.

    .venv/bin/lifeline demo   # or: stack up, seed, connectors apply, flow start
    .venv/bin/python bench/latency.py --changes 200 --rate 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

import orjson

from lifeline.live import (
    ErpChanges,
    IdentityChanges,
    LiveChange,
    mariadb_connection,
    postgres_connection,
    watch,
)
from lifeline.settings import Settings


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return float(ordered[index])


def run(changes: int, rate: float) -> dict[str, dict[str, float]]:
    settings = Settings()
    tag = time.strftime("%H%M%S")
    made: dict[str, list[LiveChange]] = {"mariadb": [], "postgres": []}
    with mariadb_connection(settings) as my, postgres_connection(settings) as pg:
        erp, identity = ErpChanges(settings, my), IdentityChanges(settings, pg)
        customer = erp.insert(f"C-L{tag}", "Latency GmbH", f"lat.{tag}@example.com")
        user = identity.insert(f"u-lat-{tag}", f"lat.{tag}@example.com", "La", "Tency")
        watch(settings, [customer, user])
        interval = 1.0 / rate
        for i in range(changes):
            began = time.monotonic()
            made["mariadb"].append(erp.update_credit(customer.row_id, Decimal(i + 1)))
            made["postgres"].append(identity.rename(user.row_id, f"n{i}"))
            # Watch each before the next changes the same row again.
            watch(settings, [made["mariadb"][-1], made["postgres"][-1]], timeout=30)
            time.sleep(max(0.0, interval - (time.monotonic() - began)))
    report = {}
    for db, items in made.items():
        latencies = [c.latency_ms for c in items if c.latency_ms is not None]
        report[db] = {
            "changes": len(items),
            "seen": len(latencies),
            "p50_ms": percentile(latencies, 0.50),
            "p95_ms": percentile(latencies, 0.95),
            "p99_ms": percentile(latencies, 0.99),
            "max_ms": float(max(latencies)),
            "mean_ms": round(statistics.fmean(latencies), 1),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    report = run(args.changes, args.rate)
    for db, figures in report.items():
        print(db, " ".join(f"{k}={v:g}" for k, v in figures.items()))
    print(orjson.dumps(report).decode())


if __name__ == "__main__":
    main()
