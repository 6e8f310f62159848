"""Audit entries from what the golden step made of one golden-record input.

The golden step (:mod:`lifeline.golden.step`) hands over, per input, the
lifecycle events it derived and the facts behind them; this module turns
them into :class:`~lifeline.audit.entry.AuditEntry` values:

* ``merged`` / ``split`` / ``created`` / ``updated`` / ``stage_changed``
  follow the events of the same names (and carry their event ids);
* ``updated`` also records a membership decision that changed no field,
  and ``conflict`` a source value that lost without changing anything;
* ``retired`` marks an id merged into a survivor, ``deleted`` a record
  whose last source record went.

Match decisions go on the entry that says why the membership changed: the
merge or split if there is one, else the created or updated entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from lifeline.audit.entry import (
    CLEARED,
    FALLBACK,
    OWNER,
    AuditEntry,
    AuditKind,
    FieldDecision,
    MatchDecision,
    SourceChange,
    derive_audit_id,
    value_digest,
)
from lifeline.events.models import (
    CustomerCreated,
    CustomerMerged,
    CustomerSplit,
    CustomerUpdated,
    LifecycleEvent,
    LifecycleStageChanged,
    Lineage,
    from_millis,
)
from lifeline.golden.ownership import Conflict, OwnershipRules, Provenance
from lifeline.join.cause import Cause
from lifeline.join.clusters import GoldenInput, Member
from lifeline.resolve import ResolutionDecision
from lifeline.resolve.decisions import DELETED, NO_MATCH, UNCHANGED

FUZZY: Final = "fuzzy"
_NO_SCORE = frozenset({NO_MATCH, DELETED})

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class GoldenChange:
    """What the golden step made of one input that has members.

    ``previous`` is the record as last emitted (None: new), ``record`` and
    ``provenance`` the record now and where each value came from,
    ``conflicts`` those the input's changes caused, ``events`` the
    lifecycle events derived from the input, in order.
    """

    item: GoldenInput
    previous: Mapping[str, Any] | None
    record: Mapping[str, Any]
    provenance: Mapping[str, Provenance]
    conflicts: Sequence[Conflict]
    events: Sequence[LifecycleEvent]


class AuditBuilder:
    """Builds audit entries; holds configuration only, so threads may share it.

    ``link_threshold`` is the resolver's fuzzy threshold (recorded with
    fuzzy matches), ``hash_key`` the key of value digests, ``clock`` the
    source of ``recorded_at``.
    """

    __slots__ = ("_clock", "_hash_key", "_rules", "_threshold")

    def __init__(
        self,
        rules: OwnershipRules,
        link_threshold: float,
        *,
        hash_key: bytes = b"",
        clock: Clock = _now,
    ) -> None:
        self._rules = rules
        self._threshold = link_threshold
        self._hash_key = hash_key
        self._clock = clock

    def batch(self) -> AuditBatch:
        """A collector for one golden-step call."""
        return AuditBatch(self)

    def retired(self, item: GoldenInput) -> list[AuditEntry]:
        """``item``'s golden id was merged into ``item.merged_into``."""
        survivor = item.merged_into or ""
        return [
            self._entry(item, "retired", _sources(item), related=(survivor,)),
        ]

    def deleted(
        self, item: GoldenInput, previous: Mapping[str, Any] | None
    ) -> list[AuditEntry]:
        """The last source record of ``item``'s golden id went.

        Nothing to record when no record was ever emitted for it.
        """
        if previous is None:
            return []
        matches = self._matches(item.decisions)
        return [self._entry(item, "deleted", _sources(item), matches=matches)]

    def changed(self, change: GoldenChange) -> list[AuditEntry]:
        """The entries of an input that has members, in the order they happened."""
        item = change.item
        sources = _sources(item)
        matches = self._matches(item.decisions)
        entries = [
            self._cluster_entry(item, event, sources, matches)
            for event in change.events
            if isinstance(event, CustomerMerged | CustomerSplit)
        ]
        record_matches = () if entries else matches
        entries.extend(self._record_entries(change, sources, record_matches))
        entries.extend(
            self._stage_entry(item, event)
            for event in change.events
            if isinstance(event, LifecycleStageChanged)
        )
        return entries

    def _record_entries(
        self,
        change: GoldenChange,
        sources: tuple[SourceChange, ...],
        matches: tuple[MatchDecision, ...],
    ) -> list[AuditEntry]:
        item, conflicts = change.item, tuple(change.conflicts)
        event = _record_event(change.events)
        kind: AuditKind
        if isinstance(event, CustomerCreated):
            kind = "created"
            names = [name for name in change.record if name in change.provenance]
        elif isinstance(event, CustomerUpdated):
            kind, names = "updated", list(event.changed_fields)
        elif matches or conflicts:
            kind, names = ("updated" if matches else "conflict"), []
        else:
            return []
        entry = self._entry(
            item,
            kind,
            sources,
            matches=matches,
            fields=self._fields(change, names),
            conflicts=conflicts,
            members=tuple(member.ref for member in item.members),
            related=_split_origin(item) if kind == "created" else (),
            event=event,
        )
        return [entry]

    def _cluster_entry(
        self,
        item: GoldenInput,
        event: CustomerMerged | CustomerSplit,
        sources: tuple[SourceChange, ...],
        matches: tuple[MatchDecision, ...],
    ) -> AuditEntry:
        if isinstance(event, CustomerMerged):
            kind: AuditKind = "merged"
            related, qualifier = event.absorbed_ids, ""
        else:
            kind = "split"
            related, qualifier = (event.new_golden_id,), event.new_golden_id
        return self._entry(
            item,
            kind,
            sources,
            matches=matches,
            members=tuple(member.ref for member in item.members),
            related=related,
            moved_refs=event.moved_refs,
            reason=event.reason,
            event=event,
            qualifier=qualifier,
        )

    def _stage_entry(
        self, item: GoldenInput, event: LifecycleStageChanged
    ) -> AuditEntry:
        return self._entry(
            item,
            "stage_changed",
            tuple(_from_lineage(line) for line in event.lineage),
            from_stage=None if event.from_stage is None else str(event.from_stage),
            to_stage=str(event.to_stage),
            fact=str(event.fact),
            event=event,
            qualifier=str(event.event_id),
        )

    def _entry(
        self,
        item: GoldenInput,
        kind: AuditKind,
        sources: tuple[SourceChange, ...],
        *,
        event: LifecycleEvent | None = None,
        qualifier: str = "",
        **details: Any,
    ) -> AuditEntry:
        committed = max((source.committed_at for source in sources), default=None)
        return AuditEntry(
            id=derive_audit_id(item.golden_id, item.version, kind, qualifier),
            golden_id=item.golden_id,
            version=item.version,
            kind=kind,
            committed_at=committed,
            recorded_at=self._clock(),
            sources=sources,
            event_id=None if event is None else event.event_id,
            **details,
        )

    def _matches(
        self, decisions: Iterable[ResolutionDecision]
    ) -> tuple[MatchDecision, ...]:
        """The decisions that placed a record; ``unchanged`` ones say nothing."""
        return tuple(
            MatchDecision(
                ref=decision.ref,
                golden_id=decision.golden_id,
                rule=decision.rule,
                matched_keys=decision.matched_keys,
                matched_with=decision.matched_with,
                score=None if decision.rule in _NO_SCORE else decision.score,
                threshold=self._threshold if decision.rule == FUZZY else None,
            )
            for decision in decisions
            if decision.rule != UNCHANGED
        )

    def _fields(
        self, change: GoldenChange, names: Iterable[str]
    ) -> tuple[FieldDecision, ...]:
        return tuple(
            self._field(name, change.record.get(name), change.provenance.get(name))
            for name in names
        )

    def _field(
        self, name: str, value: Any, provenance: Provenance | None
    ) -> FieldDecision:
        if provenance is None or value is None:
            return FieldDecision(field=name, rule=CLEARED)
        rank = self._rules.order(name).index(provenance.system)
        return FieldDecision(
            field=name,
            rule=OWNER if rank == 0 else FALLBACK,
            system=provenance.system,
            rank=rank,
            position=provenance.position,
            digest=value_digest(value, self._hash_key),
        )


