"""Every metric Lifeline exports: names, labels and meaning, in one place.

The dataflow processes serve these on their metrics endpoint (see
:mod:`lifeline.observe.server`); ``docs/streaming-engineers.md`` lists them
for operators and ``deploy/grafana/lifeline.json`` charts them. Everything is
recorded a batch at a time (:mod:`lifeline.observe.tally`), never per
change. Label values come from code and configuration (flow, system, table,
op, kinds, target names), never from row values.

The webhook families are not objects here but :class:`Family` specs: their
values are the dispatcher's own counters, read when the endpoint is scraped
(:mod:`lifeline.observe.webhooks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import REGISTRY, Counter, Gauge, disable_created_metrics

from lifeline.observe.histogram import BatchHistogram

# ``*_created`` series only double the exposition; nobody here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds; wide at the top because snapshots and replays after a restart
# are timed from their source commit too.
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
)  # fmt: skip

_SERIES: dict[str, tuple[str, ...]] = {}


def _counter(name: str, documentation: str, labels: Sequence[str]) -> Counter:
    _SERIES[f"{name}_total"] = tuple(labels)
    return Counter(name, documentation, labels)


def _gauge(name: str, documentation: str, labels: Sequence[str]) -> Gauge:
    _SERIES[name] = tuple(labels)
    return Gauge(name, documentation, labels)


def _histogram(name: str, documentation: str, labels: Sequence[str]) -> BatchHistogram:
    _SERIES[f"{name}_bucket"] = (*labels, "le")
    _SERIES[f"{name}_sum"] = _SERIES[f"{name}_count"] = tuple(labels)
    return BatchHistogram(name, documentation, labels, LATENCY_BUCKETS, REGISTRY)


FLOW_INFO = _gauge(
    "lifeline_flow_info",
    "Always 1; names the dataflow this process runs.",
    ["flow"],
)
CHANGES = _counter(
    "lifeline_changes",
    "Change events decoded from the CDC topics.",
    ["flow", "system", "table", "op"],
)
DECODE_ERRORS = _counter(
    "lifeline_decode_errors",
    "Records that could not be decoded, by error kind.",
    ["flow", "kind"],
)
DEAD_LETTERS = _counter(
    "lifeline_dead_letters",
    "Records written to the dead-letter topic (acknowledged by the broker).",
    ["flow", "stage", "kind"],
)
CHANGES_DROPPED = _counter(
    "lifeline_changes_dropped",
    "Changes not applied: 'duplicate' (position already applied) or 'stale' "
    "(older than the applied one).",
    ["flow", "reason"],
)
RESOLVER_EVENTS = _counter(
    "lifeline_resolver_events",
    "Golden records merged, split or removed by identity resolution.",
    ["flow", "kind"],
)
CONSUMER_POSITION = _gauge(
    "lifeline_consumer_position",
    "Offset of the next record the flow reads, per topic partition.",
    ["flow", "topic", "partition"],
)
REDIS_RETRIES = _counter(
    "lifeline_redis_retries",
    "Redis calls retried after an outage (each wait counts once).",
    [],
)
REDIS_OUTAGES = _counter(
    "lifeline_redis_outages",
    "Redis calls that needed at least one retry.",
    [],
)
REDIS_RETRY_WAIT = _counter(
    "lifeline_redis_retry_wait_seconds",
    "Seconds spent waiting for Redis to come back.",
    [],
)
COMMIT_TO_CACHE = _histogram(
    "lifeline_commit_to_cache_seconds",
    "From the source commit to the Redis write returning; cache 'rows' is one "
    "sample per streamed row change (not snapshot reads), 'golden' one per "
    "golden record and commit time.",
    ["flow", "cache"],
)
EVENT_PROPAGATION = _histogram(
    "lifeline_event_propagation_seconds",
    "From the source commit behind a lifecycle event to its stage: 'cache' "
    "(golden record written) or 'target' (delivered to the webhook target).",
    ["event_type", "stage", "target"],
)
SLOT_RETAINED_WAL = _gauge(
    "lifeline_replication_slot_retained_bytes",
    "WAL a PostgreSQL replication slot makes the server keep (current WAL "
    "position minus restart_lsn); see lifeline_replication_slot_warn_bytes.",
    ["slot"],
)
SLOT_UNCONFIRMED_WAL = _gauge(
    "lifeline_replication_slot_unconfirmed_bytes",
    "WAL the slot's consumer has not confirmed (current position minus "
    "confirmed_flush_lsn).",
    ["slot"],
)
SLOT_WARN_BYTES = _gauge(
    "lifeline_replication_slot_warn_bytes",
    "Retained WAL above which a slot is a warning (postgres.slot_lag_warn_bytes).",
    [],
)


@dataclass(frozen=True, slots=True)
class Family:
    """A metric family produced at scrape time by a custom collector."""

    name: str
    kind: str  # "counter" or "gauge"
    documentation: str
    labels: tuple[str, ...]


WEBHOOK_DELIVERIES = Family(
    "lifeline_webhook_deliveries",
    "counter",
    "Deliveries ended per target: delivered, duplicate (the target already "
    "had it), dead_lettered, lost (the dead-letter topic refused it).",
    ("target", "outcome"),
)
WEBHOOK_ATTEMPTS = Family(
    "lifeline_webhook_attempts",
    "counter",
    "HTTP requests made per target (saga steps under their saga), ok or failed.",
    ("target", "result"),
)
WEBHOOK_RETRIES = Family(
    "lifeline_webhook_retries",
    "counter",
    "Waits before another attempt, per target.",
    ("target",),
)
WEBHOOK_QUEUED = Family(
    "lifeline_webhook_queued",
    "gauge",
    "Deliveries waiting in the target's queue.",
    ("target",),
)
WEBHOOK_IN_FLIGHT = Family(
    "lifeline_webhook_in_flight",
    "gauge",
    "Deliveries being attempted for the target.",
    ("target",),
)
CIRCUIT_STATE = Family(
    "lifeline_webhook_circuit_state",
    "gauge",
    "1 for the target's current circuit-breaker state (closed, open, "
    "half_open), 0 for the others; a saga shows its worst step's.",
    ("target", "state"),
)
CIRCUIT_OPENED = Family(
    "lifeline_webhook_circuit_opened",
    "counter",
    "How often the target's circuit breaker opened.",
    ("target",),
)
SAGA_CASES = Family(
    "lifeline_saga_cases",
    "counter",
    "Saga (onboarding) cases ended: completed, compensated, exception (sent "
    "to the exception queue), lost (the exception queue refused it).",
    ("saga", "outcome"),
)
WEBHOOK_FAMILIES = (
    WEBHOOK_DELIVERIES,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_RETRIES,
    WEBHOOK_QUEUED,
    WEBHOOK_IN_FLIGHT,
    CIRCUIT_STATE,
    CIRCUIT_OPENED,
    SAGA_CASES,
)
CIRCUIT_STATES = ("closed", "open", "half_open")


def exposed_names() -> dict[str, tuple[str, ...]]:
    """Every series name Lifeline exposes, with its labels.

    Counters appear as ``<name>_total``, histograms as ``_bucket`` (with
    ``le``), ``_sum`` and ``_count``: the names a PromQL query uses.
    """
    names = dict(_SERIES)
    for family in WEBHOOK_FAMILIES:
        suffix = "_total" if family.kind == "counter" else ""
        names[f"{family.name}{suffix}"] = family.labels
    return names
