"""Per-target concurrency and rate limits, seen at a real HTTP server."""

from __future__ import annotations

import time

from lifeline.targets.delivery import Dispatcher
from lifeline.targets.records import MemoryRecords
from tests.targets.conftest import ENV, config_of, event, target
from tests.targets.fake_saas import Act, FakeSaaS
from tests.targets.test_delivery import keys, wait_for


def test_no_more_requests_in_flight_than_the_limit(saas: FakeSaaS) -> None:
    gate = saas.gate("/crm")
    config = config_of(
        target("crm", saas.url("/crm"), limits={"max_in_flight": 2}),
        target("billing", saas.url("/billing"), limits={"max_in_flight": 3}),
    )
    events = [event(f"e{n}", golden_id=f"g-{n}") for n in range(6)]
    with Dispatcher(config, MemoryRecords(), env=ENV) as dispatcher:
        dispatcher.submit(events)
        wait_for(lambda: len(saas.seen("/crm")) == 2)
        assert dispatcher.drain(timeout=0.3) is False  # crm is held at its gate
        assert len(saas.seen("/crm")) == 2  # the other four wait their turn
        stats = dispatcher.stats()
        assert (stats["crm"].in_flight, stats["crm"].queued) == (2, 4)
        # billing has its own workers: all of it goes through meanwhile
        wait_for(lambda: len(keys(saas, "/billing")) == 6)

        gate.set()
        assert dispatcher.drain(timeout=10)
    assert sorted(keys(saas, "/crm")) == sorted(e["event_id"] for e in events)


def test_request_starts_keep_to_the_rate(saas: FakeSaaS) -> None:
    rate = 20.0
    config = config_of(
        target(
            "crm",
            saas.url("/crm"),
            limits={"max_in_flight": 4, "rate_per_second": rate},
        )
    )
    events = [event(f"e{n}", golden_id=f"g-{n}") for n in range(9)]
    with Dispatcher(config, MemoryRecords(), env=ENV) as dispatcher:
        began = time.monotonic()
        dispatcher.submit(events)
        assert dispatcher.drain(timeout=10)
        span = time.monotonic() - began

    assert len(keys(saas, "/crm")) == 9
    # Nine starts at least 1/rate apart cannot fit in less than 8/rate.
    assert span >= 8 / rate


def test_retry_after_pauses_every_worker_of_the_target(saas: FakeSaaS) -> None:
    saas.script("POST", "/crm", Act(429, retry_after="1"))
    config = config_of(
        target(
            "crm",
            saas.url("/crm"),
            retry={"retry_after_cap": 0.4},
            limits={"max_in_flight": 4},
        )
    )
    with Dispatcher(config, MemoryRecords(), env=ENV) as dispatcher:
        dispatcher.submit([event("e0", golden_id="g-0")])
        wait_for(lambda: len(saas.seen("/crm")) == 1)
        began = time.monotonic()
        dispatcher.submit([event(f"e{n}", golden_id=f"g-{n}") for n in range(1, 4)])
        assert dispatcher.drain(timeout=10)
        span = time.monotonic() - began

    assert len(keys(saas, "/crm")) == 4
    # The 429 asked for a pause (capped at 0.4 s): no worker started a
    # request before it ended, the other customers' deliveries included.
    assert span >= 0.3
