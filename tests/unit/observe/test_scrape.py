"""Reading key figures back from a metrics page."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from lifeline.observe.histogram import BatchHistogram
from lifeline.observe.scrape import figures, parse, quantile


def test_quantile_interpolates_within_the_bucket_like_promql() -> None:
    # 100 samples: 50 under 0.1 s, 40 more under 0.5 s, 10 more under 1 s.
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, float("inf"): 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.99, buckets) == pytest.approx(0.95)
    assert quantile(0.7, buckets) == pytest.approx(0.3)


def test_quantile_edges() -> None:
    assert quantile(0.99, {}) is None
    assert quantile(0.99, {1.0: 0.0, float("inf"): 0.0}) is None
    # Beyond the last finite bound: that bound, as histogram_quantile does.
    assert quantile(0.99, {1.0: 1.0, float("inf"): 10.0}) == 1.0


def page() -> str:
    registry = CollectorRegistry()
    changes = Counter(
        "lifeline_changes", "c", ["flow", "system", "table", "op"], registry=registry
    )
    changes.labels("golden", "erp", "customers", "c").inc(30)
    changes.labels("golden", "identity", "users", "u").inc(10)
    dead = Counter(
        "lifeline_dead_letters", "d", ["flow", "stage", "kind"], registry=registry
    )
    dead.labels("golden", "decode", "malformed_json").inc(2)
    started = Gauge("process_start_time_seconds", "s", registry=registry)
    started.set(1000.0)
    latency = BatchHistogram(
        "lifeline_commit_to_cache_seconds",
        "l",
        ["flow", "cache"],
        [0.1, 1.0],
        registry,
    )
    latency.observe_many(["golden", "rows"], [0.05] * 99 + [0.5])
    circuit = Gauge(
        "lifeline_webhook_circuit_state", "s", ["target", "state"], registry=registry
    )
    circuit.labels("crm", "open").set(1)
    circuit.labels("crm", "closed").set(0)
    cases = Counter("lifeline_saga_cases", "c", ["saga", "outcome"], registry=registry)
    cases.labels("onboarding", "exception").inc(3)
    return generate_latest(registry).decode()


def test_figures_sum_the_series_of_a_page() -> None:
    found = figures(parse(page()), now=1020.0)
    assert found.uptime_seconds == 20.0
    assert found.changes == 40
    assert found.changes_per_second == 2.0
    assert found.dead_letters == 2
    assert found.p99_commit_to_cache["rows"] == pytest.approx(0.1)
    assert found.circuits == {"crm": "open"}
    assert found.exceptions == 3
    assert found.webhooks == {}
