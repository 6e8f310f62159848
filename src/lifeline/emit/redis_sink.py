"""Bytewax sink writing row changes and email views to Redis.

Each call writes a whole batch in one pipeline round trip. When Redis is
unreachable the partition waits and retries with backoff (logged, never
dropping the batch) up to ``max_wait`` seconds, then fails the worker so that
recovery replays the batch after a restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import redis
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from lifeline.emit import row_scripts
from lifeline.emit.cache_keys import email_view_key, row_key, row_tombstone_key
from lifeline.emit.encoding import dumps
from lifeline.errors import RetryableError
from lifeline.join.email_view import ViewChange
from lifeline.join.latest import RowChange

logger = logging.getLogger(__name__)

CacheItem = Sequence[RowChange | ViewChange]


class RedisCacheSink(DynamicSink[CacheItem]):
    """Writes lists of RowChange/ViewChange; one Redis client per worker."""

    def __init__(
        self,
        client_kwargs: dict[str, Any],
        prefix: str,
        max_wait: float = 300.0,
        tombstone_ttl: int = 7 * 24 * 3600,
    ) -> None:
        self._client_kwargs = client_kwargs
        self._prefix = prefix
        self._max_wait = max_wait
        self._tombstone_ttl = tombstone_ttl

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Partition:
        """Open this worker's Redis connection."""
        client = redis.Redis(**self._client_kwargs)
        return _Partition(client, self._prefix, self._max_wait, self._tombstone_ttl)


class _Partition(StatelessSinkPartition[CacheItem]):
    def __init__(
        self, client: redis.Redis, prefix: str, max_wait: float, tombstone_ttl: int
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._max_wait = max_wait
        self._tombstone_ttl = tombstone_ttl
        self._upsert = client.register_script(row_scripts.UPSERT)
        self._delete = client.register_script(row_scripts.DELETE)

    def write_batch(self, items: list[CacheItem]) -> None:
        now_ms = int(time.time() * 1000)
        pipe = self._client.pipeline(transaction=False)
        for item in items:
            for change in item:
                if isinstance(change, RowChange):
                    self._row(pipe, change, now_ms)
                else:
                    self._view(pipe, change, now_ms)
        self._execute(pipe)

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

    def _execute(self, pipe: Any) -> None:
        deadline = time.monotonic() + self._max_wait
        delay = 0.1
        while True:
            try:
                pipe.execute()
                return
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if time.monotonic() > deadline:
                    msg = f"Redis unreachable for {self._max_wait:.0f}s"
                    raise RetryableError(msg) from exc
                logger.warning("redis unavailable retry_in=%.1fs error=%s", delay, exc)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def close(self) -> None:
        self._client.close()
