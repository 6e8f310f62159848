"""Bytewax sink writing row changes and email views to Redis.

Each call writes a whole batch in one pipeline round trip. When Redis is
unreachable the partition waits and retries with backoff (logged, never
dropping the batch) up to the ``retry_max_wait`` setting, then fails the
worker so that recovery replays the batch after a restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import redis
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from lifeline.cache.client import Retrier, build_client
from lifeline.emit import row_scripts
from lifeline.emit.cache_keys import email_view_key, row_key, row_tombstone_key
from lifeline.emit.encoding import dumps
from lifeline.join.email_view import ViewChange
from lifeline.join.latest import RowChange
from lifeline.observe import tally
from lifeline.settings import RedisSettings

logger = logging.getLogger(__name__)

CacheItem = Sequence[RowChange | ViewChange]


class RedisCacheSink(DynamicSink[CacheItem]):
    """Writes lists of RowChange/ViewChange; one Redis client per worker."""

    def __init__(self, settings: RedisSettings, prefix: str) -> None:
        self._settings = settings
        self._prefix = prefix

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Partition:
        """Open this worker's Redis connection."""
        return _Partition(
            build_client(self._settings),
            Retrier.from_settings(self._settings),
            self._prefix,
            int(self._settings.tombstone_ttl),
            tally.flow_of(step_id),
        )


class _Partition(StatelessSinkPartition[CacheItem]):
    def __init__(
        self,
        client: redis.Redis,
        retrier: Retrier,
        prefix: str,
        tombstone_ttl: int,
        flow: str,
    ) -> None:
        self._client = client
        self._flow = flow
        self._retrier = retrier
        self._prefix = prefix
        self._tombstone_ttl = tombstone_ttl
        self._upsert = client.register_script(row_scripts.UPSERT)
        self._delete = client.register_script(row_scripts.DELETE)

    def write_batch(self, items: list[CacheItem]) -> None:
        now_ms = int(time.time() * 1000)
        # The pipeline is built anew on every attempt: redis-py empties a
        # pipeline whose execute() failed, so re-running it would send nothing.
        self._retrier.call(lambda: self._send(items, now_ms), "write rows and views")
        # Snapshot reads carry when the snapshot read them, not a commit time.
        committed = [
            c.ts_ms
            for item in items
            for c in item
            if type(c) is RowChange and c.snapshot is None
        ]
        tally.cache_latency(self._flow, "rows", committed)

    def _send(self, items: list[CacheItem], now_ms: int) -> None:
        pipe = self._client.pipeline(transaction=False)
        for item in items:
            for change in item:
                if isinstance(change, RowChange):
                    self._row(pipe, change, now_ms)
                else:
                    self._view(pipe, change, now_ms)
        pipe.execute()

    def _row(self, pipe: Any, change: RowChange, now_ms: int) -> None:
        ident = (self._prefix, change.system, change.table, change.row_id)
        keys = [row_key(*ident), row_tombstone_key(*ident)]
        position = change.position.encode()
        if change.row is None:
            self._delete(keys, [position, self._tombstone_ttl], client=pipe)
            return
        args: list[bytes | str | int] = [
            position,
            dumps(change.row),
            change.ts_ms,
            now_ms,
        ]
        self._upsert(keys, args, client=pipe)

    def _view(self, pipe: Any, change: ViewChange, now_ms: int) -> None:
        key = email_view_key(self._prefix, change.email)
        if not change.members:
            pipe.delete(key)
            return
        pipe.set(
            key,
            dumps(
                {
                    "email": change.email,
                    "members": change.members,
                    "cached_at_ms": now_ms,
                }
            ),
        )

    def close(self) -> None:
        self._client.close()
