"""Batched reads of the golden-record cache for reconciliation.

Every read takes a whole batch in one round trip: ``MGET`` of index
entries, a pipeline of ``HMGET`` for golden records, ``SCAN`` with a large
``COUNT`` for the key space. Reads are not atomic across a batch; a writer
moving entries meanwhile shows up as drift that a re-check clears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

import orjson
import redis

from lifeline.cache.client import Retrier
from lifeline.cache.errors import CacheDataError
from lifeline.cache.keys import CacheKeys
from lifeline.reconcile.classify import CachedGolden

T = TypeVar("T")

_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


def glob_escape(text: str) -> str:
    """``text`` matched literally by a Redis ``MATCH`` pattern."""
    return text.translate(_GLOB_SPECIAL)


class CacheView:
    """Reads index entries and golden records in batches; never writes.

    Redis errors are raised translated (see :mod:`lifeline.cache.errors`):
    without a ``retrier`` at once, with one after waiting out an outage.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        retrier: Retrier | None = None,
        scan_count: int = 10_000,
    ) -> None:
        self._client = client
        self._keys = CacheKeys(prefix)
        self._index_prefix = self._keys.source_index("")
        self._golden_prefix = self._keys.golden("")
        self._retrier = retrier if retrier is not None else Retrier(max_wait=0.0)
        self._scan_count = scan_count

    def check(self) -> None:
        """Raise now if Redis cannot be reached or refuses the credentials."""
        self._run(self._client.ping, "ping")

    def golden_ids(self, source_ids: Sequence[str]) -> dict[str, str | None]:
        """The golden id each source id's index entry names (None: no entry)."""
        if not source_ids:
            return {}
        keys = [self._keys.source_index(source_id) for source_id in source_ids]
        values = self._run(lambda: self._client.mget(keys), "read index entries")
        return {s: _text(v) for s, v in zip(source_ids, values, strict=True)}

    def goldens(self, golden_ids: Iterable[str]) -> dict[str, CachedGolden]:
        """The golden records of ``golden_ids`` that exist."""
        ids = list(dict.fromkeys(golden_ids))
        if not ids:
            return {}
        replies = self._run(lambda: self._hmget(ids), "read golden records")
        found = {}
        for golden_id, (record, source_ids) in zip(ids, replies, strict=True):
            if record is None:
                continue
            found[golden_id] = _golden(golden_id, record, source_ids)
        return found

    def index_keys(self, pattern: str) -> Iterator[list[str]]:
        """Batches of the source ids whose index key matches ``<idx>pattern``."""
        cut = len(self._index_prefix)
        for keys in self._scan(self._index_prefix + pattern):
            yield [key[cut:] for key in keys]

    def golden_keys(self) -> Iterator[list[str]]:
        """Batches of every golden id that has a record."""
        cut = len(self._golden_prefix)
        for keys in self._scan(self._golden_prefix + "*"):
            yield [key[cut:] for key in keys]

    def _hmget(self, ids: list[str]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for golden_id in ids:
            pipe.hmget(self._keys.golden(golden_id), ["record", "source_ids"])
        return pipe.execute()

    def _scan(self, match: str) -> Iterator[list[str]]:
        cursor = 0
        while True:
            cursor, keys = self._run(
                partial(self._client.scan, cursor, match, self._scan_count),
                "scan keys",
            )
            if keys:
                yield [str(_text(key)) for key in keys]
            if cursor == 0:
                return

    def _run(self, fn: Callable[[], T], what: str) -> T:
        return self._retrier.call(fn, what)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return bytes(value).decode()


def _golden(golden_id: str, record: Any, source_ids: Any) -> CachedGolden:
    try:
        return CachedGolden(
            golden_id,
            orjson.loads(record),
            tuple(orjson.loads(source_ids or "[]")),
        )
    except orjson.JSONDecodeError as exc:
        msg = f"golden id {golden_id}: malformed cache entry ({exc})"
        raise CacheDataError(msg) from exc
