"""Classification of source rows and cache entries into findings.

Pure functions over what was read: no database and no Redis here, so the
rules can be tested on their own. A row's expected golden values come from
:func:`lifeline.golden.step.build_record` on the row alone: the very
normalisation the golden step applies (emails trimmed and lower-cased,
decimals in plain notation ...), rendered as the cache stores them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lifeline.decode.change import Row
from lifeline.decode.position import SourcePosition
from lifeline.decode.render import render_value
from lifeline.golden.ownership import OwnershipRules
from lifeline.golden.step import EMAIL_FIELDS, build_record
from lifeline.join.clusters import Member
from lifeline.reconcile.findings import (
    EXTRA,
    FIELD_DIFFERS,
    MISSING,
    NO_GOLDEN_RECORD,
    NO_INDEX_ENTRY,
    NO_SOURCE_ROW,
    NOT_LISTED,
    SOURCE_ROW_GONE,
    STALE,
    FieldDiff,
    Finding,
)
from lifeline.reconcile.model import ReconcileTable, Scope

UNLISTED = "golden"
"""Where a golden record listing no source id is counted."""

# build_record orders members by position; a single member needs any.
_ANY_POSITION = SourcePosition("snapshot", (0,))


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A row of a source table as read now; ``recent``: inside the grace."""

    table: ReconcileTable
    row_id: str
    row: Row
    recent: bool = False

    @property
    def source_id(self) -> str:
        """``<system>:<id>``."""
        return self.table.source_id(self.row_id)


@dataclass(frozen=True, slots=True)
class CachedGolden:
    """The parts of a cached golden record reconciliation compares."""

    golden_id: str
    record: Mapping[str, Any]
    source_ids: tuple[str, ...]


def expected_values(rules: OwnershipRules, row: SourceRow) -> dict[str, Any]:
    """The values the row gives its owned golden fields, as the cache holds them."""
    table = row.table
    member = Member(row.source_id, table.system, table.table, row.row, _ANY_POSITION, 0)
    record = build_record(rules, (member,), set())[0]
    return {owned.name: render_value(record.get(owned.name)) for owned in table.owned}


def quick_values(row: SourceRow) -> dict[str, Any]:
    """:func:`expected_values` for the common case, about ten times faster.

    A row alone gives each field it owns its column's value, emails in
    canonical form. A test holds this equal to :func:`expected_values`; a
    row whose quick values differ from the cache is judged on the full ones.
    """
    values = {}
    for owned in row.table.owned:
        value = row.row.get(owned.column)
        if owned.name in EMAIL_FIELDS and isinstance(value, str):
            value = value.strip().lower() or None
        values[owned.name] = render_value(value)
    return values


def field_diffs(
    table: ReconcileTable, expected: Mapping[str, Any], record: Mapping[str, Any]
) -> tuple[FieldDiff, ...]:
    """The owned fields whose cached value is not the expected one."""
    diffs = []
    for owned in table.owned:
        value = expected[owned.name]
        if value is None and not owned.null_means_null:
            continue  # a fallback system may supply it
        cached = record.get(owned.name)
        if cached != value:
            diffs.append(FieldDiff(owned.name, cached, value))
    return tuple(diffs)


