"""Parts 2 and 3: commit-to-cache latency under load, and recovery from kill -9.

Both databases get a pool of rows (an ERP customer and an identity user per
pool slot, sharing an e-mail, so each slot is one golden customer of two
sources); Connect captures them and the golden flow runs as in production.
Two driver threads then update pool rows at a fixed rate, several rows per
transaction (ERP: a new credit limit; identity: a new given name), and a
watcher thread reads a sample of the changed rows (one change in
``ROW_SAMPLE``) back from Redis: reading every one would cost the machine
more than the flow under test. A row's own ``cached_at_ms`` (written by the
sink) gives when it became visible, so the polling interval does not blur
the figures; one change in ``GOLDEN_SAMPLE`` is also followed to its golden
record (``updated_at``). Times are the client's clock after COMMIT returned,
as in bench/latency.py.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
import redis

from lifeline.cache.reader import CacheReader
from lifeline.emit.cache_keys import row_key
from lifeline.live import mariadb_connection, postgres_connection
from lifeline.settings import Settings

ROW_SAMPLE = 10
GOLDEN_SAMPLE = 50
_POLL = 0.25


@dataclass(slots=True)
class Change:
    """One committed row change and when it showed in the cache."""

    db: str  # "mariadb" | "postgres"
    slot: int
    value: int  # credit limit (ERP) or the number in the given name (identity)
    committed_ms: int
    watched: bool  # in the row sample
    golden: bool  # in the golden-record sample too
    visible_ms: int | None = None
    golden_ms: int | None = None
    # First seen already overwritten by a newer change of its row (both in
    # one batch, say): visible since the newer value was.
    coalesced: bool = False
    # When Connect produced its record (bench.capture_lag), if read back.
    captured_ms: int | None = None


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- the pool -----------------------------------------------------------------


def seed_pool(settings: Settings, size: int) -> None:
    """``size`` ERP customers and identity users, slot ``i`` sharing an e-mail."""
    customers = [
        (
            i + 1,
            f"C-L{i}",
            f"Pool {i} GmbH",
            f"pool{i}@bench.example",
            "DE",
            1000,
            "active",
        )
        for i in range(size)
    ]
    with mariadb_connection(settings) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO customers (id, customer_no, legal_name, email,"
            " billing_country, credit_limit, status) VALUES (%s,%s,%s,%s,%s,%s,%s)",
            customers,
        )
        conn.commit()
    users = [
        (f"u-L{i}", f"pool{i}@bench.example", "n0", f"Pool{i}") for i in range(size)
    ]
    with postgres_connection(settings) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO users (id, email, given_name, family_name)"
            " VALUES (%s, %s, %s, %s)",
            users,
        )
        conn.commit()


def pool_keys(settings: Settings, slot: int) -> tuple[str, str]:
    """The row keys of a slot's customer and user."""
    p = settings.cache_prefix
    return (
        row_key(p, settings.topics.erp_prefix, "customers", str(slot + 1)),
        row_key(p, settings.topics.identity_prefix, "users", f"u-L{slot}"),
    )


def wait_pool_cached(settings: Settings, size: int, timeout: float = 300.0) -> float:
    """Block until every pool row is in the row cache; the seconds it took."""
    client = redis.Redis(**settings.redis.client_kwargs())
    keys = [key for slot in range(size) for key in pool_keys(settings, slot)]
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if sum(
            client.exists(*keys[i : i + 1000]) for i in range(0, len(keys), 1000)
        ) == len(keys):
            client.close()
            return time.monotonic() - began
        time.sleep(0.5)
    raise SystemExit(f"pool rows not all cached within {timeout:.0f}s")


# --- drivers ------------------------------------------------------------------


