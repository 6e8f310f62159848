"""Reading a flow's metrics endpoint back: the key figures ``lifeline status`` shows.

:func:`scrape` fetches and parses one ``/metrics`` page into samples;
:func:`figures` sums them into :class:`FlowFigures`. Quantiles are computed
from the cumulative buckets the way PromQL's ``histogram_quantile`` does
(linear within a bucket), over everything since the process started.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import requests
from prometheus_client.parser import text_string_to_metric_families

from lifeline.errors import RetryableError

Labels = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Sample:
    """One series value of a scraped page."""

    name: str
    labels: Labels
    value: float


@dataclass(frozen=True)
class FlowFigures:
    """What one flow process reports, summed over its series.

    ``p99_commit_to_cache`` and ``p99_propagation`` are seconds, by cache
    and by ``event type/stage`` (None: no samples yet). ``webhooks`` maps a
    target to its deliveries by outcome; ``circuits`` a target (or saga) to
    its breaker state; ``saga_cases`` a saga to its cases by outcome.
    """

    uptime_seconds: float | None
    changes: float
    dead_letters: float
    decode_errors: float
    dropped: float
    p99_commit_to_cache: dict[str, float | None] = field(default_factory=dict)
    p99_propagation: dict[str, float | None] = field(default_factory=dict)
    webhooks: dict[str, dict[str, float]] = field(default_factory=dict)
    circuits: dict[str, str] = field(default_factory=dict)
    saga_cases: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def changes_per_second(self) -> float | None:
        """Changes decoded per second since the process started."""
        if not self.uptime_seconds:
            return None
        return self.changes / self.uptime_seconds

    @property
    def exceptions(self) -> float:
        """Saga cases sent to the exception queue, all sagas."""
        return sum(cases.get("exception", 0.0) for cases in self.saga_cases.values())


def scrape(url: str, timeout: float = 3.0) -> list[Sample]:
    """Every sample of the page at ``url``; RetryableError when it cannot be read."""
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as exc:
        msg = f"metrics endpoint {url} did not answer: {exc}"
        raise RetryableError(msg) from exc
    return parse(response.text)


def parse(text: str) -> list[Sample]:
    """The samples of a Prometheus text exposition."""
    return [
        Sample(sample.name, dict(sample.labels), float(sample.value))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def figures(samples: list[Sample], now: float) -> FlowFigures:
    """The key figures of one flow from its samples; ``now`` in epoch seconds."""
    started = _total(samples, "process_start_time_seconds")
    return FlowFigures(
        uptime_seconds=max(now - started, 0.0) if started else None,
        changes=_total(samples, "lifeline_changes_total"),
        dead_letters=_total(samples, "lifeline_dead_letters_total"),
        decode_errors=_total(samples, "lifeline_decode_errors_total"),
        dropped=_total(samples, "lifeline_changes_dropped_total"),
        p99_commit_to_cache=_quantiles(
            samples, "lifeline_commit_to_cache_seconds", ("cache",)
        ),
        p99_propagation=_quantiles(
            samples, "lifeline_event_propagation_seconds", ("event_type", "stage")
        ),
        webhooks=_by(samples, "lifeline_webhook_deliveries_total", "target", "outcome"),
        circuits={
            s.labels["target"]: s.labels["state"]
            for s in samples
            if s.name == "lifeline_webhook_circuit_state" and s.value == 1.0
        },
        saga_cases=_by(samples, "lifeline_saga_cases_total", "saga", "outcome"),
    )


def _total(samples: Iterable[Sample], name: str) -> float:
    return sum(s.value for s in samples if s.name == name)


def _by(
    samples: Iterable[Sample], name: str, outer: str, inner: str
) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for s in samples:
        if s.name == name:
            counts = found.setdefault(s.labels[outer], {})
            counts[s.labels[inner]] = counts.get(s.labels[inner], 0.0) + s.value
    return found


def _quantiles(
    samples: Iterable[Sample], histogram: str, by: tuple[str, ...]
) -> dict[str, float | None]:
    """The 0.99 quantile of ``histogram`` per value of the ``by`` labels."""
    buckets: dict[str, dict[float, float]] = {}
    for s in samples:
        if s.name == f"{histogram}_bucket":
            key = "/".join(s.labels.get(label, "") for label in by)
            edges = buckets.setdefault(key, {})
            bound = float(s.labels["le"])
            edges[bound] = edges.get(bound, 0.0) + s.value
    return {key: quantile(0.99, edges) for key, edges in sorted(buckets.items())}


def quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """The ``q`` quantile of cumulative bucket counts by upper bound.

    Linear within the bucket it falls in; the highest finite bound when it
    falls in ``+Inf``; None without samples.
    """
    edges = sorted(cumulative.items())
    total = edges[-1][1] if edges else 0.0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in edges:
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower
