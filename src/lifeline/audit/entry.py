"""Audit entries: one per change of a golden record, with what caused it.

An entry names the source changes behind the change (system, table, row id,
encoded position, commit time), the resolver's match decisions, and for each
golden field it set, the system its value came from and the ownership rule
that chose that system. Field values never appear: a field carries a keyed
BLAKE2b digest of its value (:func:`value_digest`), the same form as a
:class:`~lifeline.golden.ownership.Conflict`'s ``rejected``.

Entries are JSON (:func:`encode_entry`, :func:`decode_entry`) with a
``schema_version``; a reader refuses versions it does not know. The ``id``
is derived from the golden id, version, kind and a qualifier
(:func:`derive_audit_id`), so a replay after a crash writes entries with the
ids it wrote before, and readers drop the duplicates.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import orjson
from pydantic import TypeAdapter, ValidationError

from lifeline.golden.ownership import Conflict

SCHEMA_VERSION: Final = 1
"""The entry format's version; a reader refuses entries of another version."""

AUDIT_ID_NAMESPACE: Final = uuid.UUID("f21b8d64-a537-45b9-9163-f93a3948b4a7")
"""Lifeline's UUIDv5 namespace for audit entry ids; changing it changes every id."""

AuditKind = Literal[
    "created",
    "updated",
    "conflict",
    "merged",
    "retired",
    "split",
    "stage_changed",
    "deleted",
]
"""What happened to the golden record (see ``docs/golden-record.md``)."""

OWNER: Final = "owner"
"""Field rule: the value comes from the field's owning system."""
FALLBACK: Final = "fallback"
"""Field rule: a fallback system's value stands (no system before it has one)."""
CLEARED: Final = "cleared"
"""Field rule: no listed system has a value any more."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceChange:
    """One source change behind an entry; ``position`` is the encoded one."""

    system: str
    table: str
    row_id: str
    position: str
    committed_at: datetime

    @property
    def ref(self) -> str:
        """``system:row_id``."""
        return f"{self.system}:{self.row_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchDecision:
    """Why the resolver put source record ``ref`` into ``golden_id``.

    ``rule`` is the strongest link found (``explicit_link``, ``shared_link``,
    ``tax_id``, ``email``, ``fuzzy``), ``no_match`` or ``deleted``;
    ``matched_keys`` name the keys that agreed with ``matched_with``.
    ``score`` is set for links (1.0 for the deterministic rules) and
    ``threshold`` for ``fuzzy`` only: the link threshold it was held to.
    """

    ref: str
    golden_id: str | None
    rule: str
    matched_keys: tuple[str, ...] = ()
    matched_with: str | None = None
    score: float | None = None
    threshold: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldDecision:
    """Where a golden field's new value came from, and by which rule.

    ``rank`` is ``system``'s place in the field's priority list (0: the
    owner, 1 and on: the fallbacks in order); ``rule`` is :data:`OWNER`,
    :data:`FALLBACK` or :data:`CLEARED` (then ``system``, ``rank``,
    ``position`` and ``digest`` are None). ``position`` is the encoded
    position of the source change that supplied the value.
    """

    field: str
    rule: str
    system: str | None = None
    rank: int | None = None
    position: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One change of a golden record; the fields used depend on ``kind``.

    ``committed_at`` is the latest commit time among ``sources`` (None
    without sources); ``recorded_at`` when Lifeline decided the change.
    ``members`` are the record's ``system:id`` source records afterwards.
    ``related`` names other golden ids: the absorbed ids (``merged``), the
    survivor (``retired``), the new part (``split``), or the record split
    from (``created`` by a split). ``event_id`` is the lifecycle event
    published for the same change, if any.
    """

    schema_version: int = SCHEMA_VERSION
    id: uuid.UUID
    golden_id: str
    version: str
    kind: AuditKind
    committed_at: datetime | None
    recorded_at: datetime
    sources: tuple[SourceChange, ...] = ()
    matches: tuple[MatchDecision, ...] = ()
    fields: tuple[FieldDecision, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    members: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    moved_refs: tuple[str, ...] = ()
    reason: str = ""
    from_stage: str | None = None
    to_stage: str | None = None
    fact: str | None = None
    event_id: uuid.UUID | None = None


class AuditDecodeError(ValueError):
    """A value on the audit topic is not an audit entry this reader knows."""


_ADAPTER: TypeAdapter[AuditEntry] = TypeAdapter(AuditEntry)


def _frame(part: str) -> str:
    return f"{len(part)}:{part}"


def derive_audit_id(
    golden_id: str, version: str, kind: str, qualifier: str = ""
) -> uuid.UUID:
    """The id of an entry; ``qualifier`` tells apart entries of one kind."""
    name = _frame(golden_id) + _frame(version) + _frame(kind) + _frame(qualifier)
    return uuid.uuid5(AUDIT_ID_NAMESPACE, name)


def value_digest(value: Any, key: bytes = b"") -> str:
    """``b2:`` + 16 hex of BLAKE2b over ``str(value)``, keyed by ``key``.

    With the same key it equals the digest ownership conflicts carry.
    """
    digest = hashlib.blake2b(str(value).encode(), digest_size=8, key=key[:64])
    return "b2:" + digest.hexdigest()


def encode_entry(entry: AuditEntry) -> bytes:
    """The JSON value of ``entry`` (timestamps RFC 3339, ids as strings)."""
    return orjson.dumps(entry)


def decode_entry(value: bytes) -> AuditEntry:
    """An entry from its JSON value; AuditDecodeError says what is wrong."""
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        msg = f"not JSON: {exc}"
        raise AuditDecodeError(msg) from exc
    if not isinstance(document, dict):
        msg = f"expected a JSON object, got {type(document).__name__}"
        raise AuditDecodeError(msg)
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        msg = f"schema_version {version!r}, this reader knows {SCHEMA_VERSION}"
        raise AuditDecodeError(msg)
    try:
        return _ADAPTER.validate_python(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        msg = f"not an audit entry: {problems}"
        raise AuditDecodeError(msg) from exc
