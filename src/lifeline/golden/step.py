"""The golden record step: member rows in, cache updates and events out.

Each :class:`~lifeline.join.clusters.GoldenInput` holds a golden record's
complete member list, so the record is recomputed from its members by the
source-of-truth rules every time: no partial state can drift. What this step
keeps per golden id is only what it emitted last (to tell created from
updated, and which fields changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lifeline.audit.build import AuditBatch, AuditBuilder, GoldenChange
from lifeline.audit.entry import AuditEntry
from lifeline.cache.keys import email_hash
from lifeline.cache.updates import CacheUpdate, Delete, Merge, Upsert
from lifeline.decode.render import render_value
from lifeline.delta_dict import DeltaDict
from lifeline.events.models import (
    CustomerCreated,
    CustomerMerged,
    CustomerProfile,
    CustomerSplit,
    CustomerUpdated,
    LifecycleEvent,
    LifecycleStage,
    Lineage,
    from_millis,
)
from lifeline.golden.facts import apply_facts
from lifeline.golden.lifecycle import INITIAL_STAGE
from lifeline.golden.organisations import fold_organisations
from lifeline.golden.ownership import (
    Conflict,
    FieldSources,
    OwnershipRules,
    Provenance,
)
from lifeline.join.clusters import GoldenInput, Member
from lifeline.resolve import DEFAULT_CONFIG

EMAIL_FIELDS = ("login_email", "billing_email")


@dataclass(frozen=True, slots=True)
class GoldenOutput:
    """What one batch changed: cache updates, lifecycle events, conflicts.

    ``audit`` holds one entry per golden-record change, with its causes.
    """

    updates: tuple[CacheUpdate, ...]
    events: tuple[LifecycleEvent, ...]
    conflicts: tuple[tuple[str, Conflict], ...] = ()
    audit: tuple[AuditEntry, ...] = ()


@dataclass(slots=True)
class GoldenState:
    """The records of one key group as last emitted.

    A record is replaced, never changed in place (see
    :class:`~lifeline.delta_dict.DeltaDict`).
    """

    records: DeltaDict[str, dict[str, Any]] = field(default_factory=DeltaDict)
    stages: DeltaDict[str, LifecycleStage] = field(default_factory=DeltaDict)


def golden_step(
    rules: OwnershipRules,
    link_threshold: float = DEFAULT_CONFIG.link_threshold,
) -> Callable[
    [GoldenState | None, list[GoldenInput]], tuple[GoldenState, list[GoldenOutput]]
]:
    """A Bytewax ``stateful_flat_map`` mapper over one key group's inputs.

    ``link_threshold`` is the resolver's, recorded with fuzzy matches.
    """
    auditor = AuditBuilder(rules, link_threshold)

    def step(
        state: GoldenState | None, inputs: list[GoldenInput]
    ) -> tuple[GoldenState, list[GoldenOutput]]:
        golden = state if state is not None else GoldenState()
        updates: list[CacheUpdate] = []
        events: list[LifecycleEvent] = []
        conflicts: list[tuple[str, Conflict]] = []
        audit = auditor.batch()
        for item in inputs:
            _one(rules, golden, item, updates, events, conflicts, audit)
        if not updates and not events and not audit.entries:
            return golden, []
        output = GoldenOutput(
            tuple(updates), tuple(events), tuple(conflicts), tuple(audit.entries)
        )
        return golden, [output]

    return step


def _one(
    rules: OwnershipRules,
    state: GoldenState,
    item: GoldenInput,
    updates: list[CacheUpdate],
    events: list[LifecycleEvent],
    conflicts: list[tuple[str, Conflict]],
    audit: AuditBatch,
) -> None:
    gid = item.golden_id
    first_event = len(events)
    previous = state.records.pop(gid, None)
    stage = state.stages.pop(gid, INITIAL_STAGE)
    if item.merged_into is not None:
        audit.retired(item)
        return  # the survivor's input carries the merge
    if not item.members:
        # Also without a previous record: the cache's guard ignores a stale one.
        updates.append(Delete(gid, _after_merge(item.version)))
        audit.deleted(item, previous)
        return
    record, found, provenance = build_record(rules, item.members, _changed_refs(item))
    conflicts.extend((gid, conflict) for conflict in found)
    state.records[gid] = record
    if item.absorbed:
        updates.append(Merge(gid, item.absorbed, item.version))
    common = _common(gid, item)
    events.extend(_events(item, previous, record, common))
    stage, fact_events = apply_facts(gid, stage, item.facts, item.history, common)
    events.extend(fact_events)
    state.stages[gid] = stage
    updates.append(_upsert(gid, item, record, stage))
    audit.changed(
        GoldenChange(item, previous, record, provenance, found, events[first_event:])
    )


def _after_merge(version: str) -> str:
    """A version just above the batch's merge version.

    A merge raises the survivor's stored version to its own; the survivor's
    upsert of the same batch must still apply after it.
    """
    return version + ".1"


def build_record(
    rules: OwnershipRules, members: Iterable[Member], changed: set[str]
) -> tuple[dict[str, Any], list[Conflict], dict[str, Provenance]]:
    """The golden fields of ``members`` by the rules; conflicts of ``changed``.

    The third part says where each field with a value got it from.
    """
    sources: FieldSources = {}
    conflicts: list[Conflict] = []
    members = sorted(members, key=lambda m: m.position)
    for member in members:
        values = rules.candidates(member.system, member.table, member.row)
        if not values:
            continue
        found = conflicts if member.ref in changed else None
        rules.fold(sources, member.system, member.position.encode(), values, found)
    fold_organisations(rules, sources, members, changed, conflicts)
    record, provenance = rules.resolved(sources)
    for name in EMAIL_FIELDS:
        value = record.get(name)
        if isinstance(value, str):
            # The golden record carries the address in its canonical form, the
            # form its email index is keyed by; sources keep what they sent.
            record[name] = value.strip().lower() or None
    return record, conflicts, provenance


def _changed_refs(item: GoldenInput) -> set[str]:
    return {decision.ref for decision in item.decisions}


def _upsert(
    gid: str, item: GoldenInput, record: dict[str, Any], stage: LifecycleStage
) -> Upsert:
    addresses = {
        value
        for value in (*(record.get(f) for f in EMAIL_FIELDS), *_member_emails(item))
        if isinstance(value, str) and "@" in value
    }
    emails = {email_hash(address) for address in addresses}
    return Upsert(
        gid,
        _after_merge(item.version),
        _jsonable(record),
        source_ids=tuple(member.ref for member in item.members),
        email_hashes=tuple(sorted(emails)),
        stage=stage.value,
        open_invoices=item.open_invoices,
        entitlements=item.entitlements,
    )


def _member_emails(item: GoldenInput) -> list[object]:
    return [member.row.get("email") for member in item.members]


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {name: render_value(value) for name, value in record.items()}


def _lineage(item: GoldenInput) -> tuple[Lineage, ...]:
    """The source changes behind this update: what makes event ids unique."""
    causes = item.causes or item.members
    return tuple(
        Lineage.trusted(
            system=cause.system,
            table=cause.table,
            row_id=cause.ref.partition(":")[2],
            position=cause.position.encode(),
            committed_at=from_millis(cause.ts_ms),
        )
        for cause in causes
    )


def _common(gid: str, item: GoldenInput) -> dict[str, Any]:
    """The fields every event of this update shares."""
    lineage = _lineage(item)
    occurred = max((line.committed_at for line in lineage), default=from_millis(0))
    return {"golden_id": gid, "occurred_at": occurred, "lineage": lineage}


def _events(
    item: GoldenInput,
    previous: dict[str, Any] | None,
    record: dict[str, Any],
    common: dict[str, Any],
) -> list[LifecycleEvent]:
    gid = item.golden_id
    profile = CustomerProfile.trusted(**record)
    out: list[LifecycleEvent] = []
    if previous is None:
        refs = tuple(member.ref for member in item.members)
        out.append(CustomerCreated.build(**common, profile=profile, source_refs=refs))
    else:
        changed = tuple(sorted(k for k in record if record[k] != previous.get(k)))
        if changed:
            out.append(
                CustomerUpdated.build(**common, changed_fields=changed, profile=profile)
            )
    for event in item.events:
        out.extend(_cluster_events(gid, event, common))
    return out


def _cluster_events(
    gid: str, event: Any, common: dict[str, Any]
) -> list[LifecycleEvent]:
    if event.kind == "merged" and event.survivor == gid:
        return [
            CustomerMerged.build(
                **common,
                absorbed_ids=tuple(event.absorbed),
                moved_refs=tuple(event.moved),
                reason=event.reason,
            )
        ]
    if event.kind == "split" and event.survivor == gid:
        new_id = event.created[0] if event.created else ""
        return [
            CustomerSplit.build(
                **common,
                qualifier=new_id,
                new_golden_id=new_id,
                moved_refs=tuple(event.moved),
                reason=event.reason,
            )
        ]
    return []
