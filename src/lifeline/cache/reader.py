"""Reads golden records from the cache by golden id, source id or email.

Each read is one call of a read-only script (:mod:`lifeline.cache.read_script`)
that resolves the index, follows redirects to the survivor and reads the
record atomically, so a reader never loses a race against a writer that keeps
merging. Where the ACL user may not run scripts, the reader falls back to the
algorithm docs/cache.md gives readers in any language: the same steps as
separate commands, looking again when a writer moved the id in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import orjson
import redis

from lifeline.cache.client import Retrier
from lifeline.cache.errors import CacheDataError
from lifeline.cache.keys import (
    DEFAULT_PREFIX,
    CacheKeys,
    email_hash,
    is_golden_id,
    is_source_id,
)
from lifeline.cache.read_script import READ_LUA, READ_SHA

logger = logging.getLogger(__name__)

MAX_HOPS = 32
# An index read races with writers moving the id; look again this often.
_INDEX_TRIES = 5

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GoldenRecord:
    """One golden record as the cache holds it.

    ``golden_id`` is the id the record is stored under: the survivor when the
    requested id was merged, in which case ``merged_from`` lists the ids
    followed to reach it. ``merged_ids`` are the ids merged into this record
    over time, which redirect to it.
    """

    golden_id: str
    version: str
    record: dict[str, Any]
    updated_at: datetime
    stage: str | None = None
    source_ids: tuple[str, ...] = ()
    email_hashes: tuple[str, ...] = ()
    open_invoices: dict[str, Any] = field(default_factory=dict)
    entitlements: dict[str, Any] = field(default_factory=dict)
    merged_ids: tuple[str, ...] = ()
    merged_from: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready values (timestamps in RFC 3339)."""
        return {
            "golden_id": self.golden_id,
            "version": self.version,
            "stage": self.stage,
            "updated_at": self.updated_at.isoformat(),
            "record": self.record,
            "source_ids": list(self.source_ids),
            "email_hashes": list(self.email_hashes),
            "open_invoices": self.open_invoices,
            "entitlements": self.entitlements,
            "merged_ids": list(self.merged_ids),
            "merged_from": list(self.merged_from),
        }


