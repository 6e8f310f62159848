"""Webhook and saga metrics, read from the dispatchers when scraped.

The dispatcher already counts every outcome per target
(:class:`~lifeline.targets.stats.TargetStats`); this collector turns those
counters into the families of :mod:`lifeline.observe.metrics` at scrape
time, so delivery threads pay nothing extra. Several workers (one
dispatcher each) add up; a circuit shows the worst state any worker's
breaker is in. :class:`DeliveryTimes` times each event from its source
commit to its delivery.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime

from prometheus_client import REGISTRY
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from lifeline.observe import metrics
from lifeline.observe.metrics import Family
from lifeline.targets import DeliveryResult, Dispatcher, TargetStats

_SEVERITY = {state: rank for rank, state in enumerate(metrics.CIRCUIT_STATES)}


class WebhookCollector(Collector):
    """Collects the tracked dispatchers' counters; tracking is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dispatchers: list[Dispatcher] = []

    def track(self, dispatcher: Dispatcher) -> None:
        """Report ``dispatcher``'s routes from now on."""
        with self._lock:
            self._dispatchers.append(dispatcher)

    def untrack(self, dispatcher: Dispatcher) -> None:
        """Stop reporting ``dispatcher`` (its counts leave the totals)."""
        with self._lock:
            if dispatcher in self._dispatchers:
                self._dispatchers.remove(dispatcher)

    def describe(self) -> Iterable[Metric]:
        """The families without samples, for the registry's duplicate check."""
        return [_family(spec) for spec in metrics.WEBHOOK_FAMILIES]

    def collect(self) -> Iterable[Metric]:
        """Every webhook family, summed over the tracked dispatchers."""
        with self._lock:
            dispatchers = list(self._dispatchers)
        targets: dict[str, TargetStats] = {}
        sagas: dict[str, TargetStats] = {}
        for dispatcher in dispatchers:
            saga_names = {saga.name for saga in dispatcher.config.sagas}
            for name, stats in dispatcher.stats().items():
                into = sagas if name in saga_names else targets
                into[name] = _add(into[name], stats) if name in into else stats
        families = {spec.name: _family(spec) for spec in metrics.WEBHOOK_FAMILIES}
        for name, stats in targets.items():
            _target_samples(families, name, stats)
        for name, stats in sagas.items():
            _route_samples(families, name, stats)
            _saga_samples(families, name, stats)
        return list(families.values())


def _family(spec: Family) -> CounterMetricFamily | GaugeMetricFamily:
    if spec.kind == "counter":
        return CounterMetricFamily(spec.name, spec.documentation, labels=spec.labels)
    return GaugeMetricFamily(spec.name, spec.documentation, labels=spec.labels)


def _add(one: TargetStats, other: TargetStats) -> TargetStats:
    """Two workers' stats of one route: counts summed, the worse circuit state."""
    summed = {
        f.name: getattr(one, f.name) + getattr(other, f.name)
        for f in fields(TargetStats)
        if f.name not in ("name", "breaker_state")
    }
    worse = max(
        (one.breaker_state, other.breaker_state), key=lambda s: _SEVERITY.get(s, 0)
    )
    return TargetStats(name=one.name, breaker_state=worse, **summed)


Families = dict[str, CounterMetricFamily | GaugeMetricFamily]


def _put(families: Families, spec: Family, labels: list[str], value: float) -> None:
    families[spec.name].add_metric(labels, float(value))


def _target_samples(families: Families, name: str, stats: TargetStats) -> None:
    outcomes = {
        "delivered": stats.delivered - stats.duplicates,
        "duplicate": stats.duplicates,
        "dead_lettered": stats.dead_lettered,
        "lost": stats.lost,
    }
    for outcome, count in outcomes.items():
        _put(families, metrics.WEBHOOK_DELIVERIES, [name, outcome], count)
    _route_samples(families, name, stats)


def _route_samples(families: Families, name: str, stats: TargetStats) -> None:
    """Attempts, retries, queue and circuit: the same for targets and sagas."""
    ok = stats.attempts - stats.failed_attempts
    _put(families, metrics.WEBHOOK_ATTEMPTS, [name, "ok"], ok)
    _put(families, metrics.WEBHOOK_ATTEMPTS, [name, "failed"], stats.failed_attempts)
    _put(families, metrics.WEBHOOK_RETRIES, [name], stats.retried)
    _put(families, metrics.WEBHOOK_QUEUED, [name], stats.queued)
    _put(families, metrics.WEBHOOK_IN_FLIGHT, [name], stats.in_flight)
    for state in metrics.CIRCUIT_STATES:
        current = state == stats.breaker_state
        _put(families, metrics.CIRCUIT_STATE, [name, state], current)
    _put(families, metrics.CIRCUIT_OPENED, [name], stats.breaker_opened)


def _saga_samples(families: Families, name: str, stats: TargetStats) -> None:
    outcomes = {
        "completed": stats.completed,
        "compensated": stats.compensated,
        "exception": stats.exceptions,
        "lost": stats.lost,
    }
    for outcome, count in outcomes.items():
        _put(families, metrics.SAGA_CASES, [name, outcome], count)


class DeliveryTimes:
    """When each event reached its target, collected for a batch-wise histogram.

    :meth:`add` runs on the dispatcher's threads and only appends;
    :meth:`flush` times what was collected, once per batch.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: list[tuple[str, str, str, float]] = []

    def add(self, result: DeliveryResult) -> None:
        """Note a delivered event (a dispatcher ``on_result`` hook)."""
        if result.delivered:
            delivery = result.delivery
            with self._lock:
                self._done.append(
                    (
                        result.target,
                        delivery.event_type,
                        delivery.occurred_at,
                        time.time(),
                    )
                )

    def flush(self) -> None:
        """Record commit-to-target times of what was delivered since the last call."""
        with self._lock:
            done, self._done = self._done, []
        by_target: dict[tuple[str, str], list[float]] = {}
        for target, event_type, occurred_at, at in done:
            committed = _timestamp(occurred_at)
            if committed is not None:
                by_target.setdefault((target, event_type), []).append(at - committed)
        for (target, event_type), seconds in by_target.items():
            metrics.EVENT_PROPAGATION.observe_many(
                (event_type, "target", target), seconds
            )


def _timestamp(text: str) -> float | None:
    """Seconds since the epoch of an RFC 3339 time with offset; None if not one."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if parsed.tzinfo is None else parsed.timestamp()


COLLECTOR = WebhookCollector()
REGISTRY.register(COLLECTOR)