class Driver(threading.Thread):
    """Updates pool rows of one database at ``rate`` rows/s, ``per_commit`` a time."""

    def __init__(
        self,
        settings: Settings,
        db: str,
        pool: int,
        rate: float,
        per_commit: int,
        seconds: float,
        out: queue.Queue[Change],
        counter: _Counter,
    ) -> None:
        super().__init__(name=f"driver-{db}", daemon=True)
        self.settings, self.db, self.pool = settings, db, pool
        self.interval = per_commit / rate
        self.per_commit, self.seconds = per_commit, seconds
        self.out, self.counter = out, counter
        self.commits = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._drive()
        except BaseException as exc:  # reported by the caller
            self.error = exc

    def _drive(self) -> None:
        connect = mariadb_connection if self.db == "mariadb" else postgres_connection
        slot = 0 if self.db == "mariadb" else self.pool // 2  # apart from ERP's
        with connect(self.settings) as conn:
            began = time.monotonic()
            due = began
            while due - began < self.seconds:
                slots = [(slot + k) % self.pool for k in range(self.per_commit)]
                slot = (slot + self.per_commit) % self.pool
                values = [self.counter.next() for _ in slots]
                self._update(conn, slots, values)
                committed = _now_ms()
                self.commits += 1
                for s, v in zip(slots, values, strict=True):
                    watched, golden = v % ROW_SAMPLE == 0, v % GOLDEN_SAMPLE == 0
                    self.out.put(Change(self.db, s, v, committed, watched, golden))
                due += self.interval
                time.sleep(max(0.0, due - time.monotonic()))

    def _update(self, conn: Any, slots: list[int], values: list[int]) -> None:
        update_rows(conn, self.db, slots, values)


def update_rows(conn: Any, db: str, slots: list[int], values: list[int]) -> None:
    """One transaction: ERP credit limits or identity given names of ``slots``."""
    if db == "mariadb":
        cases = " ".join(["WHEN %s THEN %s"] * len(slots))
        marks = ",".join(["%s"] * len(slots))
        args: list[Any] = []
        for s, v in zip(slots, values, strict=True):
            args += [s + 1, Decimal(v)]
        with conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE customers SET credit_limit = CASE id {cases} END"
                f" WHERE id IN ({marks})",
                [*args, *(s + 1 for s in slots)],
            )
    else:
        rows = ",".join(["(%s, %s)"] * len(slots))
        args = []
        for s, v in zip(slots, values, strict=True):
            args += [f"u-L{s}", f"n{v}"]
        conn.execute(
            "UPDATE users AS u SET given_name = v.g, updated_at = now()"
            f" FROM (VALUES {rows}) AS v(id, g) WHERE u.id = v.id",
            args,
        )
    conn.commit()


