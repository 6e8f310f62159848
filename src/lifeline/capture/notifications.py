"""Snapshot progress from Debezium's notifications topic.

The templates enable Debezium's ``sink`` notification channel: every
connector writes what its snapshots do (started, a chunk read, a table
done, completed, aborted) to ``topics.notifications``. Each record holds
``aggregate_type`` ("Initial Snapshot" or "Incremental Snapshot"), ``type``
and string ``additional_data`` with ``connector_name`` (the topic prefix).
:func:`snapshot_progress` folds them into the last state of each
connector's snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lifeline.errors import FatalError
from lifeline.preflight.report import summarise
from lifeline.settings import Settings
from lifeline.wording import counted

INCREMENTAL = "Incremental Snapshot"
INITIAL = "Initial Snapshot"
# How a table scan ends when nothing went wrong (EMPTY: it had no rows).
_NORMAL_ENDS = frozenset({"SUCCEEDED", "EMPTY"})


@dataclass(frozen=True, slots=True)
class SnapshotProgress:
    """The last known state of one connector's initial or incremental snapshot."""

    system: str  # connector_name: the connector's topic.prefix
    kind: str  # "initial" or "incremental"
    state: str  # Debezium's type: STARTED, IN_PROGRESS, COMPLETED, ABORTED, ...
    collections: str  # what the snapshot reads, as Debezium lists it
    detail: str  # the table being read and how far, or the tables done
    at: datetime | None

    @property
    def done(self) -> bool:
        """True once the snapshot ended (completed or aborted)."""
        return self.state in ("COMPLETED", "ABORTED")


@dataclass(slots=True)
class _Run:
    system: str
    kind: str
    state: str = ""
    collections: str = ""
    current: str = ""
    # Per table read to its end: (rows, Debezium's status, e.g. SUCCEEDED).
    scanned: dict[str, tuple[int, str]] = field(default_factory=dict)
    at_ms: int | None = None

    def apply(self, kind: str, data: Mapping[str, str], at_ms: int | None) -> None:
        if kind == "STARTED":
            self.scanned, self.current = {}, ""
        elif kind == "IN_PROGRESS":
            self.current = _key_progress(data)
        elif kind == "TABLE_SCAN_COMPLETED":
            rows = data.get("total_rows_scanned", "")
            count = int(rows) if rows.isdigit() else 0
            table = data.get("scanned_collection", "?")
            self.scanned[table] = (count, data.get("status", "?"))
            self.current = ""
        self.collections = data.get("data_collections", self.collections)
        self.state = kind
        self.at_ms = at_ms if at_ms is not None else self.at_ms

    def progress(self) -> SnapshotProgress:
        at = (
            None
            if self.at_ms is None
            else datetime.fromtimestamp(self.at_ms / 1e3, UTC)
        )
        collections = summarise(self.collections.split(",")) if self.collections else ""
        return SnapshotProgress(
            self.system, self.kind, self.state, collections, self._detail(), at
        )

    def _detail(self) -> str:
        parts = [self.current] if self.current else []
        if self.scanned:
            rows = sum(count for count, _ in self.scanned.values())
            parts.append(
                f"{counted(len(self.scanned), 'table')} read, {counted(rows, 'row')}"
            )
            unusual = [
                f"{table} {status}"
                for table, (_, status) in self.scanned.items()
                if status not in _NORMAL_ENDS
            ]
            parts += unusual
        return "; ".join(parts)


def _key_progress(data: Mapping[str, str]) -> str:
    table = data.get("current_collection_in_progress", "?")
    last, top = data.get("last_processed_key"), data.get("maximum_key")
    if last and top:
        return f"{table}: key {last} of {top}"
    return f"{table}: reading"


def snapshot_progress(records: Iterable[Mapping[str, Any]]) -> list[SnapshotProgress]:
    """The last state of each (connector, snapshot kind), from records in order.

    ``records`` are the topic's JSON values, with or without the
    JsonConverter's ``schema``/``payload`` envelope; records of other
    aggregate types are ignored.
    """
    runs: dict[tuple[str, str], _Run] = {}
    for record in records:
        body = record.get("payload", record)
        if not isinstance(body, Mapping):
            continue
        kind = {INITIAL: "initial", INCREMENTAL: "incremental"}.get(
            str(body.get("aggregate_type"))
        )
        data = body.get("additional_data") or {}
        if kind is None or not isinstance(data, Mapping):
            continue
        system = str(data.get("connector_name", "?"))
        run = runs.setdefault((system, kind), _Run(system, kind))
        at = body.get("timestamp")
        run.apply(str(body.get("type", "?")), data, at if isinstance(at, int) else None)
    return [runs[key].progress() for key in sorted(runs)]


def read_progress(settings: Settings, timeout: float = 30.0) -> list[SnapshotProgress]:
    """Read the whole notifications topic and fold it (an empty topic: [])."""
    from lifeline.targets.errors import RecordSourceError
    from lifeline.targets.kafka_records import KafkaRecordReader, client_config

    topic = settings.topics.notifications
    reader = KafkaRecordReader(client_config(settings.broker), topic, timeout=timeout)
    try:
        return snapshot_progress(reader.read_all())
    except RecordSourceError as exc:
        msg = f"cannot read snapshot notifications: {exc}"
        raise FatalError(msg) from exc
