"""Recording a batch's figures: one call per batch and metric, not per change.

The flows and sinks call these after a batch is handled. Each helper counts
with :class:`collections.Counter` over the batch (a C loop) and then touches
one labelled series per distinct label set.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from lifeline.decode.change import ChangeEvent, DeadLetter
from lifeline.observe import metrics

_FLOW_PREFIX = "lifeline_"


def flow_of(step_id: str) -> str:
    """The flow's short name from a step id or flow id (``lifeline_golden.x``)."""
    return step_id.partition(".")[0].removeprefix(_FLOW_PREFIX)


def decoded(
    flow: str, events: Sequence[ChangeEvent], dead: Sequence[DeadLetter]
) -> None:
    """Count a batch's change events by system, table and op, and its failures."""
    by_table = Counter((e.system, e.table, e.op) for e in events)
    for (system, table, op), count in by_table.items():
        metrics.CHANGES.labels(flow, system, table, op).inc(count)
    for kind, count in Counter(d.kind for d in dead).items():
        metrics.DECODE_ERRORS.labels(flow, kind).inc(count)


def dead_lettered(flow: str, dead: Sequence[DeadLetter]) -> None:
    """Count dead letters the broker acknowledged, by stage and kind."""
    for (stage, kind), count in Counter((d.stage, d.kind) for d in dead).items():
        metrics.DEAD_LETTERS.labels(flow, stage, kind).inc(count)


def dropped(flow: str, duplicates: int, stale: int) -> None:
    """Count changes a latest-rows step did not apply."""
    if duplicates:
        metrics.CHANGES_DROPPED.labels(flow, "duplicate").inc(duplicates)
    if stale:
        metrics.CHANGES_DROPPED.labels(flow, "stale").inc(stale)


def resolver_events(flow: str, kinds: Iterable[str]) -> None:
    """Count merges, splits and removals of one resolver batch."""
    for kind, count in Counter(kinds).items():
        metrics.RESOLVER_EVENTS.labels(flow, kind).inc(count)


def cache_latency(flow: str, cache: str, committed_ms: Iterable[int]) -> None:
    """Time from each source commit (ms since the epoch) to now."""
    now_ms = time.time() * 1000.0
    seconds = [(now_ms - ts) / 1000.0 for ts in committed_ms]
    metrics.COMMIT_TO_CACHE.observe_many((flow, cache), seconds)


def propagation(
    stage: str, target: str, committed: Iterable[tuple[str, datetime]]
) -> None:
    """Time from each event's source commit to now, per event type.

    ``committed`` holds ``(event type, commit time)`` pairs; commit times
    are timezone-aware.
    """
    now = time.time()
    by_type: dict[str, list[float]] = {}
    for event_type, at in committed:
        by_type.setdefault(event_type, []).append(now - at.timestamp())
    for event_type, seconds in by_type.items():
        metrics.EVENT_PROPAGATION.observe_many((event_type, stage, target), seconds)
