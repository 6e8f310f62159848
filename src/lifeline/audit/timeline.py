"""A readable timeline of an audit trail, one block per entry.

Each block starts with the entry's version, its sources' latest commit time,
its kind and golden id, followed by indented lines: the source changes, the
match decisions, the fields with the system and rule that decided them,
conflicts, and what the change did to the record's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from lifeline.audit.entry import (
    CLEARED,
    FALLBACK,
    AuditEntry,
    FieldDecision,
    MatchDecision,
    SourceChange,
)
from lifeline.audit.reader import AuditTrail


def render_timeline(trail: AuditTrail) -> Iterator[str]:
    """The lines of ``trail``'s timeline, oldest change first."""
    merged = [gid for gid in trail.golden_ids if gid != trail.survivor]
    heading = f"audit trail of golden record {trail.survivor}"
    if merged:
        heading += f" (with merged ids {', '.join(merged)})"
    yield heading
    for entry in trail.entries:
        yield from _entry_lines(entry)
    if trail.duplicates or trail.unreadable:
        yield (
            f"({trail.duplicates} replayed duplicates dropped, "
            f"{trail.unreadable} unreadable records skipped)"
        )


def _entry_lines(entry: AuditEntry) -> Iterator[str]:
    yield ""
    yield f"{entry.version}  {_time(entry.committed_at)}  {_headline(entry)}"
    for source in entry.sources:
        yield f"  source    {_source(source)}"
    for match in entry.matches:
        yield f"  match     {_match(match)}"
    for decision in entry.fields:
        yield f"  field     {_field(decision)}"
    for conflict in entry.conflicts:
        yield (
            f"  conflict  {conflict.field}: {conflict.system}'s value "
            f"{conflict.rejected} lost to {conflict.owner} ({conflict.reason})"
        )
    if entry.moved_refs:
        yield f"  moved     {', '.join(entry.moved_refs)}"
    if entry.reason:
        yield f"  reason    {entry.reason}"
    if entry.members:
        yield f"  members   {', '.join(entry.members)}"
    if entry.event_id is not None:
        yield f"  event     {entry.event_id}"


def _headline(entry: AuditEntry) -> str:
    gid, related = entry.golden_id, ", ".join(entry.related)
    if entry.kind == "merged":
        return f"merged    {gid} absorbed {related}"
    if entry.kind == "retired":
        return f"retired   {gid} merged into {related}"
    if entry.kind == "split":
        return f"split     {gid} gave up members to {related}"
    if entry.kind == "created" and related:
        return f"created   {gid} split from {related}"
    if entry.kind == "stage_changed":
        stage = entry.from_stage or "(new)"
        return f"stage     {gid} {stage} -> {entry.to_stage} on {entry.fact}"
    return f"{entry.kind:<9} {gid}"


def _time(moment: datetime | None) -> str:
    if moment is None:
        return "(no commit time)".ljust(24)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _source(source: SourceChange) -> str:
    return (
        f"{source.system}.{source.table} {source.row_id} at {source.position} "
        f"committed {_time(source.committed_at)}"
    )


def _match(match: MatchDecision) -> str:
    text = f"{match.ref} -> {match.golden_id or '(none)'} by {match.rule}"
    if match.matched_keys:
        text += f" on {', '.join(match.matched_keys)}"
    if match.matched_with:
        text += f" with {match.matched_with}"
    if match.score is not None:
        text += f" score {match.score:.3f}"
    if match.threshold is not None:
        text += f" (threshold {match.threshold:.3f})"
    return text


def _field(decision: FieldDecision) -> str:
    if decision.rule == CLEARED:
        return f"{decision.field}: cleared (no listed system has a value)"
    rule = decision.rule
    if rule == FALLBACK:
        rule = f"fallback {decision.rank}"
    return (
        f"{decision.field}: {decision.system} ({rule}) value {decision.digest} "
        f"from {decision.position}"
    )
