"""Figures of a load run: latency percentiles, lag over time, catching up.

Every figure comes from the watched changes of a :class:`~bench.live.Drive`:
when each was committed and when it became visible (row and golden record).
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.live import ROW_SAMPLE, Change, Drive


def percentiles(values: list[int], censored: list[int]) -> dict[str, Any]:
    """p50, p95, p99, max and mean of ``values`` plus ``censored`` ones.

    A censored value is a change never seen before the watcher stopped: its
    latency is at least that. A percentile at or above the smallest censored
    value is then only a lower bound (``lower_bound`` lists which).
    """
    ordered = sorted(values + censored)
    if not ordered:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}

    def at(q: float) -> float:
        return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])

    figures: dict[str, Any] = {
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": float(ordered[-1]),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }
    if censored:
        floor = min(censored)
        figures["censored"] = len(censored)
        # The mean counts every censored value, so it is a lower bound too.
        quantiles = ("p50_ms", "p95_ms", "p99_ms", "max_ms")
        figures["lower_bound"] = [
            *(k for k in quantiles if figures[k] >= floor),
            "mean_ms",
        ]
    return figures


def _latencies(changes: list[Change], ended_ms: int, golden: bool) -> dict[str, Any]:
    seen, censored = [], []
    for c in changes:
        if not (c.golden if golden else c.watched):
            continue
        visible = c.golden_ms if golden else c.visible_ms
        if visible is None:
            censored.append(ended_ms - c.committed_ms)
        else:
            seen.append(visible - c.committed_ms)
    return {"seen": len(seen), **percentiles(seen, censored)}


def capacity(run: Drive) -> float:
    """Changes per second the flow made visible while the run lasted."""
    seen = [c for c in run.changes if c.watched and c.visible_ms]
    if len(seen) < 2:
        return 0.0
    span = max(c.visible_ms or 0 for c in seen) - min(c.committed_ms for c in seen)
    return len(seen) * ROW_SAMPLE / max(span / 1000, 0.001)


def latency_report(run: Drive) -> dict[str, Any]:
    """Row and golden-record latency percentiles, per database and overall."""
    watched = [c for c in run.changes if c.watched]
    report: dict[str, Any] = {
        "changes": len(run.changes),
        "achieved_changes_per_s": round(run.achieved_rate, 1),
        "rows_per_commit": run.per_commit,
        "commits": run.commits,
        "seconds": round(run.seconds, 1),
        "watched": len(watched),
        "coalesced": sum(1 for c in watched if c.coalesced),
        "rows": _latencies(run.changes, run.ended_ms, golden=False),
        "golden": _latencies(run.changes, run.ended_ms, golden=True),
    }
    report["never_seen"] = report["rows"].get("censored", 0)
    for db in ("mariadb", "postgres"):
        mine = [c for c in run.changes if c.db == db]
        report[db] = _latencies(mine, run.ended_ms, golden=False)
    report["visible_changes_per_s"] = round(capacity(run), 1)
    report["capture"], report["flow"] = capture_split(run.changes, run.ended_ms)
    return report


def capture_split(
    changes: list[Change], ended_ms: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Commit -> in Kafka (the capture path) and in Kafka -> row cached (the flow).

    Only watched changes whose record was read back (``captured_ms``) count.
    """
    capture, flow, censored = [], [], []
    for c in changes:
        if not c.watched or c.captured_ms is None:
            continue
        capture.append(max(c.captured_ms - c.committed_ms, 0))
        if c.visible_ms is None:
            censored.append(ended_ms - c.captured_ms)
        else:
            flow.append(max(c.visible_ms - c.captured_ms, 0))
    return (
        {"seen": len(capture), **percentiles(capture, [])},
        {"seen": len(flow), **percentiles(flow, censored)},
    )


def lag_after(
    changes: list[Change], after_ms: int, until_ms: int
) -> list[tuple[int, int]]:
    """(time, lag) every 10 ms from ``after_ms`` to ``until_ms``.

    The lag at a time is the age of the oldest change committed by then and
    not yet visible (0 when every one is); a change never seen stays pending.
    """
    ordered = sorted((c for c in changes if c.watched), key=lambda c: c.committed_ms)
    never = until_ms + 1
    visible = [c.visible_ms or never for c in ordered]
    lags, first = [], 0
    for t in range(after_ms, until_ms + 1, 10):
        # The first pending change only moves forward as time does.
        while first < len(ordered) and visible[first] <= t:
            first += 1
        pending = first < len(ordered) and ordered[first].committed_ms <= t
        lags.append((t, t - ordered[first].committed_ms if pending else 0))
    return lags


def caught_up_at(lags: list[tuple[int, int]], allowed_ms: int) -> int | None:
    """When the lag fell back to ``allowed_ms`` after its peak (None: never)."""
    if not lags:
        return None
    peak = max(range(len(lags)), key=lambda i: lags[i][1])
    if lags[peak][1] <= allowed_ms:
        return lags[0][0]  # never behind more than usual
    for t, lag in lags[peak:]:
        if lag <= allowed_ms:
            return t
    return None