def wait_caught_up(
    settings: Settings, pool: int, value: int, timeout: float
) -> float | None:
    """Commit one change per database; seconds until both are cached (or None)."""
    client = redis.Redis(**settings.redis.client_kwargs())
    with mariadb_connection(settings) as my, postgres_connection(settings) as pg:
        update_rows(my, "mariadb", [0], [value])
        update_rows(pg, "postgres", [pool // 2], [value])
    began = time.monotonic()
    keys = [pool_keys(settings, 0)[0], pool_keys(settings, pool // 2)[1]]
    try:
        while time.monotonic() - began < timeout:
            rows = [client.hget(k, "row") for k in keys]
            found = [
                pool_value(db, orjson.loads(r)) if r else -1
                for db, r in zip(("mariadb", "postgres"), rows, strict=True)
            ]
            if min(found) >= value:
                return time.monotonic() - began
            time.sleep(0.2)
        return None
    finally:
        client.close()


class _Counter:
    """Increasing values shared by both drivers (thread-safe)."""

    def __init__(self, start: int) -> None:
        self._value = start
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._value += 1
            return self._value


# --- the watcher ----------------------------------------------------------------


class Watcher(threading.Thread):
    """Reads changed rows (and sampled golden records) back until each shows."""

    def __init__(self, settings: Settings, incoming: queue.Queue[Change]) -> None:
        super().__init__(name="watcher", daemon=True)
        self.settings = settings
        self.incoming = incoming
        self.client = redis.Redis(**settings.redis.client_kwargs())
        self.reader = CacheReader(self.client, settings.cache_prefix)
        self.changes: list[Change] = []
        self.pending: list[Change] = []
        self.stop_when_drained = threading.Event()
        self.stop_now = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop_now.is_set() and not (
                self.stop_when_drained.is_set() and self._drained()
            ):
                self._take()
                self._poll()
                time.sleep(_POLL)
        except BaseException as exc:  # reported by the caller
            self.error = exc
        finally:
            self.client.close()

    def _drained(self) -> bool:
        return self.incoming.empty() and not self.pending

    def _take(self) -> None:
        while True:
            try:
                change = self.incoming.get_nowait()
            except queue.Empty:
                return
            self.changes.append(change)
            if change.watched:
                self.pending.append(change)

    def _poll(self) -> None:
        # One read per row however many of its changes wait: behind a backlog
        # a row has several, and reading each would cost the machine (and so
        # the flow under test) more as the flow falls behind.
        if not self.pending:
            return
        by_key: dict[str, list[Change]] = {}
        for change in self.pending:
            key = pool_keys(self.settings, change.slot)[change.db == "postgres"]
            by_key.setdefault(key, []).append(change)
        pipe = self.client.pipeline(transaction=False)
        for key in by_key:
            pipe.hmget(key, "row", "cached_at_ms")
        still = []
        for waiting, (row, cached_at) in zip(
            by_key.values(), pipe.execute(), strict=True
        ):
            found = None if row is None else orjson.loads(row)
            golden: dict[str, Any] = {}
            for change in waiting:
                if change.visible_ms is None and found is not None:
                    self._row(change, found, int(cached_at))
                if change.golden and change.golden_ms is None and change.visible_ms:
                    self._golden(change, golden)
                if change.visible_ms is None or (
                    change.golden and change.golden_ms is None
                ):
                    still.append(change)
        self.pending = still

    def _row(self, change: Change, row: dict[str, Any], cached_at: int) -> None:
        found = pool_value(change.db, row)
        if found >= change.value:
            change.visible_ms = max(cached_at, change.committed_ms)
            change.coalesced = found > change.value

    def _golden(self, change: Change, read: dict[str, Any]) -> None:
        """Check the golden record; ``read`` keeps what this poll read."""
        source = (
            f"erp:C-L{change.slot}"
            if change.db == "mariadb"
            else f"identity:u-L{change.slot}"
        )
        if source not in read:
            read[source] = self.reader.by_source_id(source)
        record = read[source]
        if record is None:
            return
        if pool_value(change.db, record.record) >= change.value:
            updated = int(record.updated_at.timestamp() * 1000)
            change.golden_ms = max(updated, change.committed_ms)


def pool_value(db: str, row: dict[str, Any]) -> int:
    """The driven value of a pool row (credit limit, or the given name's number)."""
    if db == "mariadb":
        raw = row.get("credit_limit")
        return -1 if raw is None else int(Decimal(str(raw)))
    name = row.get("given_name") or "n-1"
    return int(name[1:]) if name[1:].lstrip("-").isdigit() else -1


# --- runs ---------------------------------------------------------------------


@dataclass(slots=True)
class Drive:
    """One load run: the changes with their visibility, and the pace achieved."""

    changes: list[Change]
    seconds: float
    commits: int
    per_commit: int
    ended_ms: int  # when the watcher stopped looking
    marks: dict[str, float] = field(default_factory=dict)

    @property
    def achieved_rate(self) -> float:
        """Row changes committed per second."""
        return len(self.changes) / self.seconds if self.seconds else 0.0


def drive(
    settings: Settings,
    pool: int,
    rate: float,
    seconds: float,
    per_commit: int,
    *,
    start_value: int = 1000,
    during: Any = None,
    drain: float = 90.0,
) -> Drive:
    """Run both drivers for ``seconds`` at ``rate`` changes/s in all, then drain.

    ``during(marks)`` runs in this thread while the drivers work (the recovery
    part kills and restarts the flow there) and may record times in ``marks``.
    """
    changes: queue.Queue[Change] = queue.Queue()
    counter = _Counter(start_value)
    drivers = [
        Driver(settings, db, pool, rate / 2, per_commit, seconds, changes, counter)
        for db in ("mariadb", "postgres")
    ]
    watcher = Watcher(settings, changes)
    marks: dict[str, float] = {}
    began = time.monotonic()
    watcher.start()
    for driver in drivers:
        driver.start()
    if during is not None:
        during(marks)
    for driver in drivers:
        driver.join()
    elapsed = time.monotonic() - began
    watcher.stop_when_drained.set()
    watcher.join(drain)
    watcher.stop_now.set()
    watcher.join()
    failures = [(d.name, d.error) for d in drivers] + [(watcher.name, watcher.error)]
    for name, error in failures:
        if error is not None:
            raise SystemExit(f"{name} failed: {error!r}")
    commits = sum(d.commits for d in drivers)
    seen = list(watcher.changes)
    return Drive(seen, elapsed, commits, per_commit, _now_ms(), marks)
