"""Webhook deliveries per second, with one target failing half the time.

Each target is a fake SaaS server (``tests/targets/fake_saas.py``) in its
own process on a free 127.0.0.1 port, so the servers do not share the
dispatcher's interpreter. Three phases, each delivering ``--events`` events
(spread over ``--customers`` golden ids, so per-customer order applies)
through one :class:`~lifeline.targets.Dispatcher`:

* alone    - the healthy target by itself;
* control  - the healthy target beside a second healthy one (the same extra
             load without failures: what sharing the machine costs);
* flaky    - the healthy target beside one whose server answers 503 to half
             of all requests, at random: retries with backoff and jitter,
             and now and then its breaker opens.

Per target it prints deliveries per second (events delivered / time from
submit until its queue was empty), attempts, retries, dead letters and how
often its breaker opened, and checks at the servers that every delivered
event took effect exactly once. The healthy target's rate beside the flaky
one is what isolation promises: it should match the control phase.

    .venv/bin/python -m bench.targets_bench --events 4000
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from tests.targets.fake_saas import Act, FakeSaaS

from lifeline.targets import Dispatcher, MemoryRecords, parse_targets

SECRET = "bench-hmac-secret"
ENV = {"BENCH_SECRET": SECRET}
PATH = "/hooks"
RETRY = {
    "max_attempts": 10,
    "base_delay": 0.02,
    "max_delay": 0.5,
    "jitter": 0.5,
    "retry_after_cap": 1.0,
    "deadline": 120.0,
}
BREAKER = {"failure_threshold": 10, "open_seconds": 0.5, "half_open_probes": 1}


@dataclass(frozen=True)
class ServerReport:
    """What a fake SaaS server saw: requests, effects, distinct keys."""

    requests: int
    effects: int
    distinct_keys: int


def serve(
    fail_ratio: float,
    seed: int,
    script_length: int,
    ready: Queue[str],
    stop: Event,
    report: Queue[ServerReport],
) -> None:
    """Run one fake SaaS until ``stop``; 503 for ``fail_ratio`` of requests."""
    saas = FakeSaaS(SECRET.encode(), max_requests=10**8)
    saas.start()
    if fail_ratio > 0:
        rng = random.Random(seed)
        acts = (
            Act(503) if rng.random() < fail_ratio else Act(apply=True)
            for _ in range(script_length)
        )
        saas.script("POST", PATH, *acts)
    ready.put(saas.url(PATH))
    stop.wait()
    keys = {effect.key for effect in saas.effects}
    report.put(ServerReport(len(saas.requests), len(saas.effects), len(keys)))
    saas.stop()


class Server:
    """A fake SaaS server in a child process."""

    def __init__(self, fail_ratio: float, seed: int, script_length: int) -> None:
        context = multiprocessing.get_context("spawn")
        ready: Queue[str] = context.Queue()
        self._report: Queue[ServerReport] = context.Queue()
        self._stop = context.Event()
        self._process = context.Process(
            target=serve,
            args=(fail_ratio, seed, script_length, ready, self._stop, self._report),
            daemon=True,
        )
        self._process.start()
        self.url = ready.get(timeout=30)

    def close(self) -> ServerReport:
        """Stop the server and return what it saw."""
        self._stop.set()
        report = self._report.get(timeout=30)
        self._process.join(timeout=10)
        return report


def target(name: str, url: str, workers: int) -> dict[str, Any]:
    return {
        "name": name,
        "url": url,
        "events": ["CustomerUpdated"],
        "hmac_secret_env": "BENCH_SECRET",
        "timeout": 5.0,
        "retry": RETRY,
        "breaker": BREAKER,
        "limits": {"max_in_flight": workers, "max_queue": 1_000_000},
    }


def events(count: int, customers: int, phase: str) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"{phase}-{n}",
            "event_type": "CustomerUpdated",
            "golden_id": f"g-{n % customers}",
            "payload": {"n": n, "email_hash": "0" * 64},
            "occurred_at": "2024-05-01T10:00:00+00:00",
        }
        for n in range(count)
    ]


def run_phase(
    phase: str, others: dict[str, float], count: int, customers: int, workers: int
) -> dict[str, dict[str, float]]:
    """Deliver ``count`` events to "healthy" and each of ``others`` (fail ratio)."""
    ratios = {"healthy": 0.0, **others}
    servers = {
        name: Server(ratio, seed, 4 * count)
        for seed, (name, ratio) in enumerate(ratios.items())
    }
    config = parse_targets(
        {"targets": [target(n, s.url, workers) for n, s in servers.items()]}
    )
    dead = MemoryRecords()
    finished: dict[str, float] = {}
    with Dispatcher(config, dead, env=ENV) as dispatcher:
        began = time.monotonic()

        def wait(name: str) -> None:
            dispatcher.routes[name].pool.queue.wait_idle(None)
            finished[name] = time.monotonic()

        waiters = [threading.Thread(target=wait, args=(n,)) for n in servers]
        dispatcher.submit(events(count, customers, phase))
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join()
        stats = dispatcher.stats()
    figures: dict[str, dict[str, float]] = {}
    for name, server in servers.items():
        seen = server.close()
        route = stats[name]
        assert seen.effects == seen.distinct_keys == route.delivered, (name, seen)
        figures[name] = {
            "deliveries_per_s": route.delivered / (finished[name] - began),
            "delivered": route.delivered,
            "attempts": route.attempts,
            "retried": route.retried,
            "dead_lettered": route.dead_lettered,
            "breaker_opened": route.breaker_opened,
            "server_requests": seen.requests,
            **{
                f"dead_{reason}": count
                for reason, count in Counter(
                    r["reason"] for r in dead.records if r["target"] == name
                ).items()
            },
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="events per phase")
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8, help="max_in_flight")
    args = parser.parse_args()
    # Breaker openings are counted in the figures; keep the log to errors.
    logging.basicConfig(level=logging.ERROR)
    phases = {
        "alone": {},
        "control": {"healthy2": 0.0},
        "flaky": {"flaky": 0.5},
    }
    print(
        f"{args.events} events per phase, {args.customers} customers, "
        f"{args.workers} workers per target"
    )
    for phase, others in phases.items():
        report = run_phase(phase, others, args.events, args.customers, args.workers)
        for name, f in report.items():
            print(
                f"{phase:8} {name:9} {f['deliveries_per_s']:>7,.0f} deliveries/s  "
                f"delivered {f['delivered']:.0f}  attempts {f['attempts']:.0f}  "
                f"retried {f['retried']:.0f}  dead-lettered {f['dead_lettered']:.0f}  "
                f"breaker opened {f['breaker_opened']:.0f}{_reasons(f)}"
            )


def _reasons(figures: dict[str, float]) -> str:
    reasons = [
        f"{key.removeprefix('dead_')} {value:.0f}"
        for key, value in figures.items()
        if key.startswith("dead_") and key != "dead_lettered"
    ]
    return f"  ({', '.join(reasons)})" if reasons else ""


if __name__ == "__main__":
    main()
