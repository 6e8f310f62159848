"""Parts 1, 4 and 5: throughput against the yardsticks, memory, two workers.

Every run starts its processes on the loaded topics with an empty Redis and
is timed from the start of its first process until the effect of the last
record of every topic partition (the final marker rows) is in Redis; for the
golden flow also the marker parties' golden records. The golden flow's own
metrics (change events decoded) tell when it was halfway, which gives the
second half's rate apart. CPU time and memory come from /proc when the run
is done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import redis

from bench.load import Loaded, load, topics_for
from bench.markers import MARKER_ID, marker_rows
from bench.procs import Proc, golden_procs, naive_proc, raw_proc
from bench.stack import BenchStack
from lifeline.cache.keys import CacheKeys
from lifeline.emit.cache_keys import row_key
from lifeline.settings import Settings

logger = logging.getLogger(__name__)

_POLL = 0.05
_PROGRESS_EVERY = 10  # polls between reads of the flow's metrics


@dataclass(frozen=True, slots=True)
class Run:
    """One timed run: wall and CPU seconds, memory, and whether it finished."""

    name: str
    events: int
    seconds: float
    cpu_seconds: float
    rss_bytes: int
    peak_rss_bytes: int
    finished: bool
    load_average: float
    halfway_seconds: float | None  # when half the events were decoded

    @property
    def rate(self) -> float:
        """Events per wall second."""
        return self.events / self.seconds if self.finished else 0.0

    @property
    def second_half_rate(self) -> float:
        """Events per wall second after half of them were decoded.

        0 when unknown: the run did not finish, or its second half was too
        short to time (a load of a batch or two per partition).
        """
        if not self.finished or self.halfway_seconds is None:
            return 0.0
        second = self.seconds - self.halfway_seconds
        if second < max(1.0, 0.1 * self.seconds):
            return 0.0
        return self.events / 2 / second

    @property
    def cpu_rate(self) -> float:
        """Events per CPU second of the run's own processes."""
        return self.events / self.cpu_seconds if self.cpu_seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        """The figures, rates included."""
        return asdict(self) | {
            "events_per_s": self.rate,
            "events_per_cpu_s": self.cpu_rate,
            "second_half_events_per_s": self.second_half_rate,
        }


Check = Callable[[], bool]


def contender_done(client: redis.Redis, prefix: str, partitions: int) -> Check:
    """A check that every marker row is in Redis under ``prefix``."""
    keys = [f"{prefix}:{topic}:{row}" for topic, row in marker_rows(partitions)]
    return lambda: client.exists(*keys) == len(keys)


def golden_done(client: redis.Redis, settings: Settings, partitions: int) -> Check:
    """A check that every marker row and marker party's golden record is in Redis."""
    prefix = settings.cache_prefix
    keys = [
        row_key(prefix, topic.split(".")[0], topic.split(".")[-1], row)
        for topic, row in marker_rows(partitions)
    ]
    index = CacheKeys(prefix)
    for p in range(partitions):
        keys.append(index.source_index(f"erp:C-{MARKER_ID + p}"))
        keys.append(index.source_index(f"identity:u-{MARKER_ID + p}"))
    return lambda: client.exists(*keys) == len(keys)


def timed(
    name: str,
    procs: list[Proc],
    done: Check,
    events: int,
    timeout: float,
    *,
    linger: float = 0.0,
) -> Run:
    """Start ``procs``, wait for ``done`` (or ``timeout``), measure, stop them.

    ``linger`` seconds pass between measuring and stopping (time for the
    flow to take a snapshot of its final state).
    """
    began = time.perf_counter()
    try:
        for proc in procs:
            proc.start()
        finished, halfway = _wait(procs, done, events, began + timeout)
        seconds = time.perf_counter() - began
        cpu = sum(proc.cpu_seconds() for proc in procs)
        memory = [proc.memory() for proc in procs]
        time.sleep(linger if finished else 0.0)
    finally:
        for proc in procs:
            proc.stop()
    halfway = None if halfway is None else halfway - began
    run = Run(
        name,
        events,
        seconds,
        cpu,
        sum(m[0] for m in memory),
        sum(m[1] for m in memory),
        finished,
        _load_average(),
        halfway,
    )
    logger.info(
        "event=run_timed run=%s events=%d seconds=%.1f events_per_s=%.0f "
        "events_per_cpu_s=%.0f finished=%s",
        name,
        events,
        seconds,
        run.rate,
        run.cpu_rate,
        finished,
    )
    return run


def _wait(
    procs: list[Proc], done: Check, events: int, deadline: float
) -> tuple[bool, float | None]:
    """Poll until ``done`` or ``deadline``: (done?, when half was decoded)."""
    halfway, polls = None, 0
    while time.perf_counter() < deadline:
        if done():
            return True, halfway
        polls += 1
        if (
            halfway is None
            and polls % _PROGRESS_EVERY == 0
            and _decoded(procs) >= events / 2
        ):
            halfway = time.perf_counter()
        for proc in procs:
            if not proc.alive():
                raise SystemExit(f"{proc.name} exited:\n{proc.log_tail()}")
        time.sleep(_POLL)
    return False, halfway


