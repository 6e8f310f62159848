"""Catch-up after a burst: many committed updates as fast as one client can.

Updates the credit limit of a few ERP customers N times each (one transaction
per update), then measures how long after the last commit Redis shows every
final value. Needs the running stack and flow (``lifeline demo``).

    .venv/bin/python bench/burst.py --updates 6000 --rows 3
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import redis

from lifeline.emit.cache_keys import row_key
from lifeline.live import mariadb_connection, read_rows
from lifeline.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=6000)
    parser.add_argument("--rows", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    settings = Settings()
    cache = redis.Redis(**settings.redis.client_kwargs())
    with mariadb_connection(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM customers ORDER BY id LIMIT %s", (args.rows,))
        ids = [str(row[0]) for row in cur.fetchall()]
        began = time.monotonic()
        for i in range(args.updates):
            cur.execute(
                "UPDATE customers SET credit_limit=%s WHERE id=%s",
                (Decimal(i), ids[i % len(ids)]),
            )
            conn.commit()
    committed = time.monotonic()
    final = {ids[i % len(ids)]: Decimal(i) for i in range(args.updates)}
    keys = {rid: row_key(settings.cache_prefix, "erp", "customers", rid) for rid in ids}
    pending = dict(final)
    while pending and time.monotonic() - committed < args.timeout:
        for rid, want in list(pending.items()):
            (cached,) = read_rows(cache, [keys[rid]])
            if cached is not None and Decimal(cached["row"]["credit_limit"]) == want:
                del pending[rid]
        time.sleep(0.01)
    caught_up = time.monotonic()
    print(
        f"updates={args.updates} "
        f"commit_rate={args.updates / (committed - began):.0f}/s "
        f"caught_up_after_last_commit={caught_up - committed:.2f}s "
        f"missing={len(pending)}"
    )


if __name__ == "__main__":
    main()
