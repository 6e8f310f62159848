"""The changes the golden-record cache accepts, and what applying them did.

Each change carries a ``version``: a string whose byte order is the order of
the decisions that produced it (e.g. ``SourcePosition.encode()`` of the
resolver's input). A change applies only when its version is newer than the
one stored for its golden id, so duplicates and replays are harmless and a
late, older change never regresses the cache. Versions of different golden
ids are compared only by merges, which therefore need one order across the
golden ids they touch.

A malformed change raises :class:`~lifeline.errors.RecordError` when it is
built, so that the step creating it can dead-letter it; the reason names the
field, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lifeline.cache.keys import is_email_hash, is_golden_id, is_source_id
from lifeline.errors import RecordError

_KIND = "invalid_cache_update"


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise RecordError(_KIND, f"cache update: {what}")


def _check_ids(golden_id: str, version: str) -> None:
    _check(is_golden_id(golden_id), "golden id must be non-empty, without ':'")
    _check(bool(version), "version must not be empty")


@dataclass(frozen=True, slots=True)
class Upsert:
    """The current state of one golden record.

    ``source_ids`` (``<system>:<id>``) and ``email_hashes`` (see
    :func:`~lifeline.cache.keys.email_hash`) are the complete sets: index
    entries of ids no longer listed are removed. ``stage``, ``open_invoices``
    and ``entitlements`` left ``None`` keep what the cache holds; an empty
    mapping clears them. Mapping values must be JSON-encodable.
    """

    golden_id: str
    version: str
    record: Mapping[str, Any]
    source_ids: Sequence[str] = ()
    email_hashes: Sequence[str] = ()
    stage: str | None = None
    open_invoices: Mapping[str, Any] | None = None
    entitlements: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        _check_ids(self.golden_id, self.version)
        _check(
            not isinstance(self.source_ids, str | bytes)
            and not isinstance(self.email_hashes, str | bytes),
            "source ids and email hashes must be sequences of strings",
        )
        _check(
            all(is_source_id(s) for s in self.source_ids),
            "source ids must look like '<system>:<id>'",
        )
        _check(
            all(is_email_hash(h) for h in self.email_hashes),
            "email hashes must be lower-case SHA-256 hex",
        )
        _check(self.stage is None or bool(self.stage), "stage must not be empty")


@dataclass(frozen=True, slots=True)
class Delete:
    """The golden record is gone; its version is kept as a tombstone."""

    golden_id: str
    version: str

    def __post_init__(self) -> None:
        _check_ids(self.golden_id, self.version)


@dataclass(frozen=True, slots=True)
class Merge:
    """The ``absorbed`` golden records became part of ``survivor``.

    Their index entries move to the survivor and each absorbed id redirects to
    it. A survivor without a live record adopts the first absorbed record.
    """

    survivor: str
    absorbed: Sequence[str]
    version: str

    def __post_init__(self) -> None:
        _check_ids(self.survivor, self.version)
        _check(
            not isinstance(self.absorbed, str | bytes)
            and all(is_golden_id(a) for a in self.absorbed),
            "absorbed golden ids must be non-empty, without ':'",
        )


CacheUpdate = Upsert | Delete | Merge


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one ``apply`` call did.

    ``stale`` counts changes whose version was not newer than the stored one
    (replays, duplicates, late arrivals); after a retried outage, changes the
    failed attempt had already applied are counted here too.
    """

    applied: int = 0
    stale: int = 0

    def __add__(self, other: ApplyResult) -> ApplyResult:
        return ApplyResult(self.applied + other.applied, self.stale + other.stale)
