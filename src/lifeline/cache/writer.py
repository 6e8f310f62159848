"""Writes batches of golden-record changes to the Redis cache."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import redis

from lifeline.cache.client import Retrier, build_client
from lifeline.cache.errors import RETRYABLE
from lifeline.cache.keys import DEFAULT_PREFIX, CacheKeys
from lifeline.cache.script import APPLY_LUA, APPLY_SHA
from lifeline.cache.updates import ApplyResult, CacheUpdate, Delete, Merge, Upsert
from lifeline.emit.encoding import dumps
from lifeline.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_TOMBSTONE_TTL = 7 * 24 * 3600.0
# Changes per script call: fewer calls cost less, but Redis serves nobody
# else while a call runs (100 changes: 1-3 ms on a small 2-vCPU machine).
DEFAULT_CHANGES_PER_CALL = 100

# One script call: the key of its first change, the JSON list of changes and
# the JSON texts they refer to (see lifeline.cache.script).
Call = tuple[str, bytes, bytes]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class GoldenCacheWriter:
    """Applies batches of :data:`~lifeline.cache.updates.CacheUpdate` to Redis.

    ``apply`` sends the whole batch in one pipeline round trip of script calls
    (EVALSHA, ``changes_per_call`` changes each; the script is loaded on first
    use and again when Redis answers NOSCRIPT). Each change is applied
    atomically, in batch order. It returns once every change is in Redis.
    Because every change is version-guarded, the order of changes inside a
    batch and across concurrent writers does not matter for the outcome of
    each golden id, and a batch may be re-sent as a whole: during an outage
    ``apply`` waits and re-sends as ``retrier`` allows, then raises
    :class:`~lifeline.cache.errors.CacheUnavailableError`; nothing is dropped
    that a later call with the same batch cannot apply. Other failures raise
    :class:`~lifeline.cache.errors.CacheAccessError` or
    :class:`~lifeline.cache.errors.CacheDataError`.

    A deleted record's version is kept ``tombstone_ttl`` seconds (0: forever).
    Safe to share between threads (the client's pool hands out connections).
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
        *,
        retrier: Retrier | None = None,
        tombstone_ttl: float = DEFAULT_TOMBSTONE_TTL,
        changes_per_call: int = DEFAULT_CHANGES_PER_CALL,
        clock: Callable[[], str] = _now,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._keys = CacheKeys(prefix)
        self.retrier = retrier if retrier is not None else Retrier()
        self._tombstone_ms = round(tombstone_ttl * 1000)
        self._per_call = max(1, changes_per_call)
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> GoldenCacheWriter:
        """A writer with its own client, retry and tombstone settings."""
        return cls(
            build_client(settings.redis),
            settings.cache_prefix,
            retrier=Retrier.from_settings(settings.redis),
            tombstone_ttl=settings.redis.tombstone_ttl,
        )

    def close(self) -> None:
        """Close the Redis client (also one passed in)."""
        self._client.close()

    def apply(self, updates: Sequence[CacheUpdate]) -> ApplyResult:
        """Apply ``updates``; return how many applied and how many were stale."""
        if not updates:
            return ApplyResult()
        calls = self.encode(updates)
        now = self._clock()
        result = self.retrier.call(lambda: self._send(calls, now), "apply")
        logger.debug(
            "cache batch size=%d applied=%d stale=%d",
            len(updates),
            result.applied,
            result.stale,
        )
        return result

    def encode(self, updates: Sequence[CacheUpdate]) -> list[Call]:
        """The script calls for ``updates`` (the Python half of ``apply``)."""
        calls: list[Call] = []
        for start in range(0, len(updates), self._per_call):
            chunk = _Chunk()
            for update in updates[start : start + self._per_call]:
                chunk.add(update)
            # changes[0][1] is the first change's golden id (survivor of a merge)
            key = self._keys.golden(chunk.changes[0][1])
            calls.append((key, orjson.dumps(chunk.changes), b"".join(chunk.texts)))
        return calls

    def load_script(self) -> None:
        """Load the cache script now (``apply`` also does it when needed)."""
        self.retrier.call(lambda: self._client.script_load(APPLY_LUA), "load script")

    def _send(self, calls: list[Call], now: str) -> ApplyResult:
        replies = self._execute(calls, now)
        missing = [i for i, r in enumerate(replies) if _no_script(r)]
        if missing:
            logger.info("cache script not in redis, loading sha=%s", APPLY_SHA)
            self._client.script_load(APPLY_LUA)
            again = self._execute([calls[i] for i in missing], now)
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return _count(replies)

    def _execute(self, calls: list[Call], now: str) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for key, changes, texts in calls:
            pipe.evalsha(
                APPLY_SHA, 1, key, self._prefix, now, self._tombstone_ms, changes, texts
            )
        replies: list[Any] = pipe.execute(raise_on_error=False)
        for reply in replies:
            if isinstance(reply, RETRYABLE):
                raise reply
        return replies


class _Chunk:
    """The changes of one script call and the JSON texts they point into."""

    def __init__(self) -> None:
        self.changes: list[list[Any]] = []
        self.texts: list[bytes] = []
        self._size = 0

    def add(self, update: CacheUpdate) -> None:
        if isinstance(update, Upsert):
            self.changes.append(self._upsert(update))
        elif isinstance(update, Delete):
            self.changes.append(["D", update.golden_id, update.version])
        elif isinstance(update, Merge):
            absorbed = list(update.absorbed)
            self.changes.append(["M", update.survivor, update.version, absorbed])
        else:
            msg = f"cache writer: expected Upsert, Delete or Merge, got {type(update)}"
            raise TypeError(msg)

    def _upsert(self, update: Upsert) -> list[Any]:
        return [
            "U",
            update.golden_id,
            update.version,
            *self._text(update.record),
            update.stage or "",
            list(update.source_ids),
            list(update.email_hashes),
            *self._text(update.open_invoices),
            *self._text(update.entitlements),
        ]

    def _text(self, value: Any) -> tuple[int, int]:
        """Append ``value`` as JSON; its 1-based offset and length (0, 0: None)."""
        if value is None:
            return 0, 0
        text = dumps(value)
        at = self._size + 1
        self.texts.append(text)
        self._size += len(text)
        return at, len(text)


def _no_script(reply: Any) -> bool:
    return isinstance(reply, redis.exceptions.NoScriptError)


def _count(replies: list[Any]) -> ApplyResult:
    applied = stale = 0
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
        for one in reply:
            if one == 1:
                applied += 1
            else:
                stale += 1
    return ApplyResult(applied, stale)