@dataclass(slots=True)
class _Shared:
    """A golden record with several source rows of one system.

    The golden record holds the latest of them; which one is latest is the
    order of their changes, which the databases do not keep. So each field
    is compared with the values of all of them, once all were seen.
    """

    golden: CachedGolden
    table: ReconcileTable
    members: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class RowChecker:
    """Classifies source rows against the cache entries read for them.

    ``check`` classifies one batch; rows of a golden record with several
    rows of one system are held back until ``finish``.
    """

    def __init__(self, rules: OwnershipRules) -> None:
        self._rules = rules
        self._shared: dict[tuple[str, str], _Shared] = {}
        # (golden id, system) groups with a row changed inside the grace time
        self._in_flight: set[tuple[str, str]] = set()

    def check(
        self,
        rows: Iterable[SourceRow],
        index: Mapping[str, str | None],
        goldens: Mapping[str, CachedGolden],
    ) -> list[Finding]:
        """Findings of ``rows`` (recent ones skipped), given what the cache holds.

        ``index`` maps each row's source id to the golden id its index entry
        names (None: no entry); ``goldens`` holds the records found.
        """
        findings = []
        for row in rows:
            if row.recent:
                self._hold_back_shared(row, index.get(row.source_id), goldens)
                continue
            finding = self._check_one(row, index.get(row.source_id), goldens)
            if finding is not None:
                findings.append(finding)
        return findings

    def _check_one(
        self, row: SourceRow, golden_id: str | None, goldens: Mapping[str, CachedGolden]
    ) -> Finding | None:
        where, source_id = row.table.name, row.source_id
        if golden_id is None:
            return Finding(MISSING, NO_INDEX_ENTRY, where, source_id, None)
        golden = goldens.get(golden_id)
        if golden is None:
            return Finding(MISSING, NO_GOLDEN_RECORD, where, source_id, golden_id)
        if source_id not in golden.source_ids:
            return Finding(MISSING, NOT_LISTED, where, source_id, golden_id)
        system = row.table.system + ":"
        if sum(1 for s in golden.source_ids if s.startswith(system)) > 1:
            key = (golden_id, row.table.system)
            shared = self._shared.setdefault(key, _Shared(golden, row.table))
            shared.members.append((source_id, expected_values(self._rules, row)))
            return None
        if not field_diffs(row.table, quick_values(row), golden.record):
            return None
        expected = expected_values(self._rules, row)
        diffs = field_diffs(row.table, expected, golden.record)
        if not diffs:
            return None
        return Finding(STALE, FIELD_DIFFERS, where, source_id, golden_id, diffs)

    def _hold_back_shared(
        self, row: SourceRow, golden_id: str | None, goldens: Mapping[str, CachedGolden]
    ) -> None:
        """A recent row that shares its record with rows of its own system.

        The record may rightly hold that row's new value, which the others
        cannot confirm: the whole group is not judged in this run.
        """
        golden = goldens.get(golden_id) if golden_id is not None else None
        if golden is None:
            return
        system = row.table.system + ":"
        if sum(1 for s in golden.source_ids if s.startswith(system)) > 1:
            self._in_flight.add((golden.golden_id, row.table.system))

    def finish(self) -> list[Finding]:
        """Findings of the rows held back; clears them."""
        findings = [
            finding
            for key, shared in self._shared.items()
            if key not in self._in_flight
            and (finding := _check_shared(shared)) is not None
        ]
        self._shared.clear()
        self._in_flight.clear()
        return findings


def _check_shared(shared: _Shared) -> Finding | None:
    members = sorted(shared.members, key=lambda member: member[0])
    record = shared.golden.record
    diffs = []
    for owned in shared.table.owned:
        values = [expected[owned.name] for _, expected in members]
        if None in values and not owned.null_means_null:
            continue
        cached = record.get(owned.name)
        if cached not in values:
            diffs.append(FieldDiff(owned.name, cached, values[0]))
    if not diffs:
        return None
    golden_id = shared.golden.golden_id
    where = shared.table.name
    return Finding(STALE, FIELD_DIFFERS, where, members[0][0], golden_id, tuple(diffs))


def gone_index_entries(
    entries: Iterable[tuple[str, str | None]],
    where: Callable[[str], str],
) -> list[Finding]:
    """Findings of index entries ``(source id, golden id)`` whose row is gone."""
    return [
        Finding(EXTRA, SOURCE_ROW_GONE, where(source_id), source_id, golden_id)
        for source_id, golden_id in entries
        if golden_id is not None
    ]


def orphan_goldens(
    goldens: Iterable[CachedGolden],
    present: Collection[str],
    scope: Scope,
    where: Callable[[str], str],
) -> list[Finding]:
    """Golden records none of whose source rows exists.

    Only source ids in ``scope`` are judged; a record listing none of them
    is left alone, unless it lists no source id at all and the scope is
    whole. ``present`` holds the source ids whose rows exist.
    """
    findings = []
    for golden in goldens:
        judged = [s for s in golden.source_ids if scope.covers(s)]
        if any(s in present for s in judged):
            continue
        if judged:
            at = where(judged[0])
        elif not golden.source_ids and scope.whole:
            at = UNLISTED
        else:
            continue
        findings.append(Finding(EXTRA, NO_SOURCE_ROW, at, None, golden.golden_id))
    return findings
