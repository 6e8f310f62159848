"""Replication slot lag: how much WAL each PostgreSQL slot makes the server keep.

A logical slot pins WAL from its ``restart_lsn`` on; its consumer confirms
progress by moving ``confirmed_flush_lsn``. Both lags are measured against
the server's current WAL position (``pg_current_wal_lsn()``, or the last
replayed position on a standby). A slot keeping more than
``postgres.slot_lag_warn_bytes`` is over the warning threshold: its
connector is stopped, failing, or (without heartbeats) idle while the rest
of the server writes. :func:`export_slot_lag` puts the figures on the
``lifeline_replication_slot_*`` gauges; :class:`SlotLagWatcher` keeps them
current in a process that serves metrics.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import psycopg

from lifeline.errors import FatalError, LifelineError, RetryableError
from lifeline.settings import Settings

logger = logging.getLogger(__name__)

_LAGS = """
SELECT slot_name, plugin, slot_type, database, active,
  pg_wal_lsn_diff(w.lsn, restart_lsn)::bigint,
  pg_wal_lsn_diff(w.lsn, confirmed_flush_lsn)::bigint
FROM pg_replication_slots,
  LATERAL (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
           ELSE pg_current_wal_lsn() END AS lsn) w
ORDER BY slot_name
"""


@dataclass(frozen=True, slots=True)
class SlotLag:
    """One replication slot and how far behind the server's WAL it is (bytes).

    ``retained_bytes`` is the WAL the slot keeps (from ``restart_lsn``);
    ``flush_lag_bytes`` what its consumer has not confirmed yet (from
    ``confirmed_flush_lsn``; None for a physical slot). None when unknown.
    """

    slot: str
    plugin: str | None
    slot_type: str
    database: str | None
    active: bool
    retained_bytes: int | None
    flush_lag_bytes: int | None

    def over(self, threshold: int) -> bool:
        """True when the slot keeps more WAL than ``threshold`` bytes."""
        return (self.retained_bytes or 0) > threshold


def slot_lag(settings: Settings) -> list[SlotLag]:
    """Every replication slot of the identity database's server, by name.

    Connects with the settings' admin account (any role may read
    ``pg_replication_slots``). Raises RetryableError when the server cannot
    be reached and FatalError on any other database error.
    """
    pg = settings.postgres
    try:
        with psycopg.connect(pg.dsn(), connect_timeout=5, autocommit=True) as conn:
            rows = conn.execute(_LAGS).fetchall()
    except psycopg.OperationalError as exc:
        msg = f"postgres at {pg.host}:{pg.port}: {exc}"
        raise RetryableError(msg) from exc
    except psycopg.Error as exc:
        msg = f"postgres at {pg.host}:{pg.port}: cannot read slots: {exc}"
        raise FatalError(msg) from exc
    return [_lag(row) for row in rows]


def _lag(row: tuple[Any, ...]) -> SlotLag:
    name, plugin, slot_type, database, active, retained, flush_lag = row
    return SlotLag(
        slot=str(name),
        plugin=None if plugin is None else str(plugin),
        slot_type=str(slot_type),
        database=None if database is None else str(database),
        active=bool(active),
        retained_bytes=None if retained is None else int(retained),
        flush_lag_bytes=None if flush_lag is None else int(flush_lag),
    )


def over_threshold(lags: list[SlotLag], threshold: int) -> list[SlotLag]:
    """The slots keeping more WAL than ``threshold`` bytes."""
    return [lag for lag in lags if lag.over(threshold)]


def export_slot_lag(lags: list[SlotLag], threshold: int) -> None:
    """Set the slot-lag gauges of :mod:`lifeline.observe.metrics` to ``lags``.

    Slots no longer listed lose their series; an unknown lag is not set.
    """
    from lifeline.observe import metrics

    metrics.SLOT_WARN_BYTES.set(threshold)
    for gauge, value_of in (
        (metrics.SLOT_RETAINED_WAL, _retained),
        (metrics.SLOT_UNCONFIRMED_WAL, _unconfirmed),
    ):
        gauge.clear()
        for lag in lags:
            value = value_of(lag)
            if value is not None:
                gauge.labels(lag.slot).set(value)


def _retained(lag: SlotLag) -> int | None:
    return lag.retained_bytes


def _unconfirmed(lag: SlotLag) -> int | None:
    return lag.flush_lag_bytes


class SlotLagWatcher:
    """Refreshes the slot-lag gauges every ``interval`` seconds in a daemon thread.

    For a process that serves ``/metrics``: ``SlotLagWatcher(settings).start()``.
    A failed read is logged (``event=slot_lag_unknown``) and the gauges keep
    their last values until the next read succeeds.
    """

    def __init__(self, settings: Settings, interval: float = 30.0) -> None:
        self.settings = settings
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slot-lag", daemon=True)

    def start(self) -> None:
        """Read once now, then every ``interval`` seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop refreshing (returns at once; the thread ends after its read)."""
        self._stop.set()

    def refresh(self) -> None:
        """Read the slots once and set the gauges."""
        try:
            lags = slot_lag(self.settings)
        except LifelineError as exc:
            logger.warning("event=slot_lag_unknown error=%s", type(exc).__name__)
            return
        export_slot_lag(lags, self.settings.postgres.slot_lag_warn_bytes)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.interval)