class AuditBatch:
    """Collects the entries of one golden-step call; not shared between calls."""

    __slots__ = ("_builder", "entries")

    def __init__(self, builder: AuditBuilder) -> None:
        self._builder = builder
        self.entries: list[AuditEntry] = []

    def retired(self, item: GoldenInput) -> None:
        """Record that ``item``'s id was merged away (see AuditBuilder.retired)."""
        self.entries.extend(self._builder.retired(item))

    def deleted(self, item: GoldenInput, previous: Mapping[str, Any] | None) -> None:
        """Record a deletion (see :meth:`AuditBuilder.deleted`)."""
        self.entries.extend(self._builder.deleted(item, previous))

    def changed(self, change: GoldenChange) -> None:
        """Record a recomputed record (see :meth:`AuditBuilder.changed`)."""
        self.entries.extend(self._builder.changed(change))


def _sources(item: GoldenInput) -> tuple[SourceChange, ...]:
    """The changes behind ``item``; its members when it names none."""
    causes: Sequence[Cause | Member] = item.causes or item.members
    return tuple(
        SourceChange(
            system=cause.system,
            table=cause.table,
            row_id=cause.ref.partition(":")[2],
            position=cause.position.encode(),
            committed_at=from_millis(cause.ts_ms),
        )
        for cause in causes
    )


def _from_lineage(line: Lineage) -> SourceChange:
    return SourceChange(
        system=line.system,
        table=line.table,
        row_id=line.row_id,
        position=line.position,
        committed_at=line.committed_at,
    )


def _record_event(
    events: Iterable[LifecycleEvent],
) -> CustomerCreated | CustomerUpdated | None:
    for event in events:
        if isinstance(event, CustomerCreated | CustomerUpdated):
            return event
    return None


def _split_origin(item: GoldenInput) -> tuple[str, ...]:
    """The golden id ``item``'s record was split from, if it was."""
    return tuple(
        event.survivor
        for event in item.events
        if event.kind == "split" and item.golden_id in event.created
    )
