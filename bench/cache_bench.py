"""Throughput of the golden-record cache writer, in updates per second.

Starts its own Redis (the project's RedisServer component, in a temporary
state directory, on a free loopback port), then applies batches of upserts
through one connection, as the dataflow sink does:

* insert  - new golden ids (every index entry is created);
* update  - the same ids at newer versions (record, invoices, entitlements
            rewritten; index entries unchanged);
* move    - newer versions that swap one source id and the email of each
            record (index entries dropped and created);
* replay  - the update batches again (all stale: version check only);
* baseline - for scale, the same records written with plain pipelined HSETs
            (no version check, no indexes): what this machine does at best.

Each upsert carries a ~300-byte record, 2 source ids, 1 email hash, a stage,
2 open invoices and 2 entitlements. Prints updates/s and batch latency per
phase; ``--json`` also writes them to a file. The server runs as the local
stack's does (append-only file, fsync every second); ``--no-aof`` switches
persistence off to show its share.

    .venv/bin/python bench/cache_bench.py --batches 50 --batch-size 1000
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from lifeline.cache import GoldenCacheWriter, Upsert, build_client, email_hash
from lifeline.settings import Settings
from lifeline.stack.redis_server import RedisServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_upsert(n: int, step: int, moved: bool) -> Upsert:
    tail = "b" if moved else "a"
    return Upsert(
        golden_id=f"g{n}",
        version=f"p:{step:016x}",
        record={
            "legal_name": f"Customer {n} GmbH",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "tax_id": f"DE{n:09d}",
            "phone": "+49 30 1234567",
            "billing_address": {
                "street": "Main St 1",
                "city": "Berlin",
                "zip": "10115",
            },
            "credit_limit": "25000.00",
            "status": "active",
            "updated_at": "2024-05-01T10:00:00+00:00",
        },
        source_ids=[f"erp:C-{n}", f"identity:u-{n}{tail}"],
        email_hashes=[email_hash(f"customer{n}{tail}@example.com")],
        stage="customer",
        open_invoices={
            f"INV-{n}-1": {"amount": "120.00", "due": "2024-06-01"},
            f"INV-{n}-2": {"amount": "80.50", "due": "2024-07-01"},
        },
        entitlements={"support": "gold", "seats": 25},
    )


def run_phase(
    writer: GoldenCacheWriter, batches: list[list[Upsert]]
) -> dict[str, float]:
    latencies: list[float] = []
    applied = stale = 0
    began = time.perf_counter()
    for batch in batches:
        start = time.perf_counter()
        result = writer.apply(batch)
        latencies.append(time.perf_counter() - start)
        applied, stale = applied + result.applied, stale + result.stale
    elapsed = time.perf_counter() - began
    total = sum(len(batch) for batch in batches)
    ordered = sorted(latencies)
    return {
        "updates": total,
        "applied": applied,
        "stale": stale,
        "updates_per_s": total / elapsed,
        "batch_p50_ms": statistics.median(latencies) * 1000,
        "batch_p99_ms": ordered[min(len(ordered) - 1, round(0.99 * len(ordered)))]
        * 1000,
    }


def run_baseline(client: Any, batches: list[list[Upsert]]) -> dict[str, float]:
    began = time.perf_counter()
    for batch in batches:
        pipe = client.pipeline(transaction=False)
        for update in batch:
            pipe.hset(
                f"baseline:{update.golden_id}",
                mapping={
                    "version": update.version,
                    "record": orjson.dumps(update.record),
                    "open_invoices": orjson.dumps(update.open_invoices),
                    "entitlements": orjson.dumps(update.entitlements),
                },
            )
        pipe.execute()
    total = sum(len(batch) for batch in batches)
    return {"updates": total, "updates_per_s": total / (time.perf_counter() - began)}


def build_batches(
    batches: int, size: int, step: int, moved: bool
) -> list[list[Upsert]]:
    return [
        [make_upsert(b * size + i, step, moved) for i in range(size)]
        for b in range(batches)
    ]


def bench(batches: int, size: int, aof: bool) -> dict[str, Any]:
    state_dir = Path(tempfile.mkdtemp(prefix="lifeline-cache-bench-"))
    settings = Settings.model_validate(
        {
            "state_dir": state_dir,
            "redis": {
                "managed": True,
                "host": "127.0.0.1",
                "port": free_port(),
                "username": None,
                "password": None,
                "tls": False,
            },
        }
    )
    server = RedisServer(settings)
    try:
        server.start()
        client = build_client(settings.redis)
        if not aof:
            client.config_set("appendonly", "no")
        writer = GoldenCacheWriter(client, "bench")
        writer.load_script()
        phases = {
            "insert": build_batches(batches, size, 1, moved=False),
            "update": build_batches(batches, size, 2, moved=False),
            "move": build_batches(batches, size, 3, moved=True),
        }
        phases["replay"] = phases["update"]
        report: dict[str, Any] = {
            name: run_phase(writer, work) for name, work in phases.items()
        }
        report["baseline"] = run_baseline(client, phases["update"])
        report["aof_rewrites"] = client.info("persistence")["aof_rewrites"]
        encode_began = time.perf_counter()
        for batch in phases["update"]:
            writer.encode(batch)  # the part of apply() before the round trip
        report["client_encode_only_updates_per_s"] = (batches * size) / (
            time.perf_counter() - encode_began
        )
        client.close()
        return report
    finally:
        server.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--no-aof",
        action="store_true",
        help="switch the append-only file off, to see the cost of persistence",
    )
    args = parser.parse_args()
    report = bench(args.batches, args.batch_size, aof=not args.no_aof)
    for name, figures in report.items():
        if isinstance(figures, dict) and "applied" in figures:
            print(
                f"{name:7} {figures['updates_per_s']:>9,.0f} updates/s  "
                f"batch p50 {figures['batch_p50_ms']:6.1f} ms  "
                f"p99 {figures['batch_p99_ms']:6.1f} ms  "
                f"(applied {figures['applied']:.0f}, stale {figures['stale']:.0f})"
            )
        elif isinstance(figures, dict):
            print(f"{name:8} {figures['updates_per_s']:>8,.0f} updates/s")
        else:
            print(f"{name}: {figures:,.0f}")
    if args.json:
        args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
