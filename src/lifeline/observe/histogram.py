"""A Prometheus histogram that takes a whole batch of samples in one call.

``prometheus_client.Histogram.observe`` takes one sample per call (a lock and
a loop over the buckets each time); a flow that times every change of a
5000-record batch would pay that 5000 times. :meth:`BatchHistogram.observe_many`
sorts a batch into buckets with :func:`bisect.bisect_left` and updates the
series once under its lock. The exposition is a standard histogram
(``_bucket{le=...}``, ``_sum``, ``_count``), so ``histogram_quantile`` works.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from prometheus_client.metrics_core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry


@dataclass(slots=True)
class _Series:
    counts: list[int]
    total: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class BatchHistogram(Collector):
    """A labelled histogram fed a batch at a time; safe to share between threads.

    ``buckets`` are the upper bounds, ascending; ``+Inf`` is added. A sample
    ``v`` falls in the first bucket whose bound is ``>= v``, as Prometheus
    defines ``le``.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry | None = None,
    ) -> None:
        bounds = [float(b) for b in buckets]
        if not bounds or bounds != sorted(set(bounds)) or math.isinf(bounds[-1]):
            msg = f"histogram {name}: buckets must be finite, unique and ascending"
            raise ValueError(msg)
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.bounds = bounds
        self._series: dict[tuple[str, ...], _Series] = {}
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def observe_many(self, labels: Sequence[str], values: Iterable[float]) -> None:
        """Add every value of ``values`` to the series of ``labels``."""
        samples = values if isinstance(values, list) else list(values)
        if not samples:
            return
        key = tuple(labels)
        if len(key) != len(self.labelnames):
            msg = f"histogram {self.name}: expected labels {self.labelnames}"
            raise ValueError(msg)
        slots = Counter(bisect_left(self.bounds, value) for value in samples)
        total = math.fsum(samples)
        series = self._series_of(key)
        with series.lock:
            for slot, count in slots.items():
                series.counts[slot] += count
            series.total += total

    def _series_of(self, key: tuple[str, ...]) -> _Series:
        series = self._series.get(key)
        if series is None:
            with self._lock:
                series = self._series.setdefault(
                    key, _Series([0] * (len(self.bounds) + 1))
                )
        return series

    def describe(self) -> Iterable[Metric]:
        """The family without samples, for the registry's duplicate check."""
        return [HistogramMetricFamily(self.name, self.documentation, labels=[])]

    def collect(self) -> Iterable[Metric]:
        """The histogram family with every series' cumulative buckets."""
        family = HistogramMetricFamily(
            self.name, self.documentation, labels=list(self.labelnames)
        )
        edges = [*(repr(bound) for bound in self.bounds), "+Inf"]
        with self._lock:
            series = list(self._series.items())
        for key, one in series:
            with one.lock:
                counts, total = list(one.counts), one.total
            cumulative, running = [], 0
            for edge, count in zip(edges, counts, strict=True):
                running += count
                cumulative.append((edge, float(running)))
            family.add_metric(list(key), cumulative, total)
        return [family]
