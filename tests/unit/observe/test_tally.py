"""Batch recording helpers: flow names, latencies and propagation delays."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from lifeline.observe import tally


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_flow_names_come_from_step_and_flow_ids() -> None:
    assert tally.flow_of("lifeline_golden.rows_out") == "golden"
    assert tally.flow_of("lifeline_skeleton") == "skeleton"
    assert tally.flow_of("custom.step") == "custom"


def test_cache_latency_times_each_commit_to_now() -> None:
    labels = {"flow": "unit", "cache": "rows"}
    count = value("lifeline_commit_to_cache_seconds_count", **labels)
    fast = value("lifeline_commit_to_cache_seconds_bucket", **labels, le="1.0")
    now_ms = int(time.time() * 1000)
    tally.cache_latency("unit", "rows", [now_ms, now_ms - 120_000])
    assert value("lifeline_commit_to_cache_seconds_count", **labels) == count + 2
    # The commit two minutes ago is not under a second.
    assert value("lifeline_commit_to_cache_seconds_bucket", **labels, le="1.0") == (
        fast + 1
    )


def test_propagation_is_kept_per_event_type_and_stage() -> None:
    def count(event_type: str) -> float:
        return value(
            "lifeline_event_propagation_seconds_count",
            event_type=event_type,
            stage="cache",
            target="",
        )

    invoices, orders = count("InvoicePosted"), count("OrderPlaced")
    now = datetime.now(UTC)
    tally.propagation(
        "cache",
        "",
        [
            ("InvoicePosted", now - timedelta(seconds=2)),
            ("InvoicePosted", now),
            ("OrderPlaced", now),
        ],
    )
    assert count("InvoicePosted") == invoices + 2
    assert count("OrderPlaced") == orders + 1