class CacheReader:
    """Looks golden records up in the cache; never writes.

    Methods return ``None`` (or an empty list) when nothing matches. Without a
    ``retrier`` a Redis failure raises at once, translated (see
    :mod:`lifeline.cache.errors`); with one, outages are waited out first.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
        *,
        retrier: Retrier | None = None,
    ) -> None:
        self._client = client
        self._keys = CacheKeys(prefix)
        self._retrier = retrier if retrier is not None else Retrier(max_wait=0.0)
        # False once Redis refused the read script (ACL without scripting).
        self.scripted = True

    def by_golden_id(self, golden_id: str) -> GoldenRecord | None:
        """The record of ``golden_id``, or of its survivor if it was merged."""
        if not is_golden_id(golden_id):
            return None
        return self._run(lambda: self._one("g", golden_id), "read by golden id")

    def by_source_id(self, source_id: str) -> GoldenRecord | None:
        """The record a source id such as ``erp:C-1042`` belongs to."""
        if not is_source_id(source_id):
            return None
        return self._run(lambda: self._one("s", source_id), "read by source id")

    def by_email(self, email: str) -> list[GoldenRecord]:
        """Every record with this email (trimmed, case-insensitive), by id."""
        hashed = email_hash(email)
        return self._run(lambda: self._read("e", hashed), "read by email")

    def lookup(self, text: str) -> list[GoldenRecord]:
        """Records matching a source id (has ``:``), email (has ``@``) or id."""
        text = text.strip()
        if ":" in text:
            found = self.by_source_id(text)
        elif "@" in text:
            return self.by_email(text)
        else:
            found = self.by_golden_id(text)
        return [] if found is None else [found]

    def _run(self, fn: Callable[[], T], what: str) -> T:
        return self._retrier.call(fn, what)

    def _one(self, kind: str, value: str) -> GoldenRecord | None:
        found = self._read(kind, value)
        return found[0] if found else None

    def _read(self, kind: str, value: str) -> list[GoldenRecord]:
        if self.scripted:
            try:
                return self._scripted_read(kind, value)
            except redis.exceptions.NoPermissionError:
                logger.info("cache reader may not run scripts, reading by steps")
                self.scripted = False
        if kind == "e":
            return self._by_email_hash(value)
        found = self._follow(value) if kind == "g" else self._by_source(value)
        return [] if found is None else [found]

    def _scripted_read(self, kind: str, value: str) -> list[GoldenRecord]:
        args = (self._keys.prefix, kind, value)
        try:
            entries = self._client.evalsha_ro(READ_SHA, 0, *args)
        except redis.exceptions.NoScriptError:
            entries = self._client.eval_ro(READ_LUA, 0, *args)
        records = []
        for golden_id, chain, flat in entries:
            golden = dict(zip(flat[::2], flat[1::2], strict=True))
            current = str(_text(golden_id))
            try:
                records.append(_record(current, golden, [str(_text(c)) for c in chain]))
            except (KeyError, ValueError) as exc:
                msg = f"golden id {current}: malformed cache entry ({exc!r})"
                raise CacheDataError(msg) from exc
        return records

    def _by_source(self, source_id: str) -> GoldenRecord | None:
        key = self._keys.source_index(source_id)
        for _ in range(_INDEX_TRIES):
            golden_id = _text(self._client.get(key))
            if golden_id is None:
                return None
            found = self._follow(golden_id)
            if found is not None and source_id in found.source_ids:
                return found
        return None

    def _by_email_hash(self, hashed: str) -> list[GoldenRecord]:
        members = self._client.smembers(self._keys.email_index(hashed))
        found: dict[str, GoldenRecord] = {}
        for golden_id in sorted(str(_text(m)) for m in members):
            record = self._follow(golden_id)
            if record is not None and hashed in record.email_hashes:
                found.setdefault(record.golden_id, record)
        return [found[gid] for gid in sorted(found)]

    def _follow(self, golden_id: str) -> GoldenRecord | None:
        chain: list[str] = []
        current = golden_id
        for _ in range(MAX_HOPS):
            golden, redirect = self._snapshot(current)
            if golden:
                try:
                    return _record(current, golden, chain)
                except (KeyError, ValueError) as exc:
                    msg = f"golden id {current}: malformed cache entry ({exc!r})"
                    raise CacheDataError(msg) from exc
            if redirect is None:
                return None
            chain.append(current)
            current = str(orjson.loads(redirect)["survivor"])
            if current in chain:
                return None
        return None

    def _snapshot(self, golden_id: str) -> tuple[dict[Any, Any], str | None]:
        # No MULTI needed: a merge deletes the record and writes the redirect
        # in one script, so whichever we read first, we find one of them.
        pipe = self._client.pipeline(transaction=False)
        pipe.hgetall(self._keys.golden(golden_id))
        pipe.get(self._keys.redirect(golden_id))
        golden, redirect = pipe.execute()
        return golden, _text(redirect)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return bytes(value).decode()


def _record(
    golden_id: str, golden: Mapping[Any, Any], chain: list[str]
) -> GoldenRecord:
    fields = {str(_text(k)): str(_text(v)) for k, v in golden.items()}
    return GoldenRecord(
        golden_id=golden_id,
        version=fields["version"],
        record=orjson.loads(fields["record"]),
        updated_at=datetime.fromisoformat(fields["updated_at"]),
        stage=fields.get("stage"),
        source_ids=tuple(orjson.loads(fields.get("source_ids", "[]"))),
        email_hashes=tuple(orjson.loads(fields.get("email_hashes", "[]"))),
        open_invoices=orjson.loads(fields.get("open_invoices", "{}")),
        entitlements=orjson.loads(fields.get("entitlements", "{}")),
        merged_ids=tuple(orjson.loads(fields.get("merged_ids", "[]"))),
        merged_from=tuple(chain),
    )
