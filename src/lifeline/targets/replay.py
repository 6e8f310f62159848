"""Re-delivering a target's dead letters, each at most once per ledger.

``replay`` reads the dead-letter topic from the beginning, keeps the
entries of one target and re-delivers their events through a dispatcher of
that target alone, with the same Idempotency-Key (the event id) as the
first time and the target's current mapping and credentials, in topic
order per customer.

The ledger records each event id replay delivered, per target; a later
replay skips those, so running replay twice sends nothing the second time.
An entry that fails again stays unreplayed (it is not written to the topic
a second time) and the next replay tries it again. Should the ledger be
lost, a resend is still a no-op at the target, which dedupes by
Idempotency-Key: that is the contract every target must keep.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lifeline.errors import RecordError
from lifeline.targets.config import Target, TargetsConfig
from lifeline.targets.delivery import Dispatcher
from lifeline.targets.model import Delivery
from lifeline.targets.records import (
    DEAD_LETTER_KIND,
    MemoryRecords,
    RecordReader,
    now_rfc3339,
)
from lifeline.targets.worker import DeliveryResult


class ReplayLedger(Protocol):
    """What replay has delivered, per target; safe to call from any thread."""

    def delivered(self, target: str) -> set[str]:
        """The event ids replay delivered to ``target``."""
        ...

    def record(self, target: str, event_id: str) -> None:
        """Remember that replay delivered ``event_id`` to ``target``."""


class MemoryLedger:
    """A ledger in memory (tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: set[tuple[str, str]] = set()

    def delivered(self, target: str) -> set[str]:
        """The event ids recorded for ``target``."""
        with self._lock:
            return {event for name, event in self._done if name == target}

    def record(self, target: str, event_id: str) -> None:
        """Add ``event_id`` for ``target``."""
        with self._lock:
            self._done.add((target, event_id))


class SqliteLedger:
    """A ledger in a SQLite file (one row per target and event id)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS replayed (target TEXT NOT NULL, "
                "event_id TEXT NOT NULL, replayed_at TEXT NOT NULL, "
                "PRIMARY KEY (target, event_id))"
            )

    def delivered(self, target: str) -> set[str]:
        """The event ids recorded for ``target``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id FROM replayed WHERE target = ?", (target,)
            ).fetchall()
        return {row[0] for row in rows}

    def record(self, target: str, event_id: str) -> None:
        """Add ``event_id`` for ``target`` (committed before returning)."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO replayed VALUES (?, ?, ?)",
                (target, event_id, now_rfc3339()),
            )

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


@dataclass(frozen=True)
class ReplayFailure:
    """An entry replay could not deliver: its event id, reason and last error."""

    event_id: str
    reason: str
    last_error: str


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did with the target's dead-letter entries.

    ``found`` entries for the target; ``delivered`` now; ``skipped`` because
    replay had delivered them before (or they repeat an event); ``failed``
    again, or unreadable; ``finished`` False when the timeout cut it short.
    """

    target: str
    found: int
    delivered: int
    skipped: int
    failed: tuple[ReplayFailure, ...]
    finished: bool = True


def replay(
    target: Target,
    source: RecordReader,
    ledger: ReplayLedger,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    rng: random.Random | None = None,
) -> ReplayReport:
    """Re-deliver ``target``'s dead letters from ``source``; see the module doc.

    Blocks until every entry ended (or ``timeout`` seconds). Raises what
    ``source`` raises when the topic cannot be read.
    """
    entries = [entry for entry in source.read_all() if _belongs(entry, target.name)]
    todo, skipped, failed = _select(entries, ledger.delivered(target.name))
    results: list[DeliveryResult] = []
    lock = threading.Lock()

    def on_result(result: DeliveryResult) -> None:
        if result.delivered:
            ledger.record(target.name, result.delivery.event_id)
        with lock:
            results.append(result)

    config = TargetsConfig(targets=(target,))
    # Failures of a replay stay in memory: the topic already holds them.
    with Dispatcher(
        config, MemoryRecords(), env=env, on_result=on_result, rng=rng
    ) as dispatcher:
        dispatcher.submit_to(target.name, todo)
        finished = dispatcher.drain(timeout)
    return _report(target.name, len(entries), skipped, failed, results, finished)


def _report(
    target: str,
    found: int,
    skipped: int,
    failed: list[ReplayFailure],
    results: list[DeliveryResult],
    finished: bool,
) -> ReplayReport:
    failed = failed + [
        ReplayFailure(r.delivery.event_id, r.outcome.reason, r.outcome.last_error)
        for r in results
        if not r.delivered
    ]
    return ReplayReport(
        target=target,
        found=found,
        delivered=sum(r.delivered for r in results),
        skipped=skipped,
        failed=tuple(failed),
        finished=finished,
    )


def _belongs(entry: Mapping[str, Any], target: str) -> bool:
    return entry.get("kind") == DEAD_LETTER_KIND and entry.get("target") == target


def _select(
    entries: Iterable[Mapping[str, Any]], done: set[str]
) -> tuple[list[Delivery], int, list[ReplayFailure]]:
    """The deliveries to replay, how many to skip, and the unreadable ones."""
    todo: list[Delivery] = []
    failed: list[ReplayFailure] = []
    seen = set(done)
    skipped = 0
    for entry in entries:
        event = entry.get("event")
        try:
            delivery = Delivery.from_mapping(event if isinstance(event, dict) else {})
        except RecordError as exc:
            failed.append(ReplayFailure("?", exc.kind, exc.reason))
            continue
        if delivery.event_id in seen:
            skipped += 1
            continue
        seen.add(delivery.event_id)
        todo.append(delivery)
    return todo, skipped, failed
