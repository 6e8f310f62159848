"""Parts 2 and 3 on the bench stack: the capture path set up, then measured."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import redis
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from bench.capture_lag import mark_captured, topic_ends
from bench.cpu_shares import cpu_times, shares
from bench.live import (
    drive,
    pool_keys,
    seed_pool,
    wait_caught_up,
    wait_pool_cached,
)
from bench.live_stats import caught_up_at, lag_after, latency_report, percentiles
from bench.procs import Proc, golden_procs
from bench.stack import BenchStack
from lifeline.cache.reader import CacheReader
from lifeline.capture.apply import apply_connectors
from lifeline.flows.cdc import kafka_config
from lifeline.live import mariadb_connection, postgres_connection
from lifeline.samples.schema import apply_schemas
from lifeline.settings import Settings

logger = logging.getLogger(__name__)

# Caught up: the lag (age of the oldest change not yet visible) is back to
# the p99 latency before the kill, or to this, whichever is more.
MIN_ALLOWED_LAG_MS = 1000


@dataclass(slots=True)
class LiveSetup:
    """The capture path running: connectors registered, the golden flow up."""

    settings: Settings
    pool: int
    flow: Proc
    snapshot_seconds: float


def start_live(stack: BenchStack, pool: int) -> LiveSetup:
    """Empty broker and cache, databases with the pool, Connect, the golden flow."""
    logger.info("event=live_stack_start pool_rows=%d", pool)
    s = stack
    if s.started(s.broker):  # the throughput load is on it: start empty
        s.restart_broker()
    s.need(s.broker, s.redis, s.postgres, s.mariadb)
    redis.Redis(**s.settings.redis.client_kwargs()).flushall()
    s.need(s.connect)
    apply_schemas(s.settings)
    seed_pool(s.settings, pool)
    apply_connectors(s.settings)
    (flow,) = golden_procs(s.settings, 1, [])
    flow.start()
    snapshot = wait_pool_cached(s.settings, pool)
    return LiveSetup(s.settings, pool, flow, snapshot)


def latency_part(
    setup: LiveSetup, rate: float, seconds: float, per_commit: int, drain: float
) -> dict[str, Any]:
    """Commit-to-cache latency at ``rate`` changes/s for ``seconds``.

    Afterwards waits (up to ``drain`` s more) until the flow has caught up,
    so that what follows starts from a steady state.
    """
    logger.info("event=latency_start changes_per_s=%.0f seconds=%.0f", rate, seconds)
    cpu, began = setup.flow.cpu_seconds(), time.monotonic()
    starts, cpu_before = topic_ends(setup.settings), cpu_times()
    run = drive(setup.settings, setup.pool, rate, seconds, per_commit, drain=drain)
    flow_label = {setup.flow.pid: "golden flow"}
    busy = shares(cpu_before, cpu_times(), time.monotonic() - began, flow_label)
    mark_captured(setup.settings, starts, run.changes)
    report = latency_report(run)
    report["cpu_share_by_program"] = busy
    report["snapshot_seconds"] = round(setup.snapshot_seconds, 1)
    # How much of a core the flow got while the changes came and drained.
    share = (setup.flow.cpu_seconds() - cpu) / (time.monotonic() - began)
    report["flow_cpu_share"] = round(share, 2)
    p99 = report["rows"]["p99_ms"]
    report["kept_up"] = not report["never_seen"] and p99 is not None and p99 <= 2000
    backlog = wait_caught_up(setup.settings, setup.pool, 40_000_000, drain)
    report["backlog_drained_s"] = None if backlog is None else round(backlog, 1)
    return report


def recovery_part(
    setup: LiveSetup,
    rate: float,
    seconds: float,
    per_commit: int,
    kill_after: float,
    drain: float,
) -> dict[str, Any]:
    """kill -9 the flow ``kill_after`` s into a load; restart it at once; count."""
    logger.info("event=recovery_start changes_per_s=%.0f", rate)
    settings = setup.settings
    topic = settings.topics.lifecycle
    start = _end_offsets(settings, topic)

    def kill_and_restart(marks: dict[str, float]) -> None:
        time.sleep(kill_after)
        marks["kill_ms"] = time.time() * 1000
        setup.flow.kill9()
        (setup.flow,) = golden_procs(settings, 1, [], fresh=False)
        setup.flow.start()
        marks["restart_ms"] = time.time() * 1000

    run = drive(
        settings,
        setup.pool,
        rate,
        seconds,
        per_commit,
        start_value=50_000_000,
        during=kill_and_restart,
        drain=drain,
    )
    kill_ms = int(run.marks["kill_ms"])
    before = [
        c.visible_ms - c.committed_ms
        for c in run.changes
        if c.watched and c.visible_ms and c.committed_ms < kill_ms - 1000
    ]
    steady_p99 = percentiles(before, [])["p99_ms"] or 0.0
    allowed = max(MIN_ALLOWED_LAG_MS, int(steady_p99))
    lags = lag_after(run.changes, kill_ms, run.ended_ms)
    caught = caught_up_at(lags, allowed)
    settle = time.monotonic()
    lost_rows, lost_golden = count_lost(settings, setup.pool)
    while (lost_rows or lost_golden) and time.monotonic() - settle < drain:
        time.sleep(2.0)
        lost_rows, lost_golden = count_lost(settings, setup.pool)
    settled = time.monotonic() - settle
    events, duplicates = _duplicate_events(settings, topic, start)
    report = latency_report(run)
    return {
        "rate": rate,
        "changes": report["changes"],
        "achieved_changes_per_s": report["achieved_changes_per_s"],
        "rows_per_commit": per_commit,
        "kill_after_s": kill_after,
        "restart_s": round((run.marks["restart_ms"] - kill_ms) / 1000, 2),
        "caught_up_s": None if caught is None else round((caught - kill_ms) / 1000, 2),
        "peak_lag_s": round(max((lag for _, lag in lags), default=0) / 1000, 2),
        "steady_p99_ms": steady_p99,
        "allowed_lag_ms": allowed,
        "never_seen": report["never_seen"],
        "lost_rows": lost_rows,
        "lost_golden": lost_golden,
        "settle_s": round(settled, 1),
        "lifecycle_events": events,
        "duplicate_events": duplicates,
        "rows": report["rows"],
    }


def count_lost(settings: Settings, pool: int) -> tuple[int, int]:
    """Pool rows whose cached row, and golden records whose fields, lag the DB."""
    with mariadb_connection(settings) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id, credit_limit FROM customers WHERE id <= %s", (pool,))
        credit = {int(i) - 1: int(Decimal(v)) for i, v in cursor.fetchall()}
    with postgres_connection(settings) as conn:
        names = dict(
            conn.execute("SELECT id, given_name FROM users WHERE id LIKE 'u-L%%'")
        )
    client = redis.Redis(**settings.redis.client_kwargs())
    pipe = client.pipeline(transaction=False)
    for slot in range(pool):
        for key in pool_keys(settings, slot):
            pipe.hget(key, "row")
    cached = pipe.execute()
    reader = CacheReader(client, settings.cache_prefix)
    lost_rows = lost_golden = 0
    for slot in range(pool):
        want_credit, want_name = credit[slot], names[f"u-L{slot}"]
        erp, identity = cached[2 * slot], cached[2 * slot + 1]
        if (
            erp is None
            or int(Decimal(str(orjson.loads(erp)["credit_limit"]))) != want_credit
        ):
            lost_rows += 1
        if identity is None or orjson.loads(identity)["given_name"] != want_name:
            lost_rows += 1
        # A slot's customer and user may or may not resolve to one record.
        erp_golden = reader.by_source_id(f"erp:C-L{slot}")
        record = {} if erp_golden is None else erp_golden.record
        if int(Decimal(str(record.get("credit_limit", -1)))) != want_credit:
            lost_golden += 1
        user_golden = reader.by_source_id(f"identity:u-L{slot}")
        record = {} if user_golden is None else user_golden.record
        if record.get("given_name") != want_name:
            lost_golden += 1
    client.close()
    return lost_rows, lost_golden


def _end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    config: dict[str, str | int | float | bool] = {**kafka_config(settings)}
    consumer = Consumer({**config, "group.id": "bench-offsets"})
    partitions = AdminClient(config).list_topics(topic, timeout=10)
    ends = {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        for p in partitions.topics[topic].partitions
    }
    consumer.close()
    return ends


def _duplicate_events(
    settings: Settings, topic: str, start: dict[int, int]
) -> tuple[int, int]:
    """Lifecycle events since ``start`` and how many repeat an earlier event id."""
    end = _end_offsets(settings, topic)
    consumer = Consumer({**kafka_config(settings), "group.id": "bench-events"})
    consumer.assign([TopicPartition(topic, p, o) for p, o in start.items()])
    left = {p for p in start if end[p] > start[p]}
    seen: set[bytes] = set()
    events = duplicates = 0
    deadline = time.monotonic() + 60
    while left and time.monotonic() < deadline:
        for message in consumer.consume(5000, 1.0):
            p, offset = message.partition(), message.offset()
            if message.error() is not None or p is None or offset is None:
                continue
            if offset >= end[p]:
                left.discard(p)
                continue
            events += 1
            headers = dict(message.headers() or [])
            raw_id = headers.get("lifeline.event_id") or b""
            event_id = raw_id.encode() if isinstance(raw_id, str) else raw_id
            duplicates += event_id in seen
            seen.add(event_id)
            if offset + 1 >= end[p]:
                left.discard(p)
    consumer.close()
    return events, duplicates