def _decoded(procs: list[Proc]) -> int:
    return sum(proc.changes_decoded() for proc in procs)


def _load_average() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def count_keys(client: redis.Redis, pattern: str) -> int:
    """How many keys match ``pattern`` (SCAN, so Redis is never blocked)."""
    return sum(1 for _ in client.scan_iter(match=pattern, count=10_000))


def idle_rss(settings: Settings, seconds: float = 6.0) -> int:
    """Resident bytes of the golden flow running on empty topics."""
    (proc,) = golden_procs(settings, 1, [])
    proc.start()
    try:
        time.sleep(seconds)
        if not proc.alive():
            raise SystemExit(f"golden flow exited:\n{proc.log_tail()}")
        return proc.memory()[0]
    finally:
        proc.stop()


@dataclass(slots=True)
class Memory:
    """Resident memory of the one-worker golden flow."""

    idle_bytes: int  # on empty topics
    loaded_peak_bytes: int  # peak while it worked through the load
    resumed_bytes: int  # restarted from its snapshot, holding the state
    resume_seconds: float  # restart until idle again
    golden_records: int


@dataclass(slots=True)
class Throughput:
    """Everything parts 1, 4 and 5 measured."""

    loads: dict[str, Loaded]  # "yardsticks" (the full load) and "flow"
    runs: dict[str, Run]
    rows: dict[str, int]  # rows each run left in Redis
    memory: Memory | None


def run_throughput(
    stack: BenchStack,
    events: int,
    flow_events: int,
    partitions: int,
    *,
    yardsticks: bool = True,
    workers: tuple[int, ...] = (1, 2),
) -> Throughput:
    """Time the yardsticks on ``events``, the golden flow on ``flow_events``.

    When the counts differ the broker is restarted (empty) and loaded again
    with ``flow_events`` events of the same mix, and the raw loop is timed on
    that load too, so the golden flow's ratio compares equal loads.
    """
    settings = stack.settings
    stack.need(stack.broker, stack.redis)
    stack.create_topics(topics_for(settings), partitions)
    client = redis.Redis(**settings.redis.client_kwargs())
    result = Throughput({}, {}, {}, None)
    idle = idle_rss(settings) if 1 in workers else 0
    if yardsticks:
        loaded = result.loads["yardsticks"] = load(settings, events, partitions)
        for name, proc in (("raw", raw_proc()), ("naive", naive_proc())):
            _yardstick(client, result, name, proc, loaded, partitions)
    if not yardsticks or flow_events != events:
        if yardsticks:
            stack.restart_broker()
            stack.create_topics(topics_for(settings), partitions)
        loaded = result.loads["flow"] = load(settings, flow_events, partitions)
        if yardsticks:
            raw = raw_proc()
            _yardstick(client, result, "raw", raw, loaded, partitions, "raw_flow")
    else:
        result.loads["flow"] = loaded
    for count in workers:
        client.flushall()
        name = f"lifeline_{count}w"
        procs = golden_procs(settings, count, _ports(count))
        done = golden_done(client, settings, partitions)
        total = loaded.events + loaded.markers
        linger = settings.flows.snapshot_interval + 1.0 if count == 1 else 0.0
        run = timed(name, procs, done, total, _timeout(total), linger=linger)
        result.runs[name] = run
        result.rows[name] = count_keys(client, f"{settings.cache_prefix}:row:*")
        if count == 1:
            golden = count_keys(client, f"{settings.cache_prefix}:golden:*")
            resumed, seconds = resumed_rss(settings)
            result.memory = Memory(idle, run.peak_rss_bytes, resumed, seconds, golden)
    client.close()
    return result


def _yardstick(
    client: redis.Redis,
    result: Throughput,
    prefix: str,
    proc: Proc,
    loaded: Loaded,
    partitions: int,
    name: str | None = None,
) -> None:
    client.flushall()
    total = loaded.events + loaded.markers
    done = contender_done(client, prefix, partitions)
    result.runs[name or prefix] = timed(
        name or prefix, [proc], done, total, _timeout(total)
    )
    result.rows[name or prefix] = count_keys(client, f"{prefix}:*")


def _timeout(events: int) -> float:
    return max(300.0, events / 500)


def resumed_rss(settings: Settings, quiet: float = 0.05) -> tuple[int, float]:
    """Restart the one-worker flow from its snapshot; its RSS once idle again.

    Idle: it used under ``quiet`` CPU seconds in the last second. Returns the
    resident bytes then and the seconds from the restart.
    """
    (proc,) = golden_procs(settings, 1, [], fresh=False)
    began = time.perf_counter()
    proc.start()
    try:
        last = 0.0
        while time.perf_counter() - began < 600:
            time.sleep(1.0)
            if not proc.alive():
                raise SystemExit(f"golden flow exited:\n{proc.log_tail()}")
            used = proc.cpu_seconds()
            if used - last < quiet and time.perf_counter() - began > 3:
                break
            last = used
        return proc.memory()[0], time.perf_counter() - began - 1.0
    finally:
        proc.stop()


def _ports(count: int) -> list[int]:
    from tests.ports import free_port

    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)
