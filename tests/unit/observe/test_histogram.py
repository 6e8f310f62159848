"""BatchHistogram: a batch of samples in one call, a standard exposition."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from lifeline.observe.histogram import BatchHistogram
from lifeline.observe.scrape import parse


def test_samples_fall_in_the_first_bucket_whose_bound_holds_them() -> None:
    registry = CollectorRegistry()
    histogram = BatchHistogram("t_seconds", "test", ["cache"], [0.1, 1.0], registry)
    histogram.observe_many(["rows"], [0.05, 0.1, 0.5, 1.0, 7.0])
    histogram.observe_many(["rows"], [0.2])
    histogram.observe_many(["golden"], [])

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("t_seconds_bucket", cache="rows", le="0.1") == 2
    assert sample("t_seconds_bucket", cache="rows", le="1.0") == 5
    assert sample("t_seconds_bucket", cache="rows", le="+Inf") == 6
    assert sample("t_seconds_count", cache="rows") == 6
    assert sample("t_seconds_sum", cache="rows") == pytest.approx(8.85)
    assert sample("t_seconds_count", cache="golden") is None


def test_the_exposition_parses_as_a_prometheus_histogram() -> None:
    registry = CollectorRegistry()
    histogram = BatchHistogram("t_seconds", "test", ["flow"], [0.5], registry)
    histogram.observe_many(["golden"], [0.25, 2.0])
    text = generate_latest(registry).decode()
    assert "# TYPE t_seconds histogram" in text
    samples = {(s.name, s.labels.get("le")): s.value for s in parse(text)}
    assert samples == {
        ("t_seconds_bucket", "0.5"): 1,
        ("t_seconds_bucket", "+Inf"): 2,
        ("t_seconds_count", None): 2,
        ("t_seconds_sum", None): 2.25,
    }


@pytest.mark.parametrize("buckets", [[], [1.0, 0.5], [0.5, 0.5], [float("inf")]])
def test_bad_buckets_are_refused(buckets: list[float]) -> None:
    with pytest.raises(ValueError, match="buckets"):
        BatchHistogram("t_seconds", "test", [], buckets)


def test_a_wrong_label_count_is_refused() -> None:
    histogram = BatchHistogram("t_seconds", "test", ["a", "b"], [1.0])
    with pytest.raises(ValueError, match="expected labels"):
        histogram.observe_many(["only-one"], [0.5])
